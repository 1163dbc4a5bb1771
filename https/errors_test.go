package https

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
)

func hello(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }

// TestErrorKindsTLS: each fault of the server's certificate, and each
// refusal of ours, is its own kind, over HTTP/1.1 and HTTP/2; a kind that
// refines an older one (ErrNotYetValid, ErrSelfSigned) still matches it.
func TestErrorKindsTLS(t *testing.T) {
	checkGoroutines(t)
	ca := testCA(t)
	other, err := certs.NewCA("another CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	clientCA, err := certs.NewCA("client CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	clientCert, clientKey, err := clientCA.Issue(certs.LeafOptions{Client: true})
	if err != nil {
		t.Fatal(err)
	}
	strangerCert, strangerKey, err := other.Issue(certs.LeafOptions{Client: true})
	if err != nil {
		t.Fatal(err)
	}
	requireClientCert := func(c *tls.Config) {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = clientCA.Pool()
	}
	withChain := leaf(t, other, certs.LeafOptions{})
	withChain.Certificate = append(withChain.Certificate, other.Cert.Raw)
	past := time.Now().Add(-48 * time.Hour)
	future := time.Now().Add(48 * time.Hour)
	tests := []struct {
		name  string
		cert  tls.Certificate
		tweak func(*tls.Config) // the server's TLS config
		opts  func(*Options)
		kind  error // the exact Kind; nil: success
		also  error // a broader kind errors.Is must match too
		as    any   // a pointer for errors.As, or nil
	}{
		{"expired", leaf(t, ca, certs.LeafOptions{NotBefore: past.Add(-time.Hour), NotAfter: past}), nil, nil,
			ErrExpired, nil, new(x509.CertificateInvalidError)},
		{"not yet valid", leaf(t, ca, certs.LeafOptions{NotBefore: future, NotAfter: future.Add(time.Hour)}), nil, nil,
			ErrNotYetValid, ErrExpired, new(x509.CertificateInvalidError)},
		{"unknown authority", leaf(t, other, certs.LeafOptions{}), nil, nil,
			ErrUnknownAuthority, nil, new(x509.UnknownAuthorityError)},
		{"unknown authority that sends its root along", withChain, nil, nil,
			ErrUnknownAuthority, nil, new(x509.UnknownAuthorityError)},
		{"system roots do not know the test CA", leaf(t, ca, certs.LeafOptions{}), nil, func(o *Options) { o.CA = "" },
			ErrUnknownAuthority, nil, new(x509.UnknownAuthorityError)},
		{"self-signed", selfSignedLeaf(t), nil, nil,
			ErrSelfSigned, ErrUnknownAuthority, new(x509.UnknownAuthorityError)},
		{"name mismatch", leaf(t, ca, certs.LeafOptions{Hosts: []string{"example.com"}}), nil, nil,
			ErrNameMismatch, nil, new(x509.HostnameError)},
		{"client certificate required, none sent", leaf(t, ca, certs.LeafOptions{}), requireClientCert, nil,
			ErrClientCertRefused, nil, nil},
		{"client certificate rejected", leaf(t, ca, certs.LeafOptions{}), requireClientCert,
			func(o *Options) { o.Cert, o.Key = string(strangerCert), string(strangerKey) },
			ErrClientCertRefused, nil, nil},
		{"client certificate accepted", leaf(t, ca, certs.LeafOptions{}), requireClientCert,
			func(o *Options) { o.Cert, o.Key = string(clientCert), string(clientKey) }, nil, nil, nil},
		{"insecure skips all of it", leaf(t, other, certs.LeafOptions{NotBefore: past.Add(-time.Hour), NotAfter: past, Hosts: []string{"example.com"}}), nil,
			func(o *Options) { o.CA, o.InsecureSkipVerify = "", true }, nil, nil, nil},
		{"self-signed trusted as its own CA", selfSignedLeaf(t), nil, func(o *Options) { o.CA = selfSignedPEM(t) }, nil, nil, nil},
	}
	for _, proto := range []struct {
		name   string
		h1Only bool
	}{{"h1", true}, {"h2", false}} {
		for _, tt := range tests {
			t.Run(proto.name+"/"+tt.name, func(t *testing.T) {
				s := newServer(t, http.HandlerFunc(hello), serverConfig{cert: &tt.cert, h1Only: proto.h1Only, tweak: tt.tweak})
				o := s.opts(t, "GET", "/")
				if tt.opts != nil {
					tt.opts(&o)
				}
				m, body, err := do(t, o, nil)
				if tt.kind == nil {
					if err != nil || body != "hello" {
						t.Fatalf("got %q, %v; want hello", body, err)
					}
					if want := map[bool]string{true: "1.1", false: "2.0"}[proto.h1Only]; m.HTTPVersion != want {
						t.Errorf("HTTP/%s, want HTTP/%s", m.HTTPVersion, want)
					}
					return
				}
				wantKind(t, err, tt.kind)
				if e := err.(*Error); e.Kind != tt.kind {
					t.Errorf("error %q: Kind = %v, want exactly %v", err, e.Kind, tt.kind)
				}
				if tt.also != nil && !errors.Is(err, tt.also) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.also)
				}
				if tt.as != nil && !errors.As(err, tt.as) {
					t.Errorf("errors.As(%v, %T) = false", err, tt.as)
				}
			})
		}
	}
}

