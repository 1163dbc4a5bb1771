package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// pemPrefix starts every PEM block.
const pemPrefix = "-----BEGIN"

// errEmpty is the cause for an empty input: it has no PEM block, and is not a
// file name either.
var errEmpty = fmt.Errorf("%w: the input is empty", ErrNoPEM)

// IsPEM reports whether s, after trimming leading and trailing white space,
// starts with "-----BEGIN". This is the one rule of the package: such a string
// is PEM text, and any other string is the name of a file.
func IsPEM(s string) bool {
	return strings.HasPrefix(strings.TrimSpace(s), pemPrefix)
}

// ReadPEM returns the bytes of an input: s itself when [IsPEM](s) holds,
// otherwise the contents of the file named s (relative names are relative to
// the working directory), which may be PEM, DER or PKCS #12. The bytes are not
// parsed.
//
// what names the input in errors: "certificate", "key" or "CA". An empty or
// all-space s is an error wrapping [ErrNoPEM]; a missing file is an error
// wrapping [ErrNotFound] and fs.ErrNotExist; other read failures wrap the
// error from package os. Every error is an [*Error].
func ReadPEM(what, s string) ([]byte, error) {
	if IsPEM(s) {
		return trimPEMLines(s), nil
	}
	if strings.TrimSpace(s) == "" {
		return nil, &Error{Input: what, Source: textSource, Err: errEmpty}
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return nil, &Error{Input: what, Source: s, Err: fileCause(s, err)}
	}
	return b, nil
}

// fileCause turns an error from package os about the file named name into the
// cause of an [*Error].
func fileCause(name string, err error) error {
	err = unwrapPath(err) // the name is already in the *Error
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	hint := ""
	if strings.Contains(name, pemPrefix) || strings.ContainsAny(name, "\n\r") {
		hint = "the text is not PEM either: PEM text must start with " + pemPrefix
	}
	return &notExistError{osErr: err, hint: hint}
}

// sourceOf is the Source of an [*Error] for the input s.
func sourceOf(s string) string {
	if IsPEM(s) {
		return textSource
	}
	return s
}

// LoadX509KeyPair reads a certificate chain and its private key, each given as
// PEM text or as the name of a file (see [IsPEM]), and parses them with the
// checks of [X509KeyPair]. It is [LoadKeyPair] with no passphrase. Errors
// name the input and the file that failed.
func LoadX509KeyPair(cert, key string) (tls.Certificate, error) {
	return LoadKeyPair(cert, key, "")
}

