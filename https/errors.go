package https

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"syscall"
	"time"
)

// Kinds of failure. An *Error carries one of them in its Kind field, and
// errors.Is(err, ErrX) reports whether err is of kind ErrX.
var (
	// ErrInvalidRequest: Request found a problem in its Options before any I/O.
	ErrInvalidRequest = errors.New("https: invalid request")
	// ErrRefused: nothing listens on the host and port (ECONNREFUSED).
	ErrRefused = errors.New("https: connection refused")
	// ErrDNS: the host name could not be resolved.
	ErrDNS = errors.New("https: host name not resolved")
	// ErrTimeout: nothing moved for the SetTimeout duration, or a dial,
	// handshake or network deadline expired.
	ErrTimeout = errors.New("https: timeout")
	// ErrUnknownAuthority: the server's certificate does not chain to a
	// trusted root (Options.CA, or the system roots when CA is empty).
	// errors.Is(err, ErrUnknownAuthority) is also true for ErrSelfSigned,
	// its special case.
	ErrUnknownAuthority = errors.New("https: certificate signed by unknown authority")
	// ErrSelfSigned: the server's certificate is self-signed (it is its
	// own issuer and its signature verifies with its own key) and is not
	// trusted; pass it in Options.CA to trust it. It is a special case of
	// ErrUnknownAuthority: errors.Is(err, ErrUnknownAuthority) is true for
	// it too, so code written before ErrSelfSigned existed keeps working.
	ErrSelfSigned error = &subKind{"https: self-signed certificate", ErrUnknownAuthority}
	// ErrNameMismatch: the server's certificate is not valid for the host.
	ErrNameMismatch = errors.New("https: certificate name mismatch")
	// ErrExpired: the server's certificate, or one of its chain, has
	// expired (its NotAfter is past). errors.Is(err, ErrExpired) is also
	// true for ErrNotYetValid: both mean "outside its validity period", and
	// code written before ErrNotYetValid existed keeps catching both.
	ErrExpired = errors.New("https: certificate expired")
	// ErrNotYetValid: the server's certificate, or one of its chain, is not
	// valid yet (its NotBefore is in the future: a clock is wrong). It is a
	// special case of ErrExpired: errors.Is(err, ErrExpired) is true for
	// it too.
	ErrNotYetValid error = &subKind{"https: certificate not yet valid", ErrExpired}
	// ErrBadCertificate: the server's certificate is invalid for another
	// reason (for example a CA not allowed to sign it).
	ErrBadCertificate = errors.New("https: invalid server certificate")
	// ErrClientCertRefused: the server rejected our client certificate, or
	// required one and we sent none (TLS alerts bad_certificate,
	// unknown_ca, certificate_required and the like).
	ErrClientCertRefused = errors.New("https: client certificate refused by server")
	// ErrHandshake: the TLS handshake failed for any other reason.
	ErrHandshake = errors.New("https: TLS handshake failed")
	// ErrClosed: the server closed or reset the connection before a response.
	ErrClosed = errors.New("https: connection closed before response")
	// ErrMalformedResponse: the server's answer is not valid HTTP.
	ErrMalformedResponse = errors.New("https: malformed response")
	// ErrHeaderTooLarge: the response's header section is larger than
	// Options.MaxHeaderBytes; no response is delivered. Over HTTP/2,
	// net/http ends the connection with an error of its own that does not
	// say why (PROTOCOL_ERROR or COMPRESSION_ERROR); such an error before
	// the response headers is reported as this kind, so a server that
	// breaks HTTP/2 framing there in another way is reported so too.
	ErrHeaderTooLarge = errors.New("https: response header too large")
	// ErrBodyTooLarge: the response body is larger than
	// Options.MaxBodyBytes (or declares so in its Content-Length). At most
	// MaxBodyBytes bytes were delivered, and 'end' does not fire.
	ErrBodyTooLarge = errors.New("https: response body too large")
	// ErrTruncated: the response body ended before its declared end (short
	// Content-Length, cut chunked encoding, reset mid-body). A cut body is
	// always this error, never a silent short read.
	ErrTruncated = errors.New("https: response body truncated")
	// ErrContentLength: the request body did not match its Content-Length.
	ErrContentLength = errors.New("https: request body does not match Content-Length")
	// ErrWriteAfterEnd: Write or End with data after End.
	ErrWriteAfterEnd = errors.New("https: write after end")
	// ErrProxy: the proxy refused to open a tunnel to the server (it
	// answered CONNECT with a status other than 200; 407 when it wants
	// credentials). The cause is a *ProxyError. A proxy that cannot be
	// reached at all is ErrRefused, ErrDNS or ErrTimeout, as a server is,
	// and the cause's text says "proxyconnect".
	ErrProxy = errors.New("https: proxy refused the tunnel")
	// ErrRedirect: Options.MaxRedirects is set and a redirect cannot be
	// followed: one more than MaxRedirects, or a Location that is not a
	// valid https:// URL (a redirect never downgrades to plain text).
	ErrRedirect = errors.New("https: redirect not followed")
	// ErrAborted: the request was aborted (Abort, context cancellation or
	// IncomingMessage.Close) before it completed.
	ErrAborted = errors.New("https: request aborted")
	// ErrFlowing: Read on a message whose body is delivered by OnData.
	ErrFlowing = errors.New("https: body is in flowing mode (OnData); Read is not available")
)

