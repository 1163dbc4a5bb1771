//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/internal/testenv"
)

// TestBrowserCORSAndCompression: headless Chromium loads a page from one `httpskit serve`
// (gzipped: the page is large and compressible) whose script fetches a file from a second
// serve, on another origin. With `--cors` naming the first origin the fetch succeeds; from a
// serve without --cors, Chromium blocks it. The DOM it dumps says which.
func TestBrowserCORSAndCompression(t *testing.T) {
	chromium := testenv.LookPath(t, "chromium", "chromium-browser")
	certutil := testenv.LookPath(t, "certutil")
	caRoot := filepath.Join(t.TempDir(), "ca")
	pageDir, apiDir := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(apiDir, "data.txt"), []byte("cross-origin data"), 0o644))
	page := startServe(t, "--port", "0", "--host", "127.0.0.1", "--ca-root", caRoot, pageDir)
	origin := strings.TrimSuffix(page.url, "/")
	open := startServe(t, "--port", "0", "--host", "127.0.0.1", "--ca-root", caRoot, "--cors", origin, apiDir)
	closed := startServe(t, "--port", "0", "--host", "127.0.0.1", "--ca-root", caRoot, apiDir)
	home := nssHome(t, certutil, page.caFile)

	for _, tt := range []struct {
		name, api, want string
	}{
		{"allowed", open.url, "RESULT:cross-origin data"},
		{"blocked", closed.url, "RESULT:blocked"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Padding makes the page large enough to be gzipped; the script writes the outcome.
			html := "<!DOCTYPE html><html><head><title>cors</title></head><body><p>" +
				strings.Repeat("padding so that the page is compressed ", 100) + "</p><div id=out>waiting</div><script>" +
				"fetch('" + tt.api + "data.txt').then(r => r.text()).then(t => { document.getElementById('out').textContent = 'RESULT:' + t })" +
				".catch(() => { document.getElementById('out').textContent = 'RESULT:blocked' })</script></body></html>"
			name := tt.name + ".html"
			must(t, os.WriteFile(filepath.Join(pageDir, name), []byte(html), 0o644))
			dom, stderr := runChromium(t, chromium, home, "--virtual-time-budget=10000", "--dump-dom", page.url+name)
			if !strings.Contains(dom, tt.want) || !strings.Contains(dom, "padding so that") {
				t.Errorf("DOM lacks %q or the page text\nDOM: %s\nstderr: %s", tt.want, clip(dom), browserErrors(stderr))
			}
		})
	}
	// The page went out gzipped: its access log line counts fewer bytes than the page has.
	// Stopping serve writes out the access log lines still buffered.
	if err := page.stop(); err != nil {
		t.Fatal(err)
	}
	var line string
	for l := range strings.Lines(page.stderr.String()) {
		if strings.Contains(l, "path=/allowed.html") && strings.Contains(l, "status=200") {
			line = l
		}
	}
	if n := gzippedBytes(line); n <= 0 || n >= 4000 {
		t.Errorf("page's access log line %q: want status 200 and fewer body bytes than the 4000-byte page (gzip)", line)
	}
}

// gzippedBytes reads the bytes= value of an access log line (-1 when absent).
func gzippedBytes(line string) int {
	_, rest, ok := strings.Cut(line, "bytes=")
	if !ok {
		return -1
	}
	n := 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
