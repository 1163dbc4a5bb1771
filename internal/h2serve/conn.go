package h2serve

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Bounds on what a client can make the server queue.
const (
	// highWater is the most response bytes queued for the writer; past it, response data
	// waits in its stream (pending) and its handler blocks past pendingCap.
	highWater = 256 << 10
	// pendingCap is the most response bytes one stream holds waiting for flow control
	// before its handler's Write blocks.
	pendingCap = 64 << 10
	// maxQueuedControl bounds the frames the server queues in answer to the client (PING
	// and SETTINGS acknowledgements, RST_STREAM) between two writes: a client that floods
	// and does not read is disconnected (ENHANCE_YOUR_CALM).
	maxQueuedControl = 10000
	// closeWriteTimeout bounds the final write of a closing connection (its GOAWAY).
	closeWriteTimeout = time.Second
	// maxKeptBuffer is the largest write buffer an idle connection keeps; a busy one keeps
	// its two buffers (up to a little over highWater each) from batch to batch.
	maxKeptBuffer = 16 << 10
)

var (
	errClientReset   = errors.New("h2serve: client reset the stream")
	errStreamClosed  = errors.New("h2serve: stream closed")
	errConnClosed    = errors.New("h2serve: connection closed")
	errTooManyQueued = errors.New("h2serve: too many handlers queued after resets")
)

// conn is one HTTP/2 connection. The read loop (serve) owns the Framer; everything shared
// with handlers and the writer is guarded by mu.
type conn struct {
	srv        *Server
	cfg        *Config
	nc         net.Conn
	tls        *tls.ConnectionState
	handler    http.Handler
	remoteAddr string
	ctx        context.Context
	cancel     context.CancelFunc

	fr *http2.Framer // reads nc directly: crypto/tls buffers records, and an idle
	// connection then holds no read buffer of its own

	mu             sync.Mutex
	wcond          sync.Cond // the writer waits for out or closing
	writerIdle     bool      // the writer waits on wcond
	out            []byte    // frames queued for the writer
	ctrlQueued     int       // control frames queued since the last write
	streams        map[uint32]*stream
	maxClientID    uint32
	running        int       // handlers running
	queued         []*stream // streams whose handlers wait for room (rapid reset)
	pend           []*stream // streams with response data waiting for flow control or room
	sendWindow     int32     // connection send window
	recvWindow     int32     // what the client may still send on the connection
	recvUnacked    int32     // bytes consumed and not yet returned with WINDOW_UPDATE
	peerWindow     int32     // the client's SETTINGS_INITIAL_WINDOW_SIZE
	peerFrame      int       // the client's SETTINGS_MAX_FRAME_SIZE
	pushEnabled    bool      // the client's SETTINGS_ENABLE_PUSH
	peerMaxStreams int       // the client's SETTINGS_MAX_CONCURRENT_STREAMS: bounds pushes
	pushOpen       int       // pushed streams open
	nextPushID     uint32    // the next promised stream id (even)
	henc           *hpack.Encoder
	hbuf           bytes.Buffer
	goingAway      bool // GOAWAY sent: no new streams; close when none is left
	lingering      int  // streams the server ended and the client has not (streamDoneLocked)
	busy           bool // a stream other than lingering ones is open (ConnState active)
	closing        bool // the read loop ended: the writer drains out and stops
	idleTimer      *time.Timer
	writerDone     chan struct{}
}

func newConn(s *Server, nc net.Conn, tlsState *tls.ConnectionState, h http.Handler) *conn {
	c := &conn{
		srv:            s,
		cfg:            &s.cfg,
		nc:             nc,
		tls:            tlsState,
		handler:        h,
		remoteAddr:     addrString(nc.RemoteAddr()),
		streams:        make(map[uint32]*stream),
		sendWindow:     initialWindow,
		recvWindow:     s.cfg.ConnWindow,
		peerWindow:     initialWindow,
		peerFrame:      minMaxFrameSize,
		pushEnabled:    true,
		peerMaxStreams: 100,
		writerDone:     make(chan struct{}),
	}
	c.wcond.L = &c.mu
	c.henc = hpack.NewEncoder(&c.hbuf)
	c.fr = http2.NewFramer(nil, nc)
	c.fr.SetReuseFrames()
	c.fr.SetMaxReadFrameSize(s.cfg.MaxReadFrameSize)
	c.fr.MaxHeaderListSize = s.cfg.MaxHeaderListSize
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	return c
}

// addrString is a.String(), or "" for no address (as some Unix socket peers have).
func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// connError ends the connection with a GOAWAY carrying code.
type connError struct {
	code http2.ErrCode
	why  string
}

func (e connError) Error() string {
	return "h2serve: connection error " + e.code.String() + ": " + e.why
}

