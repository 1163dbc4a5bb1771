package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// startH2Server starts an HTTPS server with HTTP/2 on 127.0.0.1 and returns
// a Config for it.
func startH2Server(t *testing.T, h http.Handler, h2 *http.HTTP2Config) Config {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.EnableHTTP2 = true
	s.Config.HTTP2 = h2
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	return Config{Mode: H2, URL: s.URL, TLSConfig: &tls.Config{RootCAs: roots}}
}

// TestH2MaxConcurrentStreams: a server that allows fewer streams than
// Streams never sees more at once, and every request succeeds.
func TestH2MaxConcurrentStreams(t *testing.T) {
	var inFlight, most, served atomic.Int64
	cfg := startH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		served.Add(1)
		io.WriteString(w, "Hello, World!")
	}), &http.HTTP2Config{MaxConcurrentStreams: 2})
	cfg.Connections, cfg.Streams, cfg.Requests = 2, 10, 500
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 500 || res.OK != 500 || len(res.Errors) != 0 {
		t.Errorf("requests %d, ok %d, errors %v; want 500, 500, none", res.Requests, res.OK, res.Errors)
	}
	if served.Load() != 500 {
		t.Errorf("server saw %d requests, want 500", served.Load())
	}
	if m := most.Load(); m > 4 { // two connections of two streams
		t.Errorf("server saw %d requests at once, want at most 4", m)
	}
}

// TestH2LargeResponses: responses much larger than the default windows
// complete, many at a time (flow control).
func TestH2LargeResponses(t *testing.T) {
	const size = 1 << 20
	body := make([]byte, size)
	cfg := startH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(body)
	}), nil)
	cfg.Connections, cfg.Streams, cfg.Requests = 1, 10, 60
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 60 || res.OK != 60 || len(res.Errors) != 0 {
		t.Errorf("requests %d, ok %d, errors %v; want 60, 60, none", res.Requests, res.OK, res.Errors)
	}
	if res.BytesRead < 60*size {
		t.Errorf("bytes read %d, want at least %d", res.BytesRead, 60*size)
	}
}

// TestH2LargeRequestBodies: request bodies larger than the server's
// windows are sent as the server opens them.
func TestH2LargeRequestBodies(t *testing.T) {
	const size = 300 << 10
	var got atomic.Int64
	cfg := startH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		got.Add(n)
	}), nil)
	cfg.Connections, cfg.Streams, cfg.Requests = 1, 4, 20
	cfg.Body = make([]byte, size)
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 20 || res.OK != 20 || len(res.Errors) != 0 || got.Load() != 20*size {
		t.Errorf("requests %d, ok %d, errors %v, server read %d bytes; want 20, 20, none, %d",
			res.Requests, res.OK, res.Errors, got.Load(), 20*size)
	}
}

func TestAllIndexed(t *testing.T) {
	for _, tt := range []struct {
		b    []byte
		want bool
	}{
		{[]byte{0x82, 0x87, 0xbe}, true},
		{[]byte{0x82, 0xff, 0x80, 0x01, 0xbe}, true},
		{[]byte{0x82, 0x41, 0x01, 'a'}, false},
		{[]byte{0x20, 0x82}, false},
		{nil, false},
	} {
		if got := allIndexed(tt.b); got != tt.want {
			t.Errorf("allIndexed(%x) = %v, want %v", tt.b, got, tt.want)
		}
	}
}
