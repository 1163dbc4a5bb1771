package https

import (
	"errors"
	"io"
)

// The life of a request is one state machine. Its state changes only in
// transitionLocked, which also queues the events each move fires; the
// events themselves are delivered by the request's loop (events.go), apart
// from this. Callers take l.mu with locked or holding, which release it
// with defer, and run what a move leaves to do (start the round trip,
// release the connection) once the lock is released, with apply.
//
//	stateNew ──(body framing known: Content-Length, Write or End)──▶ stateSending
//	stateSending ──(response headers)──▶ stateReceiving
//	any state ──(body ended, error, Abort, Close, timeout)──▶ stateClosed
//
// Whether End was called (ended) is the request body's own flag, apart
// from the state: a server may answer before the body ends.
type state uint8

const (
	// stateNew: created; the body's framing is not known yet, so the round
	// trip has not started.
	stateNew state = iota
	// stateSending: the round trip runs (the body streams through a pipe, or
	// there is none); no response yet.
	stateSending
	// stateReceiving: 'response' fired; the body is being read.
	stateReceiving
	// stateClosed: 'close' fired, after the end of the response, an error
	// or an abort. Nothing moves any more; r.err says why, if not the end.
	stateClosed
)

func (s state) String() string {
	switch s {
	case stateNew:
		return "new"
	case stateSending:
		return "sending"
	case stateReceiving:
		return "receiving"
	case stateClosed:
		return "closed"
	}
	return "state?"
}

// move is a transition asked of transitionLocked.
type move struct {
	to       state
	withBody bool             // to stateSending: the body is streamed (else there is none)
	msg      *IncomingMessage // to stateReceiving: the response
	end      bool             // to stateClosed: the response body ended ('end' fires first)
	err      error            // to stateClosed: the terminal error, if none was set before
	emit     bool             // to stateClosed: 'error' fires for err
}

// after is what a transition leaves to do once l.mu is released.
type after struct {
	startRoundTrip bool
	release        bool // the request closed: free what it holds
	pw             *io.PipeWriter
	msg            *IncomingMessage
	stopCtx        func() bool
	cause          error
}

// transitionLocked moves r as m says and queues the events of the move. A
// move out of stateClosed, or one that skips or repeats a state, does
// nothing: whichever of two racing moves comes first wins. l.mu must be
// held.
func (r *ClientRequest) transitionLocked(m move) after {
	if r.state == stateClosed || m.to <= r.state && m.to != stateClosed {
		return after{}
	}
	switch m.to {
	case stateSending:
		r.state = stateSending
		// No body is a nil Body, as in net/http's own GETs: http.NoBody
		// would make the transport copy its nothing through a LimitReader.
		var body io.ReadCloser
		cl := int64(0)
		if m.withBody {
			pr, pw := io.Pipe()
			r.pw = pw
			body = &activityReader{r: pr, t: &r.timer}
			cl = r.plan.contentLength // -1: chunked
		}
		r.rtBody, r.rtLength = body, cl
		return after{startRoundTrip: true}

	case stateReceiving:
		if r.state != stateSending {
			return after{}
		}
		r.state = stateReceiving
		r.msg = m.msg
		r.response.fireLocked(&r.l, m.msg)
		r.respondedLocked()
		return after{}
	}

	// stateClosed: 'end' (if the body ended), 'error' (if emitted), the
	// message's 'close', 'close'.
	r.state = stateClosed
	if m.end && r.msg != nil {
		r.msg.ended = true
		r.msg.endEv.fireLocked(&r.l, struct{}{})
	}
	if m.err != nil && r.err == nil {
		r.err = m.err
	}
	if m.err != nil && m.emit {
		r.errEv.fireLocked(&r.l, m.err)
	}
	if r.msg != nil {
		r.msg.closeEv.fireLocked(&r.l, struct{}{})
	}
	r.closeEv.fireLocked(&r.l, struct{}{})
	r.respondedLocked()
	return after{release: true, pw: r.pw, msg: r.msg, stopCtx: r.stopCtx, cause: r.err}
}

// respondedLocked notes that the response arrived or the request ended,
// and wakes whoever waits for it. l.mu must be held.
func (r *ClientRequest) respondedLocked() {
	if r.respReady {
		return
	}
	r.respReady = true
	if r.respDone != nil {
		close(r.respDone)
	}
}

// respWaitLocked returns a channel closed once the response arrived or the
// request ended. It is made only for a caller that has to wait: Response
// after a round trip it ran itself finds the answer there already, and
// needs none. l.mu must be held.
func (r *ClientRequest) respWaitLocked() <-chan struct{} {
	if r.respDone == nil {
		r.respDone = make(chan struct{})
		if r.respReady {
			close(r.respDone)
		}
	}
	return r.respDone
}

// apply does what a transition left to do. l.mu must not be held.
func (r *ClientRequest) apply(a after) {
	if a.startRoundTrip {
		go r.runRoundTrip()
	}
	if !a.release {
		return
	}
	r.timer.stop()
	if a.stopCtx != nil {
		a.stopCtx()
	}
	if a.pw != nil {
		cause := a.cause
		if cause == nil {
			cause = r.errorOf(ErrWriteAfterEnd, errors.New("request complete"))
		}
		a.pw.CloseWithError(cause)
	}
	if a.msg != nil {
		a.msg.body.Close()
	}
	r.ctx.cancel()
}

// locked runs f with l.mu held and returns what it returns.
func (r *ClientRequest) locked(f func() after) after {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	return f()
}

// holding runs f with l.mu held.
func (r *ClientRequest) holding(f func()) {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	f()
}

// closeWith moves r to stateClosed with err (emitted as 'error' when emit)
// and releases what it held. It returns the terminal error: err, or the
// error of an earlier end.
func (r *ClientRequest) closeWith(err error, emit bool) error {
	var out error
	r.apply(r.locked(func() after {
		if r.state == stateClosed {
			out = r.terminalErrLocked()
			return after{}
		}
		out = err
		return r.transitionLocked(move{to: stateClosed, err: err, emit: emit})
	}))
	return out
}
