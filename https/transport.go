package https

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"sync/atomic"
	"time"

	"github.com/httpskit/httpskit/certs"
)

// tlsSettings are the TLS options of one request, loaded and checked. Their
// key, a hash of the PEM content and the insecure flag, names the pooled
// transport they share with every request that has the same settings.
type tlsSettings struct {
	roots    *x509.CertPool    // nil: system roots
	certs    []tls.Certificate // the client certificate, if any
	insecure bool
	key      [sha256.Size]byte
}

// loadTLS reads CA, Cert and Key through package certs. The files are read on
// every call, so a renewed certificate is picked up, but their content is
// parsed and checked only the first time it is seen: later requests with the
// same bytes reuse the parsed settings. Errors are *certs.Error values naming
// the input and file (or plain errors for a cert without a key).
func (a *Agent) loadTLS(ca, cert, key string, insecure bool) (tlsSettings, error) {
	switch {
	case cert != "" && key == "":
		return tlsSettings{}, errors.New("cert given without key")
	case cert == "" && key != "":
		return tlsSettings{}, errors.New("key given without cert")
	}
	in := tlsInputs{opts: [3]string{ca, cert, key}, insecure: insecure}
	for i, s := range in.opts {
		if s != "" && !certs.IsPEM(s) {
			b, err := certs.ReadPEM(tlsInputNames[i], s)
			if err != nil {
				return tlsSettings{}, err
			}
			in.files[i] = b
		}
	}
	if s, ok := a.tls.find(in.same); ok && stillValid(s) {
		return s, nil
	}
	s, err := a.parseTLS(in)
	if err != nil {
		return tlsSettings{}, err
	}
	a.tls.add(in, s)
	return s, nil
}

// tlsInputNames name CA, Cert and Key in errors, as package certs does.
var tlsInputNames = [3]string{"CA", "certificate", "key"}

// tlsInputs are the TLS options of a request as given (CA, Cert, Key) and
// the content of those that name files, read for this request.
type tlsInputs struct {
	opts     [3]string
	files    [3][]byte // nil for PEM text and unset options
	insecure bool
}

// same reports whether in and o are the same inputs: the same option strings
// (PEM text is compared as given, which costs nothing when it is the very
// same string) and the same file content.
func (in *tlsInputs) same(o *tlsInputs) bool {
	return in.insecure == o.insecure &&
		in.opts == o.opts &&
		bytes.Equal(in.files[0], o.files[0]) && bytes.Equal(in.files[1], o.files[1]) && bytes.Equal(in.files[2], o.files[2])
}

// parseTLS builds the settings of in: their key, and the parsed CA and key
// pair unless the pool already holds settings with that key.
func (a *Agent) parseTLS(in tlsInputs) (tlsSettings, error) {
	ca, cert, key := in.opts[0], in.opts[1], in.opts[2]
	pems := in.files
	var err error
	for i, s := range in.opts {
		if s != "" && certs.IsPEM(s) { // files were read by loadTLS
			if pems[i], err = certs.ReadPEM(tlsInputNames[i], s); err != nil {
				return tlsSettings{}, err
			}
		}
	}
	caPEM, certPEM, keyPEM := pems[0], pems[1], pems[2]
	insecure := in.insecure
	s := tlsSettings{insecure: insecure}
	h := sha256.New()
	flag := byte(0)
	if insecure {
		flag = 1
	}
	h.Write([]byte{flag})
	for _, part := range [][]byte{caPEM, certPEM, keyPEM} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	h.Sum(s.key[:0])
	if known, ok := a.pooledSettings(s.key); ok && stillValid(known) {
		return known, nil
	}
	if ca != "" {
		if s.roots, err = certs.CertPool(caPEM); err != nil {
			return tlsSettings{}, nameSource(err, ca)
		}
	}
	if cert != "" {
		pair, err := certs.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			var ce *certs.Error
			if errors.As(err, &ce) && ce.Input == "key" {
				return tlsSettings{}, nameSource(err, key)
			}
			return tlsSettings{}, nameSource(err, cert)
		}
		s.certs = []tls.Certificate{pair}
	}
	return s, nil
}

// nameSource puts the file name input into a *certs.Error made from its bytes,
// so the message names the file rather than "PEM text".
func nameSource(err error, input string) error {
	var ce *certs.Error
	if errors.As(err, &ce) && !certs.IsPEM(input) {
		ce.Source = input
	}
	return err
}

// stillValid reports whether the client certificate of s, checked when it was
// first parsed, is still inside its validity period.
func stillValid(s tlsSettings) bool {
	if len(s.certs) == 0 || s.certs[0].Leaf == nil {
		return true
	}
	now := time.Now()
	leaf := s.certs[0].Leaf
	return !now.Before(leaf.NotBefore) && !now.After(leaf.NotAfter)
}

// config returns the TLS client configuration of s. serverName, if not
// empty, replaces the request's host as the name sent in SNI and the name
// the server's certificate must hold.
func (s tlsSettings) config(serverName string) *tls.Config {
	certs := s.certs
	return &tls.Config{
		RootCAs:            s.roots,
		InsecureSkipVerify: s.insecure,
		ServerName:         serverName,
		MinVersion:         tls.VersionTLS12,
		// Called when the server asks for a client certificate; it notes
		// that, so a TLS 1.2 handshake_failure alert that follows can be
		// reported as ErrClientCertRefused.
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if asked, ok := cri.Context().Value(certAskedKey{}).(*atomic.Bool); ok {
				asked.Store(true)
			}
			if len(certs) == 0 {
				return new(tls.Certificate), nil // none: the server decides
			}
			return &certs[0], nil
		},
	}
}
