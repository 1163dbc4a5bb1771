package main

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/httpskit/httpskit/internal/h2spec"
	"github.com/httpskit/httpskit/server"
)

// TestServeH2spec: `httpskit serve` with HTTP/2 on the batching engine
// (HTTPSKIT_HTTP2_ENGINE=batching) passes every case of h2spec 2.x; net/http's engine, still
// the default, passes 141 of the 145 (server.TestH2specNetHTTP).
func TestServeH2spec(t *testing.T) {
	t.Setenv(server.HTTP2EngineEnv, "batching")
	bin := h2spec.Build(t)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from serve\n"), 0o644))
	site := startServe(t, "--port", "0", "--host", "127.0.0.1", "--ca-root", filepath.Join(t.TempDir(), "ca"), dir)
	u, err := url.Parse(site.url)
	must(t, err)
	h2spec.Check(t, "serve", h2spec.Run(t, bin, u.Host))
}
