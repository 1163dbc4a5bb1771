package fileserve

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// traversals are subs (as they reach Serve, percent-decoded) that try to
// leave the served directory.
func traversals(tr *tree) []struct{ name, sub string } {
	return []struct{ name, sub string }{
		{"dot dot", "../secret.txt"},
		{"dot dot leading slash", "/../secret.txt"},
		{"decoded ..%2f", "../secret.txt"},
		{"decoded %2e%2e", "../secret.txt"},
		{"undecoded ..%2f", "..%2fsecret.txt"},
		{"undecoded %2e%2e", "%2e%2e/secret.txt"},
		{"backslash", "..\\secret.txt"},
		{"backslash nested", "a\\..\\..\\secret.txt"},
		{"double slash absolute", "/" + tr.secretFile},
		{"absolute", tr.secretFile},
		{"up through a folder", "/a/../../secret.txt"},
		{"up and back", "a/../../served/../secret.txt"},
		{"bare dot dot", ".."},
		{"dot dot slash", "../"},
		{"outside dir", "../outside/secret2.txt"},
		{"outside dir listing", "../outside/"},
		{"link to outside file", "link-out-file"},
		{"absolute link to outside file", "link-out-abs"},
		{"link to outside dir", "link-out-dir/secret2.txt"},
		{"link to outside dir listing", "link-out-dir/"},
		{"nested link up", "a/link-up"},
		{"NUL", "hello.txt\x00/../../secret.txt"},
		{"etc passwd", "//etc/passwd"},
	}
}

// Every traversal is 404 with the fixed body, in the most permissive
// configuration, so that the os.Root (not the hidden-file rule) refuses
// links, and over both GET and HEAD.
func TestServeTraversal(t *testing.T) {
	tr := newTree(t)
	for _, opt := range []Options{{}, {Listing: true, ShowHidden: true}} {
		d := tr.open(t, opt)
		for _, tt := range traversals(tr) {
			for _, method := range []string{"GET", "HEAD"} {
				w, ok := serve(d, method, "/files/"+tt.sub, tt.sub, nil)
				body := w.Body.String()
				if !ok || w.Code != http.StatusNotFound || (method == "GET" && body != notFoundBody) {
					t.Errorf("%+v: %s: Serve(%s %q) = %v %d %q, want true 404 %q",
						opt, tt.name, method, tt.sub, ok, w.Code, body, notFoundBody)
				}
				if strings.Contains(body, secret) || strings.Contains(body, tr.base) {
					t.Errorf("%+v: %s: Serve(%s %q) leaks: %q", opt, tt.name, method, tt.sub, body)
				}
			}
		}
	}
}

func TestServeFile(t *testing.T) {
	tr := newTree(t)
	hello := tr.served + "/hello.txt"
	tests := []struct {
		name, method, filename, ctype string
		code                          int
		body, wantType                string
	}{
		{"guess", "GET", hello, "", 200, files["hello.txt"], "text/plain; charset=utf-8"},
		{"given type", "GET", hello, "application/x-test", 200, files["hello.txt"], "application/x-test"},
		{"head", "HEAD", hello, "", 200, "", "text/plain; charset=utf-8"},
		{"dotfile is the program's choice", "GET", tr.served + "/.hidden", "", 200, "hidden\n", "application/octet-stream"},
		{"dot dot is the program's choice", "GET", tr.served + "/a/../hello.txt", "", 200, files["hello.txt"], "text/plain; charset=utf-8"},
		{"directory", "GET", tr.served, "", 404, notFoundBody, "text/plain; charset=utf-8"},
		{"missing", "GET", tr.served + "/missing.txt", "", 404, notFoundBody, "text/plain; charset=utf-8"},
		{"empty name", "GET", "", "", 404, notFoundBody, "text/plain; charset=utf-8"},
		{"NUL", "GET", hello + "\x00", "", 404, notFoundBody, "text/plain; charset=utf-8"},
		{"device", "GET", "/dev/null", "", 404, notFoundBody, "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/f", nil)
			w := httptest.NewRecorder()
			if !ServeFile(w, r, tt.filename, tt.ctype) {
				t.Fatalf("ServeFile(%s %q) = false", tt.method, tt.filename)
			}
			if w.Code != tt.code || w.Body.String() != tt.body || w.Header().Get("Content-Type") != tt.wantType {
				t.Errorf("ServeFile(%s %q, %q) = %d %q %q, want %d %q %q", tt.method, tt.filename, tt.ctype,
					w.Code, w.Body, w.Header().Get("Content-Type"), tt.code, tt.body, tt.wantType)
			}
			if w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("ServeFile(%s %q) lacks nosniff", tt.method, tt.filename)
			}
		})
	}
	w := httptest.NewRecorder()
	if ServeFile(w, httptest.NewRequest("POST", "/f", nil), hello, "") || w.Body.Len() != 0 || len(w.Header()) != 0 {
		t.Errorf("ServeFile(POST) = true or wrote %d %q, want false and nothing", w.Code, w.Body)
	}
}
