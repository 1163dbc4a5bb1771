package https

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"time"
)

// runRoundTrip runs the round trip unless Response already took it over.
func (r *ClientRequest) runRoundTrip() {
	if r.rtTaken.CompareAndSwap(false, true) {
		r.roundTrip(r.rtBody, r.rtLength)
	}
}

// gotConn is the httptrace hook that fires 'socket'.
func (r *ClientRequest) gotConn(info httptrace.GotConnInfo) {
	r.timer.touch()
	r.holding(func() {
		if r.state != stateClosed {
			r.conn, r.connReused = info.Conn, info.Reused
			r.socket.fireLocked(&r.l, info.Conn)
		}
	})
}

// wroteRequest is the httptrace hook that fires 'finish'. It may run more than
// once (a request retried on a fresh connection).
func (r *ClientRequest) wroteRequest(info httptrace.WroteRequestInfo) {
	r.holding(func() {
		if info.Err == nil && r.state != stateClosed {
			r.finish.fireLocked(&r.l, struct{}{})
		}
		if !r.wrote {
			r.wrote = true
			if r.wroteCh != nil {
				close(r.wroteCh)
			}
		}
	})
}

// roundTrip runs in its own goroutine for the life of the request headers.
func (r *ClientRequest) roundTrip(body io.ReadCloser, cl int64) {
	// The plan belongs to this request alone, and RoundTrip does not modify
	// the request, so its URL and header are used as they are.
	req := http.Request{ // on the stack: WithContext below copies it
		Method:        r.plan.method,
		URL:           r.plan.url,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        r.plan.header,
		Host:          r.plan.host,
		Body:          body,
		ContentLength: cl,
	}
	rq := req.WithContext(&r.ctx)
	resp, err := r.transport.RoundTrip(rq)
	final := &r.plan
	if err == nil && r.follow != nil {
		resp, final, err = r.followRedirects(rq, resp, cl != 0)
	}
	if err != nil {
		r.fail(err, phaseRoundTrip)
		return
	}
	r.timer.touch()
	// 'finish' comes before 'response' even when the server answers early.
	var wrote chan struct{}
	r.holding(func() {
		if !r.wrote {
			wrote = make(chan struct{})
			r.wroteCh = wrote
		}
	})
	if wrote != nil {
		select {
		case <-wrote:
		case <-r.ctx.Done():
			resp.Body.Close()
			return
		}
	}

	empty := resp.ContentLength == 0 || resp.Body == http.NoBody || final.method == http.MethodHead ||
		resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified
	if final.decompress && !empty {
		decodeResponse(resp)
	}
	msg := newMessage(r, final, resp)
	if empty {
		// Framing says there is no body: drain the (at once) EOF so the
		// connection goes back to the pool, and end the message now.
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			resp.Body.Close()
			r.fail(err, phaseBody)
			return
		}
	}
	late := false
	r.apply(r.locked(func() after {
		if r.state == stateClosed {
			late = true
			return after{}
		}
		a := r.transitionLocked(move{to: stateReceiving, msg: msg})
		if empty {
			a = r.transitionLocked(move{to: stateClosed, end: true})
		}
		return a
	}))
	if late {
		resp.Body.Close()
	}
}

// fail ends the request with err (from net/http or a body read), wrapped in
// an *Error; it does nothing if the request already ended. It returns the
// terminal error.
func (r *ClientRequest) fail(err error, ph phase) error {
	var e *Error
	if !errors.As(err, &e) {
		kind := kindOf(err, ph)
		switch {
		case ph == phaseRoundTrip && r.ctx.asked.Load():
			var conn net.Conn
			var reused bool
			r.holding(func() { conn, reused = r.conn, r.connReused })
			kind = certRefusedKind(err, kind, conn, reused, false)
		case kind == ErrHeaderTooLarge:
			// net/http's HTTP/2 errors do not name the bound.
			err = fmt.Errorf("past MaxHeaderBytes %d: %w", r.plan.maxHeader, err)
		}
		e = r.errorOf(kind, err)
	}
	return r.closeWith(e, true)
}

// certRefusedKind returns the kind of err, a failure of a round trip on
// which the server asked for a client certificate, given kindOf's kind and
// the connection (nil when none was made) and whether it was reused: a
// refusal of our client certificate is ErrClientCertRefused, whatever it
// looked like. TLS 1.2 servers refuse with a handshake_failure alert. With
// TLS 1.3 the server checks the certificate after the client's handshake is
// complete, so its alert arrives as a read error on the connection, which
// net/http may report only as a closed connection (HTTP/2: "client conn
// could not be established"; HTTP/1: a broken pipe or EOF). A *tls.Conn
// keeps its read error and returns it before touching the network
// connection, so it is asked first; failing that, a fresh connection on
// which the server asked for a certificate and then hung up before any
// response counts as refused. When no connection was handed over (net/http
// gave up on it before its first request), handshake13 says whether a TLS
// 1.3 handshake completed on the new connection.
func certRefusedKind(err error, kind error, conn net.Conn, reused, handshake13 bool) error {
	switch {
	case kind == ErrClientCertRefused:
		return kind
	case kind == ErrHandshake && strings.Contains(err.Error(), "tls: handshake failure"):
		return ErrClientCertRefused
	case kind != nil && kind != ErrClosed:
		return kind
	}
	tc, ok := conn.(*tls.Conn)
	if !ok {
		if conn == nil && handshake13 {
			return ErrClientCertRefused
		}
		return kind
	}
	if reused || tc.ConnectionState().Version != tls.VersionTLS13 {
		return kind
	}
	tc.SetReadDeadline(time.Now())
	if _, rerr := tc.Read(make([]byte, 1)); rerr != nil && isRemoteAlert(rerr) && !isClientCertAlert(rerr) {
		return kind
	}
	return ErrClientCertRefused
}

