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
		{"unknown field far", `{"listeners":[{"kind":"http","tls":{"a":1}}]}`, `unknown field "tls" (known fields: kind, host, port, listen, socketPath, socketMode, cert, key, pfx, passphraseFile, clientCA,`},
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
		{"passphrase refused", "{\"listeners\":[\n{\"kind\":\"https\",\"pfx\":\"s.p12\",\"passphrase\":\"secret\"}]}",
			`line 2: listeners[0]: field "passphrase" is not taken: a passphrase written in the config file is read by whoever reads the file`},
		{"passphrase refused names the way", `{"listeners":[{"kind":"https","key":"k","cert":"c","Passphrase":"x"}]}`, `name that file with "passphraseFile", or set $HTTPSKIT_PASSPHRASE`},
		{"passphrase file slip", `{"listeners":[{"kind":"https","pfx":"s.p12","passphrase_file":"p"}]}`, `unknown field "passphrase_file" (did you mean "passphraseFile"?)`},
		{"pfx and cert", `{"listeners":[{"kind":"https","pfx":"s.p12","cert":"c","key":"k"}]}`, `listeners[0]: "pfx" holds the certificate and key: give "pfx", or "cert" and "key", not both`},
		{"pfx on http", `{"listeners":[{"kind":"http","pfx":"s.p12"}]}`, "takes no certificate"},
		{"passphrase file alone", `{"listeners":[{"kind":"https","passphraseFile":"p"}]}`, `listeners[0]: "passphraseFile" opens a "pfx" or an encrypted "key"`},
		{"listen tcp", `{"listeners":[{"kind":"https","listen":"127.0.0.1:8443"}]}`, `listeners[0]: "listen" takes "unix:PATH" (use "host" and "port" for TCP), got "127.0.0.1:8443"`},
		{"listen empty path", `{"listeners":[{"kind":"https","listen":"unix:"}]}`, `"listen" takes "unix:PATH"`},
		{"listen and socketPath", `{"listeners":[{"kind":"https","listen":"unix:/a","socketPath":"/b"}]}`, `"listen" and "socketPath" both name the socket`},
		{"socket with port", `{"listeners":[{"kind":"https","socketPath":"/a","port":8443}]}`, `listeners[0]: a listener on a Unix socket has no "host" or "port"`},
		{"socket with port 0", `{"listeners":[{"kind":"https","socketPath":"/a","port":0}]}`, `listeners[0]: a listener on a Unix socket has no "host" or "port"`},
		{"socket with host", `{"listeners":[{"kind":"https","listen":"unix:/a","host":"localhost"}]}`, `has no "host" or "port"`},
		{"mode without socket", `{"listeners":[{"kind":"https","socketMode":"0600"}]}`, `"socketMode" goes with "socketPath"`},
		{"mode number", `{"listeners":[{"kind":"https","socketPath":"/a","socketMode":660}]}`, `want octal permission bits as a string such as "0660", got 660`},
		{"mode not octal", `{"listeners":[{"kind":"https","socketPath":"/a","socketMode":"0999"}]}`, `bad mode "0999"`},
		{"mode too wide", `{"listeners":[{"kind":"https","socketPath":"/a","socketMode":"4755"}]}`, `bad mode "4755"`},
		{"mode slip", `{"listeners":[{"kind":"https","socketPath":"/a","socket_mode":"0600"}]}`, `(did you mean "socketMode"?)`},
		{"http socket redirects", `{"listeners":[{"kind":"https"},{"kind":"http","listen":"unix:/a"}]}`, `listeners[1]: an http listener on a Unix socket cannot redirect to HTTPS: set "redirectToHTTPS": false`},
		{"redirect to socket", `{"listeners":[{"kind":"https","listen":"unix:/a"},{"kind":"http","port":8080}]}`, `listeners[1]: every https listener is on a Unix socket`},
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

// TestParseCertFormatsAndSockets reads the fields of PKCS #12 files, passphrase files and Unix
// sockets.
func TestParseCertFormatsAndSockets(t *testing.T) {
	doc := `{"listeners": [
  {"kind": "https", "listen": "unix:/run/site/tls.sock", "socketMode": "0600", "pfx": "site.p12", "passphraseFile": "pass"},
  {"kind": "http2", "socketPath": "h2.sock", "cert": "c.pem", "key": "enc.key", "passphraseFile": "pass"},
  {"kind": "https", "port": -1},
  {"kind": "http", "listen": "unix:/run/site/plain.sock", "redirectToHTTPS": false},
  {"kind": "http", "port": -1}
]}`
	s, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	l := s.Listeners
	if l[0].SocketPath != "/run/site/tls.sock" || l[0].SocketMode != 0o600 || l[0].PFX != "site.p12" || l[0].PassphraseFile != "pass" {
		t.Errorf("listeners[0] = %+v", l[0])
	}
	if l[1].SocketPath != "h2.sock" || l[1].SocketMode != 0 || l[1].Key != "enc.key" || l[1].PassphraseFile != "pass" {
		t.Errorf("listeners[1] = %+v", l[1])
	}
	if l[3].SocketPath != "/run/site/plain.sock" {
		t.Errorf("listeners[3] = %+v", l[3])
	}
	// With no TLS listener, an http listener on a socket serves the routes.
	if _, err := Parse([]byte(`{"listeners":[{"kind":"http","listen":"unix:/a"}]}`)); err != nil {
		t.Errorf("Parse(http on a socket alone) = %v", err)
	}
}

func TestLoadResolvesRelativeNames(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "site.json")
	doc := `{"listeners":[{"kind":"https","cert":"c.pem","key":"/abs/k.pem"},
{"kind":"https","pfx":"s.p12","passphraseFile":"secret/pass","listen":"unix:run/tls.sock"}],"routes":[{"path":"/","serve":"public"}]}`
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
	l := s.Listeners[1]
	if l.PFX != filepath.Join(dir, "s.p12") || l.PassphraseFile != filepath.Join(dir, "secret/pass") || l.SocketPath != filepath.Join(dir, "run/tls.sock") {
		t.Errorf("listeners[1]: pfx %q, passphraseFile %q, socketPath %q: want them in %s", l.PFX, l.PassphraseFile, l.SocketPath, dir)
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
	f.Add([]byte(`{"listeners":[{"kind":"https","listen":"unix:/s","socketMode":"0600","pfx":"p","passphraseFile":"f"},{"kind":"http","socketPath":"h","redirectToHTTPS":false}]}`))
	f.Add([]byte("{\"listeners\":[{\"kind\":\"http\",\n\"prot\":1}],\"routez\":[]}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		if len(s.Listeners) == 0 {
			t.Errorf("Parse accepted a site with no listeners: %q", b)
		}
		for _, l := range s.Listeners {
			if l.Listen != "" && l.SocketPath == "" || l.SocketPath != "" && (l.Host != "" || l.Port != 0) || l.SocketMode&^0o777 != 0 {
				t.Errorf("Parse accepted a bad socket listener %+v from %q", l, b)
			}
		}
		for _, r := range s.Routes {
			if r.Path == "" || (r.Serve == "") == (r.Redirect == "") {
				t.Errorf("Parse accepted a bad route %+v from %q", r, b)
			}
		}
	})
}
