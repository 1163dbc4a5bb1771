package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/server"
)

// TestDebugProfiles: the /debug/pprof/ endpoints, written on runtime/pprof, serve what go
// tool pprof and go tool trace fetch (gzipped profile protos, a trace), text with ?debug=1,
// and say why they refuse what they do not serve.
func TestDebugProfiles(t *testing.T) {
	d, err := startDebug("127.0.0.1:0", server.New(server.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const gzipMagic = "\x1f\x8b" // runtime/pprof writes gzipped protocol buffers
	tests := []struct {
		name, path string
		status     int
		ctype      string // prefix of the Content-Type
		want       string // the body starts with it, or contains it for text
	}{
		{"index", "/debug/pprof/", 200, "text/plain", "goroutine"},
		{"index names the CPU profile", "/debug/pprof/", 200, "text/plain", "profile?seconds="},
		{"goroutine proto", "/debug/pprof/goroutine", 200, "application/octet-stream", gzipMagic},
		{"heap proto after GC", "/debug/pprof/heap?gc=1", 200, "application/octet-stream", gzipMagic},
		{"allocs text", "/debug/pprof/allocs?debug=1", 200, "text/plain", "heap profile:"},
		{"goroutine stacks", "/debug/pprof/goroutine?debug=2", 200, "text/plain", "goroutine "},
		{"CPU profile", "/debug/pprof/profile?seconds=1", 200, "application/octet-stream", gzipMagic},
		{"trace", "/debug/pprof/trace?seconds=1", 200, "application/octet-stream", "go 1."},
		{"cmdline", "/debug/pprof/cmdline", 200, "text/plain", "httpskit"}, // the test binary
		{"unknown profile", "/debug/pprof/nosuch", 404, "text/plain", "unknown profile"},
		{"no delta profile", "/debug/pprof/heap?seconds=5", 400, "text/plain", "-diff_base"},
		{"bad seconds", "/debug/pprof/profile?seconds=x", 400, "text/plain", "positive whole number"},
		{"zero seconds", "/debug/pprof/trace?seconds=0", 400, "text/plain", "positive whole number"},
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Get(d.URL() + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			status, body, ctype := resp.StatusCode, string(b), resp.Header.Get("Content-Type")
			ok := status == tt.status && strings.HasPrefix(ctype, tt.ctype)
			if strings.HasPrefix(tt.ctype, "text/") {
				ok = ok && strings.Contains(body, tt.want)
			} else {
				ok = ok && strings.HasPrefix(body, tt.want)
			}
			if !ok {
				t.Errorf("GET %s = %d %q, want %d %s with %q:\n%.300q", tt.path, status, ctype, tt.status, tt.ctype, tt.want, body)
			}
			if tt.status != 200 && resp.Header.Get("Content-Disposition") != "" {
				t.Errorf("GET %s: error with Content-Disposition %q", tt.path, resp.Header.Get("Content-Disposition"))
			}
		})
	}
}
