package siteconfig

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	good := `{
  "listeners": [
    {"kind": "HTTPS", "port": 7443, "readHeaderTimeout": "5s"},
    {"kind": "http", "port": 0, "maxBodyBytes": 1024, "maxConns": 10, "maxConnsPerIP": -1},
    {"kind": "http2"},
    {"kind": "http", "Port": -1}
  ],
  "routes": [
    {"path": "/old", "redirect": "/new", "temporary": true},
    {"method": "GET", "path": "/", "serve": "public", "listing": true, "compress": true, "spa": true}
  ]
}`
	s, err := Parse([]byte(good))
	if err != nil {
		t.Fatalf("Parse(good) = %v", err)
	}
	if s.Listeners[0].Kind != "https" || time.Duration(s.Listeners[0].ReadHeaderTimeout) != 5*time.Second || s.Listeners[1].MaxBodyBytes != 1024 ||
		s.Listeners[1].MaxConns != 10 || s.Listeners[1].MaxConnsPerIP != -1 {
		t.Errorf("Parse(good) listeners = %+v", s.Listeners)
	}
	// An absent port is 7080; 0 and negative ports stay (any free port).
	if got := []int{s.Listeners[0].Port, s.Listeners[1].Port, s.Listeners[2].Port, s.Listeners[3].Port}; !slices.Equal(got, []int{7443, 0, 7080, -1}) {
		t.Errorf("Parse(good) ports = %v, want [7443 0 7080 -1]", got)
	}
	if len(s.Routes) != 2 || !s.Routes[0].Temporary || s.Routes[1].Serve != "public" || !s.Routes[1].Compress || !s.Routes[1].SPA {
		t.Errorf("Parse(good) routes = %+v", s.Routes)
	}

	tests := []struct{ name, doc, want string }{
		{"empty", ``, "empty file"},
		{"not json", `{listeners}`, "line 1"},
		{"syntax line", "{\n\"listeners\": [\n{\"kind\": \"http\",}\n]}", "line 3"},
		{"unknown field", `{"listeners":[{"kind":"http","prot":1}]}`, `line 1: listeners[0]: unknown field "prot" (did you mean "port"?)`},
		{"unknown field line", "{\n \"listeners\": [\n  {\"kind\": \"http\"},\n  {\"kind\": \"https\",\n   \"clientCa\": \"ca.pem\", \"max_conns\": 3}\n ]\n}", `line 5: listeners[1]: unknown field "max_conns" (did you mean "maxConns"?)`},
		{"unknown field case", `{"listeners":[{"kind":"http"}],"routes":[{"path":"/","serve":"x","Listings":true}]}`, `routes[0]: unknown field "Listings" (did you mean "listing"?)`},
		{"unknown field top", `{"listener":[{"kind":"http"}]}`, `line 1: unknown field "listener" (did you mean "listeners"?)`},
		{"unknown field far", `{"listeners":[{"kind":"http","tls":{"a":1}}]}`, `unknown field "tls" (known fields: kind, host, port, cert, key, clientCA,`},
		{"no listeners", `{"routes":[]}`, "no listeners"},
		{"missing kind", `{"listeners":[{"port":1}]}`, `listeners[0]: missing "kind"`},
		{"bad kind", `{"listeners":[{"kind":"ftp"}]}`, `unknown kind "ftp"`},
		{"bad port", `{"listeners":[{"kind":"http","port":70000}]}`, "port 70000 out of range"},
		{"port type", `{"listeners":[{"kind":"http","port":"80"}]}`, "cannot unmarshal string"},
		{"cert alone", `{"listeners":[{"kind":"https","cert":"c.pem"}]}`, `"cert" and "key" go together`},
		{"http with cert", `{"listeners":[{"kind":"http","cert":"c","key":"k"}]}`, "takes no certificate"},
		{"bad duration", `{"listeners":[{"kind":"http","idleTimeout":"soon"}]}`, `bad duration "soon"`},
		{"number duration", `{"listeners":[{"kind":"http","idleTimeout":5}]}`, "want a duration string"},
		{"negative", `{"listeners":[{"kind":"http","maxBodyBytes":-5}]}`, "maxBodyBytes is negative"},
		{"conns below -1", `{"listeners":[{"kind":"http","maxConnsPerIP":-2}]}`, "maxConnsPerIP is -2 (want -1 for no limit, or a count)"},
		{"route no path", `{"listeners":[{"kind":"http"}],"routes":[{"serve":"x"}]}`, `routes[0]: missing "path"`},
		{"route no action", `{"listeners":[{"kind":"http"}],"routes":[{"path":"/"}]}`, `needs "serve" or "redirect"`},
		{"route both", `{"listeners":[{"kind":"http"}],"routes":[{"path":"/","serve":"x","redirect":"/y"}]}`, "exclude each other"},
		{"redirect crlf", `{"listeners":[{"kind":"http"}],"routes":[{"path":"/","redirect":"/a\r\nSet-Cookie: x"}]}`, "line break"},
		{"listing without serve", `{"listeners":[{"kind":"http"}],"routes":[{"path":"/","redirect":"/a","listing":true}]}`, `go with "serve"`},
		{"compress without serve", `{"listeners":[{"kind":"http"}],"routes":[{"path":"/","redirect":"/a","compress":true}]}`, `go with "serve"`},
		{"redirect on https", `{"listeners":[{"kind":"https","redirectToHTTPS":true}]}`, `"redirectToHTTPS" goes with kind http`},
		{"trailing data", `{"listeners":[{"kind":"http"}]} {}`, "unexpected data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) = %v, want an error containing %q", tt.doc, err, tt.want)
			}
		})
	}
}

func TestLoadResolvesRelativeNames(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "site.json")
	doc := `{"listeners":[{"kind":"https","cert":"c.pem","key":"/abs/k.pem"}],"routes":[{"path":"/","serve":"public"}]}`
	if err := os.WriteFile(name, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Listeners[0].Cert, filepath.Join(dir, "c.pem"); got != want {
		t.Errorf("cert = %q, want %q", got, want)
	}
	if got := s.Listeners[0].Key; got != "/abs/k.pem" {
		t.Errorf("key = %q, want /abs/k.pem", got)
	}
	if got, want := s.Routes[0].Serve, filepath.Join(dir, "public"); got != want {
		t.Errorf("serve = %q, want %q", got, want)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("Load(missing) = %v, want an error naming the file", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"listeners":[{"kind":"https","port":7443}],"routes":[{"path":"/","serve":"x"}]}`))
	f.Add([]byte(`{"listeners":[{"kind":"http","idleTimeout":"5s"}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte("{\"listeners\":[{\"kind\":\"http\",\n\"prot\":1}],\"routez\":[]}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		if len(s.Listeners) == 0 {
			t.Errorf("Parse accepted a site with no listeners: %q", b)
		}
		for _, r := range s.Routes {
			if r.Path == "" || (r.Serve == "") == (r.Redirect == "") {
				t.Errorf("Parse accepted a bad route %+v from %q", r, b)
			}
		}
	})
}
