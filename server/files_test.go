package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// webSite writes a small site to a temporary directory: a compressible page and script, a
// precompressed sibling of the script, an image, and an SPA index.
func webSite(t *testing.T) (dir string, js []byte) {
	t.Helper()
	dir = t.TempDir()
	js = bytes.Repeat([]byte("console.log('hello, compressed world');\n"), 100) // 4000 bytes
	files := map[string][]byte{
		"index.html":     []byte("<h1>spa index</h1>\n"),
		"app.js":         js,
		"app.js.br":      []byte("pretend brotli"),
		"tiny.css":       []byte("p{}"),
		"big.txt":        bytes.Repeat([]byte("0123456789abcdef"), 256),
		"logo.png":       bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 1000),
		"sub/index.html": []byte("<h1>sub</h1>\n"),
	}
	for name, b := range files {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	return dir, js
}

// gunzip decompresses b or fails the test.
func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	return out
}

// TestServeCompressed: with Compress, a compressible file is gzipped on the fly or sent as
// its precompressed sibling as Accept-Encoding and its q-values say, with Vary and its own
// ETag; never for a range, an image, a small file, or a client that refuses every coding.
func TestServeCompressed(t *testing.T) {
	dir, js := webSite(t)
	s := New(Config{})
	must(t, s.ServeDirectory("/", dir, DirectoryOptions{Compress: true}))
	for _, tg := range startTargets(t, s) {
		// The Go client would ask for gzip and decompress by itself: ask explicitly.
		get := func(path string, hdr http.Header) (*http.Response, string) {
			return tg.do(t, "GET", path, nil, hdr)
		}
		ae := func(v string) http.Header { return http.Header{"Accept-Encoding": {v}} }
		tests := []struct {
			name, path, ae, wantEnc string
		}{
			{"gzip only", "/big.txt", "gzip", "gzip"},
			{"x-gzip alias", "/big.txt", "x-gzip", "gzip"},
			{"brotli sibling first", "/app.js", "gzip, br", "br"},
			{"gzip preferred by q", "/app.js", "br;q=0.5, gzip;q=0.9", "gzip"},
			{"brotli refused", "/app.js", "br;q=0, gzip", "gzip"},
			{"star", "/app.js", "*", "br"},
			{"star but brotli refused", "/app.js", "*;q=0.3, br;q=0", "gzip"},
			{"identity only", "/app.js", "identity", ""},
			{"all refused", "/app.js", "*;q=0", ""},
			{"image", "/logo.png", "gzip, br", ""},
			{"too small", "/tiny.css", "gzip", ""},
			{"malformed q", "/app.js", "gzip;q=2, br;q=abc, zstd;q=0.1234", ""},
			{"malformed entries skipped", "/big.txt", ";;;,=,gzip;q=0.5;;x, ,", ""},
			{"upper case", "/big.txt", "GZIP;Q=1", "gzip"},
			{"huge list", "/big.txt", strings.Repeat("foo;q=0.1, ", 2000) + "gzip", ""},
		}
		for _, tt := range tests {
			resp, body := get(tt.path, ae(tt.ae))
			enc := resp.Header.Get("Content-Encoding")
			if resp.StatusCode != 200 || enc != tt.wantEnc {
				t.Errorf("%s %s: GET %s with %q = %d, Content-Encoding %q; want 200 %q", tg.name, tt.name, tt.path, tt.ae, resp.StatusCode, enc, tt.wantEnc)
				continue
			}
			etag := resp.Header.Get("Etag")
			switch enc {
			case "gzip":
				orig, _ := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(tt.path, "/")))
				if got := gunzip(t, []byte(body)); !bytes.Equal(got, orig) {
					t.Errorf("%s %s: gunzipped body differs from the file", tg.name, tt.name)
				}
				if !strings.HasSuffix(etag, `-gzip"`) {
					t.Errorf("%s %s: ETag %q, want one ending -gzip", tg.name, tt.name, etag)
				}
			case "br":
				if body != "pretend brotli" || !strings.HasSuffix(etag, `-br"`) {
					t.Errorf("%s %s: body %q ETag %q, want the .br sibling with a -br ETag", tg.name, tt.name, body, etag)
				}
			case "":
				if tt.path == "/app.js" && body != string(js) {
					t.Errorf("%s %s: identity body of %d bytes, want the file", tg.name, tt.name, len(body))
				}
			}
			vary := resp.Header.Values("Vary")
			if wantVary := tt.path != "/logo.png"; (strings.Join(vary, ",") == "Accept-Encoding") != wantVary {
				t.Errorf("%s %s: Vary %q, want Accept-Encoding: %v", tg.name, tt.name, vary, wantVary)
			}
			// The compressed representation's ETag gets 304, and not the identity one's.
			if etag != "" {
				h := ae(tt.ae)
				h.Set("If-None-Match", etag)
				if resp, _ := get(tt.path, h); resp.StatusCode != http.StatusNotModified {
					t.Errorf("%s %s: If-None-Match %s = %d, want 304", tg.name, tt.name, etag, resp.StatusCode)
				}
			}
		}

		// A range applies to the file as it is: never compressed.
		h := ae("gzip, br")
		h.Set("Range", "bytes=0-9")
		resp, body := get("/app.js", h)
		if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Encoding") != "" || body != string(js[:10]) {
			t.Errorf("%s: range on a compressible file = %d %q encoding %q, want 206 of the identity bytes", tg.name, resp.StatusCode, body, resp.Header.Get("Content-Encoding"))
		}
		// HEAD of a compressed form: its headers, no body.
		resp, body = tg.do(t, "HEAD", "/app.js", nil, ae("br"))
		if resp.StatusCode != 200 || body != "" || resp.Header.Get("Content-Encoding") != "br" || !strings.HasSuffix(resp.Header.Get("Etag"), `-br"`) {
			t.Errorf("%s: HEAD /app.js br = %d %v", tg.name, resp.StatusCode, resp.Header)
		}
		// Hostile names: NUL or ".." before a sibling suffix are refused before any lookup.
		for _, p := range []string{"/app.js%00.br", "/../app.js", "/sub/..%2fapp.js", "/app.js/..%2f..%2fapp.js.br", "/%2e%2e/app.js"} {
			if resp, _ := get(p, ae("br, gzip")); resp.StatusCode != 404 && resp.StatusCode != 400 {
				t.Errorf("%s: GET %s = %d, want 404 or 400", tg.name, p, resp.StatusCode)
			}
		}
	}
}

