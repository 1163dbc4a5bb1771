package h2serve

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
)

// stream is one request/response exchange. Its fields are guarded by c.mu unless noted.
type stream struct {
	c      *conn
	id     uint32
	cancel context.CancelFunc // set once at creation
	req    *http.Request      // set once at creation
	cond   sync.Cond          // on c.mu: body data, flow-control room, reset

	remoteClosed bool // the client ended its side (END_STREAM or reset)
	localClosed  bool // the server ended its side
	reset        bool // reset by either side, or the connection ended: writes fail

	// Response data waiting for flow-control window or for room in the write queue.
	sendWindow  int32
	pending     []byte
	poff        int
	pendingEnd  bool        // END_STREAM follows pending
	trailers    http.Header // sent after pending when pendingEnd, if non-empty
	inPend      bool        // st is in c.pend
	headersSent bool
	lingering   bool // ended by the server, still open by the client (c.lingering counts it)
	pushed      bool // a stream the server opened with PUSH_PROMISE

	// Request body.
	body          []byte // received, not yet read: body[boff:]
	boff          int
	bodyErr       error // io.EOF after END_STREAM, or why the body failed
	bodyClosed    bool  // the handler closed the body: data is discarded
	recvWindow    int32 // what the client may still send on this stream
	recvUnacked   int32
	declLen       int64 // Content-Length, or -1
	gotLen        int64
	needContinue  bool // "Expect: 100-continue" and nothing sent yet
	readDeadline  time.Time
	writeDeadline time.Time
	rdTimer       *time.Timer
}

