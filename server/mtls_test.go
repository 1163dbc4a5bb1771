package server

// Mutual TLS end to end, beyond TestWireMutualTLS (which checks that a client of the right CA
// gets in and one without a certificate or of another CA does not): the identity the request
// wrapper exposes, the TLS alert each refusal sends, what the https client reports for it,
// and that a certificate accepted without verification never passes as an identity.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/https"
)

// mtlsIdentity is what the /whoami route reports of the request's TLS state.
type mtlsIdentity struct {
	TLS      bool     `json:"tls"`
	Version  string   `json:"version"`
	ALPN     string   `json:"alpn"`
	Resumed  bool     `json:"resumed"`
	Peers    int      `json:"peers"` // certificates the client sent, verified or not
	Subject  string   `json:"subject"`
	CN       string   `json:"cn"`
	DNSNames []string `json:"dns"`
	IPs      []string `json:"ips"`
	Verified bool     `json:"verified"`
}

// mtlsServer starts a server with a plain HTTP listener and an HTTPS and an HTTP/2 listener
// that ask for client certificates as cfg says, all sharing a router whose GET /whoami
// answers with the request's mtlsIdentity. The counter counts requests that reached it.
func mtlsServer(t *testing.T, cfg HTTPSConfig) (hl *Listener, tlsListeners []*Listener, reached *atomic.Int64) {
	t.Helper()
	p := getPKI(t)
	reached = new(atomic.Int64)
	s := New(Config{})
	must(t, s.RouteFunc("GET", "/whoami", func(_ string, req *Request, res *Response) error {
		reached.Add(1)
		var id mtlsIdentity
		if st := req.TLS(); st != nil {
			id.TLS, id.Version, id.ALPN, id.Resumed = true, tls.VersionName(st.Version), st.NegotiatedProtocol, st.DidResume
			id.Peers = len(st.PeerCertificates)
		}
		if c := req.ClientCertificate(); c != nil {
			id.Verified, id.Subject, id.CN, id.DNSNames = true, c.Subject.String(), c.Subject.CommonName, c.DNSNames
			for _, ip := range c.IPAddresses {
				id.IPs = append(id.IPs, ip.String())
			}
		}
		return res.WriteJSON(0, id, nil)
	}))
	hl, err := s.AddHTTPServer(HTTPConfig{Host: "127.0.0.1", Port: RandomPort})
	must(t, err)
	cfg.CertPEM, cfg.KeyPEM = p.certPEM, p.keyPEM
	return hl, startTLSListeners(t, s, cfg), reached
}

