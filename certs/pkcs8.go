package certs

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"hash"
)

// Encrypted PKCS #8 keys (RFC 5208 EncryptedPrivateKeyInfo) with PBES2 (RFC 8018): what
// "openssl genpkey -aes256", "openssl pkcs8 -topk8" and OpenSSL 3's other tools write. The
// key is derived with PBKDF2 (HMAC-SHA-1 or -SHA-2) and decrypted with AES-CBC or 3DES-CBC.
// PBES1 (PKCS #5 v1.5, "openssl pkcs8 -v1") and scrypt are refused with a message saying
// how to rewrite the key.

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidPKCS5  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5} // PBES1 schemes live under it
	oidPKCS12 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}
)

// pbkdf2PRFs are the PRFs of PBKDF2, by OID (RFC 8018 appendix B.1).
var pbkdf2PRFs = map[string]func() hash.Hash{
	"1.2.840.113549.2.7":  sha1.New,
	"1.2.840.113549.2.8":  sha256.New224,
	"1.2.840.113549.2.9":  sha256.New,
	"1.2.840.113549.2.10": sha512.New384,
	"1.2.840.113549.2.11": sha512.New,
}

// pbes2Ciphers are the encryption schemes of PBES2, by OID: key length and block cipher.
var pbes2Ciphers = map[string]struct {
	keyLen int
	block  func([]byte) (cipher.Block, error)
}{
	"2.16.840.1.101.3.4.1.2":  {16, aes.NewCipher},          // aes128-CBC
	"2.16.840.1.101.3.4.1.22": {24, aes.NewCipher},          // aes192-CBC
	"2.16.840.1.101.3.4.1.42": {32, aes.NewCipher},          // aes256-CBC
	"1.2.840.113549.3.7":      {24, des.NewTripleDESCipher}, // des-ede3-cbc
}

// maxPBKDF2Iterations bounds the work a key or PKCS #12 file may ask for (about a second of
// one core): OpenSSL writes 2048, Windows and Java 2000 to 10,000, and OWASP's 2023 advice for
// PBKDF2-HMAC-SHA256 is 600,000.
const maxPBKDF2Iterations = 2_000_000

// legacyHint says how to rewrite a key in a form this package reads.
const legacyHint = "rewrite it as PKCS #8 with AES: openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out NEW-KEY"

