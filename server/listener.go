package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/httpskit/httpskit/internal/acmecert"
)

// Listener kinds, as returned by Listener.Kind.
const (
	KindHTTP  = "HTTP"
	KindHTTPS = "HTTPS"
	KindHTTP2 = "HTTP/2"
)

// removeGrace bounds how long RemoveServer waits for in-flight requests of a running listener.
const removeGrace = 5 * time.Second

// Listener is one HTTP, HTTPS or HTTP/2 endpoint of a Server. All listeners of a Server share
// its router. A Listener is created by AddHTTPServer, AddHTTPSServer or AddHTTP2Server and is
// safe for concurrent use.
type Listener struct {
	srv     *Server
	kind    string
	host    string
	port    int // as configured: 0 means any free port
	lim     limits
	socket  string            // HTTPConfig.SocketPath: a Unix socket instead of TCP
	mode    fs.FileMode       // HTTPConfig.SocketMode
	given   net.Listener      // HTTPConfig.NetListener: the caller's socket
	tlsCfg  *tls.Config       // nil for plain HTTP
	files   *certFiles        // nil unless the certificate or client CA comes from files (reload.go)
	acme    *acmecert.Manager // nil unless the certificate comes from ACME (acme.go)
	hsts    bool              // send Strict-Transport-Security (ACME listeners)
	obs     Observer          // nil: no access log and no observer (observe.go)
	tickets *ticketKeys       // nil when crypto/tls handles session tickets alone (ticketkeys.go)
	h2      HTTP2Engine       // resolved engine for HTTP/2 connections (h2engine.go)

	mu      sync.Mutex
	hs      *http.Server // current net/http server; replaced after a stop
	used    bool         // hs has served and cannot serve again
	ln      net.Listener // bound socket while running
	bound   int          // bound port while running (0 for a Unix socket)
	closed  bool         // given has been closed: it cannot serve again
	serving chan struct{}
	// nextProto is hs.TLSNextProto as it was before hs served (newHTTPServer).
	nextProto map[string]func(*http.Server, *tls.Conn, http.Handler)
	conns     connTracking // connection limits (connlimit.go)
}

// Kind returns "HTTP", "HTTPS" or "HTTP/2".
func (l *Listener) Kind() string { return l.kind }

// Host returns the configured host ("localhost" when none was given); for a NetListener on
// TCP, the IP address it is bound to ("0.0.0.0" or "::" for every interface).
func (l *Listener) Host() string { return l.host }

// Port returns the bound port while running, otherwise the configured port (0 for any free
// port before the first start). It is 0 for a Unix socket, and the port of the caller's
// NetListener when it is a TCP one.
func (l *Listener) Port() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		return l.bound
	}
	return l.port
}

// Addr returns "host:port" of the bound socket while running, else of the configuration.
// For a Unix socket it is "unix:" and the socket's path; for the caller's NetListener, its
// address (network "unix": "unix:" and the path).
func (l *Listener) Addr() string {
	if l.socket != "" || l.given != nil {
		return l.fixedAddr("")
	}
	return net.JoinHostPort(l.host, strconv.Itoa(l.Port()))
}

// fixedAddr returns the address of a Unix socket or of the caller's listener, which do not
// change; tcp for a listener that binds Host and Port. It takes no lock.
func (l *Listener) fixedAddr(tcp string) string {
	switch {
	case l.socket != "":
		return "unix:" + l.socket
	case l.given != nil && l.given.Addr().Network() != "tcp":
		return l.given.Addr().Network() + ":" + l.given.Addr().String()
	case l.given != nil:
		return l.given.Addr().String()
	}
	return tcp
}

// Network returns "tcp", or "unix" for a Unix socket (SocketPath, or a NetListener on one).
func (l *Listener) Network() string {
	switch {
	case l.socket != "":
		return "unix"
	case l.given != nil && l.given.Addr().Network() != "tcp":
		return l.given.Addr().Network()
	}
	return "tcp"
}

