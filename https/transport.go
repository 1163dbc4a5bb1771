package https

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httpskit/httpskit/certs"
)

// tlsSettings are the TLS options of one request, loaded and checked. Their
// key names the pooled transport they share with every request that has the
// same settings.
type tlsSettings struct {
	roots    *x509.CertPool    // nil: system roots
	certs    []tls.Certificate // the client certificate, if any
	insecure bool
	key      [sha256.Size]byte
}

// loadTLS reads and checks CA, Cert and Key through package certs. Errors are
// *certs.Error values (or plain errors for a cert without a key).
func loadTLS(ca, cert, key string, insecure bool) (tlsSettings, error) {
	s := tlsSettings{insecure: insecure}
	h := sha256.New()
	if insecure {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	if ca != "" {
		var err error
		if s.roots, err = certs.LoadCertPool(ca); err != nil {
			return s, err
		}
		pemBytes, err := certs.ReadPEM("CA", ca) // the pool's key: its content
		if err != nil {
			return s, err
		}
		h.Write([]byte("ca\x00"))
		h.Write(pemBytes)
	}
	switch {
	case cert != "" && key == "":
		return s, errors.New("cert given without key")
	case cert == "" && key != "":
		return s, errors.New("key given without cert")
	case cert != "":
		pair, err := certs.LoadX509KeyPair(cert, key)
		if err != nil {
			return s, err
		}
		s.certs = []tls.Certificate{pair}
		h.Write([]byte("\x00cert\x00"))
		for _, der := range pair.Certificate {
			h.Write(der)
		}
	}
	h.Sum(s.key[:0])
	return s, nil
}

// certAskedKey is the context key of the *atomic.Bool that the TLS config
// sets when the server requested a client certificate.
type certAskedKey struct{}

// pool holds one *http.Transport per distinct TLS settings, so connections
// are kept alive and reused between requests that may share them.
var pool = struct {
	sync.Mutex
	m map[[sha256.Size]byte]*http.Transport
}{m: make(map[[sha256.Size]byte]*http.Transport)}

// maxTransports bounds the pool for programs that use many TLS settings.
const maxTransports = 32

// transportFor returns the pooled transport for s, creating it on first use.
func transportFor(s tlsSettings) *http.Transport {
	pool.Lock()
	defer pool.Unlock()
	if t, ok := pool.m[s.key]; ok {
		return t
	}
	if len(pool.m) >= maxTransports {
		// Evict one: its requests in flight finish; its idle connections go.
		for k, old := range pool.m {
			old.CloseIdleConnections()
			delete(pool.m, k)
			break
		}
	}
	t := newTransport(s)
	pool.m[s.key] = t
	return t
}

func newTransport(s tlsSettings) *http.Transport {
	cfg := &tls.Config{
		RootCAs:            s.roots,
		InsecureSkipVerify: s.insecure,
		MinVersion:         tls.VersionTLS12,
		// Called when the server asks for a client certificate; it notes
		// that, so a TLS 1.2 handshake_failure alert that follows can be
		// reported as ErrClientCertRefused.
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if asked, ok := cri.Context().Value(certAskedKey{}).(*atomic.Bool); ok {
				asked.Store(true)
			}
			if len(s.certs) == 0 {
				return new(tls.Certificate), nil // none: the server decides
			}
			return &s.certs[0], nil
		},
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil, // the seed talks to Host:Port directly
		DialContext:           dialer.DialContext,
		TLSClientConfig:       cfg,
		TLSHandshakeTimeout:   10 * time.Second,
		DisableCompression:    true, // headers and body as the server sent them
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
		Protocols:             protocols,
	}
}

// CloseIdleConnections closes the idle kept-alive connections of every
// pooled transport. Connections in use are not interrupted; they close
// when their requests end if they are idle by then and this is called again.
// It is safe for concurrent use.
func CloseIdleConnections() {
	pool.Lock()
	ts := make([]*http.Transport, 0, len(pool.m))
	for _, t := range pool.m {
		ts = append(ts, t)
	}
	pool.Unlock()
	for _, t := range ts {
		t.CloseIdleConnections()
	}
}
