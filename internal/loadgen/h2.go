package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The H2 mode speaks HTTP/2 itself, with x/net/http2's Framer and hpack,
// on the *tls.Conn from runner.dial: one goroutine per connection reads
// frames and, once per read batch (when the buffered input is used up),
// opens new streams for those that finished and flushes all it wrote in one
// TLS record and one syscall. The request header block is encoded once per
// connection and reused for every stream.

// Flow-control windows the load generator advertises: large, so that a
// stream or connection seldom waits for a WINDOW_UPDATE; consumed data is
// acknowledged in batches of half a window.
const (
	h2StreamWindow = 16 << 20
	h2ConnWindow   = 16 << 20
	h2AckAt        = h2StreamWindow / 2
	h2MaxStreamID  = 1<<31 - 1
	h2WriteBuf     = 16 << 10
	h2ReadBuf      = 32 << 10
)

var (
	// errStreamTimeout is a stream older than Config.Timeout.
	errStreamTimeout = fmt.Errorf("http2: stream timed out: %w", os.ErrDeadlineExceeded)
	// errConnTimeout is a connection that made no progress for Config.Timeout.
	errConnTimeout = fmt.Errorf("http2: connection made no progress: %w", os.ErrDeadlineExceeded)
)

// h2client holds what every H2 connection of a run shares.
type h2client struct {
	fields []hpack.HeaderField // the request header fields, pseudo-headers first
	body   []byte
}

func (r *runner) newH2Client() (*h2client, error) {
	h := r.cfg.Header
	authority := r.tgt.host
	if v := h.Get("Host"); v != "" {
		authority = v
	}
	fields := []hpack.HeaderField{
		{Name: ":method", Value: r.cfg.Method},
		{Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: authority},
		{Name: ":path", Value: r.tgt.requestURI},
	}
	if h.Get("User-Agent") == "" {
		fields = append(fields, hpack.HeaderField{Name: "user-agent", Value: userAgent})
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch http.CanonicalHeaderKey(k) {
		case "Host", "Connection", "Keep-Alive", "Proxy-Connection", "Upgrade", "Transfer-Encoding":
			continue // connection-specific: not allowed in HTTP/2
		}
		for _, v := range h[k] {
			fields = append(fields, hpack.HeaderField{Name: strings.ToLower(k), Value: v})
		}
	}
	m := r.cfg.Method
	if len(r.cfg.Body) > 0 || m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch {
		fields = append(fields, hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(r.cfg.Body))})
	}
	return &h2client{fields: fields, body: r.cfg.Body}, nil
}

// closeAll is called when every worker has returned; each closed its own
// connection, so there is nothing left to close.
func (h *h2client) closeAll() {}

// h2ticket is one request that began (runner.begin) but has not been sent
// yet, or was refused by the server unprocessed and is to be sent again.
type h2ticket struct {
	measured bool
	start    time.Time
}

// h2Worker runs one HTTP/2 connection with Config.Streams streams in
// flight, reconnecting when it breaks or the server sends GOAWAY.
func (r *runner) h2Worker(t *tally) {
	var carry []h2ticket // refused, unsent requests for the next connection
	fails := 0
	for r.killCtx.Err() == nil {
		var tk h2ticket
		if len(carry) > 0 {
			tk, carry = carry[0], carry[1:]
		} else {
			measured, ok := r.begin()
			if !ok {
				return
			}
			tk = h2ticket{measured, time.Now()}
		}
		c, err := r.dialH2(t, tk.start.Add(r.cfg.Timeout))
		if err != nil {
			r.done(t, tk.measured, 0, 0, err)
			r.pause(&fails)
			continue
		}
		fails = 0
		carry = c.serve(append([]h2ticket{tk}, carry...))
	}
}

// h2stream is one request in flight.
type h2stream struct {
	id       uint32
	measured bool
	start    time.Time
	status   int
	sent     int   // bytes of the request body sent
	sendWin  int64 // the server's window for this stream
	unacked  int   // response bytes not yet acknowledged
	pending  bool  // in h2conn.pending: body waiting for window
	fresh    bool  // start is set when its HEADERS frame is flushed
	unsent   bool  // in h2conn.unsent
	finished bool
}

