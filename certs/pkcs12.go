package certs

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// PKCS #12 (.p12, .pfx) files are read with software.sslmate.com/src/go-pkcs12, the
// maintained fork of golang.org/x/crypto/pkcs12. The latter reads only the legacy files
// ("openssl pkcs12 -export -legacy": RC2/3DES, SHA-1 MAC) holding exactly one certificate;
// OpenSSL 3's default files (PBES2 with AES-256-CBC, SHA-256 MAC) fail there with "unknown
// digest algorithm", and files with a chain with "expected exactly two safe bags".
// go-pkcs12 reads both, with any number of certificates.

// isPKCS12 reports whether der starts like a PKCS #12 PFX: SEQUENCE { INTEGER 3, ... }. A
// certificate starts with a SEQUENCE, a private key with version 0 or 1, so they never match.
// Only the start is looked at, so a truncated file is still recognised (and reported as such).
func isPKCS12(der []byte) bool {
	_, body, ok := derHeader(der)
	return ok && bytes.HasPrefix(body, []byte{0x02, 0x01, 0x03})
}

// derHeader reads the tag and length of the ASN.1 SEQUENCE der starts with, and returns the
// length it declares and the bytes after the header.
func derHeader(der []byte) (length int, body []byte, ok bool) {
	if len(der) < 2 || der[0] != 0x30 {
		return 0, nil, false
	}
	n := int(der[1])
	if n < 0x80 {
		return n, der[2:], true
	}
	size := n & 0x7f
	if size == 0 || size > 4 || len(der) < 2+size {
		return 0, nil, false
	}
	n = 0
	for _, b := range der[2 : 2+size] {
		n = n<<8 | int(b)
	}
	return n, der[2+size:], true
}

// truncated returns " (truncated: ...)" when der declares more bytes than it holds, else "".
func truncated(der []byte) string {
	if n, body, ok := derHeader(der); ok && n > len(body) {
		return fmt.Sprintf(" (truncated: it declares %d bytes, the input has %d)", n, len(body))
	}
	return ""
}

// checkIterations refuses a PKCS #12 file that asks for more than maxPBKDF2Iterations rounds
// of key derivation anywhere go-pkcs12 would run them before the passphrase is checked. The
// counts sit in SEQUENCE { OCTET STRING salt, INTEGER iterations, ... } (PBE and PBKDF2
// parameters) and in MacData { DigestInfo, OCTET STRING salt, INTEGER iterations }: any
// INTEGER right after an OCTET STRING is taken for one. OCTET STRINGs that hold DER (the
// PKCS #7 data of the file) are looked into; encrypted contents are not, as their parameters
// come out only with the right passphrase.
func checkIterations(der []byte, depth int) error {
	if depth > 8 {
		return nil
	}
	var prevOctets bool
	for rest := der; len(rest) > 0; {
		var v asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &v); err != nil {
			return nil // go-pkcs12 reports damage itself
		}
		switch {
		case v.Class == asn1.ClassUniversal && v.Tag == asn1.TagInteger && prevOctets:
			if len(v.Bytes) > 4 || new(big.Int).SetBytes(v.Bytes).Cmp(big.NewInt(maxPBKDF2Iterations)) > 0 {
				return fmt.Errorf("%w: its key derivation asks for more than %d iterations", ErrBadPKCS12, maxPBKDF2Iterations)
			}
		case v.IsCompound:
			if err := checkIterations(v.Bytes, depth+1); err != nil {
				return err
			}
		case v.Class == asn1.ClassUniversal && v.Tag == asn1.TagOctetString && len(v.Bytes) > 0 && v.Bytes[0] == 0x30:
			if err := checkIterations(v.Bytes, depth+1); err != nil {
				return err
			}
		}
		prevOctets = v.Class == asn1.ClassUniversal && v.Tag == asn1.TagOctetString
	}
	return nil
}

// decodePKCS12 returns the certificates of a PFX, leaf first, and its private key. The leaf
// is the certificate of the key, wherever it is in the file; the others keep their order.
func decodePKCS12(der []byte, passphrase string) ([]*x509.Certificate, crypto.Signer, error) {
	if err := checkIterations(der, 0); err != nil {
		return nil, nil, err
	}
	priv, first, others, err := pkcs12.DecodeChain(der, passphrase)
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword) && passphrase == "":
		return nil, nil, fmt.Errorf("%w: the PKCS #12 file is protected by a passphrase and none was given", ErrPassphrase)
	case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
		return nil, nil, fmt.Errorf("%w: wrong passphrase for the PKCS #12 file", ErrPassphrase)
	case err != nil:
		return nil, nil, fmt.Errorf("%w: %s%s", ErrBadPKCS12, strings.TrimPrefix(err.Error(), "pkcs12: "), truncated(der))
	}
	key, err := asSigner(priv)
	if err != nil {
		return nil, nil, err
	}
	chain := append([]*x509.Certificate{first}, others...)
	for i, c := range chain {
		if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(key.Public()) {
			leaf := chain[i]
			chain = slices.Insert(slices.Delete(chain, i, i+1), 0, leaf)
			break
		}
	}
	return chain, key, nil
}