// mtlsClient is an HTTP client for one protocol that sends cert (when not nil) whatever the
// server asks for, with a session cache.
func mtlsClient(t *testing.T, h2 bool, cert *tls.Certificate) *http.Client {
	c := clientFor(getPKI(t).pool, h2)
	tr := c.Transport.(*http.Transport)
	tr.DisableKeepAlives = true // every request makes a new connection
	tr.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	if cert != nil {
		tr.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func mtlsWhoami(t *testing.T, c *http.Client, base string) (mtlsIdentity, error) {
	t.Helper()
	var id mtlsIdentity
	resp, err := c.Get(base + "/whoami")
	if err != nil {
		return id, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return id, err
	}
	if resp.StatusCode != 200 {
		return id, fmt.Errorf("GET /whoami = %d %q", resp.StatusCode, b)
	}
	return id, json.Unmarshal(b, &id)
}

// mtlsIssue issues a client certificate from ca.
func mtlsIssue(t *testing.T, ca *certs.CA, opts certs.LeafOptions) (tls.Certificate, []byte, []byte) {
	t.Helper()
	opts.Client = true
	c, k, err := ca.Issue(opts)
	must(t, err)
	pair, err := tls.X509KeyPair(c, k) // no validity check: expired certificates on purpose
	must(t, err)
	return pair, c, k
}

// TestMutualTLSIdentity: the handler sees the verified client certificate through
// Request.ClientCertificate (subject, DNS and IP names) and the connection through
// Request.TLS, on both listeners, over HTTP/1.1 and HTTP/2, also on a resumed connection;
// on plain HTTP both are nil.
func TestMutualTLSIdentity(t *testing.T) {
	p := getPKI(t)
	hl, ls, _ := mtlsServer(t, HTTPSConfig{CA: string(p.clientCA.CertPEM), ClientAuth: tls.RequireAndVerifyClientCert})
	cert, _, _ := mtlsIssue(t, p.clientCA, certs.LeafOptions{CommonName: "device-7", Hosts: []string{"device-7.example", "10.0.0.7"}})
	for _, l := range ls {
		for _, h2 := range []bool{false, true} {
			name := fmt.Sprintf("%s h2=%v", l.Kind(), h2)
			c := mtlsClient(t, h2, &cert)
			wantALPN := map[bool]string{false: "", true: "h2"}[h2] // net/http offers no ALPN for HTTP/1.1 only
			for _, resumed := range []bool{false, true} {
				id, err := mtlsWhoami(t, c, wireBase(l))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				want := mtlsIdentity{TLS: true, Version: "TLS 1.3", ALPN: wantALPN, Resumed: resumed, Peers: 1,
					Subject: "CN=device-7,O=httpskit development certificate", CN: "device-7",
					DNSNames: []string{"device-7.example"}, IPs: []string{"10.0.0.7"}, Verified: true}
				if fmt.Sprint(id) != fmt.Sprint(want) {
					t.Errorf("%s (resumed %v): the handler saw\n%+v\nwant\n%+v", name, resumed, id, want)
				}
			}
		}
	}
	id, err := mtlsWhoami(t, &http.Client{Timeout: 30 * time.Second}, hl.URL())
	if err != nil {
		t.Fatal(err)
	}
	if id.TLS || id.Verified || id.Peers != 0 {
		t.Errorf("plain HTTP: the handler saw %+v, want no TLS state and no client certificate", id)
	}
}

// TestMutualTLSRefused: a client with no certificate, one of another CA, or an expired one is
// refused during the handshake with the TLS alert for its case, on both listeners, whatever
// the protocol and TLS version; no request reaches the router. The https client reports
// ErrClientCertRefused, and refuses to send an expired certificate at all.
func TestMutualTLSRefused(t *testing.T) {
	p := getPKI(t)
	_, ls, reached := mtlsServer(t, HTTPSConfig{CA: string(p.clientCA.CertPEM), ClientAuth: tls.RequireAndVerifyClientCert})
	stranger, err := certs.NewCA("server test stranger CA", 0)
	must(t, err)
	untrusted, untrustedPEM, untrustedKey := mtlsIssue(t, stranger, certs.LeafOptions{CommonName: "intruder"})
	expired, expiredPEM, expiredKey := mtlsIssue(t, p.clientCA, certs.LeafOptions{CommonName: "lapsed",
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	tests := []struct {
		name              string
		cert              *tls.Certificate
		alert12, alert13  string // what the server sends, as crypto/tls reports it
		certPEM, keyPEM   []byte
		httpsErr, httpsIs error // the https client's error kind, and a cause it wraps
	}{
		{"no certificate", nil, "handshake failure", "certificate required", nil, nil, https.ErrClientCertRefused, nil},
		{"certificate of another CA", &untrusted, "unknown certificate authority", "unknown certificate authority",
			untrustedPEM, untrustedKey, https.ErrClientCertRefused, nil},
		{"expired certificate", &expired, "expired certificate", "expired certificate",
			expiredPEM, expiredKey, https.ErrInvalidRequest, certs.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, l := range ls {
				addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))
				for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
					for _, alpn := range []string{"http/1.1", "h2"} {
						want := map[uint16]string{tls.VersionTLS12: tt.alert12, tls.VersionTLS13: tt.alert13}[version]
						err := mtlsHandshake(t, addr, version, alpn, tt.cert)
						if !strings.Contains(fmt.Sprint(err), "remote error: tls: "+want) {
							t.Errorf("%s %s %s: %v, want the server's alert %q", l.Kind(), tls.VersionName(version), alpn, err, want)
						}
					}
				}

				o := https.Options{Host: "127.0.0.1", Port: l.Port(), Path: "/whoami", CA: string(p.ca.CertPEM),
					Cert: string(tt.certPEM), Key: string(tt.keyPEM)}
				_, err := mtlsHTTPSGet(o)
				if !errors.Is(err, tt.httpsErr) || tt.httpsIs != nil && !errors.Is(err, tt.httpsIs) {
					t.Errorf("%s: https client error %v, want %v (and %v)", l.Kind(), err, tt.httpsErr, tt.httpsIs)
				}
			}
			if n := reached.Load(); n != 0 {
				t.Errorf("%d refused requests reached the router", n)
			}
		})
	}

	// The https client with a good certificate, for contrast.
	cc, ck := p.clientCertPEM, p.clientKeyPEM
	for _, l := range ls {
		body, err := mtlsHTTPSGet(https.Options{Host: "127.0.0.1", Port: l.Port(), Path: "/whoami", CA: string(p.ca.CertPEM), Cert: string(cc), Key: string(ck)})
		if err != nil || !strings.Contains(body, `"cn":"client one"`) {
			t.Errorf("%s: https client with a trusted certificate: %q, %v", l.Kind(), body, err)
		}
	}
}

