package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
)

// The formats of one input's content. Text holding "-----BEGIN" is PEM; binary content
// (an ASN.1 SEQUENCE, first byte 0x30) is DER: a PKCS #12 file, one or more certificates,
// or a private key (PKCS #8, encrypted PKCS #8, SEC 1 or PKCS #1). Anything else is read as
// PEM, and so fails with the PEM errors (ErrNoPEM) and a hint.

// isDER reports whether data is binary ASN.1 rather than PEM text.
func isDER(data []byte) bool {
	return len(data) > 0 && data[0] == 0x30 && !bytes.Contains(data, []byte(pemPrefix))
}

// decodeCerts returns the certificates of one input, in order, and the private key when the
// input is a PKCS #12 file (which holds both).
func decodeCerts(data []byte, passphrase string) ([]*x509.Certificate, crypto.Signer, error) {
	switch {
	case !isDER(data):
		chain, err := parseCerts(data)
		return chain, nil, err
	case isPKCS12(data):
		return decodePKCS12(data, passphrase)
	}
	chain, err := x509.ParseCertificates(data)
	if err == nil && len(chain) > 0 {
		return chain, nil, nil
	}
	if _, kerr := derKey(data, ""); kerr == nil || isEncryptedPKCS8(data) {
		return nil, nil, fmt.Errorf("%w: found a DER private key, want a certificate", ErrBlockType)
	}
	return nil, nil, fmt.Errorf("%w: binary (DER) data that is not a certificate, nor a PKCS #12 file%s: %v", ErrBadCert, truncated(data), err)
}

// decodeKey returns the private key of one input.
func decodeKey(data []byte, passphrase string) (crypto.Signer, error) {
	switch {
	case !isDER(data):
		return parseKey(data, passphrase)
	case isPKCS12(data):
		_, key, err := decodePKCS12(data, passphrase)
		return key, err
	}
	key, err := derKey(data, passphrase)
	if err == nil {
		return key, nil
	}
	if _, cerr := x509.ParseCertificate(data); cerr == nil {
		return nil, fmt.Errorf("%w: found a DER certificate, want a private key", ErrBlockType)
	}
	return nil, err
}

// derKey parses a DER private key: PKCS #8, encrypted PKCS #8, SEC 1 or PKCS #1.
func derKey(der []byte, passphrase string) (crypto.Signer, error) {
	for _, p := range keyParsers {
		if k, err := p.parse(der); err == nil {
			return asSigner(k)
		}
	}
	if isEncryptedPKCS8(der) {
		return encryptedKey(der, passphrase)
	}
	return nil, fmt.Errorf("%w: binary (DER) data that is not a private key (PKCS #8, SEC 1 or PKCS #1), nor a PKCS #12 file%s", ErrBadKey, truncated(der))
}

// encryptedKey decrypts and parses an encrypted PKCS #8 key.
func encryptedKey(der []byte, passphrase string) (crypto.Signer, error) {
	plain, err := decryptPKCS8(der, passphrase)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(plain)
	if err != nil {
		// The padding came out right by chance (1 in 256) but the content is noise.
		return nil, fmt.Errorf("%w: wrong passphrase", ErrPassphrase)
	}
	return asSigner(k)
}

// asSigner returns key as a crypto.Signer of a supported kind.
func asSigner(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	default:
		return nil, fmt.Errorf("%w: unsupported key type %T (want RSA, ECDSA or Ed25519)", ErrBadKey, key)
	}
}