// h2conn is one HTTP/2 connection. Its reader goroutine and its timer
// share it under mu.
type h2conn struct {
	r   *runner
	t   *tally
	raw *countingConn
	br  *bufio.Reader
	bw  *bufio.Writer
	fr  *http2.Framer
	dec *hpack.Decoder

	frames   atomic.Uint64 // frames read: progress, for the timer
	timedOut atomic.Bool   // closed by the timer for lack of progress
	inFlight atomic.Int32  // len(streams), for the timer

	mu         sync.Mutex
	closed     bool // serve returned; the timer must not touch anything
	failed     bool // the connection broke; streams are accounted
	streams    map[uint32]*h2stream
	free       []*h2stream
	pending    []*h2stream // streams with body left to send
	unsent     []*h2stream // streams written to bw, not yet flushed
	nUnsent    int         // of those, not ended
	batchStart time.Time   // when fill began
	urgent     bool        // bw holds a frame that must not wait
	queue      []h2ticket  // requests to send when a stream is free
	exhausted  bool        // runner.begin said stop
	draining   bool        // GOAWAY or stream IDs used up: no new streams
	nextID     uint32
	first      []byte // the header block of the first stream
	block      []byte // the header block of every other stream

	// The server's settings and our send windows.
	maxStreams   uint32
	maxFrame     uint32
	initWin      int64
	connSendWin  int64
	connUnacked  int
	hdrStream    uint32 // the stream of the header block being read
	hdrEndStream bool
	hdrStatus    int

	timer     *time.Timer
	tick      time.Duration
	lastSeen  uint64
	idleTicks int
}

// dialH2 connects, exchanges the connection prefaces and settings, and
// encodes the request header block, all before deadline.
func (r *runner) dialH2(t *tally, deadline time.Time) (*h2conn, error) {
	raw, conn, err := r.dial(deadline)
	if err != nil {
		return nil, err
	}
	c := &h2conn{
		r:           r,
		t:           t,
		raw:         raw,
		br:          bufio.NewReaderSize(conn, h2ReadBuf),
		bw:          bufio.NewWriterSize(conn, h2WriteBuf),
		streams:     make(map[uint32]*h2stream, r.cfg.Streams),
		nextID:      1,
		maxStreams:  ^uint32(0),
		maxFrame:    16384,
		initWin:     65535,
		connSendWin: 65535,
	}
	c.fr = http2.NewFramer(c.bw, c.br)
	c.fr.SetReuseFrames()
	c.dec = hpack.NewDecoder(4096, c.onField)
	if err := c.handshake(); err != nil {
		raw.Close()
		return nil, err
	}
	if err := raw.SetDeadline(time.Time{}); err != nil { // streams have their own
		raw.Close()
		return nil, err
	}
	return c, nil
}

func (c *h2conn) handshake() error {
	if _, err := io.WriteString(c.bw, http2.ClientPreface); err != nil {
		return err
	}
	err := c.fr.WriteSettings(
		http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: maxHeaderBytes},
	)
	if err != nil {
		return err
	}
	if err := c.fr.WriteWindowUpdate(0, h2ConnWindow-65535); err != nil {
		return err
	}
	if err := c.bw.Flush(); err != nil {
		return err
	}
	f, err := c.fr.ReadFrame()
	if err != nil {
		return c.connErr(err)
	}
	c.frames.Add(1)
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		return errProtocol("http2: the server's first frame is not SETTINGS")
	}
	if err := c.settings(sf); err != nil {
		return err
	}
	tableSize := uint32(4096)
	if v, ok := sf.Value(http2.SettingHeaderTableSize); ok {
		tableSize = v
	}
	c.encodeBlocks(tableSize)
	return c.bw.Flush()
}

// encodeBlocks encodes the request header block twice with one encoder:
// the first block adds the fields to the server's dynamic table, the second
// refers to them by index only, so it can be sent again and again. If the
// table cannot hold them, every stream sends a block without indexing.
func (c *h2conn) encodeBlocks(tableSize uint32) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	enc.SetMaxDynamicTableSizeLimit(tableSize)
	encode := func() []byte {
		buf.Reset()
		for _, f := range c.r.h2.fields {
			enc.WriteField(f) // a bytes.Buffer does not fail
		}
		return bytes.Clone(buf.Bytes())
	}
	first := encode()
	block := encode()
	if !allIndexed(block) {
		enc = hpack.NewEncoder(&buf)
		enc.SetMaxDynamicTableSizeLimit(0)
		first = encode()
		block = first
	}
	c.first, c.block = first, block
}