// processHeaders handles a complete header block: a new request, or request trailers.
func (c *conn) processHeaders(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	if id%2 == 0 {
		return connError{http2.ErrCodeProtocol, "even stream id from client"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.streams[id]; st != nil {
		return c.processTrailersLocked(st, f)
	}
	if id <= c.maxClientID {
		return connError{http2.ErrCodeProtocol, "HEADERS on a closed stream"}
	}
	c.maxClientID = id
	if c.goingAway {
		return nil // past the GOAWAY's last stream: ignored (RFC 9113 section 6.8)
	}
	if f.HasPriority() && f.Priority.StreamDep == id {
		c.out = appendRSTStream(c.out, id, http2.ErrCodeProtocol)
		return c.controlQueuedLocked()
	}
	if uint32(len(c.streams)) >= c.cfg.MaxConcurrentStreams {
		c.out = appendRSTStream(c.out, id, http2.ErrCodeRefusedStream)
		return c.controlQueuedLocked()
	}
	st := &stream{
		c:          c,
		id:         id,
		sendWindow: c.peerWindow,
		recvWindow: c.cfg.StreamWindow,
		declLen:    -1,
	}
	st.cond.L = &c.mu
	if f.Truncated {
		// The header list is over MaxHeaderListSize: answer 431 without a handler.
		st.remoteClosed = f.StreamEnded()
		c.streams[id] = st
		st.cancel = func() {}
		c.out = c.encodeHeadersLocked(c.out, id, http.StatusRequestHeaderFieldsTooLarge, nil, 0, nil, true)
		c.wakeWriterLocked()
		c.streamDoneLocked(st)
		return nil
	}
	req, err := c.newRequest(st, f)
	if err != nil {
		c.out = appendRSTStream(c.out, id, http2.ErrCodeProtocol)
		return c.controlQueuedLocked()
	}
	st.req = req
	c.streams[id] = st
	c.updateBusyLocked()
	if c.running >= int(c.cfg.MaxConcurrentStreams) {
		// Handlers of reset streams still run: queue, and give up on a client that
		// keeps resetting (CVE-2023-44487).
		if len(c.queued) >= 4*int(c.cfg.MaxConcurrentStreams) {
			return connError{http2.ErrCodeEnhanceYourCalm, errTooManyQueued.Error()}
		}
		c.queued = append(c.queued, st)
		return nil
	}
	c.running++
	go c.runHandler(st)
	return nil
}

// processTrailersLocked handles a second header block on an open stream.
func (c *conn) processTrailersLocked(st *stream, f *http2.MetaHeadersFrame) error {
	if st.remoteClosed {
		c.resetStreamLocked(st, http2.ErrCodeStreamClosed)
		return c.controlQueuedLocked()
	}
	if !f.StreamEnded() || len(f.PseudoFields()) > 0 || f.Truncated {
		c.resetStreamLocked(st, http2.ErrCodeProtocol)
		return c.controlQueuedLocked()
	}
	if st.declLen >= 0 && st.gotLen != st.declLen {
		c.resetStreamLocked(st, http2.ErrCodeProtocol)
		return c.controlQueuedLocked()
	}
	if st.req != nil && st.req.Trailer != nil {
		for _, hf := range f.RegularFields() {
			k := http.CanonicalHeaderKey(hf.Name)
			if _, ok := st.req.Trailer[k]; ok {
				st.req.Trailer[k] = append(st.req.Trailer[k], hf.Value)
			}
		}
	}
	c.endBodyLocked(st)
	return nil
}

// endBodyLocked records the client's END_STREAM.
func (c *conn) endBodyLocked(st *stream) {
	st.remoteClosed = true
	if st.bodyErr == nil {
		st.bodyErr = io.EOF
	}
	st.cond.Broadcast()
	if st.localClosed {
		c.removeStreamLocked(st)
	}
}

func (c *conn) processData(f *http2.DataFrame) error {
	id := f.StreamID
	flen := int32(f.Length)
	data := f.Data()
	c.mu.Lock()
	defer c.mu.Unlock()
	if flen > c.recvWindow {
		return connError{http2.ErrCodeFlowControl, "connection window exceeded"}
	}
	c.recvWindow -= flen
	st := c.streams[id]
	if st != nil && st.lingering {
		// The response is complete and nobody reads this body: END_STREAM closes the
		// stream, anything else gets RST_STREAM(NO_ERROR) (RFC 9113 section 8.1), and a
		// body that breaks its Content-Length is still malformed (PROTOCOL_ERROR).
		c.creditConnLocked(flen)
		st.gotLen += int64(len(data))
		code := http2.ErrCodeNo
		if st.declLen >= 0 && (st.gotLen > st.declLen || f.StreamEnded() && st.gotLen != st.declLen) {
			code = http2.ErrCodeProtocol
		}
		st.remoteClosed = true
		c.removeStreamLocked(st)
		if f.StreamEnded() && code == http2.ErrCodeNo {
			return nil
		}
		c.out = appendRSTStream(c.out, id, code)
		return c.controlQueuedLocked()
	}
	if st == nil || st.remoteClosed {
		c.creditConnLocked(flen)
		if c.idleLocked(id) {
			return connError{http2.ErrCodeProtocol, "DATA on idle stream"}
		}
		if st != nil {
			c.resetStreamLocked(st, http2.ErrCodeStreamClosed)
		} else {
			c.out = appendRSTStream(c.out, id, http2.ErrCodeStreamClosed)
		}
		return c.controlQueuedLocked()
	}
	if flen > st.recvWindow {
		c.creditConnLocked(flen)
		c.resetStreamLocked(st, http2.ErrCodeFlowControl)
		return c.controlQueuedLocked()
	}
	st.recvWindow -= flen
	if pad := flen - int32(len(data)); pad > 0 {
		c.creditLocked(st, pad)
	}
	st.gotLen += int64(len(data))
	if st.declLen >= 0 && (st.gotLen > st.declLen || f.StreamEnded() && st.gotLen != st.declLen) {
		c.creditConnLocked(int32(len(data)))
		c.resetStreamLocked(st, http2.ErrCodeProtocol)
		return c.controlQueuedLocked()
	}
	if len(data) > 0 {
		if st.bodyClosed || st.reset {
			c.creditLocked(st, int32(len(data)))
		} else {
			if st.boff == len(st.body) {
				st.body, st.boff = st.body[:0], 0
			} else if st.boff > 0 && len(st.body)+len(data) > cap(st.body) {
				// Reuse the part the handler has read rather than grow past it.
				n := copy(st.body, st.body[st.boff:])
				st.body, st.boff = st.body[:n], 0
			}
			st.body = append(st.body, data...)
			st.cond.Broadcast()
		}
	}
	if f.StreamEnded() {
		c.endBodyLocked(st)
	}
	return nil
}

// creditLocked returns n consumed bytes of st to the stream and connection windows.
func (c *conn) creditLocked(st *stream, n int32) {
	c.creditConnLocked(n)
	if st.remoteClosed || c.closing {
		return
	}
	st.recvUnacked += n
	if st.recvUnacked >= c.cfg.StreamWindow/4 {
		c.out = appendWindowUpdate(c.out, st.id, uint32(st.recvUnacked))
		st.recvWindow += st.recvUnacked
		st.recvUnacked = 0
		c.wakeWriterLocked()
	}
}

// connection-specific fields a request must not carry (RFC 9113 section 8.2.2).
var connectionHeaders = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true,
	"transfer-encoding": true, "upgrade": true,
}

// newRequest checks a request header block (RFC 9113 section 8.3.1) and builds its
// *http.Request. Called with c.mu held.
func (c *conn) newRequest(st *stream, f *http2.MetaHeadersFrame) (*http.Request, error) {
	var method, scheme, path, authority string
	for _, hf := range f.PseudoFields() {
		switch hf.Name {
		case ":method":
			method = hf.Value
		case ":scheme":
			scheme = hf.Value
		case ":path":
			path = hf.Value
		case ":authority":
			authority = hf.Value
		default: // :status, :protocol (extended CONNECT is not offered)
			return nil, fmt.Errorf("pseudo-header %s in a request", hf.Name)
		}
	}
	isConnect := method == http.MethodConnect
	switch {
	case method == "":
		return nil, fmt.Errorf("missing :method")
	case isConnect && (scheme != "" || path != "" || authority == ""):
		return nil, fmt.Errorf("malformed CONNECT")
	case !isConnect && (scheme == "" || path == ""):
		return nil, fmt.Errorf("missing :scheme or :path")
	case !isConnect && path[0] != '/' && !(method == http.MethodOptions && path == "*"):
		return nil, fmt.Errorf("bad :path")
	}
	regular := f.RegularFields()
	header := make(http.Header, len(regular))
	var cookies []string
	for _, hf := range regular {
		if connectionHeaders[hf.Name] {
			return nil, fmt.Errorf("connection-specific field %s", hf.Name)
		}
		if hf.Name == "te" && hf.Value != "trailers" {
			return nil, fmt.Errorf("te other than trailers")
		}
		if hf.Name == "cookie" {
			cookies = append(cookies, hf.Value)
			continue
		}
		k := http.CanonicalHeaderKey(hf.Name)
		header[k] = append(header[k], hf.Value)
	}
	if len(cookies) > 0 {
		header["Cookie"] = []string{strings.Join(cookies, "; ")}
	}
	if authority == "" {
		authority = header.Get("Host")
	}
	delete(header, "Host")

	var u *url.URL
	requestURI := path
	if isConnect {
		u = &url.URL{Host: authority}
		requestURI = authority
	} else {
		var err error
		if u, err = url.ParseRequestURI(path); err != nil {
			return nil, err
		}
	}

	st.declLen = -1
	if cls := header["Content-Length"]; len(cls) > 0 {
		for _, v := range cls[1:] {
			if v != cls[0] {
				return nil, fmt.Errorf("conflicting content-length")
			}
		}
		n, err := strconv.ParseUint(cls[0], 10, 63)
		if err != nil {
			return nil, fmt.Errorf("bad content-length")
		}
		st.declLen = int64(n)
		header["Content-Length"] = cls[:1]
	}
	if f.StreamEnded() && st.declLen > 0 {
		return nil, fmt.Errorf("content-length without body")
	}

	var trailer http.Header
	for _, v := range header["Trailer"] {
		for _, k := range strings.Split(v, ",") {
			k = http.CanonicalHeaderKey(textproto.TrimString(k))
			if k != "" && httpguts.ValidTrailerHeader(k) {
				if trailer == nil {
					trailer = make(http.Header)
				}
				trailer[k] = nil
			}
		}
	}
	delete(header, "Trailer")

	ctx, cancel := context.WithCancel(c.ctx)
	st.cancel = cancel
	req := c.request(method, u, header, authority, requestURI)
	req.Trailer = trailer
	if f.StreamEnded() {
		st.remoteClosed = true
		st.bodyErr = io.EOF
		req.Body = http.NoBody
	} else {
		req.ContentLength = st.declLen
		req.Body = requestBody{st}
		st.needContinue = header.Get("Expect") == "100-continue"
		if c.cfg.ReadTimeout > 0 {
			st.readDeadline = time.Now().Add(c.cfg.ReadTimeout)
		}
	}
	if c.cfg.WriteTimeout > 0 {
		st.writeDeadline = time.Now().Add(c.cfg.WriteTimeout)
	}
	return req.WithContext(ctx), nil
}

// request returns what every request on c has: an HTTP/2.0 request of method for u with
// header, host and requestURI, and c's remote address and TLS state. The caller adds the
// body and binds it to the stream's context (WithContext).
func (c *conn) request(method string, u *url.URL, header http.Header, host, requestURI string) http.Request {
	return http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Header:     header,
		Host:       host,
		RemoteAddr: c.remoteAddr,
		RequestURI: requestURI,
		TLS:        c.tls,
	}
}

