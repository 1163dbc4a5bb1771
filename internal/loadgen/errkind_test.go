package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	tests := []struct {
		name string
		err  error
		want kind
	}{
		{"refused", opErr(syscall.ECONNREFUSED), kindRefused},
		{"dns", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}}, kindDNS},
		{"deadline", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), kindTimeout},
		{"context deadline", context.DeadlineExceeded, kindTimeout},
		{"unknown authority", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, kindUnknownAuthority},
		{"name mismatch", &tls.CertificateVerificationError{Err: x509.HostnameError{Host: "x"}}, kindNameMismatch},
		{"expired", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired}}, kindBadCertificate},
		{"alert", tls.AlertError(40), kindTLS},
		{"tls text", errors.New("tls: handshake failure"), kindTLS},
		{"remote alert", &net.OpError{Op: "remote error", Err: errors.New("tls: bad record MAC")}, kindTLS},
		{"no ALPN overlap", &net.OpError{Op: "remote error", Err: errors.New("tls: no application protocol")}, kindProtocol},
		{"reset", opErr(syscall.ECONNRESET), kindReset},
		{"broken pipe", opErr(syscall.EPIPE), kindReset},
		{"eof", io.EOF, kindEOF},
		{"truncated", errTruncated, kindTruncated},
		{"closed while idle (eof)", fmt.Errorf("%w: %w", errClosedIdle, io.EOF), kindClosedIdle},
		{"closed while idle (reset)", fmt.Errorf("%w: %w", errClosedIdle, opErr(syscall.ECONNRESET)), kindClosedIdle},
		{"unexpected eof", io.ErrUnexpectedEOF, kindTruncated},
		{"protocol", errProtocol("bad status line"), kindProtocol},
		{"http2", errors.New("http2: server sent GOAWAY and closed the connection"), kindProtocol},
		{"other", errors.New("something else"), kindOther},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("%s: classify(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
	for k := range numKinds {
		if k.String() == "" {
			t.Errorf("kind %d has no name", k)
		}
	}
}

func TestStatusKind(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   kind
		bad    bool
	}{{200, 0, false}, {302, 0, false}, {404, kindStatus4xx, true}, {503, kindStatus5xx, true}} {
		if got, bad := statusKind(tt.status); got != tt.want || bad != tt.bad {
			t.Errorf("statusKind(%d) = %q, %v; want %q, %v", tt.status, got, bad, tt.want, tt.bad)
		}
	}
}
