package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// kind is a class of failed request; Result.Errors counts them by name.
type kind uint8

const (
	kindRefused kind = iota
	kindDNS
	kindTimeout
	kindUnknownAuthority
	kindNameMismatch
	kindBadCertificate
	kindTLS
	kindReset
	kindEOF
	kindTruncated
	kindProtocol
	kindStatus4xx
	kindStatus5xx
	kindClosedIdle
	kindOther
	numKinds
)

// kindNames are the keys of Result.Errors.
var kindNames = [numKinds]string{
	kindRefused:          "connect refused",
	kindDNS:              "dns",
	kindTimeout:          "timeout",
	kindUnknownAuthority: "tls: unknown authority",
	kindNameMismatch:     "tls: name mismatch",
	kindBadCertificate:   "tls: bad certificate",
	kindTLS:              "tls: other",
	kindReset:            "reset",
	kindEOF:              "eof",
	kindTruncated:        "truncated",
	kindProtocol:         "protocol",
	kindStatus4xx:        "status 4xx",
	kindStatus5xx:        "status 5xx",
	kindClosedIdle:       "closed while idle",
	kindOther:            "other",
}

func (k kind) String() string { return kindNames[k] }

// statusKind returns the error kind of a status code, and false for 1xx to
// 3xx, which are not errors (redirects are counted, never followed).
func statusKind(status int) (kind, bool) {
	switch {
	case status >= 500:
		return kindStatus5xx, true
	case status >= 400:
		return kindStatus4xx, true
	}
	return 0, false
}

// classify sorts a transport, TLS or protocol error into a kind.
func classify(err error) kind {
	var (
		dnsErr     *net.DNSError
		netErr     net.Error
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		verifyErr  *tls.CertificateVerificationError
		alertErr   tls.AlertError
		recordErr  tls.RecordHeaderError
		protoErr   *protocolError
	)
	switch {
	case errors.Is(err, errClosedIdle): // before reset and eof, which it wraps
		return kindClosedIdle
	case errors.As(err, &dnsErr):
		return kindDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return kindRefused
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return kindTimeout
	case errors.As(err, &unknownCA):
		return kindUnknownAuthority
	case errors.As(err, &hostErr):
		return kindNameMismatch
	case errors.As(err, &invalidErr):
		return kindBadCertificate
	case strings.Contains(err.Error(), "no application protocol"):
		return kindProtocol // ALPN: the server does not speak h2 (or http/1.1)
	case errors.As(err, &verifyErr), errors.As(err, &alertErr), errors.As(err, &recordErr),
		strings.Contains(err.Error(), "tls: "):
		return kindTLS
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return kindReset
	case errors.Is(err, errTruncated), errors.Is(err, io.ErrUnexpectedEOF):
		return kindTruncated
	case errors.Is(err, io.EOF):
		return kindEOF
	case errors.As(err, &protoErr), strings.Contains(err.Error(), "http2:"):
		return kindProtocol
	}
	return kindOther
}
