package h2serve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
)

var (
	pkiOnce  sync.Once
	pkiCert  tls.Certificate
	pkiPool  *x509.CertPool
	pkiError error
)

func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	pkiOnce.Do(func() {
		ca, err := certs.NewCA("h2serve test CA", 0)
		if err != nil {
			pkiError = err
			return
		}
		c, k, err := ca.Issue(certs.LeafOptions{})
		if err != nil {
			pkiError = err
			return
		}
		pkiCert, pkiError = tls.X509KeyPair(c, k)
		pkiPool = ca.Pool()
	})
	if pkiError != nil {
		t.Fatal(pkiError)
	}
	return pkiCert, pkiPool
}

// testServer is an http.Server on 127.0.0.1 whose HTTP/2 connections the engine serves.
type testServer struct {
	hs   *http.Server
	eng  *Server
	addr string
	pool *x509.CertPool
	done chan struct{}
}

func startServer(t testing.TB, cfg Config, h http.Handler) *testServer {
	t.Helper()
	cert, pool := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	eng := New(cfg)
	hs := &http.Server{
		Handler:      h,
		TLSConfig:    &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12},
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){"h2": eng.TLSNextProto},
	}
	hs.RegisterOnShutdown(eng.Shutdown)
	ts := &testServer{hs: hs, eng: eng, addr: ln.Addr().String(), pool: pool, done: make(chan struct{})}
	go func() {
		defer close(ts.done)
		if err := hs.Serve(tls.NewListener(ln, hs.TLSConfig)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() { ts.close(t) })
	return ts
}

func (ts *testServer) close(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.hs.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
		ts.hs.Close()
	}
	<-ts.done
}

func (ts *testServer) client() *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ts.pool, ServerName: "localhost"},
		Protocols:       new(http.Protocols),
	}
	tr.Protocols.SetHTTP2(true)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func (ts *testServer) url(path string) string { return "https://" + ts.addr + path }

// hello answers every request with a short body, reading any request body first.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "hello, world\n")
})