// timedOut runs when the inactivity timer expires.
func (r *ClientRequest) timedOut(d time.Duration, cb func()) {
	r.apply(r.locked(func() after {
		switch {
		case r.state == stateClosed:
		case cb != nil:
			r.l.postLocked(cb)
		default:
			r.abortedAt = time.Now()
			return r.transitionLocked(move{to: stateClosed, err: r.errorOf(ErrTimeout, fmt.Errorf("nothing moved for %v", d)), emit: true})
		}
		return after{}
	}))
}

// terminalErrLocked is the error returned by calls made after the end.
func (r *ClientRequest) terminalErrLocked() error {
	if r.err != nil {
		return r.err
	}
	return r.errorOf(ErrAborted, errors.New("request closed"))
}

func (r *ClientRequest) errorOf(kind, err error) *Error {
	return &Error{Op: r.plan.method, URL: r.plan.urlString, Kind: kind, Err: err}
}

// activityReader counts the bytes that move as activity for the idle timer.
type activityReader struct {
	r io.ReadCloser
	t *idleTimer
}

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.t.touch()
	}
	return n, err
}

func (a *activityReader) Close() error { return a.r.Close() }

// newMessage builds the IncomingMessage of resp, the answer to the request
// of plan p (r's own, or a redirect's).
func newMessage(r *ClientRequest, p *plan, resp *http.Response) *IncomingMessage {
	return &IncomingMessage{
		Headers:       resp.Header,
		Method:        p.method,
		StatusCode:    resp.StatusCode,
		StatusMessage: reasonPhrase(resp.Status, resp.StatusCode),
		URL:           p.urlString,
		HTTPVersion:   httpVersion(resp.ProtoMajor, resp.ProtoMinor),
		req:           r,
		body:          resp.Body,
		bound:         bodyBound{limit: p.maxBody, length: resp.ContentLength},
	}
}

// reasonPhrase is the reason phrase of status, net/http's Response.Status
// ("200 OK"): what follows the code, without surrounding space. It does not
// format the code to compare it, which would allocate for every response.
func reasonPhrase(status string, code int) string {
	if code < 100 || code > 999 {
		return strings.TrimSpace(strings.TrimPrefix(status, strconv.Itoa(code)))
	}
	if len(status) >= 3 && status[0] == byte('0'+code/100) && status[1] == byte('0'+code/10%10) && status[2] == byte('0'+code%10) {
		status = status[3:]
	}
	return strings.TrimSpace(status)
}

// httpVersion is "major.minor", without allocating for the usual versions.
func httpVersion(major, minor int) string {
	switch {
	case major == 1 && minor == 1:
		return "1.1"
	case major == 2 && minor == 0:
		return "2.0"
	case major == 1 && minor == 0:
		return "1.0"
	}
	return strconv.Itoa(major) + "." + strconv.Itoa(minor)
}

// followRedirects follows the redirects of resp, the answer to req, as
// Options.MaxRedirects says (the rules are Redirect's), and returns the last
// response and the plan of its request. hadBody says req had a body, which
// cannot be sent again.
func (r *ClientRequest) followRedirects(req *http.Request, resp *http.Response, hadBody bool) (*http.Response, *plan, error) {
	opts, p := *r.follow, &r.plan
	for hops := 0; ; hops++ {
		next, ok, err := Redirect(opts, resp.StatusCode, resp.Header.Get("Location"))
		switch {
		case err != nil:
			resp.Body.Close()
			return nil, nil, err
		case !ok, hadBody && next.Method == opts.Method:
			return resp, p, nil
		case hops == opts.MaxRedirects:
			resp.Body.Close()
			return nil, nil, r.errorOf(ErrRedirect, fmt.Errorf("more than %d redirects (MaxRedirects)", opts.MaxRedirects))
		}
		np, err := newPlan(next)
		if err != nil {
			resp.Body.Close()
			return nil, nil, r.errorOf(ErrRedirect, err)
		}
		// Read a little of the redirect's body, so its connection can be reused.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		r.timer.touch()
		req = req.WithContext(req.Context()) // a shallow copy, with the same trace
		req.Method, req.URL, req.Header, req.Host = np.method, np.url, np.header, np.host
		req.Body, req.ContentLength = http.NoBody, 0
		t := connectFor(req.Context(), agentOf(&next), &np, next.Port) // a Connect of the context holds
		req.URL, req.Host = np.url, np.host
		if resp, err = t.RoundTrip(req); err != nil {
			return nil, nil, err
		}
		opts, p, hadBody = next, &np, false
	}
}
