package loadgen

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBuildRequest parses the pre-built bytes with net/http.
func TestBuildRequest(t *testing.T) {
	tgt, err := parseTarget("https://example.test:8443/a/b?q=1")
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"X-One": {"1", "2"}, "Host": {"other.test"}}
	b := buildRequest("PUT", tgt, h, []byte("body!"), true)
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("ReadRequest(%q): %v", b, err)
	}
	body, _ := io.ReadAll(req.Body)
	switch {
	case req.Method != "PUT", req.RequestURI != "/a/b?q=1", req.Host != "other.test":
		t.Errorf("method, URI, host = %q %q %q", req.Method, req.RequestURI, req.Host)
	case string(body) != "body!", req.ContentLength != 5:
		t.Errorf("body %q, length %d", body, req.ContentLength)
	case !req.Close:
		t.Error("no Connection: close")
	case len(req.Header["X-One"]) != 2, req.UserAgent() != userAgent:
		t.Errorf("headers %v", req.Header)
	}

	b = buildRequest("GET", tgt, nil, nil, false)
	want := "GET /a/b?q=1 HTTP/1.1\r\nHost: example.test:8443\r\nUser-Agent: httpskit-bench\r\n\r\n"
	if string(b) != want {
		t.Errorf("GET request = %q, want %q", b, want)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"bad mode", Config{Mode: "fast"}},
		{"idle without duration", Config{Mode: Idle, Requests: 5}},
		{"bad method", Config{Method: "GET /x"}},
		{"header injection", Config{Header: http.Header{"X-A": {"1\r\nX-B: 2"}}}},
		{"bad header name", Config{Header: http.Header{"X A": {"1"}}}},
		{"content-length", Config{Header: http.Header{"Content-Length": {"5"}}}},
		{"name with space", Config{Name: "a b"}},
		{"negative", Config{Connections: -1}},
	} {
		if _, err := tt.cfg.withDefaults(); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	for _, raw := range []string{"ftp://x/", "https:///path", "https://u:p@x/", "::"} {
		if _, err := parseTarget(raw); err == nil {
			t.Errorf("parseTarget(%q): no error", raw)
		}
	}
}

func TestParseCurves(t *testing.T) {
	ids, err := ParseCurves("X25519, p256,CurveP384,x25519mlkem768")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, id := range ids {
		names = append(names, CurveName(id))
	}
	if got, want := strings.Join(names, " "), "X25519 P256 P384 X25519MLKEM768"; got != want {
		t.Errorf("ParseCurves = %s, want %s", got, want)
	}
	for _, bad := range []string{"", "P999", "X25519,nope"} {
		if _, err := ParseCurves(bad); err == nil {
			t.Errorf("ParseCurves(%q): no error", bad)
		}
	}
}
