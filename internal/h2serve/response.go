package h2serve

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// bufSize is how much response body a handler's writes gather before they are queued: a
// small response leaves with its headers in one step.
const bufSize = 4 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, bufSize); return &b }}

// responseWriter is a stream's http.ResponseWriter. Like net/http's, it is for the handler's
// goroutine only.
type responseWriter struct {
	st          *stream
	c           *conn
	header      http.Header
	status      int // final status once WriteHeader ran, else 0
	isHead      bool
	declLen     int64 // the handler's Content-Length, or -1
	written     int64
	buf         *[]byte
	sniff       []byte   // the first body bytes, kept for Content-Type sniffing
	trailerKeys []string // declared with the Trailer header before the headers left
	done        bool
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
	_ http.Pusher         = (*responseWriter)(nil)
)

// errHandlerDone is returned by writes after the handler returned.
var errHandlerDone = errors.New("h2serve: write after handler returned")

func (c *conn) runHandler(st *stream) {
	for st != nil {
		c.serveOne(&responseWriter{st: st, c: c, declLen: -1, isHead: st.req.Method == http.MethodHead}, st)
		st = c.nextQueued()
	}
}

// nextQueued returns the next queued stream still open, for the goroutine of a handler
// that ended, or nil when there is none (and that goroutine ends).
func (c *conn) nextQueued() *stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.queued) > 0 && !c.closing {
		st := c.queued[0]
		c.queued[0] = nil
		c.queued = c.queued[1:]
		if !st.reset {
			return st
		}
	}
	c.running--
	return nil
}

func (c *conn) serveOne(rw *responseWriter, st *stream) {
	defer func() {
		if rw.buf != nil {
			*rw.buf = (*rw.buf)[:0]
			bufPool.Put(rw.buf)
			rw.buf = nil
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				stack := make([]byte, 64<<10)
				stack = stack[:runtime.Stack(stack, false)]
				c.cfg.ErrorLog.Printf("h2serve: panic serving %s: %v\n%s", c.remoteAddr, p, stack)
			}
			c.mu.Lock()
			if c.streams[st.id] == st {
				c.resetStreamLocked(st, http2.ErrCodeInternal)
			}
			c.mu.Unlock()
			rw.done = true
		}
	}()
	c.handler.ServeHTTP(rw, st.req)
	rw.finish()
}

// Header returns the response header map, sent with the first Write, Flush or the end of
// the handler.
func (rw *responseWriter) Header() http.Header {
	if rw.header == nil {
		rw.header = make(http.Header)
	}
	return rw.header
}

// WriteHeader sets the status. An informational status (1xx) is sent at once with the
// current header and may be followed by others; the first final status sticks.
func (rw *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if rw.status != 0 || rw.done {
		return
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		c := rw.c
		c.mu.Lock()
		if !rw.st.reset && !c.closing {
			c.out = c.encodeHeadersLocked(c.out, rw.st.id, code, rw.header, -1, nil, false)
			c.wakeWriterLocked()
		}
		c.mu.Unlock()
		return
	}
	rw.status = code
	if cl := rw.header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			rw.declLen = n
		} else {
			rw.header.Del("Content-Length")
		}
	}
	for _, v := range rw.header["Trailer"] {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				rw.trailerKeys = append(rw.trailerKeys, http.CanonicalHeaderKey(k))
			}
		}
	}
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// Write queues body bytes, sending the headers first if they have not left.
func (rw *responseWriter) Write(p []byte) (int, error) {
	return rw.write(len(p), p, "")
}

// WriteString is Write for a string, without a copy to a []byte.
func (rw *responseWriter) WriteString(s string) (int, error) {
	return rw.write(len(s), nil, s)
}