// URL returns the base URL of the listener, such as "https://localhost:7080". For a Unix
// socket it is the URL a client asks for over the socket, "https://" and the configured Host
// ("https://localhost" by default), as in curl --unix-socket PATH https://localhost/.
func (l *Listener) URL() string {
	scheme := "https"
	if l.tlsCfg == nil {
		scheme = "http"
	}
	if l.Network() != "tcp" {
		return scheme + "://" + l.host
	}
	return scheme + "://" + l.Addr()
}

// Running reports whether the listener is bound and serving.
func (l *Listener) Running() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ln != nil
}

// Original returns the net/http server behind the listener. Fields may be changed before
// Start (for example ConnState, ErrorLog or TLSNextProto); every exported field is carried
// over to the fresh http.Server that a restart after Stop needs. While the listener runs with a MaxConns limit, ConnState
// holds the listener's own hook, which tracks idle connections and then calls the one set
// before Start.
func (l *Listener) Original() *http.Server {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hs
}

// TLSConfig returns the listener's TLS configuration (nil for plain HTTP). Do not modify it
// while the listener runs. When the certificate and key come from files, its Certificates is
// empty and GetCertificate hands out the pair in service; when the client CA comes from a
// file, GetConfigForClient hands out a copy of it with the client CAs in service, and its own
// ClientCAs stays the pool read first (see ReloadCertificate).
func (l *Listener) TLSConfig() *tls.Config { return l.tlsCfg }

func newListener(s *Server, kind string, cfg HTTPConfig, tlsCfg *tls.Config, h2e HTTP2Engine) (*Listener, error) {
	switch {
	case cfg.SocketPath != "" && cfg.NetListener != nil:
		return nil, errors.New("server: SocketPath and NetListener are both set: give one")
	case cfg.SocketMode&^fs.ModePerm != 0:
		return nil, fmt.Errorf("server: SocketMode %v has more than permission bits", cfg.SocketMode)
	case cfg.Port > 65535:
		return nil, fmt.Errorf("server: port %d out of range (0 for any free port, or 1-65535)", cfg.Port)
	}
	host, port := cfg.hostPort()
	l := &Listener{srv: s, kind: kind, host: host, port: port, lim: cfg.limits(), tlsCfg: tlsCfg,
		socket: cfg.SocketPath, mode: cfg.SocketMode, given: cfg.NetListener, h2: h2e}
	if l.given != nil {
		if tcp, ok := l.given.Addr().(*net.TCPAddr); ok {
			l.host, l.port = tcp.IP.String(), tcp.Port
		}
	}
	h2, err := cfg.http2Config()
	if err != nil {
		return nil, err
	}
	if tlsCfg != nil {
		l.lim.http2 = h2
	}
	l.obs = cfg.observer()
	l.hs = l.newHTTPServer(nil)
	return l, nil
}

// newHTTPServer makes the net/http server of one run of l. The first run's comes from l's
// settings. A restart's is a copy of prev, the server of the run before: every exported field
// is copied by reflection, so each one set through Original carries over, including fields a
// later Go adds. Two fields are not copied: TLSNextProto, which net/http fills in itself
// while serving (it adds its "h2" handler, bound to the old server), is taken as it was
// before that run served (l.nextProto); and TLSConfig, of which each run serves a copy
// (see serve), is l's own again.
func (l *Listener) newHTTPServer(prev *http.Server) *http.Server {
	if prev != nil {
		hs := new(http.Server)
		copyExported(hs, prev)
		hs.TLSNextProto = maps.Clone(l.nextProto)
		hs.TLSConfig = l.tlsCfg // the run's own copy (serve) is not carried over
		return hs
	}
	hs := &http.Server{
		Handler:           http.HandlerFunc(l.serveHTTP),
		TLSConfig:         l.tlsCfg,
		ReadHeaderTimeout: l.lim.readHeader,
		ReadTimeout:       l.lim.read,
		WriteTimeout:      l.lim.write,
		IdleTimeout:       l.lim.idle,
		MaxHeaderBytes:    l.lim.maxHeader,
		ErrorLog:          l.srv.errorLog,
		HTTP2:             l.lim.http2,
	}
	hs.Protocols = new(http.Protocols)
	hs.Protocols.SetHTTP1(true)
	if l.tlsCfg != nil {
		hs.Protocols.SetHTTP2(true)
	}
	return hs
}

