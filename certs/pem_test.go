package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA returns a new in-memory CA.
func testCA(t testing.TB) *CA {
	t.Helper()
	ca, err := NewCA("test CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// testIssue issues a leaf from ca.
func testIssue(t testing.TB, ca *CA, opts LeafOptions) (certPEM, keyPEM []byte) {
	t.Helper()
	certPEM, keyPEM, err := ca.Issue(opts)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pemBlock(typ string, headers map[string]string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der})
}

// selfSignedRSA returns a self-signed RSA certificate and its PKCS #1 key.
func selfSignedRSA(t testing.TB) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "rsa.test"},
		DNSNames:     []string{"rsa.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("CERTIFICATE", nil, der), pemBlock("RSA PRIVATE KEY", nil, x509.MarshalPKCS1PrivateKey(key))
}

func TestIsPEM(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"certificate", "-----BEGIN CERTIFICATE-----\n", true},
		{"leading space", " \n\t-----BEGIN PRIVATE KEY-----\n", true},
		{"trailing space", "-----BEGIN X-----\n\n  ", true},
		{"file name", "cert.pem", false},
		{"empty", "", false},
		{"spaces", "   ", false},
		{"four dashes", "----BEGIN CERTIFICATE-----", false},
		{"text before", "hello -----BEGIN CERTIFICATE-----", false},
		{"lower case", "-----begin certificate-----", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsPEM(tt.in); got != tt.want {
				t.Errorf("IsPEM(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestReadPEM(t *testing.T) {
	dir := t.TempDir()
	const text = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
	file := writeFile(t, dir, "cert.pem", []byte(text))
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name       string
		in         string
		want       string // the bytes, when no error
		wantErr    error
		wantSource string
	}{
		{name: "PEM text", in: text, want: text},
		{name: "leading white space", in: "\n  \t" + text, want: text},
		{name: "indented lines", in: "\n    -----BEGIN CERTIFICATE-----\n    AAAA\n    -----END CERTIFICATE-----\n  ", want: text},
		{name: "file name", in: file, want: text},
		{name: "missing file", in: missing, wantErr: ErrNotFound, wantSource: missing},
		{name: "empty", in: "", wantErr: ErrNoPEM, wantSource: "PEM text"},
		{name: "only spaces", in: " \n ", wantErr: ErrNoPEM, wantSource: "PEM text"},
		{name: "text with junk before BEGIN", in: "x" + text, wantErr: ErrNotFound, wantSource: "x" + text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadPEM("certificate", tt.in)
			if tt.wantErr == nil {
				if err != nil || string(got) != tt.want {
					t.Errorf("ReadPEM(%q) = %q, %v, want %q, nil", tt.in, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadPEM(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			var e *Error
			if !errors.As(err, &e) || e.Input != "certificate" || e.Source != tt.wantSource {
				t.Errorf("ReadPEM(%q) error = %#v, want *Error{Input: %q, Source: %q}", tt.in, err, "certificate", tt.wantSource)
			}
			if errors.Is(tt.wantErr, ErrNotFound) && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) = false, want true", err)
			}
		})
	}
}

func TestReadPEMDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadPEM("key", dir)
	var e *Error
	if !errors.As(err, &e) || e.Source != dir || errors.Is(err, ErrNotFound) {
		t.Errorf("ReadPEM(%q) error = %v, want an *Error about the directory that is not ErrNotFound", dir, err)
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"no PEM", &Error{"key", "/x/key.pem", ErrNoPEM}, "certs: load key /x/key.pem: no PEM block found"},
		{"not found", &Error{"certificate", "cert.pem", &notExistError{osErr: fs.ErrNotExist}}, "certs: load certificate cert.pem: file not found"},
		{"os error", &Error{"CA", "ca.pem", fs.ErrPermission}, "certs: load CA ca.pem: permission denied"},
		{"no source", &Error{"key", "", ErrBadKey}, "certs: load key: private key cannot be used"},
		{"multi-line source", &Error{"key", "a\nb", ErrNotFound}, `certs: load key "a\nb": file not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

// keyPairCase is one row of TestKeyPairErrors.
type keyPairCase struct {
	name        string
	cert, key   []byte
	wantErr     error  // nil: success
	wantInput   string // "certificate" or "key"
	wantMessage string // a part of the message
	notText     bool   // cert or key does not start with -----BEGIN: as a string it is a file name
	wantChain   int    // certificates in the chain on success; 0 means 1
}

func keyPairCases(t *testing.T) []keyPairCase {
	ca := testCA(t)
	cert, key := testIssue(t, ca, LeafOptions{})
	_, otherKey := testIssue(t, ca, LeafOptions{})
	expired, expiredKey := testIssue(t, ca, LeafOptions{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	future, futureKey := testIssue(t, ca, LeafOptions{NotBefore: time.Now().Add(24 * time.Hour), NotAfter: time.Now().Add(48 * time.Hour)})
	rsaCert, rsaKey := selfSignedRSA(t)

	keyDER, _ := pem.Decode(key)
	k, err := x509.ParsePKCS8PrivateKey(keyDER.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(k.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	ecParams := pemBlock("EC PARAMETERS", nil, []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})
	damaged := []byte("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n")

	return []keyPairCase{
		{name: "ok", cert: cert, key: key},
		{name: "ok SEC1 key after EC PARAMETERS", cert: cert, key: append(ecParams, pemBlock("EC PRIVATE KEY", nil, sec1)...)},
		{name: "ok RSA PKCS1", cert: rsaCert, key: rsaKey},
		{name: "ok chain", cert: append(append([]byte(nil), cert...), ca.CertPEM...), key: key, wantChain: 2},
		{name: "ok one file with both", cert: append(append([]byte(nil), cert...), key...), key: append(append([]byte(nil), cert...), key...)},
		{name: "ok PKCS8 labelled EC", cert: cert, key: pemBlock("EC PRIVATE KEY", nil, keyDER.Bytes)},

		{name: "empty certificate", cert: nil, key: key, wantErr: ErrNoPEM, wantInput: "certificate", wantMessage: "empty"},
		{name: "empty key", cert: cert, key: nil, wantErr: ErrNoPEM, wantInput: "key", wantMessage: "empty"},
		{name: "no PEM block in certificate", cert: []byte("hello\n"), key: key, wantErr: ErrNoPEM, wantInput: "certificate", notText: true},
		{name: "no PEM block in key", cert: cert, key: []byte("hello\n"), wantErr: ErrNoPEM, wantInput: "key", notText: true},
		{name: "damaged certificate block", cert: damaged, key: key, wantErr: ErrNoPEM, wantInput: "certificate", wantMessage: "damaged"},
		{name: "key given as certificate", cert: key, key: key, wantErr: ErrBlockType, wantInput: "certificate", wantMessage: `found "PRIVATE KEY"`},
		{name: "certificate given as key", cert: cert, key: cert, wantErr: ErrBlockType, wantInput: "key", wantMessage: `found "CERTIFICATE"`},
		{name: "bad certificate DER", cert: pemBlock("CERTIFICATE", nil, []byte("junk")), key: key, wantErr: ErrBadCert, wantInput: "certificate"},
		{name: "key mismatch", cert: cert, key: otherKey, wantErr: ErrKeyMismatch, wantInput: "key"},
		{name: "key mismatch RSA key", cert: cert, key: rsaKey, wantErr: ErrKeyMismatch, wantInput: "key", wantMessage: "RSA key, ECDSA certificate"},
		{name: "expired", cert: expired, key: expiredKey, wantErr: ErrExpired, wantInput: "certificate", wantMessage: "expired at"},
		{name: "not yet valid", cert: future, key: futureKey, wantErr: ErrNotYetValid, wantInput: "certificate", wantMessage: "becomes valid at"},
		{name: "encrypted PKCS8 key", cert: cert, key: pemBlock("ENCRYPTED PRIVATE KEY", nil, []byte("x")), wantErr: ErrBadKey, wantInput: "key", wantMessage: "encrypted"},
		{name: "encrypted legacy key", cert: cert, key: pemBlock("EC PRIVATE KEY", map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00000000000000000000000000000000"}, []byte("x")), wantErr: ErrBadKey, wantInput: "key", wantMessage: "encrypted"},
		{name: "damaged key", cert: cert, key: pemBlock("PRIVATE KEY", nil, []byte("junk")), wantErr: ErrBadKey, wantInput: "key"},
		{name: "unsupported key type", cert: cert, key: pemBlock("OPENSSH PRIVATE KEY", nil, []byte("junk")), wantErr: ErrBadKey, wantInput: "key", wantMessage: "OPENSSH"},
	}
}

// loadWay is one way to give a certificate and key: bytes, text or files.
type loadWay struct {
	name       string
	load       func() (tls.Certificate, error)
	certSource string
	keySource  string
}

// TestKeyPairErrors checks every kind of failure, and that PEM text, PEM bytes
// and a file name give the same result for each.
func TestKeyPairErrors(t *testing.T) {
	dir := t.TempDir()
	for i, tt := range keyPairCases(t) {
		certFile := writeFile(t, dir, fmt.Sprintf("cert%d.pem", i), tt.cert)
		keyFile := writeFile(t, dir, fmt.Sprintf("key%d.pem", i), tt.key)
		ways := []loadWay{
			{"bytes", func() (tls.Certificate, error) { return X509KeyPair(tt.cert, tt.key) }, "PEM text", "PEM text"},
			{"files", func() (tls.Certificate, error) { return LoadX509KeyPair(certFile, keyFile) }, certFile, keyFile},
		}
		if !tt.notText {
			ways = append(ways, loadWay{"text", func() (tls.Certificate, error) {
				return LoadX509KeyPair(string(tt.cert), string(tt.key))
			}, "PEM text", "PEM text"})
		}
		for _, w := range ways {
			t.Run(tt.name+"/"+w.name, func(t *testing.T) {
				got, err := w.load()
				if tt.wantErr == nil {
					checkKeyPair(t, got, err, tt.wantChain)
					return
				}
				checkLoadError(t, err, tt.wantErr, tt.wantInput, map[string]string{"certificate": w.certSource, "key": w.keySource}[tt.wantInput], tt.wantMessage)
			})
		}
	}
}

// checkKeyPair checks a certificate that loaded.
func checkKeyPair(t *testing.T, got tls.Certificate, err error, wantChain int) {
	t.Helper()
	if err != nil {
		t.Fatalf("load = %v, want no error", err)
	}
	if wantChain == 0 {
		wantChain = 1
	}
	if len(got.Certificate) != wantChain {
		t.Errorf("len(Certificate) = %d, want %d", len(got.Certificate), wantChain)
	}
	if got.Leaf == nil || !bytes.Equal(got.Leaf.Raw, got.Certificate[0]) {
		t.Errorf("Leaf is not the first certificate")
	}
	if got.PrivateKey == nil {
		t.Errorf("PrivateKey = nil")
	}
}

// checkLoadError checks that err is an *Error about input from source whose
// cause is want and whose message contains message.
func checkLoadError(t *testing.T, err, want error, input, source, message string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("load error = %v, want %v", err, want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("load error = %T, want *Error", err)
	}
	if e.Input != input || e.Source != source {
		t.Errorf("load error Input, Source = %q, %q, want %q, %q", e.Input, e.Source, input, source)
	}
	if !strings.Contains(err.Error(), message) {
		t.Errorf("load error = %q, want it to contain %q", err, message)
	}
	if prefix := "certs: load " + input; !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("load error = %q, want prefix %q", err, prefix)
	}
}

func TestLoadX509KeyPairMissing(t *testing.T) {
	dir := t.TempDir()
	ca := testCA(t)
	cert, key := testIssue(t, ca, LeafOptions{})
	certFile := writeFile(t, dir, "cert.pem", cert)
	keyFile := writeFile(t, dir, "key.pem", key)
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name      string
		cert, key string
		input     string
	}{
		{"certificate", missing, keyFile, "certificate"},
		{"key", certFile, missing, "key"},
		{"key with certificate text", string(cert), missing, "key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadX509KeyPair(tt.cert, tt.key)
			checkLoadError(t, err, ErrNotFound, tt.input, missing, "file not found")
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) = false, want true", err)
			}
		})
	}
}

func TestKeyMismatchNamesCertificateFile(t *testing.T) {
	dir := t.TempDir()
	ca := testCA(t)
	cert, _ := testIssue(t, ca, LeafOptions{})
	_, other := testIssue(t, ca, LeafOptions{})
	certFile := writeFile(t, dir, "cert.pem", cert)
	keyFile := writeFile(t, dir, "key.pem", other)
	_, err := LoadX509KeyPair(certFile, keyFile)
	want := "certs: load key " + keyFile + ": private key does not match the certificate " + certFile
	if err == nil || err.Error() != want {
		t.Errorf("LoadX509KeyPair error = %v, want %q", err, want)
	}
}

func TestCertPool(t *testing.T) {
	dir := t.TempDir()
	ca1, ca2 := testCA(t), testCA(t)
	both := append(append([]byte(nil), ca1.CertPEM...), ca2.CertPEM...)
	bothFile := writeFile(t, dir, "cas.pem", both)
	leaf1, _ := ca1.IssueTLS(LeafOptions{})
	leaf2, _ := ca2.IssueTLS(LeafOptions{})

	pools := map[string]func() (*x509.CertPool, error){
		"bytes": func() (*x509.CertPool, error) { return CertPool(both) },
		"text":  func() (*x509.CertPool, error) { return LoadCertPool("\n" + string(both)) },
		"file":  func() (*x509.CertPool, error) { return LoadCertPool(bothFile) },
	}
	for name, load := range pools {
		t.Run(name, func(t *testing.T) {
			pool, err := load()
			if err != nil {
				t.Fatal(err)
			}
			for i, leaf := range []*x509.Certificate{leaf1.Leaf, leaf2.Leaf} {
				if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"}); err != nil {
					t.Errorf("leaf of CA %d: Verify = %v, want nil", i+1, err)
				}
			}
		})
	}
}

func TestCertPoolErrors(t *testing.T) {
	dir := t.TempDir()
	ca := testCA(t)
	_, key := testIssue(t, ca, LeafOptions{})
	keyFile := writeFile(t, dir, "key.pem", key)
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name    string
		in      string
		want    error
		source  string
		message string
	}{
		{"missing file", missing, ErrNotFound, missing, "file not found"},
		{"key file", keyFile, ErrBlockType, keyFile, `found "PRIVATE KEY"`},
		{"key text", string(key), ErrBlockType, "PEM text", `found "PRIVATE KEY"`},
		{"empty", "", ErrNoPEM, "PEM text", "empty"},
		{"bad DER", string(pemBlock("CERTIFICATE", nil, []byte("junk"))), ErrBadCert, "PEM text", "cannot be parsed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, err := LoadCertPool(tt.in)
			if pool != nil {
				t.Errorf("LoadCertPool(%q) pool = %v, want nil", tt.in, pool)
			}
			checkLoadError(t, err, tt.want, "CA", tt.source, tt.message)
		})
	}
}

// FuzzX509KeyPair checks that no input panics and that every failure is an
// *Error.
func FuzzX509KeyPair(f *testing.F) {
	ca := testCA(f)
	cert, key := testIssue(f, ca, LeafOptions{})
	f.Add(cert, key)
	f.Add(key, cert)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n"), []byte(""))
	f.Add(pemBlock("EC PARAMETERS", nil, []byte{6, 8}), pemBlock("RSA PRIVATE KEY", map[string]string{"Proc-Type": "4,ENCRYPTED"}, nil))
	f.Fuzz(func(t *testing.T, certPEM, keyPEM []byte) {
		c, err := X509KeyPair(certPEM, keyPEM)
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Errorf("X509KeyPair error = %T %v, want *Error", err, err)
		}
		if err == nil && c.Leaf == nil {
			t.Errorf("X509KeyPair Leaf = nil with no error")
		}
		if _, err := CertPool(certPEM); err != nil && !errors.As(err, &e) {
			t.Errorf("CertPool error = %T %v, want *Error", err, err)
		}
	})
}
