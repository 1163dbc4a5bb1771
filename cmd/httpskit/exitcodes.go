package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/https"
)

// Failures of get and request that package https has no kind for.
var (
	// errHTTPStatus: --fail and the server answered 400 or more.
	errHTTPStatus = errors.New("HTTP error status")
	// errWrite: the body or headers could not be written where asked.
	errWrite = errors.New("write failed")
	// errMaxTime: --max-time expired.
	errMaxTime = errors.New("timed out")
	// errInterrupted: Ctrl-C (SIGINT) or SIGTERM.
	errInterrupted = errors.New("interrupted")
	// errClientCert: the client certificate or key given could not be used.
	errClientCert = errors.New("client certificate")
	// errBadEncoding: --compressed and the body does not decode.
	errBadEncoding = errors.New("bad content encoding")
	// errProxyDNS: the proxy's host name could not be resolved.
	errProxyDNS = errors.New("proxy host not resolved")
	// errTooManyRedirects: -L met more redirects than --max-redirs.
	errTooManyRedirects = errors.New("too many redirects")
	// errCAFile: the CA file given could not be used.
	errCAFile = errors.New("CA certificate")
)

// exitCodes maps failures to curl's exit codes, first match wins: a
// script that checks curl's codes works with get and request. Refined kinds
// (self-signed, not yet valid) come under their broader ones and need no
// row. Everything else is 1; usage errors are 2 (see exitCode).
var exitCodes = []exitCodeRow{
	{errProxyDNS, 5, "could not resolve the proxy's host"},
	{https.ErrDNS, 6, "could not resolve the host"},
	{https.ErrRefused, 7, "could not connect"},
	{https.ErrMalformedResponse, 8, "the server's reply is not HTTP"},
	{https.ErrTruncated, 18, "the body ended before its declared end"},
	{errHTTPStatus, 22, "--fail and the status was 400 or more"},
	{errWrite, 23, "writing the body or headers failed"},
	{errMaxTime, 28, "timed out"},
	{https.ErrTimeout, 28, ""},
	{errClientCert, 58, "the client certificate or key could not be used, or the server refused it or wanted one"},
	{https.ErrClientCertRefused, 58, ""}, // curl: 35, 55 or 56, by TLS version and timing
	{https.ErrUnknownAuthority, 60, "the server's certificate is not trusted (unknown CA, self-signed, expired, wrong name)"},
	{https.ErrExpired, 60, ""},
	{https.ErrNameMismatch, 60, ""},
	{https.ErrBadCertificate, 60, ""},
	{https.ErrHandshake, 35, "the TLS handshake failed"},
	{https.ErrClosed, 52, "the server closed the connection without a reply"},
	{errTooManyRedirects, 47, "more redirects than --max-redirs (with -L)"},
	{https.ErrProxy, 56, "the proxy refused the tunnel (its CONNECT answer was not 200)"},
	{errBadEncoding, 61, "--compressed and the body does not decode"},
	{https.ErrBodyTooLarge, 63, "the body is larger than --max-filesize"},
	{errCAFile, 77, "the CA file could not be used"},
	{errInterrupted, 130, "interrupted (Ctrl-C)"},
}

// exitCodeRow is a kind of failure and its exit code.
type exitCodeRow struct {
	kind error
	code int
	what string // for --help and the README; "" for a kind that shares its code with a row above
}

// fetchExitCode returns the curl exit code of err, a failure of get or
// request that is not a usage error, or 1.
func fetchExitCode(err error) int {
	for _, e := range exitCodes {
		if errors.Is(err, e.kind) {
			return e.code
		}
	}
	return 1
}

// exitCodeHelp lists the exit codes for --help and the README.
func exitCodeHelp() string {
	var b strings.Builder
	b.WriteString("exit codes (curl's):\n")
	b.WriteString("    0  success\n    1  any other failure (the message says why)\n    2  bad usage\n")
	rows := slices.Clone(exitCodes)
	slices.SortStableFunc(rows, func(a, b exitCodeRow) int { return a.code - b.code })
	for _, e := range rows {
		if e.what != "" {
			fmt.Fprintf(&b, "  %3d  %s\n", e.code, e.what)
		}
	}
	return b.String()
}

