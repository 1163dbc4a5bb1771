package https

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
)

// RoundTripper returns an http.RoundTripper that sends requests through the
// agent's pool with the connection settings of opts, so any Go code that
// takes an *http.Client can use this package's CA and certificate loading,
// bounds and typed errors:
//
//	rt, err := agent.RoundTripper(https.Options{CA: "ca.pem", MaxBodyBytes: 1 << 20})
//	client := &http.Client{Transport: rt}
//
// Of opts it uses CA, Cert, Key, InsecureSkipVerify, ServerName,
// MaxHeaderBytes, MaxBodyBytes, Memory and Decompress (for requests without
// an Accept-Encoding of their own); the fields that describe one
// request (Host, Port, Method, Path, Headers, Auth) are the *http.Request's
// business and must be zero, and opts.Agent is ignored (the agent is a).
// CA, Cert and Key are checked now (an *Error of kind ErrInvalidRequest
// names the problem) and files among them are read again for each request,
// as Request does.
//
// Requests are sent as given: no Host, User-Agent or Accept-Encoding is
// added beyond what net/http adds (and Decompress), and bodies arrive as the
// server sent them unless Decompress decoded them.
// Redirects are for the http.Client to follow. https:// and http:// URLs are
// accepted (http:// in plain text, for servers that redirect to https://).
// Every error, from RoundTrip or from reading a response body, is an *Error
// whose Kind says what failed (ErrRefused, ErrNameMismatch, ErrTruncated,
// ErrBodyTooLarge, ErrTimeout or ErrAborted for the request's context, …);
// http.Client wraps it in a *url.Error, through which errors.Is and
// errors.As still reach it. The RoundTripper is safe for concurrent use.
func (a *Agent) RoundTripper(opts Options) (http.RoundTripper, error) {
	if opts.Host != "" || opts.Hostname != "" || opts.Port != 0 || opts.Method != "" || opts.Path != "" ||
		opts.Headers != nil || opts.Auth != "" {
		return nil, invalid("", "", "Options for a RoundTripper: Host, Hostname, Port, Method, Path, Headers and Auth belong to each *http.Request")
	}
	rt := &roundTripper{agent: a, opts: opts}
	if err := rt.p.connSettings(&opts); err != nil {
		return nil, invalid("", "", "%v", err)
	}
	if _, err := rt.transport(); err != nil {
		return nil, err
	}
	return rt, nil
}

// roundTripper is what Agent.RoundTripper returns.
type roundTripper struct {
	agent *Agent
	opts  Options
	p     plan // the connection settings of opts; tls is loaded per request
}

// transport loads the TLS options and returns the agent's transport for them.
func (rt *roundTripper) transport() (*http.Transport, error) {
	cert, key, err := rt.agent.clientPair(&rt.opts) // pfx.go
	var s tlsSettings
	if err == nil {
		s, err = rt.agent.loadTLS(rt.opts.CA, cert, key, rt.opts.InsecureSkipVerify)
	}
	if err != nil {
		return nil, &Error{Kind: ErrInvalidRequest, Err: err}
	}
	p := rt.p
	p.tls = s
	if rt.opts.SocketPath != "" {
		p.socket = rt.opts.SocketPath
		return rt.agent.socketTransport(p, nil), nil // socket.go
	}
	return rt.agent.transportFor(&p), nil
}

// RoundTrip sends req; see Agent.RoundTripper.
func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	t, err := rt.transport()
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper always closes the body
		}
		err.(*Error).Op, err.(*Error).URL = req.Method, redactedURL(req)
		return nil, err
	}
	decode := false
	if rt.opts.Decompress && req.Header.Get("Accept-Encoding") == "" && req.Method != http.MethodHead {
		// As net/http's own transport does: ask, and decode only what was asked for.
		req = req.Clone(req.Context())
		req.Header["Accept-Encoding"] = acceptEncoding
		decode = true
	}
	var (
		conn        net.Conn
		reused      bool
		handshake13 atomic.Bool
	)
	ask := &certAskedCtx{Context: httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { conn, reused = info.Conn, info.Reused },
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			handshake13.Store(err == nil && cs.Version == tls.VersionTLS13)
		},
	})}
	resp, err := t.RoundTrip(req.WithContext(ask))
	if err != nil {
		err = rtError(req, err, phaseRoundTrip)
		if e := err.(*Error); ask.asked.Load() {
			e.Kind = certRefusedKind(e.Err, e.Kind, conn, reused, handshake13.Load()) // roundtrip.go
		}
		return nil, err
	}
	resp.Request = req
	if decode && resp.ContentLength != 0 && resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusNotModified {
		decodeResponse(resp)
	}
	resp.Body = &rtBody{req: req, body: resp.Body, bound: bodyBound{limit: rt.p.maxBody, length: resp.ContentLength}}
	return resp, nil
}

// rtError is err, a failure of req, as an *Error. A failure after the
// request's context ended is of the context's kind (ErrTimeout for a
// deadline, ErrAborted for a cancellation) and matches its error.
func rtError(req *http.Request, err error, ph phase) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	kind := kindOf(err, ph)
	if ctxErr := req.Context().Err(); ctxErr != nil {
		kind = ErrAborted
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			kind = ErrTimeout
		}
		if !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
	}
	if kind == nil {
		kind = ErrClosed
		if ph == phaseBody {
			kind = ErrTruncated
		}
	}
	return &Error{Op: req.Method, URL: redactedURL(req), Kind: kind, Err: err}
}

// redactedURL is req's URL without a password.
func redactedURL(req *http.Request) string {
	if req.URL == nil {
		return ""
	}
	return req.URL.Redacted()
}

// rtBody is a response body of the RoundTripper: MaxBodyBytes enforced,
// errors typed.
type rtBody struct {
	req   *http.Request
	body  io.ReadCloser
	bound bodyBound
}

func (b *rtBody) Read(p []byte) (int, error) {
	n, err, tooLarge := b.bound.read(b.body, p)
	switch {
	case tooLarge != nil:
		b.body.Close() // stop the transfer
		return n, &Error{Op: b.req.Method, URL: redactedURL(b.req), Kind: ErrBodyTooLarge, Err: tooLarge}
	case err != nil && err != io.EOF:
		return n, rtError(b.req, err, phaseBody)
	}
	return n, err
}

func (b *rtBody) Close() error { return b.body.Close() }