// mtlsHandshake connects with the TLS version and ALPN protocol, sending cert whatever the
// server asks for, and returns the error the server's alert caused. With TLS 1.3 the server
// checks the certificate after the client's handshake is done: the alert comes on the first
// read.
func mtlsHandshake(t *testing.T, addr string, version uint16, alpn string, cert *tls.Certificate) error {
	cfg := &tls.Config{RootCAs: getPKI(t).pool, ServerName: "localhost", MinVersion: version, MaxVersion: version,
		NextProtos: []string{alpn},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if cert == nil {
				return new(tls.Certificate), nil
			}
			return cert, nil
		}}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 20 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != nil {
		return err
	}
	return errors.New("the server sent data instead of refusing the client")
}

// mtlsHTTPSGet fetches with the https client and returns the body.
func mtlsHTTPSGet(o https.Options) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := https.Get(ctx, o, nil)
	if err != nil {
		return "", err
	}
	m, err := r.Response()
	if err != nil {
		return "", err
	}
	defer m.Close()
	b, err := io.ReadAll(m)
	return string(b), err
}

// TestClientCertificateUnverified: only a verified certificate is an identity. Listeners that
// take any certificate (RequestClientCert, RequireAnyClientCert) let the handler see it in
// TLS().PeerCertificates but ClientCertificate is nil; VerifyClientCertIfGiven lets a client
// without a certificate in (nil identity) and verifies one that is sent.
func TestClientCertificateUnverified(t *testing.T) {
	p := getPKI(t)
	stranger, err := certs.NewCA("server test stranger CA", 0)
	must(t, err)
	untrusted, _, _ := mtlsIssue(t, stranger, certs.LeafOptions{CommonName: "self-asserted"})
	trusted, err := tls.X509KeyPair(p.clientCertPEM, p.clientKeyPEM)
	must(t, err)
	tests := []struct {
		name  string
		auth  tls.ClientAuthType
		ca    string
		cert  *tls.Certificate
		peers int
		cn    string // "" for no identity
	}{
		{"RequestClientCert, a certificate of another CA", tls.RequestClientCert, "", &untrusted, 1, ""},
		{"RequireAnyClientCert, a certificate of another CA", tls.RequireAnyClientCert, "", &untrusted, 1, ""},
		{"RequireAnyClientCert with a client CA, a certificate of another CA", tls.RequireAnyClientCert, string(p.clientCA.CertPEM), &untrusted, 1, ""},
		{"VerifyClientCertIfGiven, no certificate", tls.VerifyClientCertIfGiven, string(p.clientCA.CertPEM), nil, 0, ""},
		{"VerifyClientCertIfGiven, a trusted certificate", tls.VerifyClientCertIfGiven, string(p.clientCA.CertPEM), &trusted, 1, "client one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ls, _ := mtlsServer(t, HTTPSConfig{CA: tt.ca, ClientAuth: tt.auth})
			for _, l := range ls {
				for _, h2 := range []bool{false, true} {
					id, err := mtlsWhoami(t, mtlsClient(t, h2, tt.cert), wireBase(l))
					if err != nil {
						t.Fatalf("%s h2=%v: %v", l.Kind(), h2, err)
					}
					if id.Peers != tt.peers || id.CN != tt.cn || id.Verified != (tt.cn != "") {
						t.Errorf("%s h2=%v: handler saw %d peer certificates, ClientCertificate CN %q (verified %v); want %d, %q",
							l.Kind(), h2, id.Peers, id.CN, id.Verified, tt.peers, tt.cn)
					}
				}
			}
		})
	}
}