// LoadKeyPair reads a certificate chain and its private key, each given as PEM
// text or as the name of a file (see [IsPEM]) holding PEM, DER or PKCS #12,
// and parses them with the checks of [ParseKeyPair]. An empty key means the
// key is in the certificate's input: a PKCS #12 file, or PEM holding both.
// passphrase decrypts an encrypted key or a PKCS #12 file; it is ignored for
// inputs that are not encrypted. Errors name the input and the file that
// failed.
func LoadKeyPair(cert, key, passphrase string) (tls.Certificate, error) {
	certData, err := ReadPEM("certificate", cert)
	if err != nil {
		return tls.Certificate{}, err
	}
	switch {
	case strings.TrimSpace(key) == "":
		return keyPair(certData, sourceOf(cert), nil, "", passphrase, time.Now())
	case key == cert:
		return keyPair(certData, sourceOf(cert), certData, sourceOf(key), passphrase, time.Now())
	}
	keyData, err := ReadPEM("key", key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return keyPair(certData, sourceOf(cert), keyData, sourceOf(key), passphrase, time.Now())
}

// X509KeyPair parses a certificate chain and its private key from PEM bytes.
// It is [ParseKeyPair] with no passphrase.
func X509KeyPair(certPEM, keyPEM []byte) (tls.Certificate, error) {
	return keyPair(certPEM, textSource, keyPEM, textSource, "", time.Now())
}

// ParseKeyPair parses a certificate chain and its private key from bytes, each
// PEM, DER or PKCS #12.
//
// Every CERTIFICATE block of certData, in order, forms the chain, the first
// being the leaf; other blocks there are ignored, so one file holding both the
// chain and the key may be passed as both arguments. DER certificate data may
// hold several certificates one after the other. The key is the first block of
// keyData whose type is "PRIVATE KEY" (PKCS #8), "ENCRYPTED PRIVATE KEY"
// (PKCS #8 encrypted with PBES2: PBKDF2 and AES-CBC or 3DES-CBC, as
// "openssl genpkey -aes256" writes), "EC PRIVATE KEY" or "RSA PRIVATE KEY";
// "EC PARAMETERS" and certificate blocks are skipped. Legacy PEM encryption
// ("Proc-Type: 4,ENCRYPTED") is refused with the openssl command that rewrites
// the key. RSA, ECDSA and Ed25519 keys are supported.
//
// A PKCS #12 (.p12, .pfx) file in certData gives the chain, its leaf being the
// certificate of the file's key, and the key; keyData may then be empty or the
// same file. An empty keyData means the key is in certData.
//
// passphrase decrypts an encrypted key or a PKCS #12 file; it is ignored for
// inputs that are not encrypted.
//
// The returned certificate has Leaf set. Errors are [*Error] values wrapping
// [ErrNoPEM], [ErrBlockType], [ErrBadCert], [ErrBadKey], [ErrBadPKCS12],
// [ErrPassphrase], [ErrKeyMismatch], or, when the leaf is not valid at
// time.Now(), [ErrExpired] or [ErrNotYetValid].
func ParseKeyPair(certData, keyData []byte, passphrase string) (tls.Certificate, error) {
	keySrc := textSource
	if len(keyData) == 0 {
		keySrc = ""
	}
	return keyPair(certData, textSource, keyData, keySrc, passphrase, time.Now())
}

// ParsePrivateKey parses one private key from PEM or DER bytes, or takes the
// key of a PKCS #12 file, as [ParseKeyPair] does for its keyData. Errors are
// [*Error] values naming the input "key".
func ParsePrivateKey(data []byte, passphrase string) (crypto.Signer, error) {
	key, err := decodeKey(data, passphrase)
	if err != nil {
		return nil, &Error{Input: "key", Source: textSource, Err: err}
	}
	return key, nil
}

// keyPair parses a pair. An empty keySrc means no key input was given: the key
// is in certData. An empty keyData with a keySrc is an empty key input.
func keyPair(certData []byte, certSrc string, keyData []byte, keySrc, passphrase string, now time.Time) (tls.Certificate, error) {
	chain, key, err := decodeCerts(certData, passphrase)
	if err != nil {
		return tls.Certificate{}, &Error{Input: "certificate", Source: certSrc, Err: err}
	}
	switch {
	case keySrc == "" && key == nil:
		keySrc = certSrc
		if key, err = decodeKey(certData, passphrase); errors.Is(err, ErrBlockType) || errors.Is(err, ErrNoPEM) {
			err = fmt.Errorf("%w: the key input is empty and the certificate input holds no private key", ErrNoPEM)
		}
	case key != nil && (keySrc == "" || bytes.Equal(keyData, certData)):
		keySrc = certSrc // the PKCS #12 file's own key
	default:
		key, err = decodeKey(keyData, passphrase)
	}
	if err != nil {
		return tls.Certificate{}, &Error{Input: "key", Source: keySrc, Err: err}
	}
	leaf := chain[0]
	if err := matchKey(leaf, key, certSrc); err != nil {
		return tls.Certificate{}, &Error{Input: "key", Source: keySrc, Err: err}
	}
	if err := checkValidity(leaf, now); err != nil {
		return tls.Certificate{}, &Error{Input: "certificate", Source: certSrc, Err: err}
	}
	der := make([][]byte, len(chain))
	for i, c := range chain {
		der[i] = c.Raw
	}
	return tls.Certificate{Certificate: der, PrivateKey: key, Leaf: leaf}, nil
}

// parseCerts returns every certificate in data, in order. Blocks of other
// types are skipped, but there must be at least one certificate.
func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var (
		chain []*x509.Certificate
		other string // type of the first block that is not a certificate
	)
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			if other == "" {
				other = block.Type
			}
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: block %d: %v", ErrBadCert, len(chain)+1, err)
		}
		chain = append(chain, c)
	}
	if len(chain) > 0 {
		return chain, nil
	}
	if other != "" {
		return nil, fmt.Errorf("%w: found %q, want \"CERTIFICATE\"", ErrBlockType, other)
	}
	return nil, noBlockCause(data)
}

// noBlockCause explains why data has no PEM block.
func noBlockCause(data []byte) error {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return errEmpty
	case bytes.Contains(data, []byte(pemPrefix)):
		return fmt.Errorf("%w: a %s line is present but the block is damaged (bad base64 or no END line)", ErrNoPEM, pemPrefix)
	default:
		return ErrNoPEM
	}
}