// allIndexed reports whether an HPACK block has indexed fields only, so
// that it leaves the decoder's dynamic table as it was.
func allIndexed(b []byte) bool {
	for i := 0; i < len(b); {
		if b[i]&0x80 == 0 {
			return false
		}
		if b[i]&0x7f != 0x7f {
			i++
			continue
		}
		i++
		for i < len(b) && b[i]&0x80 != 0 {
			i++
		}
		i++
	}
	return len(b) > 0
}

func (c *h2conn) onField(f hpack.HeaderField) {
	if f.Name == ":status" {
		if n, err := strconv.Atoi(f.Value); err == nil && n >= 100 && n <= 999 {
			c.hdrStatus = n
		}
	}
}

// serve runs the connection until it breaks or has nothing more to do. It
// starts with the tickets given and returns those to send on the next
// connection.
func (c *h2conn) serve(tickets []h2ticket) []h2ticket {
	defer c.raw.Close()
	c.mu.Lock()
	c.queue = tickets
	c.tick = max(c.r.cfg.Timeout/4, time.Millisecond)
	c.timer = time.AfterFunc(c.tick, c.check)
	err := c.endBatch(true)
	if err != nil {
		c.fail(err)
	}
	c.mu.Unlock()
	defer c.timer.Stop()
	for {
		var f http2.Frame
		if err == nil {
			f, err = c.fr.ReadFrame()
		}
		c.mu.Lock()
		if err == nil {
			c.frames.Add(1)
			err = c.handle(f)
			if err == nil && c.br.Buffered() == 0 {
				err = c.endBatch(false)
			}
		}
		if err != nil {
			c.fail(c.connErr(err))
		}
		if c.failed || len(c.streams) == 0 && (c.draining || c.exhausted && len(c.queue) == 0) {
			c.closed = true
			queue := c.queue
			c.queue = nil
			c.mu.Unlock()
			return queue
		}
		c.mu.Unlock()
	}
}

// endBatch opens streams for those that finished and sends what was
// written since the last batch. New streams wait, unless force, until at
// most half of the streams the server knows of are still in flight, so that
// many share one TLS record and one write; frames that answer the server
// (acknowledgements, window updates, resets) never wait.
func (c *h2conn) endBatch(force bool) error {
	c.fill()
	if c.bw.Buffered() == 0 {
		return nil
	}
	limit := min(c.r.cfg.Streams, int(min(c.maxStreams, 1<<30)))
	if !force && !c.urgent && 2*(len(c.streams)-c.nUnsent) > limit {
		return nil
	}
	now := time.Now()
	for _, s := range c.unsent {
		s.unsent = false
		if s.finished {
			c.free = append(c.free, s)
		} else if s.fresh {
			s.start, s.fresh = now, false
		}
	}
	clear(c.unsent)
	c.unsent, c.nUnsent = c.unsent[:0], 0
	c.urgent = false
	return c.bw.Flush()
}

// connErr turns a framing error into one classify sorts as a protocol error.
func (c *h2conn) connErr(err error) error {
	var ce http2.ConnectionError
	var se http2.StreamError
	if errors.As(err, &ce) || errors.As(err, &se) {
		return errProtocol("http2: " + err.Error())
	}
	return err
}

// fill opens new streams up to the limit: first the queued tickets, then
// new requests as long as runner.begin allows.
func (c *h2conn) fill() {
	c.batchStart = time.Now()
	limit := min(uint32(c.r.cfg.Streams), c.maxStreams)
	for !c.draining && !c.failed && uint32(len(c.streams)) < limit {
		var tk h2ticket
		if len(c.queue) > 0 {
			tk = c.queue[0]
			c.queue = c.queue[1:]
		} else {
			if c.exhausted {
				return
			}
			measured, ok := c.r.begin()
			if !ok {
				c.exhausted = true
				return
			}
			tk = h2ticket{measured: measured}
		}
		if err := c.open(tk); err != nil {
			c.fail(err)
			return
		}
	}
}

// open sends one request as a new stream.
func (c *h2conn) open(tk h2ticket) error {
	var s *h2stream
	if n := len(c.free); n > 0 {
		s = c.free[n-1]
		c.free = c.free[:n-1]
		*s = h2stream{}
	} else {
		s = new(h2stream)
	}
	s.id, s.measured, s.start, s.sendWin = c.nextID, tk.measured, tk.start, c.initWin
	s.fresh, s.unsent = tk.start.IsZero(), true
	if s.fresh { // for when bw fills up and writes before endBatch
		s.start = c.batchStart
	}
	c.unsent = append(c.unsent, s)
	c.nUnsent++
	c.nextID += 2
	if c.nextID > h2MaxStreamID {
		c.draining = true // the next request goes on a new connection
	}
	block := c.block
	if s.id == 1 {
		block = c.first
	}
	body := c.r.h2.body
	c.streams[s.id] = s
	c.inFlight.Store(int32(len(c.streams)))
	err := c.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID:      s.id,
		BlockFragment: block,
		EndStream:     len(body) == 0,
		EndHeaders:    true,
	})
	if err != nil || len(body) == 0 {
		return err
	}
	return c.sendBody(s)
}

