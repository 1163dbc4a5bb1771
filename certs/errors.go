package certs

import (
	"errors"
	"strconv"
	"strings"
)

// The kinds of failure. Every error returned by this package that concerns one
// input is an [*Error] whose Err wraps one of these (or an error from package
// os, such as a permission problem), so callers test them with [errors.Is]:
//
//	if errors.Is(err, certs.ErrKeyMismatch) { ... }
var (
	// ErrNotFound means a name that is not PEM text does not name an existing
	// file. An error wrapping it also satisfies errors.Is(err, fs.ErrNotExist).
	ErrNotFound = errors.New("certs: file not found")

	// ErrNoPEM means the input holds no PEM block at all, and is not binary
	// DER or PKCS #12 either: an empty string, or a text file of another
	// kind.
	ErrNoPEM = errors.New("certs: no PEM block found")

	// ErrBlockType means the input holds PEM blocks (or DER), but not of the
	// type expected: a key where a certificate belongs, or the reverse. The
	// message names what was found.
	ErrBlockType = errors.New("certs: wrong PEM block type")

	// ErrBadCert means a CERTIFICATE block, or binary (DER) data given as a
	// certificate, does not hold a certificate that can be parsed.
	ErrBadCert = errors.New("certs: certificate cannot be parsed")

	// ErrBadKey means a private key block (or DER key) is present but cannot
	// be used: it is damaged, of an unsupported kind, or encrypted in a way
	// that is not supported (legacy PEM encryption, PBES1, scrypt). The
	// message says which, and how to rewrite the key.
	ErrBadKey = errors.New("certs: private key cannot be used")

	// ErrPassphrase means an encrypted private key or a PKCS #12 file could
	// not be opened: no passphrase was given, or it is wrong. The message
	// says which.
	ErrPassphrase = errors.New("certs: passphrase needed or wrong")

	// ErrBadPKCS12 means a PKCS #12 (.p12, .pfx) file is damaged (truncated,
	// for example), holds no certificate or no private key, or uses a scheme
	// that is not supported. The message says which.
	ErrBadPKCS12 = errors.New("certs: PKCS #12 file cannot be used")

	// ErrKeyMismatch means the private key does not belong to the
	// certificate's public key.
	ErrKeyMismatch = errors.New("certs: private key does not match the certificate")

	// ErrExpired means the certificate's NotAfter is in the past. The
	// message says when it expired.
	ErrExpired = errors.New("certs: certificate has expired")

	// ErrNotYetValid means the certificate's NotBefore is in the future. The
	// message says when it becomes valid.
	ErrNotYetValid = errors.New("certs: certificate is not yet valid")
)

// Error reports which input failed and why. It is the error type returned by
// every function of this package that reads or parses a certificate, key or
// CA. Use [errors.Is] with the Err values of this package (or with
// fs.ErrNotExist, fs.ErrPermission) to tell the kinds apart, and [errors.As]
// to get the fields.
type Error struct {
	// Input names what was being loaded: "certificate", "key" or "CA"
	// (the files of the development CA are "CA" and "CA key").
	Input string

	// Source is the file name as given, or "PEM text" when the input was
	// PEM text or bytes.
	Source string

	// Err is the cause. It wraps one of the Err values of this package or
	// an error from package os.
	Err error
}

// Error returns a one-line message such as
// "certs: load key /x/key.pem: no PEM block found".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("certs: load ")
	b.WriteString(e.Input)
	if e.Source != "" {
		b.WriteByte(' ')
		b.WriteString(displaySource(e.Source))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "certs: "))
	}
	return b.String()
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// textSource is the Source of an input given as PEM text or bytes.
const textSource = "PEM text"

// displaySource shortens a source that cannot be a sensible file name (PEM
// text that did not start with -----BEGIN, for example) so that an error
// message stays one readable line.
func displaySource(s string) string {
	const maxLen = 80
	if len(s) <= maxLen && !strings.ContainsAny(s, "\n\r\t") && strconv.CanBackquote(s) {
		return s
	}
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return strconv.Quote(s)
}

// notExistError is the cause of an [*Error] for a missing file: its message is
// ErrNotFound's and it matches both ErrNotFound and the os error (so
// errors.Is(err, fs.ErrNotExist) holds too).
type notExistError struct {
	osErr error
	hint  string
}

func (e *notExistError) Error() string {
	if e.hint != "" {
		return ErrNotFound.Error() + " (" + e.hint + ")"
	}
	return ErrNotFound.Error()
}

func (e *notExistError) Unwrap() []error { return []error{ErrNotFound, e.osErr} }
