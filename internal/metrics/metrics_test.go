package metrics

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/testenv"
	"github.com/httpskit/httpskit/server"
)

// scrape returns the samples of c's exposition by series ("name{labels}" as written).
func scrape(t *testing.T, c *Collector) (map[string]float64, []byte) {
	t.Helper()
	var buf bytes.Buffer
	n, err := c.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d bytes", n, err, buf.Len())
	}
	got, err := ParseText(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return got, buf.Bytes()
}

func TestObserveRequest(t *testing.T) {
	c := New(nil)
	c.ObserveRequest("HTTP/1.1", 200, 13, 50*time.Microsecond)
	c.ObserveRequest("HTTP/1.1", 0, 0, 300*time.Microsecond)   // aborted before a status: other
	c.ObserveRequest("HTTP/2.0", 404, 10, 2*time.Millisecond)  // 2.5 ms bucket
	c.ObserveRequest("HTTP/1.0", 503, 0, time.Minute)          // +Inf only
	c.ObserveRequest("SPDY/3", 999, -1, 10*time.Second)        // other, other; 10 s bucket
	c.ObserveRequest("HTTP/2.0", 101, 0, 100*time.Microsecond) // on the first bound
	got, _ := scrape(t, c)
	for series, want := range map[string]float64{
		`httpskit_http_requests_total{protocol="HTTP/1.1",code="2xx"}`:       1,
		`httpskit_http_requests_total{protocol="HTTP/1.1",code="other"}`:     1,
		`httpskit_http_requests_total{protocol="HTTP/2.0",code="4xx"}`:       1,
		`httpskit_http_requests_total{protocol="HTTP/2.0",code="1xx"}`:       1,
		`httpskit_http_requests_total{protocol="HTTP/1.0",code="5xx"}`:       1,
		`httpskit_http_requests_total{protocol="other",code="other"}`:        1,
		`httpskit_http_requests_total{protocol="HTTP/2.0",code="2xx"}`:       0,
		`httpskit_http_request_duration_seconds_bucket{le="0.0001"}`:         2,
		`httpskit_http_request_duration_seconds_bucket{le="0.00025"}`:        2,
		`httpskit_http_request_duration_seconds_bucket{le="0.0005"}`:         3,
		`httpskit_http_request_duration_seconds_bucket{le="0.0025"}`:         4,
		`httpskit_http_request_duration_seconds_bucket{le="5"}`:              4,
		`httpskit_http_request_duration_seconds_bucket{le="10"}`:             5,
		`httpskit_http_request_duration_seconds_bucket{le="+Inf"}`:           6,
		`httpskit_http_request_duration_seconds_count`:                       6,
		`httpskit_http_request_duration_seconds_sum`:                         70.00245,
		`httpskit_http_response_bytes_total`:                                 23,
		`httpskit_connections_open`:                                          0,
		`httpskit_tls_handshake_failures_total{reason="client_certificate"}`: 0,
	} {
		if g, ok := got[series]; !ok || g != want {
			t.Errorf("%s = %v (present %v), want %v", series, g, ok, want)
		}
	}
}