// sendBody sends as much of the stream's request body as the windows
// allow; the rest waits in c.pending for a WINDOW_UPDATE.
func (c *h2conn) sendBody(s *h2stream) error {
	body := c.r.h2.body
	for s.sent < len(body) {
		n := min(int64(len(body)-s.sent), c.connSendWin, s.sendWin, int64(c.maxFrame))
		if n <= 0 {
			if !s.pending {
				s.pending = true
				c.pending = append(c.pending, s)
			}
			return nil
		}
		end := s.sent+int(n) == len(body)
		if err := c.fr.WriteData(s.id, end, body[s.sent:s.sent+int(n)]); err != nil {
			return err
		}
		s.sent += int(n)
		c.connSendWin -= n
		s.sendWin -= n
	}
	return nil
}

// sendPending sends what the windows now allow of bodies waiting.
func (c *h2conn) sendPending() error {
	if len(c.pending) == 0 {
		return nil
	}
	waiting := c.pending
	c.pending = nil
	for i, s := range waiting {
		s.pending = false
		if s.finished {
			continue
		}
		c.urgent = true // the server waits for it
		if err := c.sendBody(s); err != nil {
			c.pending = append(c.pending, waiting[i+1:]...)
			return err
		}
	}
	return nil
}

// handle processes one frame.
func (c *h2conn) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.DataFrame:
		return c.data(f)
	case *http2.HeadersFrame:
		c.hdrStream, c.hdrEndStream, c.hdrStatus = f.StreamID, f.StreamEnded(), 0
		return c.headerBlock(f.HeaderBlockFragment(), f.HeadersEnded())
	case *http2.ContinuationFrame:
		return c.headerBlock(f.HeaderBlockFragment(), f.HeadersEnded())
	case *http2.RSTStreamFrame:
		s := c.streams[f.StreamID]
		if s == nil {
			return nil
		}
		switch f.ErrCode {
		case http2.ErrCodeRefusedStream: // not processed: send it again
			c.queue = append(c.queue, h2ticket{s.measured, s.start})
			c.end(s)
		case http2.ErrCodeProtocol, http2.ErrCodeFlowControl, http2.ErrCodeCompression, http2.ErrCodeFrameSize:
			c.finish(s, errProtocol("http2: stream reset by the server: "+f.ErrCode.String()))
		default:
			c.finish(s, fmt.Errorf("http2: stream reset by the server: %v: %w", f.ErrCode, syscall.ECONNRESET))
		}
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		if err := c.settings(f); err != nil {
			return err
		}
		return c.sendPending()
	case *http2.PingFrame:
		if !f.IsAck() {
			c.urgent = true
			return c.fr.WritePing(true, f.Data)
		}
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			c.connSendWin += int64(f.Increment)
		} else if s := c.streams[f.StreamID]; s != nil {
			s.sendWin += int64(f.Increment)
		}
		return c.sendPending()
	case *http2.GoAwayFrame:
		c.draining = true
		for id, s := range c.streams {
			if id > f.LastStreamID { // not processed: send it again
				c.queue = append(c.queue, h2ticket{s.measured, s.start})
				c.end(s)
			}
		}
	case *http2.PushPromiseFrame:
		return errProtocol("http2: PUSH_PROMISE although push is disabled")
	}
	return nil
}