// copyExported sets every exported field of dst to the value in src. http.Server's
// unexported fields (its locks and connection tracking) belong to the run that used src.
func copyExported(dst, src *http.Server) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := range s.NumField() {
		if s.Type().Field(i).IsExported() {
			d.Field(i).Set(s.Field(i))
		}
	}
}

// checkServe returns the error net/http's Serve would return at once for hs (or, when hs
// already served, for the copy a restart makes of it) instead of serving, so that Start can
// refuse before anything listens: HTTP/2 on TLS needs one of the
// two ECDHE AES-128-GCM suites when CipherSuites is set and TLS 1.2 is allowed.
func (l *Listener) checkServe(hs *http.Server) error {
	tc := hs.TLSConfig
	if l.used { // a restart serves l.tlsCfg (newHTTPServer), not the last run's copy
		tc = l.tlsCfg
	}
	if tc == nil || tc.CipherSuites == nil || tc.MinVersion >= tls.VersionTLS13 {
		return nil
	}
	next := hs.TLSNextProto
	if l.used { // hs served: its TLSNextProto holds net/http's own h2; a restart starts from l.nextProto
		next = l.nextProto
	}
	if _, custom := next["h2"]; custom {
		return nil
	}
	if p := hs.Protocols; p != nil && !p.HTTP2() {
		return nil
	}
	if hs.Protocols == nil && next != nil { // net/http's historic "HTTP/2 off"
		return nil
	}
	for _, cs := range tc.CipherSuites {
		if cs == tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 || cs == tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 {
			return nil
		}
	}
	return fmt.Errorf("server: %s listener on %s cannot serve HTTP/2: TLSConfig.CipherSuites has neither "+
		"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 nor TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, which HTTP/2 requires "+
		"(add one, or turn HTTP/2 off with Original().Protocols)", l.kind, net.JoinHostPort(l.host, strconv.Itoa(l.port)))
}

func (l *Listener) serveHTTP(w http.ResponseWriter, r *http.Request) {
	ex := new(exchange)
	if l.obs != nil {
		start := time.Now()
		defer l.observe(ex, r, start) // observe.go
	}
	if l.tlsCfg == nil && l.srv.acme.list.Load() != nil {
		// An ACME HTTP-01 challenge is answered before any route, through the writer that
		// records status and bytes, so that the access log and the Observer see it too.
		ex.res.init(w, r)
		if l.srv.acme.serveChallenge(&ex.res.w, r) {
			return
		}
	}
	if l.hsts {
		w.Header()["Strict-Transport-Security"] = hstsValue
	}
	l.srv.dispatch(ex, w, r, l.lim.maxBody, true)
}

// bind opens the socket. It does not serve yet.
func (l *Listener) bind(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		return nil
	}
	if err := l.checkServe(l.hs); err != nil {
		return err
	}
	var (
		ln  net.Listener
		err error
	)
	switch addr := l.fixedAddr(net.JoinHostPort(l.host, strconv.Itoa(l.port))); {
	case l.given != nil && l.closed:
		return fmt.Errorf("server: start %s listener on %s: its NetListener was closed when the listener stopped, and cannot serve again", l.kind, addr)
	case l.given != nil:
		ln = l.given
	case l.socket != "":
		if ln, err = listenUnix(ctx, l.socket, l.mode); err != nil {
			return fmt.Errorf("server: start %s listener on %s: %w", l.kind, addr, err)
		}
	default:
		var lc net.ListenConfig
		if strings.EqualFold(l.host, DefaultHost) {
			ln, err = listenLocalhost(ctx, &lc, l.port) // 127.0.0.1 and [::1] (localhost.go)
		} else {
			ln, err = lc.Listen(ctx, "tcp", addr)
		}
		if err != nil {
			return fmt.Errorf("server: start %s listener on %s: %w", l.kind, addr, err)
		}
	}
	l.ln = ln
	l.bound = 0
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		l.bound = tcp.Port
	}
	return nil
}

