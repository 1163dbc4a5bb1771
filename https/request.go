package https

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// ClientRequest is a request in progress: the seed's https.ClientRequest.
// Request and Get create it; its zero value is not usable.
//
// Its body is written with Write and ended with End; nothing is held whole
// in memory (each Write returns once the transport has taken its bytes).
// Events are delivered to the On… callbacks one at a time, never
// concurrently, on a goroutine of the request (never the caller's), in the
// order socket, finish, response, data, end, close; on failure error, then
// close. Every request ends with exactly one close.
//
// All methods are safe for concurrent use.
type ClientRequest struct {
	l         loop
	plan      plan
	transport *http.Transport
	ctx       reqCtx      // the round trip's: cancelled when the request ends (reqctx.go)
	stopCtx   func() bool // stops the caller's context watch
	timer     idleTimer
	trace     httptrace.ClientTrace
	rtTaken   atomic.Bool   // the round trip is running (on its goroutine or in Response)
	rtBody    io.ReadCloser // the round trip's body and length, set before it starts
	rtLength  int64
	follow    *Options // the request's Options when MaxRedirects > 0

	// Guarded by l.mu.
	state      state         // see lifecycle.go
	ended      bool          // End was called
	respReady  bool          // 'response' fired or the request ended
	respDone   chan struct{} // closed once respReady; made by respWaitLocked
	written    int64
	pw         *io.PipeWriter
	abortedAt  time.Time
	err        error // the terminal error (also ErrAborted after Abort)
	msg        *IncomingMessage
	conn       net.Conn // from 'socket'
	connReused bool
	wrote      bool          // the request was written ('finish' is queued)
	wroteCh    chan struct{} // closed when wrote is set, if roundTrip waits for it

	socket   once[net.Conn]
	finish   once[struct{}]
	response once[*IncomingMessage]
	errEv    once[error]
	closeEv  once[struct{}]
}

// Request validates opts, then starts the request it describes and returns
// it: the seed's https.request. Problems found before any I/O are returned
// as an *Error of kind ErrInvalidRequest: an illegal path, method, host,
// port, header or Auth, or a CA, Cert or Key that cannot be read, parsed or
// paired (the *certs.Error is wrapped). onResponse, if not nil, is
// registered with OnResponse.
//
// The connection is opened as soon as the request knows its body framing:
// at once with a Content-Length header, else at the first Write or at End.
// The caller must call End (Get does), then read the response body (Read
// or OnData) or Close it, or call Abort; otherwise the connection stays
// busy. Cancelling ctx aborts the request exactly like Abort ('close', no
// 'error'); the error that Response, Read and Write then return keeps why:
// of kind ErrTimeout for a deadline, ErrAborted for a cancellation, and
// errors.Is matches it with context.DeadlineExceeded or context.Canceled.
func Request(ctx context.Context, opts Options, onResponse func(*IncomingMessage)) (*ClientRequest, error) {
	p, err := newPlan(opts)
	if err != nil {
		return nil, err
	}
	r := &ClientRequest{plan: p}
	r.transport = connectFor(ctx, agentOf(&opts), &r.plan, opts.Port)
	parent := ctx // for its values: its cancellation is Abort, below
	if ctx.Done() != nil {
		parent = context.WithoutCancel(ctx)
	}
	if opts.MaxRedirects > 0 {
		o := opts
		r.follow = &o
	}
	// The round trip's context: the trace hooks that fire 'socket' and
	// 'finish' under it, so that contexts net/http derives from r.ctx find
	// r.ctx first (reqctx.go).
	r.trace.GotConn = r.gotConn
	r.trace.WroteRequest = r.wroteRequest
	r.ctx.parent = httptrace.WithClientTrace(parent, &r.trace)
	r.timer.req = r
	if onResponse != nil {
		r.OnResponse(onResponse)
	}
	if ctx.Err() != nil {
		r.abortBy(ctx)
		return r, nil
	}
	var stop func() bool
	if ctx.Done() != nil { // context.Background and its like never cancel
		stop = context.AfterFunc(ctx, func() { r.abortBy(ctx) })
	}
	closed := false
	r.apply(r.locked(func() after {
		if r.state == stateClosed {
			closed = true
			return after{}
		}
		r.stopCtx = stop
		if p.contentLength >= 0 { // the framing is known: start now
			return r.transitionLocked(move{to: stateSending, withBody: p.contentLength > 0})
		}
		return after{}
	}))
	if closed && stop != nil {
		stop()
	}
	return r, nil
}

