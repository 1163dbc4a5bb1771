package https

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
)

func hello(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }

func TestErrorKindsTLS(t *testing.T) {
	checkGoroutines(t)
	ca := testCA(t)
	other, err := certs.NewCA("another CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-48 * time.Hour)
	future := time.Now().Add(48 * time.Hour)
	tests := []struct {
		name string
		cert tls.Certificate
		opts func(*Options)
		kind error
		as   any // a pointer for errors.As, or nil
	}{
		{"expired", leaf(t, ca, certs.LeafOptions{NotBefore: past.Add(-time.Hour), NotAfter: past}), nil,
			ErrExpired, new(x509.CertificateInvalidError)},
		{"not yet valid", leaf(t, ca, certs.LeafOptions{NotBefore: future, NotAfter: future.Add(time.Hour)}), nil,
			ErrExpired, new(x509.CertificateInvalidError)},
		{"unknown authority", leaf(t, other, certs.LeafOptions{}), nil,
			ErrUnknownAuthority, new(x509.UnknownAuthorityError)},
		{"system roots do not know the test CA", leaf(t, ca, certs.LeafOptions{}), func(o *Options) { o.CA = "" },
			ErrUnknownAuthority, new(x509.UnknownAuthorityError)},
		{"name mismatch", leaf(t, ca, certs.LeafOptions{Hosts: []string{"example.com"}}), nil,
			ErrNameMismatch, new(x509.HostnameError)},
		{"insecure skips all of it", leaf(t, other, certs.LeafOptions{NotBefore: past.Add(-time.Hour), NotAfter: past, Hosts: []string{"example.com"}}),
			func(o *Options) { o.CA, o.InsecureSkipVerify = "", true }, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, http.HandlerFunc(hello), serverConfig{cert: &tt.cert})
			o := s.opts(t, "GET", "/")
			if tt.opts != nil {
				tt.opts(&o)
			}
			_, body, err := do(t, o, nil)
			if tt.kind == nil {
				if err != nil || body != "hello" {
					t.Fatalf("got %q, %v; want hello", body, err)
				}
				return
			}
			wantKind(t, err, tt.kind)
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("errors.As(%v, %T) = false", err, tt.as)
			}
		})
	}
}

// TestErrorKindsEvents checks that a failure is delivered as 'error' then
// 'close', and what each kind of network failure is called.
func TestErrorKindsNetwork(t *testing.T) {
	checkGoroutines(t)
	tests := []struct {
		name string
		opts func(t *testing.T) Options
		kind error
		want string // events
	}{
		{"refused", func(t *testing.T) Options { return Options{Host: "127.0.0.1", Port: closedPort(t)} }, ErrRefused, "error,close"},
		{"dns", func(t *testing.T) Options { return Options{Host: "no-such-host.invalid"} }, ErrDNS, "error,close"},
		{"handshake: not a TLS server", func(t *testing.T) Options {
			return Options{Host: "127.0.0.1", Port: rawTCP(t, func(c net.Conn) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
			})}
		}, ErrHandshake, "error,close"},
		{"handshake: server has no certificate", func(t *testing.T) Options {
			port := rawTCP(t, func(c net.Conn) { tls.Server(c, &tls.Config{}).Handshake() })
			return Options{Host: "127.0.0.1", Port: port, InsecureSkipVerify: true}
		}, ErrHandshake, "error,close"},
		{"malformed response", func(t *testing.T) Options {
			return rawOpts(t, rawTLS(t, func(c *tls.Conn) {
				readRequestHead(c)
				io.WriteString(c, "Bad http\r\n\r\n")
			}), "GET", "/")
		}, ErrMalformedResponse, "socket,finish,error,close"},
		{"closed before response", func(t *testing.T) Options {
			return rawOpts(t, rawTLS(t, func(c *tls.Conn) { readRequestHead(c) }), "GET", "/")
		}, ErrClosed, "socket,finish,error,close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Request(context.Background(), tt.opts(t), func(*IncomingMessage) { t.Error("response callback ran") })
			if err != nil {
				t.Fatal(err)
			}
			rec := record(r, true)
			r.End()
			if got := rec.wait(t); got != tt.want {
				t.Errorf("events = %s, want %s", got, tt.want)
			}
			wantKind(t, rec.Err(), tt.kind)
			if _, err := r.Response(); !errors.Is(err, tt.kind) {
				t.Errorf("Response() error = %v, want kind %v", err, tt.kind)
			}
		})
	}
}

