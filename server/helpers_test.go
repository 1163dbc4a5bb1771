package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
)

// testPKI is one CA and a localhost leaf, made once per test binary.
type testPKI struct {
	ca              *certs.CA
	certPEM, keyPEM []byte
	pool            *x509.CertPool
	clientCA        *certs.CA
	clientCertPEM   []byte
	clientKeyPEM    []byte
}

var (
	pkiOnce sync.Once
	pki     testPKI
)

func getPKI(t testing.TB) *testPKI {
	t.Helper()
	pkiOnce.Do(func() {
		ca, err := certs.NewCA("server test CA", 0)
		if err != nil {
			panic(err)
		}
		c, k, err := ca.Issue(certs.LeafOptions{})
		if err != nil {
			panic(err)
		}
		cca, err := certs.NewCA("server test client CA", 0)
		if err != nil {
			panic(err)
		}
		cc, ck, err := cca.Issue(certs.LeafOptions{Client: true, CommonName: "client one"})
		if err != nil {
			panic(err)
		}
		pki = testPKI{ca: ca, certPEM: c, keyPEM: k, pool: ca.Pool(), clientCA: cca, clientCertPEM: cc, clientKeyPEM: ck}
	})
	return &pki
}

// target is one way to reach a test server: a listener and a protocol.
type target struct {
	name   string
	base   string // e.g. "https://127.0.0.1:1234"
	client *http.Client
	proto  int // expected response ProtoMajor
	l      *Listener
}

func (tg target) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return tg.do(t, http.MethodGet, path, nil, nil)
}

func (tg target) do(t *testing.T, method, path string, body io.Reader, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, tg.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := tg.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s %s: %v", tg.name, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s %s: read body: %v", tg.name, method, path, err)
	}
	if resp.ProtoMajor != tg.proto {
		t.Errorf("%s: response protocol %s, want major %d", tg.name, resp.Proto, tg.proto)
	}
	return resp, string(b)
}

func clientFor(pool *x509.CertPool, h2 bool) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"},
		Protocols:       new(http.Protocols),
	}
	if h2 {
		tr.Protocols.SetHTTP2(true)
	} else {
		tr.Protocols.SetHTTP1(true)
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

// startTargets adds an HTTP, an HTTPS and an HTTP/2 listener on 127.0.0.1 to s, starts it,
// and returns every way to reach it: plain HTTP/1.1, HTTPS over HTTP/1.1 and HTTP/2, and the
// HTTP/2 listener over HTTP/2. All share the router of s.
func startTargets(t *testing.T, s *Server) []target {
	t.Helper()
	return startTargetsConfig(t, s, HTTPConfig{})
}

// startTargetsConfig is startTargets with base as every listener's configuration (its Host
// and Port become 127.0.0.1 and any free port).
func startTargetsConfig(t *testing.T, s *Server, base HTTPConfig) []target {
	t.Helper()
	p := getPKI(t)
	base.Host, base.Port = "127.0.0.1", RandomPort
	hl, err := s.AddHTTPServer(base)
	if err != nil {
		t.Fatal(err)
	}
	sl, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: base, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	h2l, err := s.AddHTTP2Server(HTTPSConfig{HTTPConfig: base, Cert: string(p.certPEM), Key: string(p.keyPEM)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	plain := &http.Client{Transport: &http.Transport{}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 30 * time.Second}
	h1, h2 := clientFor(p.pool, false), clientFor(p.pool, true)
	ts := []target{
		{"http1.1", hl.URL(), plain, 1, hl},
		{"https-http1.1", sl.URL(), h1, 1, sl},
		{"https-http2", sl.URL(), h2, 2, sl},
		{"http2listener-http2", h2l.URL(), h2, 2, h2l},
	}
	for i := range ts {
		ts[i].base = strings.Replace(ts[i].base, "://localhost", "://127.0.0.1", 1)
	}
	t.Cleanup(func() {
		for _, c := range []*http.Client{plain, h1, h2} {
			c.CloseIdleConnections()
		}
	})
	return ts
}

// rawRequest sends raw request bytes over a TLS connection (HTTP/1.1) and returns everything the
// server sent until it closed the connection.
func rawRequest(t *testing.T, l *Listener, request string) string {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))
	var conn net.Conn
	var err error
	if l.TLSConfig() != nil {
		conn, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: getPKI(t).pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}})
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(bufio.NewReader(conn))
	return string(b)
}

// result is the outcome of a request made by getAsync.
type result struct {
	status int
	body   string
	err    error
}

// getAsync GETs url in its own goroutine; the channel receives the outcome.
func getAsync(c *http.Client, url string) <-chan result {
	got := make(chan result, 1)
	go func() {
		resp, err := c.Get(url)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, string(b), err}
	}()
	return got
}