// Get is Request followed by End: the seed's https.get. If End fails (a
// Content-Length header with no body), Get returns the request and that
// error.
func Get(ctx context.Context, opts Options, onResponse func(*IncomingMessage)) (*ClientRequest, error) {
	r, err := Request(ctx, opts, onResponse)
	if err != nil {
		return nil, err
	}
	return r, r.End()
}

// Write sends p as part of the request body. It blocks until the transport
// has taken p (so a slow server slows the writer) and returns an error if
// the request has failed, was aborted or ended, or if p would exceed the
// Content-Length header (an *Error of kind ErrContentLength, which also
// fails the request). The first Write of a request without Content-Length
// starts it with a chunked body. An empty p writes nothing. If the server
// answers before it has read the whole body, Writes from then on drop their
// bytes and succeed; the response is the server's answer and 'finish' is
// not emitted.
func (r *ClientRequest) Write(p []byte) (int, error) {
	return r.write(p, false)
}

func (r *ClientRequest) write(p []byte, fromEnd bool) (int, error) {
	var (
		pw  *io.PipeWriter
		err error
	)
	r.apply(r.locked(func() after {
		switch cl := r.plan.contentLength; {
		case r.state == stateClosed:
			err = r.terminalErrLocked()
		case r.ended && !fromEnd:
			err = r.errorOf(ErrWriteAfterEnd, nil)
		case cl >= 0 && r.written+int64(len(p)) > cl:
			err = r.errorOf(ErrContentLength, fmt.Errorf("body exceeds Content-Length %d", cl))
			return r.transitionLocked(move{to: stateClosed, err: err, emit: true})
		case len(p) > 0:
			r.written += int64(len(p))
			a := r.transitionLocked(move{to: stateSending, withBody: true}) // the first Write starts
			pw = r.pw
			return a
		}
		return after{}
	}))
	if err != nil || pw == nil {
		return 0, err
	}

	n, err := pw.Write(p)
	if errors.Is(err, io.ErrClosedPipe) {
		// The transport stopped reading the body. Either the round trip
		// failed (its error is the answer) or the server answered before
		// reading the whole body (HTTP/2 servers then reset the stream with
		// NO_ERROR; HTTP/1 servers may close): the response is what the
		// server meant and the rest of the body is dropped.
		var responded <-chan struct{}
		r.holding(func() { responded = r.respWaitLocked() })
		select {
		case <-responded:
		case <-r.ctx.Done():
		}
		answered := false
		r.holding(func() { answered = r.msg != nil && (r.state != stateClosed || r.err == nil) })
		if answered {
			r.timer.touch()
			return len(p), nil
		}
	}
	if err != nil {
		r.holding(func() {
			if r.state == stateClosed {
				err = r.terminalErrLocked()
			} else if kind := kindOf(err, phaseRoundTrip); kind != nil {
				err = r.errorOf(kind, err)
			} else {
				err = r.errorOf(ErrClosed, err) // the transport stopped reading the body
			}
		})
		return n, err
	}
	r.timer.touch()
	return n, nil
}

// End writes data, if any, and ends the request body; 'finish' follows
// once the whole request has been sent. A request ended without any Write
// sends no body. With a Content-Length header, End fails the request with
// an *Error of kind ErrContentLength when fewer bytes were written. A
// second End does nothing (with data it returns ErrWriteAfterEnd). End after
// Abort returns the abort error.
func (r *ClientRequest) End(data ...[]byte) error {
	var err error
	again := false
	r.holding(func() {
		switch {
		case r.state == stateClosed:
			err = r.terminalErrLocked()
		case r.ended:
			again = true
		default:
			r.ended = true
		}
	})
	if err != nil {
		return err
	}
	if again {
		for _, d := range data {
			if len(d) > 0 {
				return r.errorOf(ErrWriteAfterEnd, nil)
			}
		}
		return nil
	}

	for _, d := range data {
		if _, err := r.write(d, true); err != nil {
			return err
		}
	}

	var pw *io.PipeWriter
	r.apply(r.locked(func() after {
		if r.state == stateClosed {
			err = r.terminalErrLocked()
			return after{}
		}
		if cl := r.plan.contentLength; cl >= 0 && r.written != cl {
			err = r.errorOf(ErrContentLength, fmt.Errorf("body has %d bytes, Content-Length %d", r.written, cl))
			return r.transitionLocked(move{to: stateClosed, err: err, emit: true})
		}
		a := r.transitionLocked(move{to: stateSending}) // no Write: no body
		pw = r.pw
		return a
	}))
	if err != nil {
		return err
	}
	if pw != nil {
		pw.Close()
	}
	return nil
}

