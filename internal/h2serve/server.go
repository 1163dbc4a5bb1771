package h2serve

import (
	"context"
	"crypto/tls"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxConcurrentStreams = 250
	DefaultMaxHeaderListSize    = 64 << 10
	DefaultStreamWindow         = 1 << 20
	DefaultConnWindow           = 1 << 20
	DefaultMaxReadFrameSize     = 16 << 10
	// prefaceTimeout bounds the wait for the client preface when ReadHeaderTimeout is zero.
	prefaceTimeout = 10 * time.Second
)

// Config configures a Server. The zero value works: every zero limit means its default.
type Config struct {
	// MaxConcurrentStreams is the SETTINGS_MAX_CONCURRENT_STREAMS the server advertises and
	// enforces (a stream past it is refused with REFUSED_STREAM). Zero means 250.
	MaxConcurrentStreams uint32
	// MaxHeaderListSize bounds the decoded request header list (RFC 9113 size: name, value
	// and 32 bytes per field). A request over it gets 431. Zero means 64 KiB.
	MaxHeaderListSize uint32
	// StreamWindow and ConnWindow are the receive windows for request bodies, per stream
	// and for the whole connection: the most body bytes buffered for handlers that have not
	// read them. Zero means 1 MiB each.
	StreamWindow, ConnWindow int32
	// MaxReadFrameSize is the largest frame the server accepts. Zero means 16 KiB, the
	// protocol's initial value.
	MaxReadFrameSize uint32
	// ReadHeaderTimeout bounds the wait for the client preface and first SETTINGS.
	// ReadTimeout bounds each stream's request body, from its HEADERS. WriteTimeout
	// bounds each stream from its HEADERS to the end of its response; a handler blocked
	// writing past it gets an error. IdleTimeout closes a connection with no open stream.
	// Zero means no limit for each, except the preface (10s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ConnState, if set, is called with http.StateActive when a connection opens its first
	// stream and http.StateIdle when its last stream closes, as net/http's HTTP/2 server
	// does.
	ConnState func(net.Conn, http.ConnState)
	// ErrorLog receives handler panics and protocol errors worth logging. Nil means the
	// standard logger.
	ErrorLog *log.Logger
}

// Server serves HTTP/2 connections. Its zero value is not usable; create one with New. It is
// safe for concurrent use: ServeConn runs once per connection, each in its own goroutine.
type Server struct {
	cfg Config

	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown bool
}

// New returns a Server for cfg, with its zero limits resolved to their defaults.
func New(cfg Config) *Server {
	if cfg.MaxConcurrentStreams == 0 {
		cfg.MaxConcurrentStreams = DefaultMaxConcurrentStreams
	}
	if cfg.MaxHeaderListSize == 0 {
		cfg.MaxHeaderListSize = DefaultMaxHeaderListSize
	}
	if cfg.StreamWindow <= 0 {
		cfg.StreamWindow = DefaultStreamWindow
	}
	if cfg.ConnWindow <= 0 {
		cfg.ConnWindow = DefaultConnWindow
	}
	if cfg.ConnWindow < initialWindow {
		cfg.ConnWindow = initialWindow
	}
	if cfg.MaxReadFrameSize < minMaxFrameSize || cfg.MaxReadFrameSize > maxMaxFrameSize {
		cfg.MaxReadFrameSize = DefaultMaxReadFrameSize
	}
	if cfg.ErrorLog == nil {
		cfg.ErrorLog = log.Default()
	}
	return &Server{cfg: cfg, conns: make(map[*conn]struct{})}
}

// TLSNextProto is the function to register as http.Server.TLSNextProto["h2"]: net/http
// accepts the connection and completes the TLS handshake, then hands over connections that
// negotiated "h2". Register Shutdown with http.Server.RegisterOnShutdown so a graceful stop
// sends GOAWAY.
func (s *Server) TLSNextProto(hs *http.Server, c *tls.Conn, h http.Handler) {
	ctx := context.Background()
	if bc, ok := h.(interface{ BaseContext() context.Context }); ok {
		ctx = bc.BaseContext()
	}
	st := c.ConnectionState()
	s.ServeConn(ctx, c, &st, h)
}

// ServeConn serves HTTP/2 on nc until the client goes away, a protocol error ends the
// connection, or Shutdown drains it. It expects the client preface next on nc. tlsState is
// given to every request as Request.TLS (nil for cleartext). ctx is the parent of every
// request's context; ServeConn does not close nc: the caller does, after it returns.
// Handlers still running when it returns see their contexts cancelled and their writes fail.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn, tlsState *tls.ConnectionState, h http.Handler) {
	c := newConn(s, nc, tlsState, h)
	if !s.track(c, true) {
		return
	}
	defer s.track(c, false)
	c.serve(ctx)
}

func (s *Server) track(c *conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.conns, c)
		return true
	}
	if s.shutdown {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// Shutdown makes every connection send GOAWAY and close once its open streams have
// finished; connections handed to ServeConn afterwards are closed at once. It does not
// wait: http.Server.Shutdown waits for ServeConn calls to return. Shutdown is safe to call
// more than once.
func (s *Server) Shutdown() {
	s.mu.Lock()
	s.shutdown = true
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.goAwayGraceful()
	}
}