// serve runs the read loop until the connection ends.
func (c *conn) serve(ctx context.Context) {
	c.ctx, c.cancel = context.WithCancel(ctx)
	defer c.cancel()
	go c.writeLoop()

	c.mu.Lock()
	c.out = appendSettings(c.out,
		http2.Setting{ID: http2.SettingMaxFrameSize, Val: c.cfg.MaxReadFrameSize},
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: c.cfg.MaxConcurrentStreams},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: c.cfg.MaxHeaderListSize},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: uint32(c.cfg.StreamWindow)},
	)
	if c.cfg.ConnWindow > initialWindow {
		c.out = appendWindowUpdate(c.out, 0, uint32(c.cfg.ConnWindow-initialWindow))
	}
	c.wakeWriterLocked()
	c.mu.Unlock()

	err := c.readPreface()
	if err == nil {
		c.setConnState(http.StateIdle)
		c.mu.Lock()
		c.armIdleLocked()
		c.mu.Unlock()
		err = c.readLoop()
	}
	c.finish(err)
}

func (c *conn) readPreface() error {
	t := c.cfg.ReadHeaderTimeout
	if t <= 0 {
		t = prefaceTimeout
	}
	c.nc.SetReadDeadline(time.Now().Add(t))
	var p [len(clientPreface)]byte
	if _, err := io.ReadFull(c.nc, p[:]); err != nil {
		return err
	}
	if string(p[:]) != clientPreface {
		return connError{http2.ErrCodeProtocol, "bad client preface"}
	}
	f, err := c.fr.ReadFrame()
	if err != nil {
		return c.frameError(err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		return connError{http2.ErrCodeProtocol, "first frame is not SETTINGS"}
	}
	c.nc.SetReadDeadline(time.Time{})
	return c.processSettings(sf)
}

// readLoop reads and dispatches frames until an error ends the connection; a nil error
// means a graceful end (GOAWAY sent and every stream done).
func (c *conn) readLoop() error {
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				c.streamError(se.StreamID, se.Code)
				continue
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() && c.drained() {
				return nil
			}
			return c.frameError(err)
		}
		if err := c.process(f); err != nil {
			return err
		}
	}
}

// frameError turns a Framer error into what ends the connection.
func (c *conn) frameError(err error) error {
	var ce http2.ConnectionError
	switch {
	case errors.As(err, &ce):
		return connError{http2.ErrCode(ce), "frame"}
	case errors.Is(err, http2.ErrFrameTooLarge):
		return connError{http2.ErrCodeFrameSize, "frame too large"}
	}
	return err
}

// drained reports whether a graceful close is complete.
func (c *conn) drained() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.goingAway && !c.busy
}

func (c *conn) process(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.MetaHeadersFrame:
		return c.processHeaders(f)
	case *http2.DataFrame:
		return c.processData(f)
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		return c.processSettings(f)
	case *http2.WindowUpdateFrame:
		return c.processWindowUpdate(f)
	case *http2.PingFrame:
		if f.IsAck() {
			return nil
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.out = appendPingAck(c.out, f.Data)
		return c.controlQueuedLocked()
	case *http2.RSTStreamFrame:
		return c.processRST(f)
	case *http2.PriorityFrame:
		// RFC 9113 deprecates the priority tree: check the frame, use nothing of it.
		if f.StreamDep == f.StreamID {
			c.streamError(f.StreamID, http2.ErrCodeProtocol)
		}
		return nil
	case *http2.GoAwayFrame:
		c.goAwayGraceful()
		return nil
	case *http2.PushPromiseFrame:
		return connError{http2.ErrCodeProtocol, "PUSH_PROMISE from a client"}
	}
	return nil // unknown frame types are ignored (RFC 9113 section 5.5)
}

func (c *conn) processSettings(f *http2.SettingsFrame) error {
	if err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			var ce http2.ConnectionError
			if errors.As(err, &ce) {
				return connError{http2.ErrCode(ce), "setting " + s.String()}
			}
			return err
		}
		return c.applySetting(s)
	}); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = appendSettingsAck(c.out)
	c.fillLocked()
	return c.controlQueuedLocked()
}

// applySetting applies one setting; settings apply in the order they come (RFC 9113
// section 6.5.3).
func (c *conn) applySetting(s http2.Setting) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch s.ID {
	case http2.SettingHeaderTableSize:
		c.henc.SetMaxDynamicTableSizeLimit(s.Val)
	case http2.SettingInitialWindowSize:
		delta := int64(s.Val) - int64(c.peerWindow)
		for _, st := range c.streams {
			w := int64(st.sendWindow) + delta
			if w > maxWindow {
				return connError{http2.ErrCodeFlowControl, "stream window overflow"}
			}
			st.sendWindow = int32(w)
		}
		c.peerWindow = int32(s.Val)
		// Data the larger windows allow goes out after the SETTINGS acknowledgement
		// (processSettings): a client that waits for the ack first sees both.
	case http2.SettingMaxFrameSize:
		c.peerFrame = int(s.Val)
	case http2.SettingEnablePush:
		c.pushEnabled = s.Val == 1
	case http2.SettingMaxConcurrentStreams:
		c.peerMaxStreams = int(min(s.Val, 1<<20))
	}
	return nil
}