func TestFailureReason(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"client sent an HTTP request to an HTTPS server", ReasonNotTLS},
		{"tls: first record does not look like a TLS handshake", ReasonNotTLS},
		{"EOF", ReasonClientClosed},
		{"read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer", ReasonClientClosed},
		{"read tcp 127.0.0.1:1->127.0.0.1:2: i/o timeout", ReasonTimeout},
		{"remote error: tls: bad certificate", ReasonCertRejected},
		{"remote error: tls: unknown certificate authority", ReasonCertRejected},
		{"tls: client didn't provide a certificate", ReasonClientCertificate},
		{"tls: failed to verify certificate: x509: certificate signed by unknown authority", ReasonClientCertificate},
		{"tls: client offered only unsupported versions: [302 301]", ReasonProtocolVersion},
		{"tls: no cipher suite supported by both client and server", ReasonNoSharedCipher},
		{"tls: unexpected message", ReasonOther},
		{"", ReasonOther},
	} {
		if got := FailureReason(tc.in); got != tc.want {
			t.Errorf("FailureReason(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEscape(t *testing.T) {
	c := New(func() []Certificate {
		return []Certificate{{Listener: "https://a\"b\\c\nd:1", Serial: "ff", NotAfter: time.Unix(1700000000, 0)}}
	})
	var buf bytes.Buffer
	c.WriteTo(&buf)
	want := `httpskit_tls_certificate_expiry_timestamp_seconds{listener="https://a\"b\\c\nd:1",serial="ff"} 1700000000` + "\n"
	if !strings.Contains(buf.String(), want) {
		t.Errorf("exposition lacks %q:\n%s", want, buf.String())
	}
}

// lineWriter sends each line logged to it on a channel.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) { w <- string(p); return len(p), nil }

// wired starts a package server TLS listener on loopback with every hook of c in place (c as
// its Observer; ConnState and ErrorLog on its http.Server), serving HTTP/1.1 and HTTP/2
// through routes (a 500 at /fail, the router's 404 where none answers), and returns its
// address with the CA it trusts, the lines of its error log, and a channel that gets each
// connection as it is closed (both after c has counted them).
func wired(t *testing.T, c *Collector, routes map[string]server.HandlerFunc) (addr string, ca *certs.CA, logged chan string, closed chan net.Conn) {
	t.Helper()
	ca, err := certs.NewCA("metrics test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueTLS(certs.LeafOptions{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	logged, closed = make(chan string, 100), make(chan net.Conn, 100)
	s := server.New(server.Config{})
	for path, fn := range routes {
		if err := s.RouteFunc("*", path, fn); err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.AddHTTPSServer(server.HTTPSConfig{HTTPConfig: server.HTTPConfig{Host: "127.0.0.1", Observer: c},
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{leaf}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := l.Original()
	hs.ConnState = func(conn net.Conn, s http.ConnState) {
		c.ConnState(conn, s)
		if s == http.StateClosed {
			closed <- conn
		}
	}
	hs.ErrorLog = c.ErrorLog(log.New(lineWriter(logged), "", 0))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return l.Addr(), ca, logged, closed
}

// TestWiredOverTLS: requests over HTTP/1.1 and HTTP/2 are counted by protocol and status
// class, with the body bytes the client read (none for HEAD); handshakes and connections
// are counted, and failed handshakes by reason.
func TestWiredOverTLS(t *testing.T) {
	c := New(nil)
	addr, ca, logged, closed := wired(t, c, map[string]server.HandlerFunc{
		"/": func(_ string, _ *server.Request, res *server.Response) error {
			return res.WriteText(http.StatusOK, "hello, world\n", nil)
		},
		"/fail": func(string, *server.Request, *server.Response) error {
			return errors.New("broken") // the router answers 500
		},
		"/cut": func(_ string, _ *server.Request, res *server.Response) error {
			res.WriteHead(http.StatusOK, http.Header{"Content-Length": {"100"}})
			res.Write([]byte("partial"))
			return errors.New("broken after the status went out") // the router cuts the connection
		},
	})
	var read int64
	get := func(client *http.Client, method, path string, want int) {
		t.Helper()
		req, err := http.NewRequest(method, "https://"+addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		read += n
		if resp.StatusCode != want {
			t.Errorf("%s %s over %s: %d, want %d", method, path, resp.Proto, resp.StatusCode, want)
		}
	}
	cache := tls.NewLRUClientSessionCache(4)
	newClient := func(h2 bool) *http.Client {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ClientSessionCache: cache}}
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP1(!h2)
		tr.Protocols.SetHTTP2(h2)
		return &http.Client{Transport: tr}
	}
	h1, h2 := newClient(false), newClient(true)
	get(h1, "GET", "/", 200)
	get(h1, "GET", "/missing", 404)
	get(h1, "HEAD", "/", 200)
	get(h1, "GET", "/fail", 500)
	get(h2, "GET", "/", 200) // a second connection, resumed from h1's ticket
	get(h2, "HEAD", "/", 200)
	// Cut off after its status went out: counted under that status, with the 7 bytes the
	// route wrote (which the client may or may not get before the stream is reset).
	if resp, err := h2.Get("https://" + addr + "/cut"); err == nil {
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("GET /cut: read %d bytes and no error, want the response cut off", n)
		}
	}
	if read <= 2*13 {
		t.Fatalf("the clients read %d body bytes, want the 404's and 500's too", read)
	}
	got, _ := scrape(t, c)
	for series, want := range map[string]float64{
		`httpskit_http_requests_total{protocol="HTTP/1.1",code="2xx"}`: 2,
		`httpskit_http_requests_total{protocol="HTTP/1.1",code="4xx"}`: 1,
		`httpskit_http_requests_total{protocol="HTTP/1.1",code="5xx"}`: 1,
		`httpskit_http_requests_total{protocol="HTTP/2.0",code="2xx"}`: 3,
		`httpskit_http_request_duration_seconds_count`:                 7,
		`httpskit_http_response_bytes_total`:                           float64(read + int64(len("partial"))),
		`httpskit_tls_handshakes_total{type="full"}`:                   1,
		`httpskit_tls_handshakes_total{type="resumed"}`:                1,
		`httpskit_connections_open`:                                    2,
		`httpskit_connections_accepted_total`:                          2,
	} {
		if g := got[series]; g != want {
			t.Errorf("%s = %v, want %v", series, g, want)
		}
	}
	h1.CloseIdleConnections()
	h2.CloseIdleConnections()
	<-closed
	<-closed
	if got, _ = scrape(t, c); got[`httpskit_connections_open`] != 0 {
		t.Errorf("connections_open = %v after the clients closed, want 0", got[`httpskit_connections_open`])
	}

	// Failed handshakes, one per reason we can provoke from a client on loopback. Each waits
	// for the server to close the connection, after which net/http has logged the failure.
	fail := func(t *testing.T, write []byte, cfg *tls.Config) {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if cfg != nil {
			tc := tls.Client(conn, cfg)
			if err := tc.Handshake(); err == nil {
				t.Fatal("handshake succeeded, want a failure")
			}
		} else if write != nil {
			conn.Write(write)
		} else {
			conn.(*net.TCPConn).CloseWrite()
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, conn) // until the server closes
	}
	fail(t, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), nil)
	fail(t, nil, &tls.Config{ServerName: "127.0.0.1"}) // does not trust our CA
	fail(t, nil, &tls.Config{ServerName: "127.0.0.1", RootCAs: ca.Pool(), MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
	fail(t, nil, nil) // closed before a ClientHello
	for range 4 {
		line := <-logged // passed on after it was counted
		t.Logf("error log: %s", strings.TrimSpace(line))
	}
	got, _ = scrape(t, c)
	for r, n := range map[string]float64{ReasonNotTLS: 1, ReasonCertRejected: 1, ReasonProtocolVersion: 1, ReasonClientClosed: 1} {
		if g := got[`httpskit_tls_handshake_failures_total{reason="`+r+`"}`]; g != n {
			t.Errorf("failures{reason=%q} = %v, want %v", r, g, n)
		}
	}
	// The handshake the client refused got past our side's checks (TLS 1.3 runs them before
	// the client's Finished): it must not be counted as done.
	if f, r := got[`httpskit_tls_handshakes_total{type="full"}`], got[`httpskit_tls_handshakes_total{type="resumed"}`]; f != 1 || r != 1 {
		t.Errorf("after the failures: handshakes full %v, resumed %v; want 1, 1", f, r)
	}
	if g := got[`httpskit_tls_handshake_failures_total{reason="other"}`]; g != 0 {
		t.Errorf("failures{reason=other} = %v, want 0", g)
	}
}

// TestPromtool checks the exposition, with every series present, with `promtool check metrics`.
func TestPromtool(t *testing.T) {
	promtool := testenv.LookPath(t, "promtool")
	c := New(func() []Certificate {
		return []Certificate{{Listener: "https://localhost:7080", Serial: "1f", NotAfter: time.Now().Add(time.Hour)}}
	})
	c.ObserveRequest("HTTP/1.1", 200, 13, time.Millisecond)
	c.HandshakeFailed("EOF")
	ts := httptest.NewServer(c)
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type = %q, want %q", ct, ContentType)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s\nexposition:\n%s", err, out, body)
	}
	resp, err = http.Post(ts.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", resp.StatusCode)
	}
}