// settings applies the server's settings and acknowledges them.
func (c *h2conn) settings(f *http2.SettingsFrame) error {
	err := f.ForeachSetting(func(s http2.Setting) error {
		switch s.ID {
		case http2.SettingMaxConcurrentStreams:
			c.maxStreams = s.Val
		case http2.SettingMaxFrameSize:
			c.maxFrame = s.Val
		case http2.SettingInitialWindowSize:
			delta := int64(s.Val) - c.initWin
			c.initWin = int64(s.Val)
			for _, st := range c.streams {
				st.sendWin += delta
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.urgent = true
	return c.fr.WriteSettingsAck()
}

// data counts a DATA frame against the windows, acknowledging in batches.
func (c *h2conn) data(f *http2.DataFrame) error {
	n := int(f.Length)
	c.connUnacked += n
	if c.connUnacked >= h2AckAt {
		c.urgent = true
		if err := c.fr.WriteWindowUpdate(0, uint32(c.connUnacked)); err != nil {
			return err
		}
		c.connUnacked = 0
	}
	s := c.streams[f.StreamID]
	if s == nil {
		return nil // a stream we reset
	}
	if f.StreamEnded() {
		c.finish(s, nil)
		return nil
	}
	s.unacked += n
	if s.unacked >= h2AckAt {
		c.urgent = true
		if err := c.fr.WriteWindowUpdate(s.id, uint32(s.unacked)); err != nil {
			return err
		}
		s.unacked = 0
	}
	return nil
}

// headerBlock decodes a fragment of a response header block; every block
// must be decoded, to keep the decoder's table in step with the server's.
func (c *h2conn) headerBlock(frag []byte, ended bool) error {
	if _, err := c.dec.Write(frag); err != nil {
		return errProtocol("http2: " + err.Error())
	}
	if !ended {
		return nil
	}
	if err := c.dec.Close(); err != nil {
		return errProtocol("http2: " + err.Error())
	}
	s := c.streams[c.hdrStream]
	if s == nil {
		return nil
	}
	if c.hdrStatus >= 200 && s.status == 0 {
		s.status = c.hdrStatus
	}
	if c.hdrEndStream {
		if s.status == 0 {
			c.finish(s, errProtocol("http2: response without a final :status"))
		} else {
			c.finish(s, nil)
		}
	}
	return nil
}

// finish records a stream's outcome and frees it. A response that came
// later than Config.Timeout counts as a timeout.
func (c *h2conn) finish(s *h2stream, err error) {
	latency := time.Since(s.start)
	if err == nil && latency >= c.r.cfg.Timeout {
		err = errStreamTimeout
	}
	if s.sent < len(c.r.h2.body) && err == nil {
		// The server answered before reading the whole body.
		c.urgent = true
		c.fr.WriteRSTStream(s.id, http2.ErrCodeCancel)
	}
	c.r.done(c.t, s.measured, s.status, latency, err)
	c.end(s)
}

// end forgets a stream.
func (c *h2conn) end(s *h2stream) {
	delete(c.streams, s.id)
	c.inFlight.Store(int32(len(c.streams)))
	s.finished = true
	if s.unsent {
		c.nUnsent-- // endBatch frees it
	} else if !s.pending {
		c.free = append(c.free, s)
	} // else sendPending drops it
}

// fail accounts every stream in flight with err: the connection is broken.
func (c *h2conn) fail(err error) {
	if c.failed {
		return
	}
	c.failed = true
	if c.timedOut.Load() {
		err = errConnTimeout
	}
	c.raw.Close()
	for _, s := range c.streams {
		c.r.done(c.t, s.measured, 0, 0, err)
	}
	clear(c.streams)
	c.inFlight.Store(0)
}

// check runs every Config.Timeout/4. It resets streams older than Timeout
// and counts them as timeouts; when the connection also read nothing for a
// whole Timeout, it closes the connection and all its streams count as
// timeouts. After twice that, it closes the connection without waiting for
// the lock, which a write blocked on a server that does not read may hold.
func (c *h2conn) check() {
	if n := c.frames.Load(); n != c.lastSeen || c.inFlight.Load() == 0 {
		c.lastSeen, c.idleTicks = n, 0
	} else {
		c.idleTicks++
	}
	if c.idleTicks >= 8 {
		c.timedOut.Store(true)
		c.raw.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.failed {
		return
	}
	now := time.Now()
	var expired []*h2stream
	for _, s := range c.streams {
		if now.Sub(s.start) >= c.r.cfg.Timeout {
			expired = append(expired, s)
		}
	}
	if len(expired) > 0 && c.idleTicks >= 4 {
		c.timedOut.Store(true)
		c.fail(errConnTimeout)
		return
	}
	for _, s := range expired {
		c.r.done(c.t, s.measured, 0, 0, errStreamTimeout)
		c.end(s)
		if err := c.fr.WriteRSTStream(s.id, http2.ErrCodeCancel); err != nil {
			c.fail(err)
			return
		}
	}
	if len(expired) > 0 {
		if err := c.endBatch(true); err != nil {
			c.fail(err)
			return
		}
	}
	c.timer.Reset(c.tick)
}