func (c *conn) processWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	inc := int64(f.Increment)
	if f.StreamID == 0 {
		if int64(c.sendWindow)+inc > maxWindow {
			return connError{http2.ErrCodeFlowControl, "connection window overflow"}
		}
		c.sendWindow += int32(inc)
		c.fillLocked()
		return nil
	}
	st := c.streams[f.StreamID]
	if st == nil {
		if c.idleLocked(f.StreamID) {
			return connError{http2.ErrCodeProtocol, "WINDOW_UPDATE on idle stream"}
		}
		return nil
	}
	if int64(st.sendWindow)+inc > maxWindow {
		c.resetStreamLocked(st, http2.ErrCodeFlowControl)
		return c.controlQueuedLocked()
	}
	st.sendWindow += int32(inc)
	c.fillLocked()
	return nil
}

func (c *conn) processRST(f *http2.RSTStreamFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.streams[f.StreamID]
	if st == nil {
		if c.idleLocked(f.StreamID) {
			return connError{http2.ErrCodeProtocol, "RST_STREAM on idle stream"}
		}
		return nil
	}
	st.remoteClosed = true
	c.abortStreamLocked(st, errClientReset)
	return nil
}

// streamError resets stream id with code; for a stream the client has not opened yet it
// also moves the highest client stream past it, as the HEADERS that failed did open it.
func (c *conn) streamError(id uint32, code http2.ErrCode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.streams[id]; st != nil {
		c.resetStreamLocked(st, code)
	} else {
		if id%2 == 1 && id > c.maxClientID {
			c.maxClientID = id
		}
		c.out = appendRSTStream(c.out, id, code)
		c.wakeWriterLocked()
	}
	c.controlQueuedLocked()
}

// controlQueuedLocked counts a frame queued in answer to the client and fails the
// connection once the client has made it queue too many without reading.
func (c *conn) controlQueuedLocked() error {
	c.ctrlQueued++
	c.wakeWriterLocked()
	if c.ctrlQueued > maxQueuedControl {
		return connError{http2.ErrCodeEnhanceYourCalm, "too many queued control frames"}
	}
	return nil
}

// resetStreamLocked sends RST_STREAM for st and ends it.
func (c *conn) resetStreamLocked(st *stream, code http2.ErrCode) {
	c.out = appendRSTStream(c.out, st.id, code)
	c.wakeWriterLocked()
	st.localClosed = true
	st.remoteClosed = true
	c.abortStreamLocked(st, errStreamClosed)
}

// abortStreamLocked ends st without sending anything: its body reads fail with err, its
// writes fail, its context is cancelled, and it leaves the connection's tables.
func (c *conn) abortStreamLocked(st *stream, err error) {
	st.reset = true
	if st.bodyErr == nil || st.bodyErr == io.EOF && st.boff < len(st.body) {
		st.bodyErr = err
	}
	st.pending = st.pending[:0]
	st.pendingEnd = false
	st.cond.Broadcast()
	c.removeStreamLocked(st)
}

// removeStreamLocked takes st out of the connection's tables once both sides are done with
// it (or it was reset), returning its unread body bytes to the connection window.
func (c *conn) removeStreamLocked(st *stream) {
	if c.streams[st.id] != st {
		return
	}
	delete(c.streams, st.id)
	if st.pushed {
		c.pushOpen--
	}
	if n := len(st.body) - st.boff; n > 0 {
		st.body, st.boff = st.body[:0], 0
		c.creditConnLocked(int32(n))
	}
	st.cancel()
	if st.rdTimer != nil {
		st.rdTimer.Stop()
	}
	// A queued stream stays queued (its handler never runs): the queue's length is what
	// bounds a client that resets streams faster than handlers end.
	if st.lingering {
		st.lingering = false
		c.lingering--
	}
	c.updateBusyLocked()
}

// updateBusyLocked tracks whether a stream other than lingering ones is open: the
// connection turns active (ConnState, idle timer stopped) or idle (ConnState, idle timer
// armed, and a graceful close completes).
func (c *conn) updateBusyLocked() {
	busy := len(c.streams) > c.lingering
	if busy == c.busy {
		return
	}
	c.busy = busy
	if busy {
		if c.idleTimer != nil {
			c.idleTimer.Stop()
		}
		c.setConnState(http.StateActive)
		return
	}
	c.setConnState(http.StateIdle)
	c.armIdleLocked()
	if c.goingAway {
		c.nc.SetReadDeadline(time.Now()) // wake the read loop to finish
	}
}

