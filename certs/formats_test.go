package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

// sslPass is the passphrase of every encrypted file made by opensslFiles.
const sslPass = "s3cret pass"

// opensslFiles makes, with the openssl command, a CA, a leaf it signs and that leaf's key in
// every format this package reads, in dir. Names are those of the table in TestFormats.
func opensslFiles(t *testing.T) string {
	t.Helper()
	openssl := testenv.LookPath(t, "openssl")
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	pass := "pass:" + sslPass
	ec := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"}
	// CA, another CA, and a leaf whose key is written by genpkey -aes256.
	run(append([]string{"req", "-x509", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=test CA", "-days", "2"}, ec...)...)
	run(append([]string{"req", "-x509", "-nodes", "-keyout", "other.key", "-out", "other.pem", "-subj", "/CN=other", "-days", "2"}, ec...)...)
	run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", pass, "-out", "genpkey-aes256.pem")
	run("pkey", "-in", "genpkey-aes256.pem", "-passin", pass, "-out", "key.pem")
	run("req", "-new", "-key", "key.pem", "-subj", "/CN=localhost", "-out", "leaf.csr")
	run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "2", "-out", "leaf.pem")
	// DER and the encrypted key forms.
	run("x509", "-in", "leaf.pem", "-outform", "DER", "-out", "leaf.der")
	run("x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der")
	run("pkey", "-in", "key.pem", "-outform", "DER", "-out", "key.der")
	run("pkcs8", "-topk8", "-in", "key.pem", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA512", "-outform", "DER", "-passout", pass, "-out", "key-enc.der")
	run("pkcs8", "-topk8", "-in", "key.pem", "-v2", "des3", "-passout", pass, "-out", "key-3des.pem")
	run("pkcs8", "-topk8", "-in", "key.pem", "-v1", "PBE-SHA1-3DES", "-passout", pass, "-out", "key-pbes1.pem")
	run("pkcs8", "-topk8", "-in", "key.pem", "-scrypt", "-passout", pass, "-out", "key-scrypt.pem")
	run("ec", "-in", "key.pem", "-aes128", "-passout", pass, "-out", "key-legacy.pem")
	// PKCS #12: OpenSSL 3's default (AES-256-CBC, SHA-256 MAC), -legacy (RC2/3DES, SHA-1),
	// with the chain, with the leaf after two other certificates, and with no passphrase.
	run("pkcs12", "-export", "-in", "leaf.pem", "-inkey", "key.pem", "-passout", pass, "-out", "default.p12")
	run("pkcs12", "-export", "-legacy", "-in", "leaf.pem", "-inkey", "key.pem", "-passout", pass, "-out", "legacy.p12")
	run("pkcs12", "-export", "-in", "leaf.pem", "-inkey", "key.pem", "-certfile", "ca.pem", "-passout", pass, "-out", "chain.p12")
	concat(t, dir, "many.pem", "other.pem", "ca.pem", "leaf.pem")
	run("pkcs12", "-export", "-in", "many.pem", "-inkey", "key.pem", "-passout", pass, "-out", "many.p12")
	run("pkcs12", "-export", "-in", "leaf.pem", "-inkey", "key.pem", "-passout", "pass:", "-out", "nopass.p12")
	run("pkcs12", "-export", "-nokeys", "-in", "leaf.pem", "-passout", pass, "-out", "nokey.p12")
	// Truncated and combined files.
	for _, name := range []string{"default.p12", "legacy.p12", "leaf.der", "key.der", "key-enc.der"} {
		b := readTestFile(t, dir, name)
		writeFile(t, dir, "half-"+name, b[:len(b)/2])
	}
	concat(t, dir, "chain.der", "leaf.der", "ca.der")
	concat(t, dir, "both.pem", "leaf.pem", "genpkey-aes256.pem")
	return dir
}

func readTestFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// concat writes the files names, one after the other, to dir/to.
func concat(t *testing.T, dir, to string, names ...string) {
	t.Helper()
	var all []byte
	for _, n := range names {
		all = append(all, readTestFile(t, dir, n)...)
	}
	writeFile(t, dir, to, all)
}

// TestFormats loads every format openssl writes, by file name and from bytes, with the right,
// a wrong and no passphrase, and checks each failure's error.
func TestFormats(t *testing.T) {
	dir := opensslFiles(t)
	leaf, err := x509.ParseCertificate(readTestFile(t, dir, "leaf.der"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(readTestFile(t, dir, "ca.der"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		cert, key string // file names in dir; key "" means the key is in cert
		pass      string
		wantErr   error
		wantInput string
		wantMsg   string
		wantChain []*x509.Certificate // leaf first; nil means just the leaf
	}{
		{name: "PEM", cert: "leaf.pem", key: "key.pem"},
		{name: "PEM and passphrase not needed", cert: "leaf.pem", key: "key.pem", pass: "unused"},
		{name: "genpkey -aes256", cert: "leaf.pem", key: "genpkey-aes256.pem", pass: sslPass},
		{name: "genpkey -aes256 wrong passphrase", cert: "leaf.pem", key: "genpkey-aes256.pem", pass: "wrong", wantErr: ErrPassphrase, wantInput: "key", wantMsg: "wrong passphrase"},
		{name: "genpkey -aes256 no passphrase", cert: "leaf.pem", key: "genpkey-aes256.pem", wantErr: ErrPassphrase, wantInput: "key", wantMsg: "no passphrase was given"},
		{name: "PKCS8 3DES", cert: "leaf.pem", key: "key-3des.pem", pass: sslPass},
		{name: "PKCS8 3DES wrong passphrase", cert: "leaf.pem", key: "key-3des.pem", pass: "wrong", wantErr: ErrPassphrase, wantInput: "key", wantMsg: "wrong passphrase"},
		{name: "PKCS8 DER AES-128 SHA-512", cert: "leaf.der", key: "key-enc.der", pass: sslPass},
		{name: "PKCS8 DER wrong passphrase", cert: "leaf.der", key: "key-enc.der", pass: "wrong", wantErr: ErrPassphrase, wantInput: "key", wantMsg: "wrong passphrase"},
		{name: "PKCS8 PBES1", cert: "leaf.pem", key: "key-pbes1.pem", pass: sslPass, wantErr: ErrBadKey, wantInput: "key", wantMsg: "openssl pkcs8 -topk8 -v2 aes-256-cbc"},
		{name: "PKCS8 scrypt", cert: "leaf.pem", key: "key-scrypt.pem", pass: sslPass, wantErr: ErrBadKey, wantInput: "key", wantMsg: "scrypt"},
		{name: "legacy PEM encryption", cert: "leaf.pem", key: "key-legacy.pem", pass: sslPass, wantErr: ErrBadKey, wantInput: "key", wantMsg: "Proc-Type: 4,ENCRYPTED"},
		{name: "one PEM file with both", cert: "both.pem", key: "", pass: sslPass},
		{name: "DER", cert: "leaf.der", key: "key.der"},
		{name: "DER chain", cert: "chain.der", key: "key.der", wantChain: []*x509.Certificate{leaf, ca}},
		{name: "DER certificate with PEM key", cert: "leaf.der", key: "key.pem"},
		{name: "DER key given as certificate", cert: "key.der", key: "key.der", wantErr: ErrBlockType, wantInput: "certificate", wantMsg: "DER private key"},
		{name: "DER certificate given as key", cert: "leaf.der", key: "leaf.der", wantErr: ErrBlockType, wantInput: "key", wantMsg: "DER certificate"},
		{name: "DER key of another certificate", cert: "ca.der", key: "key.der", wantErr: ErrKeyMismatch, wantInput: "key"},
		{name: "truncated DER certificate", cert: "half-leaf.der", key: "key.der", wantErr: ErrBadCert, wantInput: "certificate", wantMsg: "truncated"},
		{name: "truncated DER key", cert: "leaf.der", key: "half-key.der", wantErr: ErrBadKey, wantInput: "key", wantMsg: "truncated"},
		{name: "truncated encrypted DER key", cert: "leaf.der", key: "half-key-enc.der", pass: sslPass, wantErr: ErrBadKey, wantInput: "key", wantMsg: "truncated"},
		{name: "PKCS12 default (AES-256, SHA-256 MAC)", cert: "default.p12", pass: sslPass},
		{name: "PKCS12 legacy (RC2, 3DES, SHA-1)", cert: "legacy.p12", pass: sslPass},
		{name: "PKCS12 given as both", cert: "default.p12", key: "default.p12", pass: sslPass},
		{name: "PKCS12 given as key", cert: "leaf.pem", key: "legacy.p12", pass: sslPass},
		{name: "PKCS12 chain", cert: "chain.p12", pass: sslPass, wantChain: []*x509.Certificate{leaf, ca}},
		{name: "PKCS12 leaf after other certificates", cert: "many.p12", pass: sslPass, wantChain: []*x509.Certificate{leaf, nil, nil}},
		{name: "PKCS12 no passphrase", cert: "nopass.p12"},
		{name: "PKCS12 wrong passphrase", cert: "default.p12", pass: "wrong", wantErr: ErrPassphrase, wantInput: "certificate", wantMsg: "wrong passphrase"},
		{name: "PKCS12 legacy wrong passphrase", cert: "legacy.p12", pass: "wrong", wantErr: ErrPassphrase, wantInput: "certificate", wantMsg: "wrong passphrase"},
		{name: "PKCS12 passphrase missing", cert: "default.p12", wantErr: ErrPassphrase, wantInput: "certificate", wantMsg: "none was given"},
		{name: "PKCS12 without a key", cert: "nokey.p12", pass: sslPass, wantErr: ErrBadPKCS12, wantInput: "certificate", wantMsg: "private key missing"},
		{name: "PKCS12 truncated", cert: "half-default.p12", pass: sslPass, wantErr: ErrBadPKCS12, wantInput: "certificate", wantMsg: "truncated"},
		{name: "PKCS12 legacy truncated", cert: "half-legacy.p12", pass: sslPass, wantErr: ErrBadPKCS12, wantInput: "certificate", wantMsg: "truncated"},
		{name: "PEM certificate without key", cert: "leaf.pem", wantErr: ErrNoPEM, wantInput: "key", wantMsg: "holds no private key"},
	}
	for _, tt := range tests {
		certFile := filepath.Join(dir, tt.cert)
		keyFile := ""
		var keyData []byte
		if tt.key != "" {
			keyFile = filepath.Join(dir, tt.key)
			keyData = readTestFile(t, dir, tt.key)
		}
		certData := readTestFile(t, dir, tt.cert)
		ways := map[string]func() (tls.Certificate, error){
			"files": func() (tls.Certificate, error) { return LoadKeyPair(certFile, keyFile, tt.pass) },
			"bytes": func() (tls.Certificate, error) { return ParseKeyPair(certData, keyData, tt.pass) },
		}
		for way, load := range ways {
			t.Run(tt.name+"/"+way, func(t *testing.T) {
				got, err := load()
				if tt.wantErr != nil {
					t.Log(err)
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("load error = %v, want %v", err, tt.wantErr)
					}
					var e *Error
					if !errors.As(err, &e) || e.Input != tt.wantInput || !strings.Contains(err.Error(), tt.wantMsg) {
						t.Fatalf("load error = %q (Input %q), want Input %q and a message containing %q", err, e.Input, tt.wantInput, tt.wantMsg)
					}
					if way == "files" && !strings.Contains(err.Error(), dir) {
						t.Errorf("load error = %q, want the file name in it", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("load = %v, want no error", err)
				}
				want := tt.wantChain
				if want == nil {
					want = []*x509.Certificate{leaf}
				}
				if len(got.Certificate) != len(want) {
					t.Fatalf("chain of %d certificates, want %d", len(got.Certificate), len(want))
				}
				for i, c := range want {
					if c != nil && !bytes.Equal(got.Certificate[i], c.Raw) {
						t.Errorf("chain[%d] is not %s", i, c.Subject)
					}
				}
				if got.Leaf == nil || !got.Leaf.Equal(leaf) {
					t.Errorf("Leaf is not the leaf")
				}
				if _, err := tls.X509KeyPair(pemOf(got.Certificate[0]), pemKey(t, got)); err != nil {
					t.Errorf("key does not work with the certificate: %v", err)
				}
			})
		}
	}
}

// TestLoadCertPoolDER checks that a CA may be given as a DER file, one or several
// certificates.
func TestLoadCertPoolDER(t *testing.T) {
	dir := opensslFiles(t)
	for _, name := range []string{"ca.der", "chain.der", "ca.pem"} {
		pool, err := LoadCertPool(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("LoadCertPool(%s) = %v", name, err)
		}
		leaf, _ := x509.ParseCertificate(readTestFile(t, dir, "leaf.der"))
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
			t.Errorf("leaf does not verify against %s: %v", name, err)
		}
	}
	_, err := LoadCertPool(filepath.Join(dir, "key.der"))
	if !errors.Is(err, ErrBlockType) {
		t.Errorf("LoadCertPool(key.der) = %v, want ErrBlockType", err)
	}
}

// TestParsePrivateKey checks the key parser alone, and that its errors are *Error.
func TestParsePrivateKey(t *testing.T) {
	dir := opensslFiles(t)
	for _, name := range []string{"key.pem", "key.der", "genpkey-aes256.pem", "key-enc.der", "key-3des.pem", "legacy.p12"} {
		if _, err := ParsePrivateKey(readTestFile(t, dir, name), sslPass); err != nil {
			t.Errorf("ParsePrivateKey(%s) = %v", name, err)
		}
	}
	_, err := ParsePrivateKey(readTestFile(t, dir, "genpkey-aes256.pem"), "nope")
	var e *Error
	if !errors.Is(err, ErrPassphrase) || !errors.As(err, &e) || e.Input != "key" {
		t.Errorf("ParsePrivateKey(wrong passphrase) = %v, want an *Error wrapping ErrPassphrase", err)
	}
}

func pemOf(der []byte) []byte { return pemBlock("CERTIFICATE", nil, der) }

// pemKey returns the private key of c as PKCS #8 PEM.
func pemKey(t *testing.T, c tls.Certificate) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", nil, der)
}

// TestIterationLimit: a key or PKCS #12 file that asks for more than maxPBKDF2Iterations
// rounds of key derivation is refused before any is run.
func TestIterationLimit(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl")
	ca := testCA(t)
	cert, key := testIssue(t, ca, LeafOptions{})
	dir := t.TempDir()
	certFile, keyFile := writeFile(t, dir, "cert.pem", cert), writeFile(t, dir, "key.pem", key)
	iter := fmt.Sprint(maxPBKDF2Iterations + 1)
	for _, args := range [][]string{
		{"pkcs12", "-export", "-in", certFile, "-inkey", keyFile, "-iter", iter, "-passout", "pass:x", "-out", filepath.Join(dir, "slow.p12")},
		{"pkcs8", "-topk8", "-in", keyFile, "-iter", iter, "-passout", "pass:x", "-out", filepath.Join(dir, "slow-key.pem")},
	} {
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	start := time.Now()
	_, err := LoadKeyPair(filepath.Join(dir, "slow.p12"), "", "x")
	if !errors.Is(err, ErrBadPKCS12) || !strings.Contains(err.Error(), "iterations") {
		t.Errorf("LoadKeyPair(slow.p12) = %v, want ErrBadPKCS12 about iterations", err)
	}
	_, err = LoadKeyPair(certFile, filepath.Join(dir, "slow-key.pem"), "x")
	if !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), "iteration count") {
		t.Errorf("LoadKeyPair(slow-key.pem) = %v, want ErrBadKey about the iteration count", err)
	}
	t.Logf("both refused in %v", time.Since(start))
}
