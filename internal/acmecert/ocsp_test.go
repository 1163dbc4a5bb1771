package acmecert

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/httpskit/httpskit/storage"
)

// ocspCA is a test CA whose leaf names a local OCSP responder built on x/crypto/ocsp.
type ocspCA struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	leaf   *x509.Certificate
	stored []byte // key and chain, as the manager stores them
	hits   atomic.Int32
	status atomic.Int32 // ocsp.Good, ocsp.Revoked...
	life   atomic.Int64 // NextUpdate - ThisUpdate of each response
	srv    *httptest.Server
}

func newOCSPCA(t *testing.T, name string) *ocspCA {
	t.Helper()
	o := &ocspCA{}
	o.life.Store(int64(time.Hour))
	o.srv = httptest.NewServer(http.HandlerFunc(o.respond))
	t.Cleanup(o.srv.Close)
	var err error
	if o.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "OCSP test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &o.caKey.PublicKey, o.caKey)
	if err != nil {
		t.Fatal(err)
	}
	o.ca, _ = x509.ParseCertificate(der)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(12 * time.Hour),
		OCSPServer:  []string{o.srv.URL},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, o.ca, &key.PublicKey, o.caKey)
	if err != nil {
		t.Fatal(err)
	}
	o.leaf, _ = x509.ParseCertificate(leafDER)
	keyDER, _ := x509.MarshalECPrivateKey(key)
	o.stored = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	o.stored = append(o.stored, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})...)
	o.stored = append(o.stored, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	return o
}

func (o *ocspCA) respond(w http.ResponseWriter, r *http.Request) {
	o.hits.Add(1)
	body, _ := io.ReadAll(r.Body)
	req, err := ocsp.ParseRequest(body)
	if err != nil || req.SerialNumber.Cmp(o.leaf.SerialNumber) != 0 {
		http.Error(w, "bad request", 400)
		return
	}
	now := time.Now().Truncate(time.Second)
	resp, err := ocsp.CreateResponse(o.ca, o.ca, ocsp.Response{
		Status: int(o.status.Load()), SerialNumber: o.leaf.SerialNumber,
		ThisUpdate: now, NextUpdate: now.Add(time.Duration(o.life.Load())),
		RevokedAt: now, RevocationReason: ocsp.KeyCompromise,
	}, o.caKey)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}

// startStored runs a Manager whose storage already holds o's certificate (not due), so it
// orders nothing and only staples.
func startStored(t *testing.T, o *ocspCA, name string) (*Manager, chan Event) {
	t.Helper()
	st := storage.NewDir(t.TempDir())
	events := make(chan Event, 100)
	m, err := New(Config{
		Domains: []string{name}, DirectoryURL: "https://ca.invalid/directory", Storage: st,
		Notify: func(e Event) { events <- e }, RetryMin: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(t.Context(), m.StorageKey(), o.stored); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return m, events
}

func waitEvent(t *testing.T, events chan Event, kind string) Event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind == kind {
				return e
			}
			if e.Kind == Failed {
				t.Fatalf("failed: %v", e.Err)
			}
		case <-timeout:
			t.Fatalf("no %s event in 30s", kind)
		}
	}
}

// handshake returns the OCSP response a client gets from a TLS server using m.
func handshake(t *testing.T, m *Manager, o *ocspCA, name string) []byte {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: m.GetCertificate})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	pool := x509.NewCertPool()
	pool.AddCert(o.ca)
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: name})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().OCSPResponse
}

// TestOCSPStaple: the certificate names a responder; the manager fetches a response off the
// handshake path, staples it, and refreshes it half-way to its NextUpdate.
func TestOCSPStaple(t *testing.T) {
	o := newOCSPCA(t, "ocsp.test")
	o.life.Store(int64(4 * time.Second)) // refreshed half-way: 1 to 2 s later (ThisUpdate is in whole seconds)
	m, events := startStored(t, o, "ocsp.test")
	waitEvent(t, events, Loaded)
	waitEvent(t, events, Stapled)
	raw := handshake(t, m, o, "ocsp.test")
	resp, err := ocsp.ParseResponseForCert(raw, o.leaf, o.ca)
	if err != nil {
		t.Fatalf("stapled response: %v", err)
	}
	if resp.Status != ocsp.Good || resp.SerialNumber.Cmp(o.leaf.SerialNumber) != 0 {
		t.Errorf("stapled response: status %d serial %v", resp.Status, resp.SerialNumber)
	}
	hits := o.hits.Load()
	for range 3 {
		handshake(t, m, o, "ocsp.test")
	}
	if got := o.hits.Load(); got != hits {
		t.Errorf("handshakes made %d OCSP requests, want none", got-hits)
	}
	waitEvent(t, events, Stapled)
	raw2 := handshake(t, m, o, "ocsp.test")
	if _, err := ocsp.ParseResponseForCert(raw2, o.leaf, o.ca); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(raw2, raw) || o.hits.Load() != hits+1 {
		t.Errorf("after the refresh: same staple %v, responder asked %d more times; want a new staple from one request", bytes.Equal(raw2, raw), o.hits.Load()-hits)
	}
}

// TestOCSPRevokedNotStapled: a revoked answer is not stapled, and the certificate is still
// served.
func TestOCSPRevokedNotStapled(t *testing.T) {
	o := newOCSPCA(t, "revoked.test")
	o.status.Store(ocsp.Revoked)
	m, events := startStored(t, o, "revoked.test")
	waitEvent(t, events, Loaded)
	if e := waitEvent(t, events, StapleFailed); e.Err == nil || !strings.Contains(e.Err.Error(), "revoked") {
		t.Errorf("staple failure %v, want it to say revoked", e.Err)
	}
	if got := handshake(t, m, o, "revoked.test"); got != nil {
		t.Errorf("a revoked response was stapled")
	}
	if o.hits.Load() == 0 {
		t.Error("the responder was never asked")
	}
}
