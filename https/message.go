package https

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// IncomingMessage is a response: the seed's https.IncomingMessage. The
// request creates it and hands it to 'response'; its fields are set then and
// not changed, so they may be read from any goroutine.
//
// The body starts paused. Read pulls it (io.Reader); OnData switches it to
// flowing mode, where the library reads and delivers chunks (Read then
// returns ErrFlowing). Either way 'end' fires when the body is complete and
// 'close' follows. A body cut short is an error (kind ErrTruncated), never a
// short read that looks complete; a body longer than Options.MaxBodyBytes is
// an error (kind ErrBodyTooLarge) once the bound is reached. A body that is
// neither read nor closed keeps its connection busy. Methods are safe for
// concurrent use.
type IncomingMessage struct {
	Headers       http.Header // response headers, canonical names
	Method        string      // the request's method (the last one's, after redirects)
	StatusCode    int         // e.g. 404
	StatusMessage string      // reason phrase, e.g. "Not Found"; may be empty
	URL           string      // the request's URL, e.g. "https://localhost:8443/a?b=c"; the last one after redirects
	HTTPVersion   string      // "1.1" or "2.0" ("1.0" for an HTTP/1.0 server)

	req    *ClientRequest
	body   io.ReadCloser
	readMu sync.Mutex // serialises body reads
	bound  bodyBound  // guarded by readMu

	// Guarded by req.l.mu.
	flowing bool
	ended   bool
	data    []func([]byte)
	endEv   once[struct{}]
	closeEv once[struct{}]
}

// Read reads the body, as io.Reader. It returns io.EOF once the whole body
// was read ('end' and 'close' then fire), ErrFlowing after OnData, and an
// *Error if the body is cut short (ErrTruncated), grows past
// Options.MaxBodyBytes (ErrBodyTooLarge), times out (ErrTimeout) or was
// aborted (ErrAborted).
func (m *IncomingMessage) Read(p []byte) (int, error) {
	r := m.req
	var err error
	r.holding(func() {
		switch {
		case m.ended:
			err = io.EOF
		case m.flowing:
			err = ErrFlowing
		case r.state == stateClosed:
			err = r.terminalErrLocked()
		}
	})
	if err != nil {
		return 0, err
	}

	m.readMu.Lock()
	n, err := m.readBody(p)
	m.readMu.Unlock()
	if n > 0 {
		r.timer.touch()
	}
	switch {
	case err == io.EOF:
		m.complete()
	case err != nil:
		err = r.fail(err, phaseBody)
	}
	return n, err
}

// Close discards the rest of the body. Before the end it drops the
// connection and ends the request with 'close' (no 'end', no 'error');
// after the end it does nothing. It returns nil.
func (m *IncomingMessage) Close() error {
	r := m.req
	r.apply(r.locked(func() after {
		return r.transitionLocked(move{to: stateClosed, err: r.errorOf(ErrAborted, nil)})
	}))
	return nil
}

// SetTimeout sets the request's inactivity timeout, as
// ClientRequest.SetTimeout (there is one timer per request).
func (m *IncomingMessage) SetTimeout(d time.Duration, cb func()) { m.req.SetTimeout(d, cb) }

// OnData registers h for 'data' events and switches the body to flowing
// mode: the library reads the body and calls h with each chunk (the slice
// is h's to keep). The next chunk is read only after h returns, so a slow
// h slows the transfer instead of buffering it.
func (m *IncomingMessage) OnData(h func([]byte)) {
	if h == nil {
		return
	}
	r := m.req
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	m.data = append(m.data, h)
	if !m.flowing && !m.ended && r.state != stateClosed {
		m.flowing = true
		go m.pump()
	}
}

// OnEnd registers h for 'end': the whole body was delivered.
func (m *IncomingMessage) OnEnd(h func()) { on(&m.req.l, &m.endEv, noArg(h)) }

// OnClose registers h for the message's 'close': it fires after 'end',
// and also when the body stops early (error, Abort, Close); the request's
// 'close' follows it.
func (m *IncomingMessage) OnClose(h func()) { on(&m.req.l, &m.closeEv, noArg(h)) }