func (rw *responseWriter) write(n int, p []byte, s string) (int, error) {
	if rw.done {
		return 0, errHandlerDone
	}
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(rw.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if rw.declLen >= 0 && rw.written+int64(n) > rw.declLen {
		return 0, http.ErrContentLength
	}
	rw.written += int64(n)
	if rw.isHead || n == 0 {
		return n, nil
	}
	if rw.buf == nil {
		rw.buf = bufPool.Get().(*[]byte)
	}
	if len(*rw.buf)+n <= bufSize {
		if p != nil {
			*rw.buf = append(*rw.buf, p...)
		} else {
			*rw.buf = append(*rw.buf, s...)
		}
		return n, nil
	}
	if err := rw.flush(false); err != nil {
		return 0, err
	}
	if n <= bufSize {
		if p != nil {
			*rw.buf = append(*rw.buf, p...)
		} else {
			*rw.buf = append(*rw.buf, s...)
		}
		return n, nil
	}
	if p == nil {
		p = []byte(s)
	}
	if err := rw.send(p, false, nil); err != nil {
		return 0, err
	}
	return n, nil
}

// flush queues the headers (if not yet sent) and the buffered body; end ends the stream.
func (rw *responseWriter) flush(end bool) error {
	var p []byte
	if rw.buf != nil {
		p = *rw.buf
	}
	var trailers http.Header
	if end {
		trailers = rw.trailers()
	}
	err := rw.send(p, end, trailers)
	if rw.buf != nil {
		*rw.buf = (*rw.buf)[:0]
	}
	return err
}

// send queues the headers if they have not left, then p, and waits while the stream holds
// more than pendingCap unsent bytes.
func (rw *responseWriter) send(p []byte, end bool, trailers http.Header) error {
	st, c := rw.st, rw.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.reset || c.closing {
		return errStreamClosed
	}
	if !st.headersSent {
		st.headersSent = true
		st.needContinue = false
		cl := int64(-1)
		if end && len(trailers) == 0 {
			cl = rw.written
		}
		if rw.isHead && !end {
			cl = -1
		}
		if rw.sniff == nil && len(p) > 0 {
			rw.sniff = p[:min(len(p), 512)]
		}
		headOnly := end && (len(p) == 0 || rw.isHead) && len(trailers) == 0
		c.out = c.encodeHeadersLocked(c.out, st.id, rw.status, rw.header, cl, rw.sniff, headOnly)
		rw.sniff = nil
		if headOnly {
			c.wakeWriterLocked()
			c.streamDoneLocked(st)
			return nil
		}
	}
	if len(p) == 0 && !end {
		c.wakeWriterLocked()
		return nil
	}
	c.queueDataLocked(st, p, end, trailers)
	return rw.waitRoomLocked()
}

// waitRoomLocked blocks while the stream holds more than pendingCap unsent bytes, until the
// stream's write deadline.
func (rw *responseWriter) waitRoomLocked() error {
	st, c := rw.st, rw.c
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for st.inPend && len(st.pending)-st.poff > pendingCap {
		if st.reset || c.closing {
			return errStreamClosed
		}
		if !st.writeDeadline.IsZero() {
			d := time.Until(st.writeDeadline)
			if d <= 0 {
				c.resetStreamLocked(st, http2.ErrCodeCancel)
				return fmt.Errorf("h2serve: write response: %w", os.ErrDeadlineExceeded)
			}
			if timer == nil {
				timer = time.AfterFunc(d, func() {
					c.mu.Lock()
					st.cond.Broadcast()
					c.mu.Unlock()
				})
			}
		}
		st.cond.Wait()
	}
	return nil
}

// trailers collects the trailers to send at the end: declared keys and TrailerPrefix keys.
func (rw *responseWriter) trailers() http.Header {
	var t http.Header
	for _, k := range rw.trailerKeys {
		if vs := rw.header[k]; len(vs) > 0 {
			if t == nil {
				t = make(http.Header)
			}
			t[k] = vs
		}
	}
	for k, vs := range rw.header {
		if strings.HasPrefix(k, http.TrailerPrefix) && len(vs) > 0 {
			if t == nil {
				t = make(http.Header)
			}
			t[http.CanonicalHeaderKey(strings.TrimPrefix(k, http.TrailerPrefix))] = vs
		}
	}
	return t
}

// finish ends the response after the handler returned.
func (rw *responseWriter) finish() {
	if rw.done {
		return
	}
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	rw.flush(true)
	rw.done = true
}

// Flush sends the headers and the buffered body now.
func (rw *responseWriter) Flush() { rw.FlushError() }

// FlushError is Flush returning the error, for http.ResponseController.
func (rw *responseWriter) FlushError() error {
	if rw.done {
		return errHandlerDone
	}
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	return rw.flush(false)
}

// SetReadDeadline sets when reads of the request body fail with os.ErrDeadlineExceeded
// (zero: never), for http.ResponseController.
func (rw *responseWriter) SetReadDeadline(t time.Time) error {
	c, st := rw.c, rw.st
	c.mu.Lock()
	defer c.mu.Unlock()
	st.readDeadline = t
	st.cond.Broadcast()
	return nil
}

// SetWriteDeadline sets when a write blocked on flow control fails with
// os.ErrDeadlineExceeded and resets the stream (zero: never), for http.ResponseController.
func (rw *responseWriter) SetWriteDeadline(t time.Time) error {
	c, st := rw.c, rw.st
	c.mu.Lock()
	defer c.mu.Unlock()
	st.writeDeadline = t
	st.cond.Broadcast()
	return nil
}

// EnableFullDuplex reports success: an HTTP/2 handler may always read the request body while
// it writes the response.
func (rw *responseWriter) EnableFullDuplex() error { return nil }