// requestBody is a stream's Request.Body.
type requestBody struct{ st *stream }

// Read reads body bytes as they arrive, returning their flow-control window to the client.
func (b requestBody) Read(p []byte) (int, error) {
	st := b.st
	c := st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.needContinue {
		st.needContinue = false
		if !st.headersSent && !st.reset && !c.closing {
			c.out = c.encodeHeadersLocked(c.out, st.id, http.StatusContinue, nil, -1, nil, false)
			c.wakeWriterLocked()
		}
	}
	for {
		if st.boff < len(st.body) {
			n := copy(p, st.body[st.boff:])
			st.boff += n
			if st.boff == len(st.body) {
				st.body, st.boff = st.body[:0], 0
			}
			c.creditLocked(st, int32(n))
			return n, nil
		}
		if st.bodyErr != nil {
			return 0, st.bodyErr
		}
		if st.bodyClosed {
			return 0, errStreamClosed
		}
		if !st.readDeadline.IsZero() {
			d := time.Until(st.readDeadline)
			if d <= 0 {
				return 0, fmt.Errorf("h2serve: read request body: %w", os.ErrDeadlineExceeded)
			}
			if st.rdTimer == nil {
				st.rdTimer = time.AfterFunc(d, func() {
					c.mu.Lock()
					st.cond.Broadcast()
					c.mu.Unlock()
				})
			} else {
				st.rdTimer.Reset(d)
			}
		}
		st.cond.Wait()
	}
}

// Close discards the rest of the body; data that still arrives returns its window at once.
func (b requestBody) Close() error {
	st := b.st
	c := st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	st.bodyClosed = true
	if n := len(st.body) - st.boff; n > 0 {
		st.body, st.boff = st.body[:0], 0
		c.creditLocked(st, int32(n))
	}
	st.cond.Broadcast()
	return nil
}
