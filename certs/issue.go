package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// defaultHosts are the names a leaf certificate is issued for when
// LeafOptions.Hosts is empty: what a local server answers to.
var defaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// defaultLeafValidity is the longest validity browsers accept (397 days).
const defaultLeafValidity = 397 * 24 * time.Hour

// LeafOptions says what leaf certificate [CA.Issue] makes. The zero value
// issues a server certificate for "localhost", "127.0.0.1" and "::1", valid for 397 days.
type LeafOptions struct {
	// Hosts are the DNS names (a leading "*." label is allowed) and IP
	// addresses (IPv6 with or without brackets) the certificate is valid
	// for. Empty means "localhost", "127.0.0.1" and "::1", except for a client-only certificate
	// (see Client).
	Hosts []string

	// CommonName is the subject's common name. Empty means the first host,
	// or "httpskit client" for a client-only certificate. Clients match
	// Hosts, not this.
	CommonName string

	// NotBefore and NotAfter bound the validity period. Zero NotBefore
	// means an hour ago (to allow for clock skew); zero NotAfter means 397
	// days from now, but no later than the CA's own NotAfter. Dates in the
	// past are allowed, to make expired certificates in tests.
	NotBefore, NotAfter time.Time

	// Client adds client authentication (mutual TLS) to the certificate's
	// extended key usage. Server authentication is always present, except
	// when Client is set and Hosts is empty: then the certificate is for a
	// client only and has no host names at all.
	Client bool
}

// Issue makes a new leaf certificate signed by the CA, with a new ECDSA P-256
// key, as opts says. It returns the certificate PEM (the leaf alone: the CA is
// the root that clients trust) and the key in PKCS #8 PEM, ready for
// [WriteFiles] or [X509KeyPair]. An invalid host name or validity period is an
// error; a CA without its key (the zero CA) is an error.
func (ca *CA) Issue(opts LeafOptions) (certPEM, keyPEM []byte, err error) {
	leaf, key, err := ca.issue(opts)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: issue: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// IssueTLS is [CA.Issue] returning a certificate ready for tls.Config, with
// Leaf set. It does not check the validity period, so tests may serve an
// expired certificate on purpose.
func (ca *CA) IssueTLS(opts LeafOptions) (tls.Certificate, error) {
	leaf, key, err := ca.issue(opts)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

func (ca *CA) issue(opts LeafOptions) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	if ca == nil || ca.Cert == nil || ca.key == nil {
		return nil, nil, errors.New("certs: issue: the CA has no private key (make it with NewCA, LoadCA or LoadOrCreateCA)")
	}
	clientOnly := opts.Client && len(opts.Hosts) == 0
	hosts := opts.Hosts
	if len(hosts) == 0 && !clientOnly {
		hosts = defaultHosts
	}
	tmpl := &x509.Certificate{
		Subject:        pkix.Name{CommonName: opts.CommonName, Organization: []string{"httpskit development certificate"}},
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		AuthorityKeyId: ca.Cert.SubjectKeyId,
	}
	switch {
	case clientOnly:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case opts.Client:
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	for _, h := range hosts {
		if err := addHost(tmpl, h); err != nil {
			return nil, nil, err
		}
	}
	if tmpl.Subject.CommonName == "" {
		if clientOnly {
			tmpl.Subject.CommonName = "httpskit client"
		} else {
			tmpl.Subject.CommonName = hosts[0]
		}
	}

	now := time.Now()
	tmpl.NotBefore, tmpl.NotAfter = opts.NotBefore, opts.NotAfter
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = now.Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = now.Add(defaultLeafValidity)
		if tmpl.NotAfter.After(ca.Cert.NotAfter) {
			tmpl.NotAfter = ca.Cert.NotAfter
		}
	}
	if !tmpl.NotAfter.After(tmpl.NotBefore) {
		return nil, nil, fmt.Errorf("certs: issue: NotAfter %s is not after NotBefore %s",
			tmpl.NotAfter.UTC().Format(time.RFC3339), tmpl.NotBefore.UTC().Format(time.RFC3339))
	}

	var err error
	if tmpl.SerialNumber, err = randomSerial(); err != nil {
		return nil, nil, fmt.Errorf("certs: issue: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: issue: %w", err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: issue: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: issue: %w", err)
	}
	return leaf, key, nil
}

// addHost adds h to the certificate's IP addresses or DNS names.
func addHost(tmpl *x509.Certificate, h string) error {
	if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); ip != nil {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		return nil
	}
	if err := checkDNSName(h); err != nil {
		return fmt.Errorf("certs: issue: host %q: %w", h, err)
	}
	tmpl.DNSNames = append(tmpl.DNSNames, h)
	return nil
}

// checkDNSName accepts host names such as "localhost", "example.test" and
// "*.example.test".
func checkDNSName(h string) error {
	name := strings.TrimPrefix(h, "*.")
	if name == "" {
		return errors.New("empty host name")
	}
	if len(h) > 253 {
		return errors.New("host name longer than 253 bytes")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("not a host name or IP address (empty or over-long label)")
		}
		for _, c := range label {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return fmt.Errorf("not a host name or IP address (character %q)", c)
			}
		}
	}
	return nil
}
