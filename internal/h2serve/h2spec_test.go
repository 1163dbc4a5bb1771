package h2serve

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/internal/h2spec"
)

// conformanceHandler serves what h2spec asks for: a body long enough for its flow-control
// cases.
var conformanceHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, strings.Repeat("h2spec conformance body\n", 64))
})

func TestH2spec(t *testing.T) {
	bin := h2spec.Build(t)
	ts := startServer(t, Config{}, conformanceHandler)
	h2spec.Check(t, "h2serve", h2spec.Run(t, bin, ts.addr))
}

// TestH2specNetHTTP runs h2spec against net/http's own HTTP/2 server, to document the
// baseline the engine improves on. It fails only when h2spec cannot run.
func TestH2specNetHTTP(t *testing.T) {
	bin := h2spec.Build(t)
	cert, _ := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: conformanceHandler, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan error, 1)
	go func() { done <- hs.ServeTLS(ln, "", "") }()
	r := h2spec.Run(t, bin, ln.Addr().String())
	hs.Close()
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("ServeTLS: %v", err)
	}
	t.Logf("h2spec %s on net/http: %d tests, %d passed, %d failed", h2spec.Version, r.Tests, r.Passed, r.Failed)
	if testing.Verbose() && r.Failures != "" {
		fmt.Println(r.Failures)
	}
}
