package main

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/httpskit/httpskit/internal/h2spec"
)

// TestServeH2spec: `httpskit serve` passes every case of h2spec 2.x (HTTP/2 on the batching
// engine; net/http's passes 141 of the 145).
func TestServeH2spec(t *testing.T) {
	bin := h2spec.Build(t)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from serve\n"), 0o644))
	site := startServe(t, "--port", "0", "--host", "127.0.0.1", "--ca-root", filepath.Join(t.TempDir(), "ca"), dir)
	u, err := url.Parse(site.url)
	must(t, err)
	r := h2spec.Run(t, bin, u.Host)
	if os.Getenv("HTTPSKIT_HTTP2_ENGINE") == "nethttp" {
		t.Logf("h2spec on serve with net/http's HTTP/2: %d of %d passed", r.Passed, r.Tests)
		return
	}
	h2spec.Check(t, "serve", r)
}