// encryptedPrivateKeyInfo is RFC 5208's EncryptedPrivateKeyInfo.
type encryptedPrivateKeyInfo struct {
	Algo          pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// isEncryptedPKCS8 reports whether der is an EncryptedPrivateKeyInfo (with any scheme).
func isEncryptedPKCS8(der []byte) bool {
	var info encryptedPrivateKeyInfo
	rest, err := asn1.Unmarshal(der, &info)
	return err == nil && len(rest) == 0 && len(info.Algo.Algorithm) > 0
}

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo and returns the PKCS #8 PrivateKeyInfo
// inside. An empty passphrase is an error wrapping ErrPassphrase ("no passphrase given"); a
// wrong one, an error wrapping ErrPassphrase ("wrong passphrase"); anything else, an error
// wrapping ErrBadKey that says what is unsupported or damaged.
func decryptPKCS8(der []byte, passphrase string) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: the encrypted key is damaged", ErrBadKey)
	}
	algo := info.Algo.Algorithm
	switch {
	case algo.Equal(oidPBES2):
	case len(algo) == len(oidPKCS5)+1 && algo[:len(oidPKCS5)].Equal(oidPKCS5),
		len(algo) == len(oidPKCS12)+1 && algo[:len(oidPKCS12)].Equal(oidPKCS12):
		return nil, fmt.Errorf("%w: it is encrypted with an old scheme (PBES1, %v) that is not supported; %s", ErrBadKey, algo, legacyHint)
	default:
		return nil, fmt.Errorf("%w: unsupported encryption %v; %s", ErrBadKey, algo, legacyHint)
	}
	if passphrase == "" {
		return nil, fmt.Errorf("%w: the key is encrypted and no passphrase was given", ErrPassphrase)
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: the encrypted key's PBES2 parameters are damaged", ErrBadKey)
	}
	ciph, ok := pbes2Ciphers[params.Scheme.Algorithm.String()]
	if !ok {
		return nil, fmt.Errorf("%w: unsupported cipher %v (want AES-CBC or 3DES-CBC); %s", ErrBadKey, params.Scheme.Algorithm, legacyHint)
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(params.Scheme.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: the encrypted key's IV is damaged", ErrBadKey)
	}
	key, err := pbkdf2Key(params.KDF, passphrase, ciph.keyLen)
	if err != nil {
		return nil, err
	}
	block, err := ciph.block(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	data := info.EncryptedData
	bs := block.BlockSize()
	if len(iv) != bs {
		return nil, fmt.Errorf("%w: the encrypted key's IV is %d bytes, want %d", ErrBadKey, len(iv), bs)
	}
	if len(data) == 0 || len(data)%bs != 0 {
		return nil, fmt.Errorf("%w: the encrypted key is %d bytes, not a whole number of %d-byte blocks (truncated?)", ErrBadKey, len(data), bs)
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	plain, ok = unpad(plain, bs)
	if !ok {
		// With the wrong key, CBC yields noise: the padding is wrong 255 times in 256.
		return nil, fmt.Errorf("%w: wrong passphrase", ErrPassphrase)
	}
	return plain, nil
}

// pbkdf2Key derives a keyLen-byte key from passphrase with the PBKDF2 parameters in kdf.
func pbkdf2Key(kdf pkix.AlgorithmIdentifier, passphrase string, keyLen int) ([]byte, error) {
	switch {
	case kdf.Algorithm.Equal(oidScrypt):
		return nil, fmt.Errorf("%w: its key is derived with scrypt, which is not supported; %s", ErrBadKey, legacyHint)
	case !kdf.Algorithm.Equal(oidPBKDF2):
		return nil, fmt.Errorf("%w: unsupported key derivation %v; %s", ErrBadKey, kdf.Algorithm, legacyHint)
	}
	var p pbkdf2Params
	if rest, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: the encrypted key's PBKDF2 parameters are damaged", ErrBadKey)
	}
	if p.Iterations < 1 || p.Iterations > maxPBKDF2Iterations {
		return nil, fmt.Errorf("%w: PBKDF2 iteration count %d is out of range 1-%d", ErrBadKey, p.Iterations, maxPBKDF2Iterations)
	}
	if p.KeyLength != 0 && p.KeyLength != keyLen {
		return nil, fmt.Errorf("%w: PBKDF2 key length %d does not fit the cipher (%d)", ErrBadKey, p.KeyLength, keyLen)
	}
	prf := sha1.New // RFC 8018: the default PRF is HMAC-SHA-1
	if len(p.PRF.Algorithm) > 0 {
		var ok bool
		if prf, ok = pbkdf2PRFs[p.PRF.Algorithm.String()]; !ok {
			return nil, fmt.Errorf("%w: unsupported PBKDF2 hash %v", ErrBadKey, p.PRF.Algorithm)
		}
	}
	key, err := pbkdf2.Key(prf, passphrase, p.Salt, p.Iterations, keyLen)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return key, nil
}

// unpad removes PKCS #7 padding from b, a whole number of bs-byte blocks, checking every
// padding byte in constant time.
func unpad(b []byte, bs int) ([]byte, bool) {
	n := int(b[len(b)-1])
	if n == 0 || n > bs {
		return nil, false
	}
	want := make([]byte, n)
	for i := range want {
		want[i] = byte(n)
	}
	if subtle.ConstantTimeCompare(b[len(b)-n:], want) != 1 {
		return nil, false
	}
	return b[:len(b)-n], true
}