// selfSignedLeaf is a server certificate for localhost and 127.0.0.1 that
// signs itself, made with crypto/x509 (package certs only issues from a CA).
// It is made once: selfSignedPEM returns the same certificate.
func selfSignedLeaf(t testing.TB) tls.Certificate {
	t.Helper()
	selfSignedTest.once.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			selfSignedTest.err = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "self-signed localhost"},
			DNSNames:     []string{"localhost"},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			selfSignedTest.err = err
			return
		}
		selfSignedTest.cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
		selfSignedTest.pem = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	})
	if selfSignedTest.err != nil {
		t.Fatal(selfSignedTest.err)
	}
	return selfSignedTest.cert
}

func selfSignedPEM(t testing.TB) string {
	selfSignedLeaf(t)
	return selfSignedTest.pem
}

var selfSignedTest struct {
	once sync.Once
	cert tls.Certificate
	pem  string
	err  error
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

// cutter is the signal a cutting server waits for before it cuts a body:
// the client closes it once it has read the part before the cut, so the cut
// is mid-body for sure. It is also closed when the test ends.
type cutter struct {
	once sync.Once
	ch   chan struct{}
}

func newCutter(t *testing.T) *cutter {
	c := &cutter{ch: make(chan struct{})}
	t.Cleanup(c.cut)
	return c
}

func (c *cutter) cut() { c.once.Do(func() { close(c.ch) }) }

// lyingServer answers over HTTP/1.1 with head and a body that stops short
// of what its framing promised and, once cut, closes the connection (or
// resets it).
func lyingServer(t *testing.T, head, body string, reset bool, cut *cutter) Options {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		bw.WriteString(head + body)
		bw.Flush()
		<-cut.ch
		if reset {
			if tc, ok := c.(*tls.Conn).NetConn().(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
		}
	}), serverConfig{h1Only: true})
	return s.opts(t, "GET", "/")
}

// h2CuttingServer answers over HTTP/2 with body (and a Content-Length of 100
// when withLength) and, once cut, resets the stream (drop false: the handler
// panics with http.ErrAbortHandler) or closes the whole connection.
func h2CuttingServer(t *testing.T, body string, withLength, drop bool, cut *cutter) Options {
	var mu sync.Mutex
	var conn net.Conn
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if withLength {
			w.Header().Set("Content-Length", "100")
		}
		io.WriteString(w, body)
		http.NewResponseController(w).Flush()
		select {
		case <-cut.ch:
		case <-r.Context().Done():
			return
		}
		if !drop {
			panic(http.ErrAbortHandler)
		}
		mu.Lock()
		conn.Close()
		mu.Unlock()
	}), serverConfig{state: func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			mu.Lock()
			conn = c
			mu.Unlock()
		}
	}})
	return s.opts(t, "GET", "/")
}

