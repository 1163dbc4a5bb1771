package h2serve

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

var (
	errPushRecursive = errors.New("h2serve: push from a pushed stream")
	errPushTarget    = errors.New("h2serve: push target must be an absolute path or a URL of this host")
	errPushMethod    = errors.New("h2serve: push method must be GET or HEAD")
	errPushLimit     = errors.New("h2serve: client's concurrent stream limit reached")
)

// Push sends a PUSH_PROMISE for target and serves it as a GET (or HEAD) request through the
// connection's handler, like net/http's Pusher. It returns http.ErrNotSupported when the
// client disabled push (as browsers and curl do); other errors name the problem.
func (rw *responseWriter) Push(target string, opts *http.PushOptions) error {
	st, c := rw.st, rw.c
	if st.id%2 == 0 {
		return errPushRecursive
	}
	if opts == nil {
		opts = new(http.PushOptions)
	}
	method := opts.Method
	if method == "" {
		method = http.MethodGet
	}
	if method != http.MethodGet && method != http.MethodHead {
		return errPushMethod
	}
	parent := st.req
	scheme := "https"
	if c.tls == nil {
		scheme = "http"
	}
	var u *url.URL
	var err error
	if strings.HasPrefix(target, "/") {
		u, err = url.ParseRequestURI(target)
	} else {
		u, err = url.Parse(target)
		if err == nil && (u.Scheme != scheme || u.Host != parent.Host) {
			err = errPushTarget
		}
	}
	if err != nil || u.Path == "" {
		return errPushTarget
	}
	path := u.RequestURI()
	header := opts.Header.Clone()
	if header == nil {
		header = make(http.Header)
	}
	for k := range header {
		if connectionHeaders[strings.ToLower(k)] || strings.HasPrefix(k, ":") {
			return errors.New("h2serve: push header " + k + " not allowed")
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.pushEnabled {
		return http.ErrNotSupported
	}
	if st.reset || c.closing || c.goingAway || st.localClosed {
		return errStreamClosed
	}
	if c.pushOpen >= c.peerMaxStreams {
		return errPushLimit
	}
	if c.nextPushID == 0 {
		c.nextPushID = 2
	}
	id := c.nextPushID
	c.nextPushID += 2

	c.hbuf.Reset()
	for _, hf := range []hpack.HeaderField{{Name: ":method", Value: method}, {Name: ":scheme", Value: scheme},
		{Name: ":authority", Value: parent.Host}, {Name: ":path", Value: path}} {
		c.henc.WriteField(hf)
	}
	for k, vs := range header {
		for _, v := range vs {
			c.henc.WriteField(hpack.HeaderField{Name: lowerHeader(k), Value: v})
		}
	}
	c.out = appendPushPromise(c.out, st.id, id, c.hbuf.Bytes(), c.peerFrame)
	c.wakeWriterLocked()

	ps := &stream{c: c, id: id, sendWindow: c.peerWindow, declLen: -1, remoteClosed: true, bodyErr: errStreamClosed, pushed: true}
	ps.cond.L = &c.mu
	ctx, cancel := context.WithCancel(c.ctx)
	ps.cancel = cancel
	req := c.request(method, u, header, parent.Host, path)
	req.Body = http.NoBody
	ps.req = req.WithContext(ctx)
	c.streams[id] = ps
	c.pushOpen++
	c.running++
	go c.runHandler(ps)
	return nil
}

// appendPushPromise appends a PUSH_PROMISE frame on stream id promising promised, with
// CONTINUATION frames as the block needs.
func appendPushPromise(b []byte, id, promised uint32, block []byte, maxFrame int) []byte {
	n := min(len(block), maxFrame-4)
	var fl http2.Flags
	if n == len(block) {
		fl = http2.FlagPushPromiseEndHeaders
	}
	b = appendFrameHeader(b, 4+n, http2.FramePushPromise, fl, id)
	b = binary.BigEndian.AppendUint32(b, promised&0x7fffffff)
	b = append(b, block[:n]...)
	block = block[n:]
	for len(block) > 0 {
		n = min(len(block), maxFrame)
		fl = 0
		if n == len(block) {
			fl = http2.FlagContinuationEndHeaders
		}
		b = appendFrameHeader(b, n, http2.FrameContinuation, fl, id)
		b = append(b, block[:n]...)
		block = block[n:]
	}
	return b
}