// lyingServer answers with a body that stops short of what its framing
// promised, then closes (or resets) the connection.
func lyingServer(t *testing.T, head, body string, reset bool) Options {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		bw.WriteString(head + body)
		bw.Flush()
		if reset {
			if tc, ok := c.(*tls.Conn).NetConn().(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
		}
	}), serverConfig{h1Only: true})
	return s.opts(t, "GET", "/")
}

func TestTruncatedBody(t *testing.T) {
	checkGoroutines(t)
	tests := []struct {
		name, head, body string
		reset            bool
	}{
		{"short Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "only ten..", false},
		{"cut chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n", false},
		{"reset mid-body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "only ten..", true},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/Read", func(t *testing.T) {
			o := lyingServer(t, tt.head, tt.body, tt.reset)
			_, body, err := do(t, o, nil)
			wantKind(t, err, ErrTruncated)
			if len(body) > 10 {
				t.Errorf("body = %q", body)
			}
		})
		t.Run(tt.name+"/OnData", func(t *testing.T) {
			o := lyingServer(t, tt.head, tt.body, tt.reset)
			r, err := Request(context.Background(), o, nil)
			if err != nil {
				t.Fatal(err)
			}
			rec := record(r, true)
			r.End()
			got := rec.wait(t)
			if !strings.HasSuffix(got, "error,res.close,close") || strings.Contains(got, "end") {
				t.Errorf("events = %s, want ...,error,res.close,close and no end", got)
			}
			wantKind(t, rec.Err(), ErrTruncated)
		})
	}
}

func TestTimeoutError(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, orderHandler, serverConfig{})
	r, err := Request(context.Background(), s.opts(t, "GET", "/wait"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := record(r, true)
	r.SetTimeout(100*time.Millisecond, nil)
	r.End()
	if got, want := rec.wait(t), "socket,finish,error,close"; got != want {
		t.Errorf("events = %s, want %s", got, want)
	}
	wantKind(t, rec.Err(), ErrTimeout)
	var ne net.Error
	if !errors.As(rec.Err(), &ne) || !ne.Timeout() {
		t.Errorf("%v is not a net.Error with Timeout()", rec.Err())
	}
	if r.Aborted().IsZero() {
		t.Error("a timeout without callback did not abort")
	}
}

func TestMutualTLS(t *testing.T) {
	checkGoroutines(t)
	clientCA, err := certs.NewCA("client CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := certs.NewCA("stranger CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := clientCA.Issue(certs.LeafOptions{Client: true, CommonName: "device-1"})
	if err != nil {
		t.Fatal(err)
	}
	strangerCert, strangerKey, err := stranger.Issue(certs.LeafOptions{Client: true, CommonName: "intruder"})
	if err != nil {
		t.Fatal(err)
	}
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	})
	for _, version := range []struct {
		name string
		max  uint16
	}{{"TLS1.2", tls.VersionTLS12}, {"TLS1.3", tls.VersionTLS13}} {
		t.Run(version.name, func(t *testing.T) {
			s := newServer(t, whoami, serverConfig{tweak: func(c *tls.Config) {
				c.ClientAuth = tls.RequireAndVerifyClientCert
				c.ClientCAs = clientCA.Pool()
				c.MaxVersion = version.max
			}})
			o := s.opts(t, "GET", "/")
			o.Cert, o.Key = string(certPEM), string(keyPEM)
			if _, body := mustDo(t, o, nil); body != "device-1" {
				t.Errorf("server saw client %q, want device-1", body)
			}

			o.Cert, o.Key = string(strangerCert), string(strangerKey)
			_, _, err := do(t, o, nil)
			wantKind(t, err, ErrClientCertRefused)

			o.Cert, o.Key = "", ""
			_, _, err = do(t, o, nil)
			wantKind(t, err, ErrClientCertRefused)
		})
	}
}

// rawTCP listens on 127.0.0.1 without TLS and runs serve for each connection.
func rawTCP(t testing.TB, serve func(net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}
