package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
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
	tlsCfg  *tls.Config       // nil for plain HTTP
	files   *certFiles        // nil unless the certificate or client CA comes from files (reload.go)
	acme    *acmecert.Manager // nil unless the certificate comes from ACME (acme.go)
	hsts    bool              // send Strict-Transport-Security (ACME listeners)
	tickets *ticketKeys       // nil when crypto/tls handles session tickets alone (ticketkeys.go)

	mu      sync.Mutex
	hs      *http.Server // current net/http server; replaced after a stop
	used    bool         // hs has served and cannot serve again
	ln      net.Listener // bound socket while running
	bound   int          // bound port while running
	serving chan struct{}
	conns   connTracking // connection limits (connlimit.go)
}

// Kind returns "HTTP", "HTTPS" or "HTTP/2".
func (l *Listener) Kind() string { return l.kind }

// Host returns the configured host ("localhost" when none was given).
func (l *Listener) Host() string { return l.host }

// Port returns the bound port while running, otherwise the configured port (0 for
// RandomPort before the first start).
func (l *Listener) Port() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		return l.bound
	}
	return l.port
}

// Addr returns "host:port" of the bound socket while running, else of the configuration.
func (l *Listener) Addr() string {
	return net.JoinHostPort(l.host, strconv.Itoa(l.Port()))
}

// URL returns the base URL of the listener, such as "https://localhost:7080".
func (l *Listener) URL() string {
	scheme := "https"
	if l.tlsCfg == nil {
		scheme = "http"
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
// Start (for example ConnState or ErrorLog); they are carried over to the fresh http.Server
// that a restart after Stop needs. While the listener runs with a MaxConns limit, ConnState
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

func newListener(s *Server, kind string, cfg HTTPConfig, tlsCfg *tls.Config) (*Listener, error) {
	if cfg.Port < RandomPort || cfg.Port > 65535 {
		return nil, fmt.Errorf("server: port %d out of range (0 for %d, RandomPort for any free port, or 1-65535)", cfg.Port, DefaultPort)
	}
	host, port := cfg.hostPort()
	l := &Listener{srv: s, kind: kind, host: host, port: port, lim: cfg.limits(), tlsCfg: tlsCfg}
	l.hs = l.newHTTPServer(nil)
	return l, nil
}

// newHTTPServer makes the net/http server, copying user-set fields from prev when given.
func (l *Listener) newHTTPServer(prev *http.Server) *http.Server {
	hs := &http.Server{
		Handler: http.HandlerFunc(l.serveHTTP),
		// Handshakes use l.tlsCfg (tls.NewListener in serve); Serve only sets HTTP/2
		// defaults in this copy, which it writes to as it starts: a write that raced with
		// clones of l.tlsCfg taken on a reload or by GetConfigForClient.
		TLSConfig:         l.tlsCfg.Clone(),
		ReadHeaderTimeout: l.lim.readHeader,
		ReadTimeout:       l.lim.read,
		WriteTimeout:      l.lim.write,
		IdleTimeout:       l.lim.idle,
		MaxHeaderBytes:    l.lim.maxHeader,
		ErrorLog:          l.srv.errorLog,
	}
	hs.Protocols = new(http.Protocols)
	hs.Protocols.SetHTTP1(true)
	if l.tlsCfg != nil {
		hs.Protocols.SetHTTP2(true)
	}
	if prev != nil {
		hs.Handler = prev.Handler
		hs.ReadHeaderTimeout = prev.ReadHeaderTimeout
		hs.ReadTimeout = prev.ReadTimeout
		hs.WriteTimeout = prev.WriteTimeout
		hs.IdleTimeout = prev.IdleTimeout
		hs.MaxHeaderBytes = prev.MaxHeaderBytes
		hs.ErrorLog = prev.ErrorLog
		hs.ConnState = prev.ConnState
		hs.ConnContext = prev.ConnContext
		hs.BaseContext = prev.BaseContext
		hs.HTTP2 = prev.HTTP2
		hs.Protocols = prev.Protocols
		hs.DisableGeneralOptionsHandler = prev.DisableGeneralOptionsHandler
	}
	return hs
}

func (l *Listener) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if l.tlsCfg == nil && l.srv.acme.serveChallenge(w, r) {
		return
	}
	if l.hsts {
		w.Header()["Strict-Transport-Security"] = hstsValue
	}
	l.srv.dispatch(w, r, l.lim.maxBody, true)
}

// bind opens the socket. It does not serve yet.
func (l *Listener) bind(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		return nil
	}
	addr := net.JoinHostPort(l.host, strconv.Itoa(l.port))
	var lc net.ListenConfig
	var ln net.Listener
	var err error
	if strings.EqualFold(l.host, DefaultHost) {
		ln, err = listenLocalhost(ctx, &lc, l.port) // 127.0.0.1 and [::1] (localhost.go)
	} else {
		ln, err = lc.Listen(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("server: start %s listener on %s: %w", l.kind, addr, err)
	}
	l.ln = ln
	l.bound = ln.Addr().(*net.TCPAddr).Port
	return nil
}

// unbind closes a socket opened by bind that never served.
func (l *Listener) unbind() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		l.ln.Close()
		l.ln = nil
	}
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
	ln := l.limitConns(hs, l.ln)
	if l.tlsCfg != nil {
		ln = tls.NewListener(ln, l.tlsCfg)
	}
	done := make(chan struct{})
	l.serving = done
	l.srv.logger.Info("listening", "kind", l.kind, "addr", net.JoinHostPort(l.host, strconv.Itoa(l.bound)))
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
			l.srv.logger.Error("listener stopped", "kind", l.kind, "err", err)
		}
	}()
}

// stop shuts the listener down gracefully; when ctx ends first it closes every connection.
func (l *Listener) stop(ctx context.Context) error {
	l.mu.Lock()
	hs, done := l.hs, l.serving
	ln := l.ln
	cl := l.conns.cur
	l.ln, l.serving = nil, nil
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
	l.srv.logger.Info("stopped", "kind", l.kind, "addr", net.JoinHostPort(l.host, strconv.Itoa(l.bound)))
	return err
}
