package https

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
)

var (
	caOnce   sync.Once
	sharedCA *certs.CA
	caErr    error
)

// testCA is an in-memory CA shared by the tests of this package.
func testCA(t testing.TB) *certs.CA {
	t.Helper()
	caOnce.Do(func() { sharedCA, caErr = certs.NewCA("https test CA", 0) })
	if caErr != nil {
		t.Fatal(caErr)
	}
	return sharedCA
}

// leaf issues a server certificate from ca.
func leaf(t testing.TB, ca *certs.CA, opts certs.LeafOptions) tls.Certificate {
	t.Helper()
	c, err := ca.IssueTLS(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// server is a TLS test server on 127.0.0.1 with a certificate from testCA
// for localhost and 127.0.0.1.
type server struct {
	*httptest.Server
	Port  int
	conns atomic.Int32 // new connections seen
}

// serverConfig tunes newServer.
type serverConfig struct {
	h1Only bool              // no HTTP/2
	cert   *tls.Certificate  // replaces the default leaf
	tweak  func(*tls.Config) // last word on the TLS config
	state  func(net.Conn, http.ConnState)
}

func newServer(t testing.TB, h http.Handler, cfg serverConfig) *server {
	t.Helper()
	s := &server{Server: httptest.NewUnstartedServer(h)}
	cert := cfg.cert
	if cert == nil {
		c := leaf(t, testCA(t), certs.LeafOptions{})
		cert = &c
	}
	s.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
	if cfg.tweak != nil {
		cfg.tweak(s.TLS)
	}
	s.EnableHTTP2 = !cfg.h1Only
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
		if cfg.state != nil {
			cfg.state(c, st)
		}
	}
	s.Config.ErrorLog = discardLog
	s.StartTLS()
	t.Cleanup(s.Close)
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	s.Port, _ = strconv.Atoi(port)
	return s
}

// opts returns Options for path on s, trusting testCA.
func (s *server) opts(t testing.TB, method, path string) Options {
	return Options{Host: "127.0.0.1", Port: s.Port, Method: method, Path: path, CA: string(testCA(t).CertPEM)}
}

// recorder records the events of one request, in order, and checks that no
// two callbacks ever run at once.
type recorder struct {
	mu       sync.Mutex
	events   []string
	body     strings.Builder
	inFlight atomic.Int32
	overlap  atomic.Bool
	err      error
	conn     net.Conn
	msg      *IncomingMessage
	closed   chan struct{}
}

// record registers every event of r; with flowing it also sets OnData on the
// response.
func record(r *ClientRequest, flowing bool) *recorder {
	rec := &recorder{closed: make(chan struct{})}
	r.OnSocket(func(c net.Conn) { rec.add("socket", func() { rec.conn = c }) })
	r.OnFinish(func() { rec.add("finish", nil) })
	r.OnResponse(func(m *IncomingMessage) {
		rec.add("response", func() { rec.msg = m })
		if flowing {
			m.OnData(func(p []byte) { rec.add("data", func() { rec.body.Write(p) }) })
		}
		m.OnEnd(func() { rec.add("end", nil) })
		m.OnClose(func() { rec.add("res.close", nil) })
	})
	r.OnError(func(err error) { rec.add("error", func() { rec.err = err }) })
	r.OnClose(func() { rec.add("close", func() { close(rec.closed) }) })
	return rec
}

func (rec *recorder) add(name string, f func()) {
	if rec.inFlight.Add(1) != 1 {
		rec.overlap.Store(true)
	}
	defer rec.inFlight.Add(-1)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if n := len(rec.events); name == "data" && n > 0 && rec.events[n-1] == "data*" {
		// collapse runs of data
	} else if name == "data" {
		rec.events = append(rec.events, "data*")
	} else {
		rec.events = append(rec.events, name)
	}
	if f != nil {
		f()
	}
}

// startRecorded sends a request of o without a body, its events recorded
// (with OnData set on the response when flowing).
func startRecorded(t testing.TB, o Options, flowing bool) (*ClientRequest, *recorder) {
	t.Helper()
	r, err := Request(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := record(r, flowing)
	r.End()
	return r, rec
}

// wait waits for 'close' and returns the events seen.
func (rec *recorder) wait(t testing.TB) string {
	t.Helper()
	select {
	case <-rec.closed:
	case <-time.After(20 * time.Second):
		t.Fatalf("no close event; events so far: %s", rec.String())
	}
	if rec.overlap.Load() {
		t.Error("two callbacks ran at the same time")
	}
	return rec.String()
}

func (rec *recorder) String() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return strings.Join(rec.events, ",")
}

func (rec *recorder) Body() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.body.String()
}

func (rec *recorder) Err() error {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.err
}

// checkGoroutines fails t if goroutines started during the test are still
// running when it ends (after idle connections are closed). Call it first, so
// its cleanup runs last.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			CloseIdleConnections()
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(20 * time.Millisecond) // polling with a deadline
		}
	})
}

// do runs a request with body (nil: none), reads the whole response, and
// returns it with its body.
func do(t testing.TB, o Options, body []byte) (*IncomingMessage, string, error) {
	t.Helper()
	r, err := Request(context.Background(), o, nil)
	if err != nil {
		return nil, "", err
	}
	if err := r.End(body); err != nil {
		return nil, "", err
	}
	m, err := r.Response()
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(m)
	return m, string(b), err
}

// mustDo is do that fails the test on error.
func mustDo(t testing.TB, o Options, body []byte) (*IncomingMessage, string) {
	t.Helper()
	m, b, err := do(t, o, body)
	if err != nil {
		t.Fatalf("%s %s: %v", o.Method, o.Path, err)
	}
	return m, b
}

// wantKind fails t unless err is an *Error of kind kind.
func wantKind(t testing.TB, err, kind error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *https.Error", err, err)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %q: kind %v, want %v", err, e.Kind, kind)
	}
}

// echo answers with the request body, Content-Length set.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
})

// rawTLS listens on 127.0.0.1 with the test certificate and runs serve for
// each accepted TLS connection; it is closed with the test.
func rawTLS(t testing.TB, serve func(c *tls.Conn)) int {
	t.Helper()
	cert := leaf(t, testCA(t), certs.LeafOptions{})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c.(*tls.Conn))
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// readRequestHead reads a request head from c and returns it.
func readRequestHead(c io.Reader) string {
	var b strings.Builder
	buf := make([]byte, 1)
	for !strings.HasSuffix(b.String(), "\r\n\r\n") {
		if _, err := c.Read(buf); err != nil {
			break
		}
		b.Write(buf)
	}
	return b.String()
}

func rawOpts(t testing.TB, port int, method, path string) Options {
	return Options{Host: "127.0.0.1", Port: port, Method: method, Path: path, CA: string(testCA(t).CertPEM)}
}

var discardLog = log.New(io.Discard, "", 0)

// closedPort returns a loopback port on which nothing listens.
func closedPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}
