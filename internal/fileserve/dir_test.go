package fileserve

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServe(t *testing.T) {
	tr := newTree(t)
	d := tr.open(t, Options{})
	const html, text = "text/html; charset=utf-8", "text/plain; charset=utf-8"
	tests := []struct {
		name, urlPath, sub string
		code               int
		body, ctype        string
		location           string
	}{
		{"root empty sub", "/files", "", 200, files["index.html"], html, ""},
		{"root slash", "/files/", "/", 200, files["index.html"], html, ""},
		{"file", "/files/hello.txt", "hello.txt", 200, files["hello.txt"], text, ""},
		{"file leading slash", "/files/hello.txt", "/hello.txt", 200, files["hello.txt"], text, ""},
		{"file many slashes", "/files//hello.txt", "//hello.txt", 200, files["hello.txt"], text, ""},
		{"nested file", "/files/a/b.txt", "a/b.txt", 200, "b\n", text, ""},
		{"dot segments", "/files/./a/./b.txt", "./a/./b.txt", 200, "b\n", text, ""},
		{"double slash inside", "/files/a//b.txt", "a//b.txt", 200, "b\n", text, ""},
		{"upper-case extension", "/files/nolist/style.CSS", "nolist/style.CSS", 200, "p{}\n", "text/css; charset=utf-8", ""},
		{"no extension", "/files/noext", "noext", 200, "raw\n", "application/octet-stream", ""},
		{"link inside the root", "/files/link-in", "link-in", 200, files["hello.txt"], "application/octet-stream", ""},
		{"sub index", "/files/sub/", "sub/", 200, files["sub/index.html"], html, ""},
		{"deeper index", "/files/sub/deeper/", "sub/deeper/", 200, files["sub/deeper/index.html"], html, ""},
		{"dir link index", "/files/link-in-dir/", "link-in-dir/", 404, notFoundBody, text, ""},
		{"redirect", "/files/sub", "sub", 301, "", "", "/files/sub/"},
		{"redirect nested", "/files/sub/deeper", "sub/deeper", 301, "", "", "/files/sub/deeper/"},
		{"redirect escapes", "/files/a b", "a", 301, "", "", "/files/a%20b/"},
		{"redirect never leaves the site", "//evil.example/a", "a", 301, "", "", "/evil.example/a/"},
		{"redirect backslash", "/\\evil.example/a", "a", 301, "", "", "/%5Cevil.example/a/"},
		{"redirect relative path", "a", "a", 301, "", "", "./a/"},
		{"dir without index", "/files/nolist/", "nolist/", 404, notFoundBody, text, ""},
		{"empty dir", "/files/empty/", "empty/", 404, notFoundBody, text, ""},
		{"missing", "/files/missing.txt", "missing.txt", 404, notFoundBody, text, ""},
		{"file with trailing slash", "/files/hello.txt/", "hello.txt/", 404, notFoundBody, text, ""},
		{"hidden file", "/files/.hidden", ".hidden", 404, notFoundBody, text, ""},
		{"hidden dir", "/files/.git/config", ".git/config", 404, notFoundBody, text, ""},
		{"hidden after backslash", "/files/a\\.git", "a\\.git", 404, notFoundBody, text, ""},
		{"well-known", "/files/.well-known/acme", ".well-known/acme", 200, "acme\n", "application/octet-stream", ""},
		{"hidden in well-known", "/files/.well-known/.private", ".well-known/.private", 404, notFoundBody, text, ""},
		{"NUL byte", "/files/hello.txt\x00.png", "hello.txt\x00.png", 404, notFoundBody, text, ""},
		{"name with percent", "/files/100%.txt", "100%.txt", 200, "pct\n", text, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, ok := serve(d, "GET", tt.urlPath, tt.sub, nil)
			if !ok {
				t.Fatalf("Serve(GET %q) = false", tt.sub)
			}
			if w.Code != tt.code || w.Body.String() != tt.body {
				t.Errorf("Serve(GET %q) = %d %q, want %d %q", tt.sub, w.Code, w.Body, tt.code, tt.body)
			}
			if got := w.Header().Get("Content-Type"); got != tt.ctype {
				t.Errorf("Serve(GET %q) Content-Type = %q, want %q", tt.sub, got, tt.ctype)
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Serve(GET %q) Location = %q, want %q", tt.sub, got, tt.location)
			}
			if tt.code != 301 && w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("Serve(GET %q) lacks X-Content-Type-Options: nosniff", tt.sub)
			}
		})
	}
}

func TestServeRedirectKeepsQuery(t *testing.T) {
	d := newTree(t).open(t, Options{})
	r := httptest.NewRequest("GET", "/files/sub?x=1&y=%2F", nil)
	w := httptest.NewRecorder()
	d.Serve(w, r, "sub")
	if got, want := w.Header().Get("Location"), "/files/sub/?x=1&y=%2F"; w.Code != 301 || got != want {
		t.Errorf("Serve(GET /files/sub?...) = %d Location %q, want 301 %q", w.Code, got, want)
	}
}

func TestServeShowHidden(t *testing.T) {
	d := newTree(t).open(t, Options{ShowHidden: true})
	for sub, want := range map[string]string{".hidden": "hidden\n", ".git/config": "[core]\n", ".well-known/.private": "private\n"} {
		if w, _ := serve(d, "GET", "/"+sub, sub, nil); w.Code != 200 || w.Body.String() != want {
			t.Errorf("Serve(GET %q) with ShowHidden = %d %q, want 200 %q", sub, w.Code, w.Body, want)
		}
	}
}

