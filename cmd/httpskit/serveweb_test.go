package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nextLine returns the next line w gets, or fails the test after 20 seconds.
func nextLine(t *testing.T, w *lineWriter) string {
	t.Helper()
	select {
	case line := <-w.lines:
		return line
	case <-time.After(20 * time.Second):
		t.Fatalf("no line within 20s; so far: %s", w)
	}
	return ""
}

// TestServeWebFlags: serve logs each request on stderr (text by default, JSON with
// --log-format json, nothing with --quiet), gzips compressible files by default, answers
// preflights with --cors and deep links with --spa.
func TestServeWebFlags(t *testing.T) {
	dir := t.TempDir()
	page := bytes.Repeat([]byte("<p>hello, compressed world</p>\n"), 100)
	must(t, os.WriteFile(filepath.Join(dir, "index.html"), page, 0o644))
	caRoot := filepath.Join(t.TempDir(), "ca")

	t.Run("defaults", func(t *testing.T) {
		site := startServe(t, "--port", "0", "--ca-root", caRoot, dir)
		c := caClient(t, site.caFile, false) // the Go client asks for gzip and decodes it
		resp, err := c.Get(site.url + "index.html")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !resp.Uncompressed || !bytes.Equal(body, page) {
			t.Errorf("GET /index.html: uncompressed by the client %v, body of %d bytes; want gzip on the wire and the page", resp.Uncompressed, len(body))
		}
		line := nextLine(t, site.stderr)
		for _, want := range []string{"level=INFO", "msg=request", "method=GET", "path=/index.html", "proto=HTTP/1.1", "status=200", `tls="TLS 1.3"`, "resumed=false", "ua=Go-http-client/1.1", "remote=127.0.0.1:"} {
			if !strings.Contains(line, want) {
				t.Errorf("access log line %q lacks %q", line, want)
			}
		}
		resp, err = c.Get(site.url + "deep/link")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET /deep/link without --spa = %d, want 404", resp.StatusCode)
		}
		if line := nextLine(t, site.stderr); !strings.Contains(line, "status=404") {
			t.Errorf("access log line %q, want status=404", line)
		}
	})

	t.Run("json, cors, spa, no compression", func(t *testing.T) {
		site := startServe(t, "--port", "0", "--ca-root", caRoot, "--log-format", "json", "--cors", "https://app.example.com", "--spa", "--compress=false", dir)
		c := caClient(t, site.caFile, true)
		req, _ := http.NewRequest("OPTIONS", site.url+"x", nil)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Errorf("preflight = %d %v", resp.StatusCode, resp.Header)
		}
		var entry map[string]any
		if err := json.Unmarshal([]byte(nextLine(t, site.stderr)), &entry); err != nil || entry["method"] != "OPTIONS" || entry["status"] != 204.0 || entry["proto"] != "HTTP/2.0" {
			t.Errorf("JSON access log entry %v (%v), want OPTIONS 204 HTTP/2.0", entry, err)
		}
		resp, err = c.Get(site.url + "deep/link")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(body, page) || resp.Uncompressed {
			t.Errorf("GET /deep/link with --spa --compress=false = %d, %d bytes, compressed %v; want 200, the index, not compressed", resp.StatusCode, len(body), resp.Uncompressed)
		}
	})

	t.Run("quiet", func(t *testing.T) {
		site := startServe(t, "--port", "0", "--ca-root", caRoot, "--quiet", dir)
		c := caClient(t, site.caFile, false)
		resp, err := c.Get(site.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if err := site.stop(); err != nil {
			t.Fatal(err)
		}
		if got := site.stderr.String(); got != "" {
			t.Errorf("serve --quiet wrote to stderr: %q", got)
		}
	})

	for _, bad := range [][]string{{"--log-format", "xml"}, {"--cors", "app.example.com"}} {
		err := run(t.Context(), append([]string{"serve", "--port", "0", "--ca-root", caRoot}, append(bad, dir)...), io.Discard, io.Discard)
		if err == nil || exitCode(err, io.Discard) != 2 {
			t.Errorf("serve %q = %v, want a usage error", bad, err)
		}
	}
}
