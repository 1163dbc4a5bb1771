package fileserve

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestServeOverTLS serves a Dir from two TLS servers at once and fetches
// from both over HTTP/1.1 and HTTP/2, with raw request paths that try to
// leave the directory.
func TestServeOverTLS(t *testing.T) {
	tr := newTree(t)
	d := tr.open(t, Options{Listing: true})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub, ok := strings.CutPrefix(r.URL.Path, "/files")
		if !ok || !d.Serve(w, r, sub) {
			http.Error(w, "no route", http.StatusTeapot)
		}
	})
	type client struct {
		name  string
		proto int
		c     *http.Client
		base  string
	}
	var clients []client
	for range 2 {
		ts := httptest.NewUnstartedServer(handler)
		ts.EnableHTTP2 = true
		ts.StartTLS()
		t.Cleanup(ts.Close)
		h2 := ts.Client()
		h1tr := h2.Transport.(*http.Transport).Clone()
		h1tr.Protocols = new(http.Protocols)
		h1tr.Protocols.SetHTTP1(true)
		h1tr.TLSClientConfig.NextProtos = nil // ts.Client offers "h2"
		clients = append(clients,
			client{"HTTP/2", 2, h2, ts.URL},
			client{"HTTP/1.1", 1, &http.Client{Transport: h1tr}, ts.URL})
	}
	tests := []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/files/", 200, files["index.html"]},
		{"GET", "/files/hello.txt", 200, files["hello.txt"]},
		{"HEAD", "/files/hello.txt", 200, ""},
		{"GET", "/files/sub/", 200, files["sub/index.html"]},
		{"GET", "/files/nolist", 200, "<!DOCTYPE html>"}, // after the 301
		{"GET", "/files/%3Cscript%3Ealert%281%29%3C%5Cscript%3E.txt", 200, "x\n"},
		{"GET", "/files/../secret.txt", 404, notFoundBody},
		{"GET", "/files/..%2fsecret.txt", 404, notFoundBody},
		{"GET", "/files/%2e%2e/secret.txt", 404, notFoundBody},
		{"GET", "/files/%2E%2E%2Fsecret.txt", 404, notFoundBody},
		{"GET", "/files/..%5csecret.txt", 404, notFoundBody},
		{"GET", "/files//" + tr.secretFile, 404, notFoundBody},
		{"GET", "/files/a/../../secret.txt", 404, notFoundBody},
		{"GET", "/files/link-out-file", 404, notFoundBody},
		{"GET", "/files/link-out-dir/secret2.txt", 404, notFoundBody},
		{"POST", "/files/hello.txt", http.StatusTeapot, "no route\n"},
	}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			for _, tt := range tests {
				req, err := http.NewRequest(tt.method, c.base+tt.path, nil)
				if err != nil {
					t.Errorf("NewRequest(%s %s): %v", tt.method, tt.path, err)
					continue
				}
				resp, err := c.c.Do(req)
				if err != nil {
					t.Errorf("%s %s %s: %v", c.name, tt.method, tt.path, err)
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				body := string(b)
				if err != nil || resp.StatusCode != tt.code || resp.ProtoMajor != c.proto ||
					!strings.HasPrefix(body, tt.body) || (tt.code != 200 && body != tt.body) {
					t.Errorf("%s %s %s = %s %d %q, %v; want %d %q",
						c.name, tt.method, tt.path, resp.Proto, resp.StatusCode, body, err, tt.code, tt.body)
				}
				if strings.Contains(body, secret) || strings.Contains(body, tr.base) {
					t.Errorf("%s %s %s leaks: %q", c.name, tt.method, tt.path, body)
				}
				if tt.method == "HEAD" && resp.ContentLength != int64(len(files["hello.txt"])) {
					t.Errorf("%s HEAD %s Content-Length = %d", c.name, tt.path, resp.ContentLength)
				}
			}
		})
	}
	wg.Wait()
}