// idleLocked reports whether stream id was never opened, by the client (odd) or by a push
// (even).
func (c *conn) idleLocked(id uint32) bool {
	if id%2 == 0 {
		return id >= c.nextPushID
	}
	return id > c.maxClientID
}

// creditConnLocked returns n consumed bytes to the connection window, with one
// WINDOW_UPDATE per quarter window.
func (c *conn) creditConnLocked(n int32) {
	c.recvUnacked += n
	if c.recvUnacked >= c.cfg.ConnWindow/4 && !c.closing {
		c.out = appendWindowUpdate(c.out, 0, uint32(c.recvUnacked))
		c.recvWindow += c.recvUnacked
		c.recvUnacked = 0
		c.wakeWriterLocked()
	}
}

func (c *conn) setConnState(s http.ConnState) {
	if c.cfg.ConnState != nil {
		c.cfg.ConnState(c.nc, s)
	}
}

// armIdleLocked starts the idle timer of a connection with no open stream.
func (c *conn) armIdleLocked() {
	if c.cfg.IdleTimeout <= 0 || c.closing {
		return
	}
	if c.idleTimer == nil {
		c.idleTimer = time.AfterFunc(c.cfg.IdleTimeout, c.onIdle)
		return
	}
	c.idleTimer.Reset(c.cfg.IdleTimeout)
}

func (c *conn) onIdle() {
	c.mu.Lock()
	idle := !c.busy
	c.mu.Unlock()
	if idle {
		c.goAwayGraceful()
	}
}

// goAwayGraceful sends GOAWAY(NO_ERROR) naming the last stream the server handles; the
// connection closes once the open streams are done.
func (c *conn) goAwayGraceful() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.goingAway || c.closing {
		return
	}
	c.goingAway = true
	c.out = appendGoAway(c.out, c.maxClientID, http2.ErrCodeNo, "")
	c.wakeWriterLocked()
	if !c.busy {
		c.nc.SetReadDeadline(time.Now())
	}
}

// finish ends the connection after the read loop: a GOAWAY for a protocol error, every
// stream aborted, the writer drained within closeWriteTimeout.
func (c *conn) finish(err error) {
	c.mu.Lock()
	var ce connError
	if errors.As(err, &ce) {
		// A GOAWAY after a graceful one may lower the last stream id but must carry the
		// error: send it either way.
		c.out = appendGoAway(c.out, c.maxClientID, ce.code, "")
	}
	c.closing = true
	if c.idleTimer != nil {
		c.idleTimer.Stop()
	}
	for _, st := range c.streams {
		st.remoteClosed = true
		c.abortStreamLocked(st, errConnClosed)
	}
	c.queued = nil
	c.wcond.Broadcast()
	c.mu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(closeWriteTimeout))
	<-c.writerDone
	c.cancel()
}

// wakeWriterLocked wakes the writer if it waits.
func (c *conn) wakeWriterLocked() {
	if c.writerIdle {
		c.writerIdle = false
		c.wcond.Signal()
	}
}

// writeLoop hands everything queued to the socket, one write per batch.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	var buf []byte
	var deadlineSet time.Time
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if len(c.out) == 0 && !c.closing {
			// Going idle: keep no large buffer (an idle connection holds little memory).
			if cap(buf) > maxKeptBuffer {
				buf = nil
			}
			if cap(c.out) > maxKeptBuffer {
				c.out = nil
			}
		}
		for len(c.out) == 0 && !c.closing {
			c.writerIdle = true
			c.wcond.Wait()
		}
		if len(c.out) == 0 {
			return
		}
		if c.running > 0 && !c.closing {
			// Let handlers that are ready to run add their responses to this batch.
			c.mu.Unlock()
			runtime.Gosched()
			c.mu.Lock()
		}
		buf, c.out = c.out, buf[:0]
		c.ctrlQueued = 0
		closing := c.closing
		c.mu.Unlock()
		if closing {
			c.nc.SetWriteDeadline(time.Now().Add(closeWriteTimeout))
		} else if c.cfg.WriteTimeout > 0 {
			// A client that stops reading fails the write after WriteTimeout. Moving the
			// deadline costs a timer update: do it at most once a second.
			if now := time.Now(); now.Sub(deadlineSet) > time.Second {
				c.nc.SetWriteDeadline(now.Add(c.cfg.WriteTimeout))
				deadlineSet = now
			}
		}
		_, err := c.nc.Write(buf)
		c.mu.Lock()
		if err != nil {
			c.out = c.out[:0]
			if !c.closing {
				c.closing = true
				for _, st := range c.streams {
					st.cond.Broadcast()
				}
				c.nc.SetReadDeadline(time.Now()) // the read loop ends and cleans up
			}
			return
		}
		c.fillLocked()
	}
}
