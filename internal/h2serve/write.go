package h2serve

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2/hpack"
)

// encodeHeadersLocked appends a HEADERS block: status, the header h, a content-length when
// cl >= 0 and h has none, a Content-Type sniffed from sniff when h has none, and a Date.
// It runs under c.mu, so header blocks reach the wire in the order the HPACK encoder saw
// them.
func (c *conn) encodeHeadersLocked(b []byte, id uint32, status int, h http.Header, cl int64, sniff []byte, end bool) []byte {
	c.hbuf.Reset()
	c.henc.WriteField(hpack.HeaderField{Name: ":status", Value: statusText(status)})
	for k, vs := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) || !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		lk := lowerHeader(k)
		if connectionHeaders[lk] {
			continue
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				continue
			}
			c.henc.WriteField(hpack.HeaderField{Name: lk, Value: v})
		}
	}
	if status >= 200 {
		if _, ok := h["Content-Type"]; !ok && len(sniff) > 0 {
			if _, enc := h["Content-Encoding"]; !enc {
				c.henc.WriteField(hpack.HeaderField{Name: "content-type", Value: http.DetectContentType(sniff)})
			}
		}
		if _, ok := h["Content-Length"]; !ok && cl >= 0 && status != http.StatusNoContent && status != http.StatusNotModified {
			c.henc.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.FormatInt(cl, 10)})
		}
		if _, ok := h["Date"]; !ok {
			c.henc.WriteField(hpack.HeaderField{Name: "date", Value: httpDate()})
		}
	}
	return appendHeaderBlock(b, id, c.hbuf.Bytes(), end, c.peerFrame)
}

// encodeTrailersLocked appends the trailers block that ends a stream.
func (c *conn) encodeTrailersLocked(b []byte, id uint32, t http.Header) []byte {
	c.hbuf.Reset()
	for k, vs := range t {
		if !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		lk := lowerHeader(k)
		for _, v := range vs {
			if httpguts.ValidHeaderFieldValue(v) {
				c.henc.WriteField(hpack.HeaderField{Name: lk, Value: v})
			}
		}
	}
	return appendHeaderBlock(b, id, c.hbuf.Bytes(), true, c.peerFrame)
}

func statusText(code int) string {
	switch code {
	case 200:
		return "200"
	case 204:
		return "204"
	case 206:
		return "206"
	case 304:
		return "304"
	case 404:
		return "404"
	}
	return strconv.Itoa(code)
}

// lowerHeaders maps common canonical header names to their wire form without allocating.
var lowerHeaders = func() map[string]string {
	m := make(map[string]string)
	for _, k := range []string{"Accept-Ranges", "Age", "Cache-Control", "Content-Disposition",
		"Content-Encoding", "Content-Language", "Content-Length", "Content-Location",
		"Content-Range", "Content-Security-Policy", "Content-Type", "Date", "Etag", "Expires",
		"Last-Modified", "Link", "Location", "Retry-After", "Server", "Set-Cookie",
		"Strict-Transport-Security", "Trailer", "Vary", "Www-Authenticate", "X-Content-Type-Options",
		"X-Frame-Options", "Access-Control-Allow-Origin", "Alt-Svc", "Allow", "Connection",
		"Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection"} {
		m[k] = strings.ToLower(k)
	}
	return m
}()

func lowerHeader(k string) string {
	if v, ok := lowerHeaders[k]; ok {
		return v
	}
	return strings.ToLower(k)
}

// dateCache holds the Date header of the current second.
type dateCache struct {
	sec int64
	s   string
}

var curDate atomic.Pointer[dateCache]

func httpDate() string {
	now := time.Now()
	if d := curDate.Load(); d != nil && d.sec == now.Unix() {
		return d.s
	}
	d := &dateCache{sec: now.Unix(), s: now.UTC().Format(http.TimeFormat)}
	curDate.Store(d)
	return d.s
}