// subKind is a kind of failure that is a special case of a broader kind:
// errors.Is reports true for both.
type subKind struct {
	msg    string
	parent error
}

func (k *subKind) Error() string { return k.msg }

// Is reports whether target is k's broader kind.
func (k *subKind) Is(target error) bool { return target == k.parent }

// Error is the error type of this package: what failed (Kind), for which
// request (Op and URL), and the underlying cause (Err). Both Kind and Err are
// reachable through errors.Is and errors.As, so errors.Is(err, ErrRefused)
// and errors.As(err, new(x509.HostnameError)) both work.
type Error struct {
	Op   string // the request method, e.g. "GET"
	URL  string // the request URL, e.g. "https://localhost:8443/x"
	Kind error  // one of the ErrX values of this package
	Err  error  // the cause; nil when Kind says it all
}

// Error formats e as "https: METHOD URL: kind: cause".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("https: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteByte(' ')
	}
	if e.URL != "" {
		b.WriteString(e.URL)
		b.WriteString(": ")
	}
	kind := "error"
	if e.Kind != nil {
		kind = strings.TrimPrefix(e.Kind.Error(), "https: ")
	}
	b.WriteString(kind)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Kind and Err.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Timeout reports whether e is of kind ErrTimeout; with Temporary it makes
// *Error a net.Error.
func (e *Error) Timeout() bool { return errors.Is(e.Kind, ErrTimeout) }

// Temporary reports the same as Timeout (net.Error asks for it; it is
// deprecated there).
func (e *Error) Temporary() bool { return e.Timeout() }

var _ net.Error = (*Error)(nil)

// phase says where in a request's life an error happened; it decides what an
// EOF or a reset means.
type phase int

const (
	phaseRoundTrip phase = iota // before the response headers
	phaseBody                   // while reading the response body
)