// pumpBuffer is the size of the reads of pump: a TLS record carries at most
// 16 KB, and an HTTP/2 DATA frame by default as much, so a read of the body
// rarely returns more.
const pumpBuffer = 16 << 10

// pump reads the body in flowing mode and delivers it chunk by chunk.
func (m *IncomingMessage) pump() {
	r := m.req
	buf := make([]byte, pumpBuffer)
	for {
		m.readMu.Lock()
		n, err := m.readBody(buf)
		m.readMu.Unlock()
		if n > 0 {
			r.timer.touch()
			// The chunk is the handlers' to keep. A big one is handed over
			// as it is (no copy), and the next read gets a new buffer; a
			// small one is copied, so it holds no more memory than it needs.
			var chunk []byte
			if n >= len(buf)/2 {
				chunk = buf[:n:n]
				buf = make([]byte, pumpBuffer)
			} else {
				chunk = slices.Clone(buf[:n])
			}
			if !m.deliver(chunk) {
				return
			}
		}
		switch {
		case err == io.EOF:
			m.complete()
			return
		case err != nil:
			r.fail(err, phaseBody)
			return
		}
	}
}

// readBody reads the body into p, enforcing the plan's MaxBodyBytes (see
// bodyBound). m.readMu must be held.
func (m *IncomingMessage) readBody(p []byte) (int, error) {
	n, err, tooLarge := m.bound.read(m.body, p)
	if tooLarge != nil {
		return n, m.req.errorOf(ErrBodyTooLarge, tooLarge)
	}
	return n, err
}

// bodyBound enforces MaxBodyBytes on a response body: it never lets more
// than limit bytes through in all, and says so as soon as the body proves
// longer (one byte more, or a Content-Length above the bound).
type bodyBound struct {
	limit  int64 // 0: none
	length int64 // the declared Content-Length; -1: unknown
	got    int64 // bytes let through so far
}

// read reads body into p. tooLarge, when not nil, is the cause of an
// ErrBodyTooLarge: the body is longer than the bound.
func (b *bodyBound) read(body io.Reader, p []byte) (n int, err, tooLarge error) {
	if b.limit <= 0 {
		n, err = body.Read(p)
		return n, err, nil
	}
	if b.length > b.limit {
		return 0, nil, fmt.Errorf("Content-Length %d exceeds MaxBodyBytes %d", b.length, b.limit)
	}
	left := b.limit - b.got
	if int64(len(p))-1 > left {
		p = p[:left+1] // one byte past the bound tells a longer body
	}
	n, err = body.Read(p)
	if int64(n) > left {
		b.got = b.limit
		return int(left), nil, fmt.Errorf("body exceeds MaxBodyBytes %d", b.limit)
	}
	b.got += int64(n)
	return n, err, nil
}

// complete fires 'end' and ends the request normally.
func (m *IncomingMessage) complete() {
	r := m.req
	r.apply(r.locked(func() after { return r.transitionLocked(move{to: stateClosed, end: true}) }))
}

// deliver calls the data handlers with chunk and returns once they have, or
// returns false at once if the request is closed. When the loop is idle,
// this goroutine runs them itself, as the loop; otherwise they are queued
// behind the callbacks already waiting.
func (m *IncomingMessage) deliver(chunk []byte) bool {
	r := m.req
	var (
		closed    bool
		hs        []func([]byte)
		delivered chan struct{}
	)
	r.holding(func() {
		switch {
		case r.state == stateClosed:
			closed = true
		case r.l.running:
			delivered = make(chan struct{})
			done := delivered
			r.l.postLocked(func() {
				defer close(done)
				var hs []func([]byte)
				r.holding(func() { hs = m.data[:len(m.data):len(m.data)] }) // OnData only appends
				for _, h := range hs {
					h(chunk)
				}
			})
		default:
			hs = m.data[:len(m.data):len(m.data)]
			r.l.running = true
		}
	})
	switch {
	case closed:
		return false
	case delivered != nil:
		<-delivered
		return true
	}
	defer r.l.release()
	for _, h := range hs {
		h(chunk)
	}
	return true
}