// queueDataLocked queues response data p of st, ending the stream after it when end. Data
// goes straight into the write queue as far as the flow-control windows and highWater
// allow; the rest waits in st.pending for fillLocked.
func (c *conn) queueDataLocked(st *stream, p []byte, end bool, trailers http.Header) {
	if st.inPend {
		if st.poff > 0 && len(st.pending)+len(p) > cap(st.pending) {
			// Reuse the part fillLocked has sent rather than grow past it.
			n := copy(st.pending, st.pending[st.poff:])
			st.pending, st.poff = st.pending[:n], 0
		}
		st.pending = append(st.pending, p...)
		st.pendingEnd = end
		st.trailers = trailers
		return
	}
	for len(p) > 0 {
		n := min(len(p), c.peerFrame, int(st.sendWindow), int(c.sendWindow))
		if n <= 0 || len(c.out) >= highWater {
			break
		}
		last := n == len(p) && end && len(trailers) == 0
		c.out = appendData(c.out, st.id, p[:n], last)
		st.sendWindow -= int32(n)
		c.sendWindow -= int32(n)
		p = p[n:]
		if last {
			c.wakeWriterLocked()
			c.streamDoneLocked(st)
			return
		}
	}
	c.wakeWriterLocked()
	if len(p) > 0 {
		st.pending = append(st.pending[:0], p...)
		st.poff = 0
		st.pendingEnd = end
		st.trailers = trailers
		st.inPend = true
		c.pend = append(c.pend, st)
		return
	}
	if end {
		c.endStreamLocked(st, trailers)
	}
}

// endStreamLocked sends what ends the server's side of st once its data is out: trailers,
// or an empty DATA frame with END_STREAM.
func (c *conn) endStreamLocked(st *stream, trailers http.Header) {
	if len(trailers) > 0 {
		c.out = c.encodeTrailersLocked(c.out, st.id, trailers)
	} else {
		c.out = appendData(c.out, st.id, nil, true)
	}
	c.wakeWriterLocked()
	c.streamDoneLocked(st)
}

// streamDoneLocked records that the server ended its side of st. A client still sending a
// body nobody will read is told to stop with RST_STREAM(NO_ERROR).
func (c *conn) streamDoneLocked(st *stream) {
	st.localClosed = true
	st.cond.Broadcast()
	if !st.remoteClosed {
		// The client's side is still open (a body nobody read, or none sent yet): the
		// stream lingers half-closed (local), so what the client still sends on it is
		// checked (a window overflow is still a FLOW_CONTROL_ERROR) until its END_STREAM,
		// its RST_STREAM, or its next DATA frame, which gets RST_STREAM(NO_ERROR). A
		// lingering stream does not keep the connection from idling.
		st.reset = true
		if st.bodyErr == nil {
			st.bodyErr = errStreamClosed
		}
		if n := len(st.body) - st.boff; n > 0 {
			st.body, st.boff = st.body[:0], 0
			c.creditConnLocked(int32(n))
		}
		if !st.lingering {
			st.lingering = true
			c.lingering++
		}
		c.updateBusyLocked()
		return
	}
	c.removeStreamLocked(st)
}

// fillLocked moves pending response data into the write queue, one frame per stream in
// turn, while the windows and highWater allow.
func (c *conn) fillLocked() {
	if len(c.pend) == 0 {
		return
	}
	for progress := true; progress && len(c.out) < highWater; {
		progress = false
		for i := 0; i < len(c.pend); i++ {
			st := c.pend[i]
			if st.reset {
				c.dropPendLocked(i)
				i--
				continue
			}
			rest := st.pending[st.poff:]
			if len(rest) > 0 {
				n := min(len(rest), c.peerFrame, int(st.sendWindow), int(c.sendWindow))
				if n <= 0 || len(c.out) >= highWater {
					continue
				}
				last := n == len(rest) && st.pendingEnd && len(st.trailers) == 0
				c.out = appendData(c.out, st.id, rest[:n], last)
				st.sendWindow -= int32(n)
				c.sendWindow -= int32(n)
				st.poff += n
				progress = true
				c.wakeWriterLocked()
				if len(rest)-n <= pendingCap {
					st.cond.Broadcast()
				}
				if last {
					c.dropPendLocked(i)
					i--
					c.streamDoneLocked(st)
					continue
				}
				if n < len(rest) {
					continue
				}
			}
			// Nothing left waiting: end the stream if the handler has, else leave the list.
			c.dropPendLocked(i)
			i--
			if st.pendingEnd {
				c.endStreamLocked(st, st.trailers)
			}
			progress = true
		}
	}
}

func (c *conn) dropPendLocked(i int) {
	st := c.pend[i]
	st.inPend = false
	st.pending, st.poff = st.pending[:0], 0
	st.cond.Broadcast()
	last := len(c.pend) - 1
	c.pend[i] = c.pend[last]
	c.pend[last] = nil
	c.pend = c.pend[:last]
}