// parseKey returns the first private key in PEM data, decrypting it with
// passphrase when it is an encrypted PKCS #8 key.
func parseKey(data []byte, passphrase string) (crypto.Signer, error) {
	var other string // type of the first block that is not a key
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch {
		case block.Type == "EC PARAMETERS":
			continue
		case block.Type == "ENCRYPTED PRIVATE KEY":
			return encryptedKey(block.Bytes, passphrase)
		case strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED"):
			return nil, fmt.Errorf("%w: it is encrypted in the legacy PEM way (Proc-Type: 4,ENCRYPTED), which is not supported; %s", ErrBadKey, legacyHint)
		case strings.HasSuffix(block.Type, "PRIVATE KEY"):
			return parseKeyBlock(block)
		case other == "":
			other = block.Type
		}
	}
	if other != "" {
		return nil, fmt.Errorf("%w: found %q, want a private key", ErrBlockType, other)
	}
	return nil, noBlockCause(data)
}

// keyParsers parse the DER of the three private key block types.
var keyParsers = []struct {
	typ   string
	parse func([]byte) (any, error)
}{
	{"PRIVATE KEY", x509.ParsePKCS8PrivateKey},
	{"EC PRIVATE KEY", func(b []byte) (any, error) { return x509.ParseECPrivateKey(b) }},
	{"RSA PRIVATE KEY", func(b []byte) (any, error) { return x509.ParsePKCS1PrivateKey(b) }},
}

// parseKeyBlock parses one private key block. Like [tls.X509KeyPair], it falls
// back on the other encodings when the block's type does not fit its content.
func parseKeyBlock(block *pem.Block) (crypto.Signer, error) {
	var (
		key any
		err = fmt.Errorf("unsupported block type %q, want \"PRIVATE KEY\", \"EC PRIVATE KEY\" or \"RSA PRIVATE KEY\"", block.Type)
	)
	for _, p := range keyParsers {
		if p.typ != block.Type {
			continue
		}
		if k, perr := p.parse(block.Bytes); perr == nil {
			key = k
		} else {
			// The parser's own message is an ASN.1 dump: say it plainly.
			err = fmt.Errorf("the %q block is damaged or not a private key", block.Type)
		}
	}
	for _, p := range keyParsers {
		if key != nil {
			break
		}
		if k, perr := p.parse(block.Bytes); perr == nil {
			key = k
		}
	}
	if key == nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return asSigner(key)
}

// matchKey checks that key is the private half of leaf's public key; certSrc
// names the certificate in the error.
func matchKey(leaf *x509.Certificate, key crypto.Signer, certSrc string) error {
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if ok && pub.Equal(key.Public()) {
		return nil
	}
	name, detail := "", ""
	if certSrc != textSource {
		name = " " + displaySource(certSrc)
	}
	if alg := keyAlgorithm(key); alg != leaf.PublicKeyAlgorithm {
		detail = fmt.Sprintf(": %v key, %v certificate", alg, leaf.PublicKeyAlgorithm)
	}
	return fmt.Errorf("%w%s%s", ErrKeyMismatch, name, detail)
}

func keyAlgorithm(key crypto.Signer) x509.PublicKeyAlgorithm {
	switch key.(type) {
	case *rsa.PrivateKey:
		return x509.RSA
	case *ecdsa.PrivateKey:
		return x509.ECDSA
	case ed25519.PrivateKey:
		return x509.Ed25519
	}
	return x509.UnknownPublicKeyAlgorithm
}

// checkValidity checks that now lies within c's validity period.
func checkValidity(c *x509.Certificate, now time.Time) error {
	switch {
	case now.After(c.NotAfter):
		return fmt.Errorf("%w: it expired at %s", ErrExpired, c.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.NotBefore):
		return fmt.Errorf("%w: it becomes valid at %s", ErrNotYetValid, c.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// LoadCertPool reads CA certificates given as PEM text or as the name of a PEM
// file (see [IsPEM]) and returns a new pool holding all of them, without the
// system roots. Errors are as for [CertPool], and name the input "CA".
func LoadCertPool(ca string) (*x509.CertPool, error) {
	data, err := ReadPEM("CA", ca)
	if err != nil {
		return nil, err
	}
	return certPool(data, sourceOf(ca))
}

// CertPool returns a new pool, without the system roots, holding every
// CERTIFICATE block of pemBytes; other blocks are skipped. Input without any
// certificate is an [*Error] wrapping [ErrNoPEM] or [ErrBlockType]; a block
// that does not parse is one wrapping [ErrBadCert]. Validity periods are not
// checked here: verification reports an expired CA.
func CertPool(pemBytes []byte) (*x509.CertPool, error) {
	return certPool(pemBytes, textSource)
}

func certPool(data []byte, source string) (*x509.CertPool, error) {
	certs, _, err := decodeCerts(data, "")
	if err != nil {
		return nil, &Error{Input: "CA", Source: source, Err: err}
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// trimPEMLines strips the white space around every line of PEM text, so text indented in a
// config file or a Go string literal still decodes.
func trimPEMLines(s string) []byte {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}