// TestServeETag: files carry an ETag; If-None-Match with it, or "*", gets 304; a changed file
// gets a new ETag; If-Modified-Since still works.
func TestServeETag(t *testing.T) {
	dir, _ := webSite(t)
	s := New(Config{})
	must(t, s.ServeDirectory("/site", dir, DirectoryOptions{}))
	must(t, s.Serve("/one", "", filepath.Join(dir, "tiny.css")))
	for _, tg := range startTargets(t, s) {
		for _, path := range []string{"/site/tiny.css", "/one", "/site/sub/"} {
			resp, _ := tg.get(t, path)
			etag := resp.Header.Get("Etag")
			if resp.StatusCode != 200 || !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 5 {
				t.Errorf("%s GET %s = %d ETag %q, want 200 and a quoted ETag", tg.name, path, resp.StatusCode, etag)
				continue
			}
			for _, inm := range []string{etag, `"x", ` + etag, "*", "W/" + etag} {
				if resp, body := tg.do(t, "GET", path, nil, http.Header{"If-None-Match": {inm}}); resp.StatusCode != 304 || body != "" {
					t.Errorf("%s GET %s If-None-Match %s = %d, want 304", tg.name, path, inm, resp.StatusCode)
				}
			}
			if resp, _ := tg.do(t, "GET", path, nil, http.Header{"If-None-Match": {`"other"`}}); resp.StatusCode != 200 {
				t.Errorf("%s GET %s with another ETag = %d, want 200", tg.name, path, resp.StatusCode)
			}
			lm := resp.Header.Get("Last-Modified")
			if resp, _ := tg.do(t, "GET", path, nil, http.Header{"If-Modified-Since": {lm}}); resp.StatusCode != 304 {
				t.Errorf("%s GET %s If-Modified-Since = %d, want 304", tg.name, path, resp.StatusCode)
			}
		}
	}
	// Rewriting the file changes its ETag.
	s2 := New(Config{})
	must(t, s2.ServeDirectory("/", dir, DirectoryOptions{}))
	tg := startTargets(t, s2)[1]
	resp, _ := tg.get(t, "/tiny.css")
	before := resp.Header.Get("Etag")
	later := time.Now().Add(time.Hour)
	must(t, os.WriteFile(filepath.Join(dir, "tiny.css"), []byte("b{}"), 0o644))
	must(t, os.Chtimes(filepath.Join(dir, "tiny.css"), later, later))
	resp, body := tg.do(t, "GET", "/tiny.css", nil, http.Header{"If-None-Match": {before}})
	if resp.StatusCode != 200 || body != "b{}" || resp.Header.Get("Etag") == before {
		t.Errorf("after a rewrite: %d %q ETag %q (was %q), want 200 with the new content and ETag", resp.StatusCode, body, resp.Header.Get("Etag"), before)
	}
}