// kindOf maps an error from net, crypto/tls, crypto/x509 or net/http to one
// of the ErrX kinds.
func kindOf(err error, ph phase) error {
	for _, k := range []error{ErrTimeout, ErrAborted, ErrContentLength, ErrTruncated, ErrWriteAfterEnd, ErrBodyTooLarge} {
		if errors.Is(err, k) {
			return k
		}
	}
	if errors.Is(err, errCorrupt) {
		return ErrMalformedResponse
	}
	var (
		proxy    *ProxyError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		dns      *net.DNSError
		record   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &proxy):
		return ErrProxy
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.As(err, &dns):
		return ErrDNS
	case errors.As(err, &unknown):
		if selfSigned(serverLeaf(err, unknown.Cert)) {
			return ErrSelfSigned
		}
		return ErrUnknownAuthority
	case errors.As(err, &hostname):
		return ErrNameMismatch
	case errors.As(err, &invalid):
		if invalid.Reason != x509.Expired {
			return ErrBadCertificate
		}
		if invalid.Cert != nil && time.Now().Before(invalid.Cert.NotBefore) {
			return ErrNotYetValid
		}
		return ErrExpired
	case isClientCertAlert(err):
		return ErrClientCertRefused
	case errors.As(err, &record), isRemoteAlert(err):
		return ErrHandshake
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return ErrTimeout
	}
	if ph == phaseBody {
		// Everything that stops a body early (unexpected EOF, a reset, a
		// protocol error mid-stream) is a truncation.
		return ErrTruncated
	}
	var proto textproto.ProtocolError
	msg := err.Error()
	switch {
	case strings.Contains(msg, "server response headers exceeded"), // HTTP/1
		strings.Contains(msg, "response header list larger than"), // HTTP/2
		isH2HeaderOverflow(msg):
		return ErrHeaderTooLarge
	case errors.As(err, &proto), strings.Contains(msg, "malformed HTTP"),
		strings.Contains(msg, "malformed MIME"), strings.Contains(msg, "http2: server sent"),
		strings.Contains(msg, "protocol error"), strings.Contains(msg, "invalid header"):
		return ErrMalformedResponse
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, http.ErrServerClosed):
		return ErrClosed
	case strings.Contains(msg, "tls: "):
		return ErrHandshake
	}
	return nil
}

// isH2HeaderOverflow reports whether msg is how net/http's HTTP/2 client
// ends a connection on which a response header block grew past its bound:
// a connection error of its own making (not a GOAWAY from the server) that
// does not say why. HPACK refuses a field longer than the whole bound with
// COMPRESSION_ERROR; a block that goes on in CONTINUATION frames past the
// bound gets PROTOCOL_ERROR. Before the response headers arrive, nothing
// else a working server does leads there, so kindOf reports it as
// ErrHeaderTooLarge; a server that breaks HTTP/2 framing at that point in
// other ways gets the same kind (the cause keeps net/http's text).
func isH2HeaderOverflow(msg string) bool {
	return strings.Contains(msg, "connection error: COMPRESSION_ERROR") ||
		strings.Contains(msg, "connection error: PROTOCOL_ERROR")
}

// serverLeaf returns the server's leaf certificate from a verification
// error, or fallback when err does not carry the server's chain.
func serverLeaf(err error, fallback *x509.Certificate) *x509.Certificate {
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) && len(verr.UnverifiedCertificates) > 0 {
		return verr.UnverifiedCertificates[0]
	}
	return fallback
}

// selfSigned reports whether c is its own issuer and its signature verifies
// with its own public key. (CheckSignatureFrom would also ask c to be a CA,
// which a self-signed leaf usually is not.)
func selfSigned(c *x509.Certificate) bool {
	return c != nil && bytes.Equal(c.RawIssuer, c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isRemoteAlert reports whether err is a TLS alert sent by the server
// (crypto/tls reports it as a *net.OpError with Op "remote error").
func isRemoteAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

// clientCertAlerts are the alert texts a server sends when it does not accept
// the client's certificate (RFC 8446 §6.2), as crypto/tls prints them.
var clientCertAlerts = []string{
	"tls: bad certificate",
	"tls: unsupported certificate",
	"tls: revoked certificate",
	"tls: expired certificate",
	"tls: unknown certificate",
	"tls: unknown certificate authority",
	"tls: access denied",
	"tls: certificate required",
}

func isClientCertAlert(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" && op.Err != nil {
		for _, a := range clientCertAlerts {
			if op.Err.Error() == a {
				return true
			}
		}
		return false
	}
	// net/http sometimes flattens the cause into a string.
	msg := err.Error()
	for _, a := range clientCertAlerts {
		if strings.Contains(msg, "remote error: "+a) {
			return true
		}
	}
	return false
}