// Abort drops the request and its connection: pending Writes return, the
// response (if any) stops, and the request ends with 'close' and no
// 'error'. Aborted then reports the time. Abort after the request's close
// does nothing.
func (r *ClientRequest) Abort() { r.abort(r.errorOf(ErrAborted, nil)) }

// abortBy aborts the request because ctx is done: Abort, with an error that
// keeps what ended ctx. A deadline is of kind ErrTimeout, a cancellation of
// kind ErrAborted, and either matches ctx.Err() (context.DeadlineExceeded,
// context.Canceled) with errors.Is.
func (r *ClientRequest) abortBy(ctx context.Context) {
	kind := ErrAborted
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		kind = ErrTimeout
	}
	r.abort(r.errorOf(kind, ctx.Err()))
}

// abort is Abort with err as the error later calls return.
func (r *ClientRequest) abort(err *Error) {
	r.apply(r.locked(func() after {
		if r.state == stateClosed {
			return after{}
		}
		r.abortedAt = time.Now()
		return r.transitionLocked(move{to: stateClosed, err: err})
	}))
}

// Aborted returns when Abort (or a SetTimeout with a nil callback) took
// effect, or the zero time if the request was never aborted.
func (r *ClientRequest) Aborted() time.Time {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	return r.abortedAt
}

// SetTimeout sets an inactivity timeout: it fires when no byte of the
// request or of its response has moved for d (connecting counts as idle).
// With a nil cb the request is aborted with an *Error of kind ErrTimeout
// ('error', then 'close'); with a cb, cb runs once as an event and decides
// (SetTimeout again re-arms it). It never fires after the response has
// ended. d <= 0 turns the timeout off. A later call replaces an earlier one;
// IncomingMessage.SetTimeout sets the same timer.
func (r *ClientRequest) SetTimeout(d time.Duration, cb func()) {
	r.timer.set(d, cb)
}

// Response waits for the 'response' event and returns its message, or the
// error that ended the request first (an *Error; of kind ErrAborted after
// Abort).
func (r *ClientRequest) Response() (*IncomingMessage, error) {
	started := false
	r.holding(func() { started = r.state != stateNew })
	if started && r.rtTaken.CompareAndSwap(false, true) {
		// The round trip's goroutine has not begun yet: run the round trip
		// here instead, saving the hand-over from that goroutine to this one.
		// Events still run on the loop, never here.
		r.roundTrip(r.rtBody, r.rtLength)
	}
	var responded <-chan struct{}
	r.holding(func() {
		if !r.respReady { // else the round trip ran above, or is over: no channel needed
			responded = r.respWaitLocked()
		}
	})
	if responded != nil {
		<-responded
	}
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	if r.msg != nil {
		return r.msg, nil
	}
	return nil, r.err
}

// OnResponse registers h for the 'response' event: the status line and
// headers arrived. The body is read with the message's Read or OnData.
func (r *ClientRequest) OnResponse(h func(*IncomingMessage)) { on(&r.l, &r.response, h) }

// OnSocket registers h for the 'socket' event: the request got its
// connection (a *tls.Conn, possibly reused from an earlier request with the
// same TLS settings, or shared by HTTP/2 streams). h must not read from or
// write to it; closing it aborts the requests using it.
func (r *ClientRequest) OnSocket(h func(net.Conn)) { on(&r.l, &r.socket, h) }

// OnFinish registers h for the 'finish' event: the whole request, body
// included, was handed to the connection. It fires once.
func (r *ClientRequest) OnFinish(h func()) { on(&r.l, &r.finish, noArg(h)) }

// OnClose registers h for the 'close' event, the last event of every
// request: after the response's end, after an error, or after Abort.
func (r *ClientRequest) OnClose(h func()) { on(&r.l, &r.closeEv, noArg(h)) }

// OnError registers h for the 'error' event. The error is an *Error whose
// Kind tells what failed. 'close' follows.
func (r *ClientRequest) OnError(h func(error)) { on(&r.l, &r.errEv, h) }