// TestTruncatedBody: a body cut mid-way, however it is cut, is an error of
// kind ErrTruncated ('error', then 'close'; never 'end'), after the part
// that did arrive: never a short read passed off as complete.
func TestTruncatedBody(t *testing.T) {
	checkGoroutines(t)
	const (
		clHead      = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
		chunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	)
	tests := []struct {
		name  string
		part  string // the body that arrives before the cut
		start func(t *testing.T, cut *cutter) Options
	}{
		{"h1 short Content-Length", "only ten..", func(t *testing.T, cut *cutter) Options {
			return lyingServer(t, clHead, "only ten..", false, cut)
		}},
		{"h1 cut chunked", "hello", func(t *testing.T, cut *cutter) Options {
			return lyingServer(t, chunkedHead, "5\r\nhello\r\n", false, cut)
		}},
		{"h1 reset mid-body", "only ten..", func(t *testing.T, cut *cutter) Options {
			return lyingServer(t, clHead, "only ten..", true, cut)
		}},
		{"h1 chunked reset mid-body", "hello", func(t *testing.T, cut *cutter) Options {
			return lyingServer(t, chunkedHead, "5\r\nhello\r\n", true, cut)
		}},
		{"h2 stream reset mid-body", "only ten..", func(t *testing.T, cut *cutter) Options {
			return h2CuttingServer(t, "only ten..", true, false, cut)
		}},
		{"h2 stream reset mid-body without length", "only ten..", func(t *testing.T, cut *cutter) Options {
			return h2CuttingServer(t, "only ten..", false, false, cut)
		}},
		{"h2 connection dropped mid-body", "only ten..", func(t *testing.T, cut *cutter) Options {
			return h2CuttingServer(t, "only ten..", true, true, cut)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/Read", func(t *testing.T) {
			cut := newCutter(t)
			r, rec := startRecorded(t, tt.start(t, cut), false)
			m, err := r.Response()
			if err != nil {
				t.Fatal(err)
			}
			part := make([]byte, len(tt.part))
			if _, err := io.ReadFull(m, part); err != nil || string(part) != tt.part {
				t.Fatalf("before the cut: read %q, %v; want %q", part, err, tt.part)
			}
			cut.cut()
			rest, err := io.ReadAll(m)
			wantKind(t, err, ErrTruncated)
			if len(rest) > 0 {
				t.Errorf("after the cut: read %q more", rest)
			}
			if got, want := rec.wait(t), "socket,finish,response,error,res.close,close"; got != want {
				t.Errorf("events = %s, want %s", got, want)
			}
			if _, err := m.Read(make([]byte, 1)); !errors.Is(err, ErrTruncated) {
				t.Errorf("Read after the error = %v, want ErrTruncated again", err)
			}
		})
		t.Run(tt.name+"/OnData", func(t *testing.T) {
			cut := newCutter(t)
			r, err := Request(context.Background(), tt.start(t, cut), nil)
			if err != nil {
				t.Fatal(err)
			}
			rec := record(r, true)
			n := 0
			r.OnResponse(func(m *IncomingMessage) {
				m.OnData(func(p []byte) {
					if n += len(p); n >= len(tt.part) {
						cut.cut()
					}
				})
			})
			r.End()
			if got, want := rec.wait(t), "socket,finish,response,data*,error,res.close,close"; got != want {
				t.Errorf("events = %s, want %s", got, want)
			}
			wantKind(t, rec.Err(), ErrTruncated)
			if rec.Body() != tt.part {
				t.Errorf("body = %q, want %q", rec.Body(), tt.part)
			}
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
	// Armed once the request is sent: the server never answers /wait, so the
	// timeout fires whatever the handshake took on a loaded machine.
	r.OnFinish(func() { r.SetTimeout(100*time.Millisecond, nil) })
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
