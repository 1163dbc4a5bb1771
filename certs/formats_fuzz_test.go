package certs

import (
	"crypto"
	"errors"
	"testing"
)

// The seed corpora under testdata/fuzz/FuzzParseKeyPair and FuzzParsePrivateKey were made by
// openssl (PEM, DER, encrypted PKCS #8 with AES and 3DES, legacy PEM encryption, PKCS #12 in
// OpenSSL 3's default and -legacy forms) with 16 rounds of key derivation, so the fuzzer
// spends its time in the parsers and not in PBKDF2.

// FuzzParseKeyPair checks that no input panics or runs away, that every failure is an *Error,
// and that every success has its Leaf set and a key that matches it.
func FuzzParseKeyPair(f *testing.F) {
	ca := testCA(f)
	cert, key := testIssue(f, ca, LeafOptions{})
	f.Add(cert, key, "")
	f.Add(cert, []byte(nil), "")
	f.Fuzz(func(t *testing.T, certData, keyData []byte, passphrase string) {
		c, err := ParseKeyPair(certData, keyData, passphrase)
		var e *Error
		if err != nil {
			if !errors.As(err, &e) {
				t.Fatalf("ParseKeyPair error = %T %v, want *Error", err, err)
			}
			return
		}
		if c.Leaf == nil || len(c.Certificate) == 0 {
			t.Fatalf("ParseKeyPair = no leaf, no error")
		}
		pub, ok := c.Leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(c.PrivateKey.(crypto.Signer).Public()) {
			t.Fatalf("ParseKeyPair returned a key that does not match its leaf")
		}
	})
}

// FuzzParsePrivateKey checks that no input panics or runs away, and that every failure is an
// *Error naming the key.
func FuzzParsePrivateKey(f *testing.F) {
	_, key := testIssue(f, testCA(f), LeafOptions{})
	f.Add(key, "")
	f.Fuzz(func(t *testing.T, data []byte, passphrase string) {
		k, err := ParsePrivateKey(data, passphrase)
		var e *Error
		switch {
		case err != nil && (!errors.As(err, &e) || e.Input != "key"):
			t.Fatalf("ParsePrivateKey error = %T %v, want *Error for the key", err, err)
		case err == nil && k == nil:
			t.Fatalf("ParsePrivateKey = nil, nil")
		}
	})
}