// unbind closes a socket opened by bind that never served. The caller's NetListener stays
// open: Start failed, and a later Start serves it.
func (l *Listener) unbind() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil && l.ln != l.given {
		l.ln.Close()
	}
	l.ln = nil
}

// serve starts serving the bound socket in its own goroutine.
func (l *Listener) serve() {
	if l.tickets != nil {
		l.tickets.sync(context.Background()) // off the lock: it may wait for the Storage (ticketSyncTimeout at most)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln == nil || l.serving != nil {
		return
	}
	if l.used {
		l.hs = l.newHTTPServer(l.hs)
	}
	l.used = true
	hs := l.hs
	l.nextProto = maps.Clone(hs.TLSNextProto) // before net/http adds its own (newHTTPServer)
	ln := l.limitConns(hs, l.ln)
	l.useHTTP2Engine(hs) // after limitConns: the engine calls the ConnState it sets
	if l.tlsCfg != nil {
		ln = tls.NewListener(ln, l.tlsCfg)
		// Serve writes net/http's HTTP/2 settings into hs.TLSConfig as it starts, on its
		// own goroutine; handshakes use l.tlsCfg, which ReloadCertificate and the
		// ticket-key rotator read and update meanwhile. So the run gets a copy.
		hs.TLSConfig = l.tlsCfg.Clone()
	}
	done := make(chan struct{})
	l.serving = done
	addr := l.addrLocked()
	l.srv.logger.Info("listening", "kind", l.kind, "addr", addr)
	go func() {
		defer close(done)
		if l.files != nil {
			defer l.files.watch(l)() // ends before done is closed: nothing outlives stop
		}
		if l.acme != nil {
			defer runACME(l.acme)() // the same
		}
		if l.tickets != nil {
			defer l.tickets.run()()
		}
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			// Serve closed the socket: the listener no longer runs.
			l.srv.logger.Error("listener failed", "kind", l.kind, "addr", ln.Addr().String(), "err", err)
			l.mu.Lock()
			if l.serving == done {
				l.ln, l.serving = nil, nil
			}
			l.mu.Unlock()
		}
	}()
}

// stop shuts the listener down gracefully; when ctx ends first it closes every connection.
func (l *Listener) stop(ctx context.Context) error {
	l.mu.Lock()
	hs, done := l.hs, l.serving
	ln := l.ln
	cl := l.conns.cur
	addr := l.addrLocked()
	l.ln, l.serving = nil, nil
	l.closed = l.closed || ln != nil && ln == l.given
	l.mu.Unlock()
	if ln == nil {
		return nil
	}
	if done == nil { // bound but never served
		return ln.Close()
	}
	if cl != nil {
		cl.drain(ctx) // connections closed from here on linger (connlimit.go)
	}
	err := hs.Shutdown(ctx)
	if err != nil {
		hs.Close()
	}
	<-done
	if cl != nil {
		cl.waitLingering() // each ends by ctx's deadline or lingerTime
	}
	l.srv.logger.Info("stopped", "kind", l.kind, "addr", addr)
	return err
}

// closeGiven closes the caller's NetListener if the listener has not closed it already.
func (l *Listener) closeGiven() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.given != nil && !l.closed && l.ln == nil {
		l.closed = true
		l.given.Close()
	}
}

// addrLocked is Addr with l.mu held.
func (l *Listener) addrLocked() string {
	return l.fixedAddr(net.JoinHostPort(l.host, strconv.Itoa(l.bound)))
}