func TestServeHead(t *testing.T) {
	d := newTree(t).open(t, Options{Listing: true})
	for _, sub := range []string{"hello.txt", "", "nolist/"} {
		get, _ := serve(d, "GET", "/"+sub, sub, nil)
		head, ok := serve(d, "HEAD", "/"+sub, sub, nil)
		if !ok || head.Code != 200 || head.Body.Len() != 0 {
			t.Errorf("Serve(HEAD %q) = %v, %d, %d body bytes, want true, 200, 0", sub, ok, head.Code, head.Body.Len())
		}
		for _, h := range []string{"Content-Type", "Content-Length", "X-Content-Type-Options"} {
			if head.Header().Get(h) == "" || head.Header().Get(h) != get.Header().Get(h) {
				t.Errorf("Serve(HEAD %q) %s = %q, GET gives %q", sub, h, head.Header().Get(h), get.Header().Get(h))
			}
		}
	}
	if w, _ := serve(d, "HEAD", "/missing", "missing", nil); w.Code != 404 || w.Body.Len() != 0 ||
		w.Header().Get("Content-Length") != "11" {
		t.Errorf("Serve(HEAD missing) = %d %q Content-Length %q, want 404, no body, 11",
			w.Code, w.Body, w.Header().Get("Content-Length"))
	}
}

func TestServeRangeAndConditional(t *testing.T) {
	d := newTree(t).open(t, Options{})
	w, _ := serve(d, "GET", "/hello.txt", "hello.txt", http.Header{"Range": {"bytes=0-4"}})
	if w.Code != 206 || w.Body.String() != "hello" || w.Header().Get("Content-Range") != "bytes 0-4/13" {
		t.Errorf("Serve(GET hello.txt, Range 0-4) = %d %q %q, want 206 \"hello\" bytes 0-4/13",
			w.Code, w.Body, w.Header().Get("Content-Range"))
	}
	w, _ = serve(d, "GET", "/hello.txt", "hello.txt", http.Header{"Range": {"bytes=100-200"}})
	if w.Code != 416 {
		t.Errorf("Serve(GET hello.txt, Range 100-200) = %d, want 416", w.Code)
	}
	lm := w.Header().Get("Last-Modified")
	w, _ = serve(d, "GET", "/hello.txt", "hello.txt", http.Header{"If-Modified-Since": {"Sat, 29 Jun 2024 12:00:00 GMT"}})
	if w.Code != 304 || w.Body.Len() != 0 {
		t.Errorf("Serve(GET hello.txt, If-Modified-Since mtime) = %d %q (Last-Modified %q), want 304", w.Code, w.Body, lm)
	}
}

func TestServeOtherMethods(t *testing.T) {
	d := newTree(t).open(t, Options{Listing: true})
	for _, m := range []string{"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get"} {
		w, ok := serve(d, m, "/hello.txt", "hello.txt", nil)
		if ok || w.Body.Len() != 0 || len(w.Header()) != 0 || w.Flushed {
			t.Errorf("Serve(%s hello.txt) = %v and wrote %d %q %v, want false and nothing", m, ok, w.Code, w.Body, w.Header())
		}
	}
}

func TestServeVanishedFile(t *testing.T) {
	tr := newTree(t)
	d := tr.open(t, Options{})
	if err := os.Remove(filepath.Join(tr.served, "hello.txt")); err != nil {
		t.Fatal(err)
	}
	if w, _ := serve(d, "GET", "/hello.txt", "hello.txt", nil); w.Code != 404 || w.Body.String() != notFoundBody {
		t.Errorf("Serve(GET vanished) = %d %q, want 404 %q", w.Code, w.Body, notFoundBody)
	}
}

func TestServeClosedAndZeroDir(t *testing.T) {
	tr := newTree(t)
	d, err := OpenDir(tr.served, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	for name, d := range map[string]*Dir{"closed": d, "zero": {}} {
		if w, ok := serve(d, "GET", "/hello.txt", "hello.txt", nil); !ok || w.Code != 404 {
			t.Errorf("%s Dir: Serve(GET hello.txt) = %v %d, want true 404", name, ok, w.Code)
		}
	}
	if err := new(Dir).Close(); err != nil {
		t.Errorf("zero Dir Close() = %v", err)
	}
}

func TestOpenDirErrors(t *testing.T) {
	tr := newTree(t)
	if _, err := OpenDir(filepath.Join(tr.base, "nope"), Options{}); !errors.Is(err, fs.ErrNotExist) ||
		!strings.HasPrefix(err.Error(), "fileserve: ") {
		t.Errorf("OpenDir(missing) error = %v, want fs.ErrNotExist with prefix \"fileserve: \"", err)
	}
	if _, err := OpenDir(tr.secretFile, Options{}); !errors.Is(err, ErrNotDir) {
		t.Errorf("OpenDir(file) error = %v, want ErrNotDir", err)
	}
}

// quietFile keeps the file's absolute name out of errors that
// http.ServeContent may send to the client.
func TestQuietFileErrors(t *testing.T) {
	tr := newTree(t)
	f, err := os.Open(tr.secretFile)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	q := quietFile{f}
	if _, err := q.Seek(0, 0); err != errSeek {
		t.Errorf("Seek on a closed file = %v, want %v", err, errSeek)
	}
	if _, err := q.Read(make([]byte, 1)); err != errRead {
		t.Errorf("Read on a closed file = %v, want %v", err, errRead)
	}
}
