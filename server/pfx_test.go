package server

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/testenv"
	"software.sslmate.com/src/go-pkcs12"
)

// pfxOf returns p as a PKCS #12 file (AES-256, as OpenSSL 3 writes by default) holding the
// chain up to the test CA, protected by pass.
func pfxOf(t *testing.T, p reloadPair, pass string) []byte {
	t.Helper()
	pair, err := certs.X509KeyPair(p.cert, p.key)
	must(t, err)
	pfx, err := pkcs12.Modern.Encode(pair.PrivateKey, pair.Leaf, []*x509.Certificate{getPKI(t).ca.Cert}, pass)
	must(t, err)
	return pfx
}

// encryptKey returns keyPEM as an encrypted PKCS #8 key (PBES2, AES-256-CBC), written by
// openssl.
func encryptKey(t *testing.T, keyPEM []byte, pass string) []byte {
	t.Helper()
	openssl := testenv.LookPath(t, "openssl")
	cmd := exec.Command(openssl, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:"+pass)
	cmd.Stdin = bytes.NewReader(keyPEM)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl pkcs8: %v", err)
	}
	if b, _ := pem.Decode(out); b == nil || b.Type != "ENCRYPTED PRIVATE KEY" {
		t.Fatalf("openssl pkcs8 wrote %q, want an ENCRYPTED PRIVATE KEY", out)
	}
	return out
}

// TestPFXServeAndReload serves a PKCS #12 file on an HTTPS and an HTTP/2 listener, and
// reloads it when it is renewed.
func TestPFXServeAndReload(t *testing.T) {
	const pass = "pfx pass"
	first := reloadIssue(t, certs.LeafOptions{})
	file := filepath.Join(t.TempDir(), "site.p12")
	must(t, os.WriteFile(file, pfxOf(t, first, pass), 0o600))
	s := New(Config{})
	wirePing(t, s)
	ls := startTLSListeners(t, s, HTTPSConfig{PFX: file, Passphrase: pass})
	wantServed(t, ls, first.serial, "at start")

	next := reloadIssue(t, certs.LeafOptions{})
	tmp := file + ".new"
	must(t, os.WriteFile(tmp, pfxOf(t, next, pass), 0o600))
	must(t, os.Rename(tmp, file))
	must(t, s.ReloadCertificates())
	wantServed(t, ls, next.serial, "after renewal")

	// A renewal with another passphrase is refused, and the listener keeps serving.
	must(t, os.WriteFile(file, pfxOf(t, first, "other"), 0o600))
	if err := s.ReloadCertificates(); !errors.Is(err, certs.ErrPassphrase) || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Errorf("ReloadCertificates() = %v, want a wrong passphrase error", err)
	}
	wantServed(t, ls, next.serial, "after a renewal with another passphrase")
}

// TestEncryptedKeyServeAndReload serves a certificate whose key is an encrypted PKCS #8 file
// and reloads a renewal of both.
func TestEncryptedKeyServeAndReload(t *testing.T) {
	const pass = "key pass"
	first := reloadIssue(t, certs.LeafOptions{})
	files := newReloadFiles(t, reloadPair{first.cert, encryptKey(t, first.key, pass), first.serial})
	s := New(Config{})
	wirePing(t, s)
	ls := startTLSListeners(t, s, HTTPSConfig{Cert: files.cert, Key: files.key, Passphrase: pass})
	wantServed(t, ls, first.serial, "at start")

	next := reloadIssue(t, certs.LeafOptions{})
	files.renew(t, reloadPair{next.cert, encryptKey(t, next.key, pass), next.serial})
	must(t, s.ReloadCertificates())
	wantServed(t, ls, next.serial, "after renewal")
}

// TestPFXConfigErrors checks that each wrong PFX, passphrase or combination is refused by
// AddHTTPSServer with an error saying so.
func TestPFXConfigErrors(t *testing.T) {
	const pass = "pfx pass"
	p := reloadIssue(t, certs.LeafOptions{})
	dir := t.TempDir()
	pfx := pfxOf(t, p, pass)
	file := filepath.Join(dir, "site.p12")
	must(t, os.WriteFile(file, pfx, 0o600))
	half := filepath.Join(dir, "half.p12")
	must(t, os.WriteFile(half, pfx[:len(pfx)/2], 0o600))
	tests := []struct {
		name string
		cfg  HTTPSConfig
		want error  // nil: see says
		says string // part of the message
	}{
		{"wrong passphrase", HTTPSConfig{PFX: file, Passphrase: "nope"}, certs.ErrPassphrase, "wrong passphrase"},
		{"no passphrase", HTTPSConfig{PFX: file}, certs.ErrPassphrase, "none was given"},
		{"missing file", HTTPSConfig{PFX: filepath.Join(dir, "none.p12"), Passphrase: pass}, certs.ErrNotFound, "none.p12"},
		{"truncated file", HTTPSConfig{PFX: half, Passphrase: pass}, certs.ErrBadPKCS12, "truncated"},
		{"PFX and Cert", HTTPSConfig{PFX: file, Passphrase: pass, Cert: file}, nil, "not both"},
		{"PFX and CertPEM", HTTPSConfig{PFX: file, Passphrase: pass, CertPEM: p.cert, KeyPEM: p.key}, nil, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{})
			_, err := s.AddHTTPSServer(tt.cfg)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("AddHTTPSServer = %v, want an error wrapping %v saying %q", err, tt.want, tt.says)
			}
		})
	}
	// The buffer form: the bytes of the file in CertPEM, KeyPEM empty.
	s := New(Config{})
	wirePing(t, s)
	ls := startTLSListeners(t, s, HTTPSConfig{CertPEM: pfx, Passphrase: pass})
	wantServed(t, ls, p.serial, "PKCS #12 bytes in CertPEM")
}
