package fileserve

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzServePath serves random subs from a tree with a secret beside it, in
// the default and the most permissive configuration, and checks that the
// answer is never the secret, never names the base directory, and is one
// of the tree's files, a listing, a redirect or the fixed 404.
func FuzzServePath(f *testing.F) {
	tr := newTree(f)
	dirs := []*Dir{tr.open(f, Options{}), tr.open(f, Options{Listing: true, ShowHidden: true})}
	for _, s := range traversals(tr) {
		f.Add(s.sub)
	}
	for name := range files {
		f.Add(name)
	}
	for _, s := range []string{"", "/", "sub", "sub/", "//", "a/./b.txt", ".well-known/", "link-in-dir/b.txt", "\\", "%00"} {
		f.Add(s)
	}
	known := map[string]bool{}
	for _, content := range files {
		known[content] = true
	}
	f.Fuzz(func(t *testing.T, sub string) {
		for _, d := range dirs {
			for _, method := range []string{"GET", "HEAD"} {
				r := httptest.NewRequest(method, "/", nil)
				r.URL.Path = "/files/" + sub
				w := httptest.NewRecorder()
				if !d.Serve(w, r, sub) {
					t.Fatalf("Serve(%s %q) = false", method, sub)
				}
				body := w.Body.String()
				if strings.Contains(body, secret) || strings.Contains(body, tr.base) {
					t.Fatalf("Serve(%s %q) leaks: %d %q", method, sub, w.Code, body)
				}
				switch {
				case method == "HEAD" && body != "":
					t.Fatalf("Serve(HEAD %q) has a body: %q", sub, body)
				case w.Code == 200 && method == "GET":
					if !known[body] && !strings.HasPrefix(body, "<!DOCTYPE html>") {
						t.Fatalf("Serve(GET %q) = 200 %q: not a file of the tree", sub, body)
					}
				case w.Code == 301 || w.Code == 200:
				case w.Code == 404:
					if method == "GET" && body != notFoundBody {
						t.Fatalf("Serve(GET %q) = 404 %q", sub, body)
					}
				default:
					t.Fatalf("Serve(%s %q) = %d %q", method, sub, w.Code, body)
				}
			}
		}
	})
}