// fetchError is a failure of get or request: a message for people and
// the error it came from, for the exit code.
type fetchError struct {
	msg string
	err error
}

func (e *fetchError) Error() string { return e.msg }
func (e *fetchError) Unwrap() error { return e.err }

// failure returns an error with a message for people that keeps err
// reachable with errors.Is and errors.As.
func failure(err error, format string, args ...any) error {
	return &fetchError{msg: fmt.Sprintf(format, args...), err: err}
}

// invalidTLSInput returns the *certs.Error that names which of --ca and
// --cert/--key made Request refuse the options, with its failure kind
// (errCAFile or errClientCert); nil and nil when neither did.
func invalidTLSInput(err error) (*certs.Error, error) {
	var cause *certs.Error
	switch {
	case !errors.As(err, &cause):
		return nil, nil
	case cause.Input == "CA":
		return cause, errCAFile
	}
	return cause, errClientCert
}

// explain turns a failure of package https into one line for people, with
// a hint, keeping its kind for the exit code.
func explain(err error, o https.Options) error {
	host := o.Host
	if o.Port != 0 {
		host = net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	}
	switch {
	case errors.Is(err, https.ErrInvalidRequest):
		switch cause, kind := invalidTLSInput(err); kind {
		case errCAFile:
			return failure(kind, "cannot use the CA file: %v", cause)
		case errClientCert:
			return failure(kind, "cannot use the client certificate: %v", cause)
		}
		return usageError{err}
	case errors.Is(err, https.ErrSelfSigned): // before ErrUnknownAuthority, which it also is
		return failure(err, "server certificate is self-signed: pass that certificate as --ca FILE to trust it, or --insecure")
	case errors.Is(err, https.ErrUnknownAuthority):
		return failure(err, "certificate signed by unknown authority: pass --ca FILE or --insecure")
	case errors.Is(err, https.ErrNameMismatch):
		return failure(err, "certificate is not valid for %s: use a name it covers, or --insecure", o.Host)
	case errors.Is(err, https.ErrNotYetValid): // before ErrExpired, which it also is
		return failure(err, "server certificate is not valid until %s: check the clocks of this machine and the server, or pass --insecure",
			certDate(err, func(c *x509.Certificate) time.Time { return c.NotBefore }))
	case errors.Is(err, https.ErrExpired):
		return failure(err, "server certificate expired on %s: the server must renew it, or pass --insecure",
			certDate(err, func(c *x509.Certificate) time.Time { return c.NotAfter }))
	case errors.Is(err, https.ErrClientCertRefused) && o.Cert == "":
		return failure(err, "the server requires a client certificate: pass --cert FILE --key FILE")
	case errors.Is(err, https.ErrClientCertRefused):
		return failure(err, "the server refused the client certificate: pass --cert FILE --key FILE that it trusts")
	case errors.Is(err, https.ErrHeaderTooLarge):
		limit := o.MaxHeaderBytes
		if limit == 0 {
			limit = https.DefaultMaxHeaderBytes
		}
		return failure(err, "the server's response headers are larger than %d bytes", limit)
	case errors.Is(err, https.ErrBodyTooLarge):
		return failure(err, "maximum file size exceeded: the response body is larger than --max-filesize %d bytes", o.MaxBodyBytes)
	case errors.Is(err, https.ErrRefused) && o.SocketPath != "":
		return failure(err, "connection refused: nothing listens on the Unix socket %s", o.SocketPath)
	case errors.Is(err, https.ErrRefused):
		return failure(err, "connection refused: nothing listens on %s", host)
	case errors.Is(err, https.ErrDNS):
		return failure(err, "cannot resolve host %s", o.Host)
	case errors.Is(err, https.ErrTimeout):
		return failure(err, "timed out: %v", err)
	case errors.Is(err, https.ErrAborted):
		return failure(err, "aborted")
	}
	return err
}

// certDate returns the date of the certificate that err names (x509's
// CertificateInvalidError), or "an unknown date".
func certDate(err error, date func(*x509.Certificate) time.Time) string {
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Cert != nil {
		return date(inv.Cert).UTC().Format(time.RFC3339)
	}
	return "an unknown date"
}