// TestServeSPA: with SPA, a path naming nothing and without an extension gets the top
// index.html; files, folders and missing paths with an extension are as without it.
func TestServeSPA(t *testing.T) {
	dir, _ := webSite(t)
	s := New(Config{})
	must(t, s.ServeDirectory("/", dir, DirectoryOptions{SPA: true}))
	for _, tg := range startTargets(t, s) {
		for _, tt := range []struct {
			path   string
			status int
			body   string
		}{
			{"/users/42", 200, "<h1>spa index</h1>\n"},
			{"/deep/link/", 200, "<h1>spa index</h1>\n"},
			{"/sub/", 200, "<h1>sub</h1>\n"},
			{"/tiny.css", 200, "p{}"},
			{"/missing.js", 404, "Not found.\n"},
			{"/v1.2/users", 200, "<h1>spa index</h1>\n"},
			{"/../etc/passwd", 404, "Not found.\n"},
			{"/.git/config", 404, "Not found.\n"},
		} {
			resp, body := tg.get(t, tt.path)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("%s GET %s = %d %q, want %d %q", tg.name, tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
		}
	}
}

// TestServeFS: an fs.FS (here fstest.MapFS, an embed.FS stand-in) is served like a
// directory: files, index.html, 404s, an ETag from the content hash when there is no
// modification time, compression.
func TestServeFS(t *testing.T) {
	big := strings.Repeat("body { color: red }\n", 100)
	fsys := fstest.MapFS{
		"index.html":   {Data: []byte("<h1>embedded</h1>")},
		"css/site.css": {Data: []byte(big)},
		".secret":      {Data: []byte("no")},
		"dated.txt":    {Data: []byte("dated"), ModTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
	s := New(Config{})
	must(t, s.ServeFS("/static", fsys, DirectoryOptions{Compress: true}))
	if err := s.ServeFS("/x", nil, DirectoryOptions{}); err == nil {
		t.Error("ServeFS(nil) = nil, want an error")
	}
	for _, tg := range startTargets(t, s) {
		resp, body := tg.get(t, "/static/")
		if resp.StatusCode != 200 || body != "<h1>embedded</h1>" || !strings.HasPrefix(resp.Header.Get("Etag"), `"h`) || resp.Header.Get("Last-Modified") != "" {
			t.Errorf("%s GET /static/ = %d %q ETag %q Last-Modified %q", tg.name, resp.StatusCode, body, resp.Header.Get("Etag"), resp.Header.Get("Last-Modified"))
		}
		if resp, _ := tg.do(t, "GET", "/static/", nil, http.Header{"If-None-Match": {resp.Header.Get("Etag")}}); resp.StatusCode != 304 {
			t.Errorf("%s GET /static/ If-None-Match = %d, want 304", tg.name, resp.StatusCode)
		}
		resp, body = tg.do(t, "GET", "/static/css/site.css", nil, http.Header{"Accept-Encoding": {"gzip"}})
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || string(gunzip(t, []byte(body))) != big {
			t.Errorf("%s GET /static/css/site.css gzip = %d %v", tg.name, resp.StatusCode, resp.Header)
		}
		resp, _ = tg.get(t, "/static/dated.txt")
		if resp.Header.Get("Last-Modified") != "Fri, 02 Jan 2026 03:04:05 GMT" {
			t.Errorf("%s GET /static/dated.txt Last-Modified %q", tg.name, resp.Header.Get("Last-Modified"))
		}
		for _, p := range []string{"/static/.secret", "/static/nope", "/static/../static/index.html", "/static/css/site.css/"} {
			if resp, _ := tg.get(t, p); resp.StatusCode != 404 {
				t.Errorf("%s GET %s = %d, want 404", tg.name, p, resp.StatusCode)
			}
		}
	}
}

// TestServeCompressedSiblingAdded: which siblings a file has is remembered with its
// directory's modification time; adding one changes that time, and the next request gets it.
func TestServeCompressedSiblingAdded(t *testing.T) {
	dir, _ := webSite(t)
	s := New(Config{})
	must(t, s.ServeDirectory("/", dir, DirectoryOptions{Compress: true}))
	tg := startTargets(t, s)[1]
	ae := http.Header{"Accept-Encoding": {"zstd, gzip"}}
	if resp, _ := tg.do(t, "GET", "/big.txt", nil, ae); resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("before: Content-Encoding %q, want gzip made on the fly", resp.Header.Get("Content-Encoding"))
	}
	must(t, os.WriteFile(filepath.Join(dir, "big.txt.zst"), []byte("pretend zstd"), 0o644))
	// Filesystems with coarse timestamps could leave the directory's time as it was: set it.
	later := time.Now().Add(time.Minute)
	must(t, os.Chtimes(dir, later, later))
	resp, body := tg.do(t, "GET", "/big.txt", nil, ae)
	if resp.Header.Get("Content-Encoding") != "zstd" || body != "pretend zstd" {
		t.Errorf("after adding big.txt.zst: Content-Encoding %q body %q, want the zstd sibling", resp.Header.Get("Content-Encoding"), body)
	}
	must(t, os.Remove(filepath.Join(dir, "big.txt.zst")))
	// Removed: the directory's time changes again, and it is gzip on the fly again.
	if resp, _ := tg.do(t, "GET", "/big.txt", nil, ae); resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("after removing big.txt.zst: %d Content-Encoding %q, want 200 gzip", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
}
