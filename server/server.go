package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/acme"

	"github.com/httpskit/httpskit/internal/acmecert"
)

// Config configures a Server. The zero value is ready to use.
type Config struct {
	// Logger receives the server's own log lines: listeners starting and stopping, handler
	// errors and panics (with stacks, which never reach clients). Nil means no log output,
	// as upstream logs nothing unless asked.
	Logger *slog.Logger

	// MaxBodyBytes caps request bodies when the Server is mounted as an http.Handler in
	// another server through ServeHTTP (listeners use their own HTTPConfig.MaxBodyBytes).
	// Zero means DefaultMaxBodyBytes; negative means no limit.
	MaxBodyBytes int64
}

// Server is AwesomeServer for Go: any number of HTTP, HTTPS and HTTP/2 listeners sharing one
// ordered router. Create one with New. All methods are safe for concurrent use; routes may be
// added and removed while the server runs.
type Server struct {
	logger   *slog.Logger
	errorLog *log.Logger
	maxBody  int64

	routes atomic.Pointer[[]*routeEntry] // immutable snapshot, replaced on change
	rmu    sync.Mutex                    // serialises route changes

	life      sync.Mutex // serialises Start and Stop
	mu        sync.Mutex // guards listeners and running; never held while draining
	listeners []*Listener
	running   bool

	acme acmeManagers // of the ACME listeners, for HTTP-01 on the plain HTTP ones
}

var _ http.Handler = (*Server)(nil)

// New returns a Server with no listeners and no routes.
func New(cfg Config) *Server {
	s := &Server{logger: cfg.Logger, maxBody: cfg.MaxBodyBytes}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
		s.errorLog = log.New(io.Discard, "", 0)
	} else {
		s.errorLog = slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	s.routes.Store(new([]*routeEntry))
	return s
}

// AddHTTPServer adds a plain-HTTP (HTTP/1.1) listener. When the server is running the
// listener is started at once, and an error binding it is returned.
func (s *Server) AddHTTPServer(cfg HTTPConfig) (*Listener, error) {
	l, err := newListener(s, KindHTTP, cfg, nil, HTTP2NetHTTP)
	if err != nil {
		return nil, err
	}
	if err := s.add(l); err != nil {
		return nil, err
	}
	return l, nil
}

// AddHTTPSServer adds a TLS listener serving HTTP/1.1 and HTTP/2, chosen by ALPN. The
// certificate and key are loaded and checked at once; the error names the problem (missing
// file, no PEM block, key does not match, expired). Certificate, key and client CA files are
// reloaded when they change on disk (see Listener.ReloadCertificate). With cfg.ACME the
// ACME settings are checked at once, and the certificate is obtained in the background once
// the listener runs (see ACMEConfig).
func (s *Server) AddHTTPSServer(cfg HTTPSConfig) (*Listener, error) {
	return s.addTLS(KindHTTPS, cfg)
}

// AddHTTP2Server adds a TLS listener that offers HTTP/2 first, with HTTP/1.1 as the fallback
// for clients without HTTP/2 (the seed's allowHTTP1). Server push is available on it.
func (s *Server) AddHTTP2Server(cfg HTTPSConfig) (*Listener, error) {
	return s.addTLS(KindHTTP2, cfg)
}

func (s *Server) addTLS(kind string, cfg HTTPSConfig) (*Listener, error) {
	var mgr *acmecert.Manager
	if cfg.ACME != nil {
		var err error
		if mgr, err = cfg.acmeManager(s); err != nil {
			return nil, err
		}
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	if mgr != nil {
		tc.GetCertificate = mgr.GetCertificate
		tc.NextProtos = append(tc.NextProtos, acme.ALPNProto)
	}
	files := cfg.watchFiles(tc) // with ACME, only a client CA file
	l, err := newListener(s, kind, cfg.HTTPConfig, tc, cfg.HTTP2Engine.resolve())
	if err != nil {
		return nil, err
	}
	l.files = files
	if l.tickets = cfg.newTicketKeys(tc, s.logger); l.tickets != nil && files != nil && files.ca != "" {
		// The client CAs are handed out in a clone of tc that carries its own copy of the
		// keys: keep both in step.
		l.tickets.apply = func(keys [][32]byte) {
			tc.SetSessionTicketKeys(keys)
			files.setTicketKeys(keys)
		}
	}
	if mgr != nil {
		l.acme, l.hsts = mgr, !cfg.ACME.DisableHSTS
		s.acme.add(mgr)
	}
	if err := s.add(l); err != nil {
		if mgr != nil {
			s.acme.remove(mgr)
		}
		return nil, err
	}
	return l, nil
}

func (s *Server) add(l *Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		if err := l.bind(context.Background()); err != nil {
			return err
		}
		l.serve()
	}
	s.listeners = append(s.listeners, l)
	return nil
}

// RemoveServer removes a listener. A running listener stops accepting at once and its
// in-flight requests get a few seconds to finish before their connections are closed. The
// caller's NetListener, if any, is closed, whether it ran or not.
func (s *Server) RemoveServer(l *Listener) error {
	s.mu.Lock()
	i := slices.Index(s.listeners, l)
	if i < 0 {
		s.mu.Unlock()
		return ErrNotListener
	}
	s.listeners = slices.Delete(s.listeners, i, i+1)
	s.mu.Unlock()
	if l.acme != nil {
		s.acme.remove(l.acme)
	}
	ctx, cancel := context.WithTimeout(context.Background(), removeGrace)
	defer cancel()
	err := l.stop(ctx)
	l.closeGiven()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// Servers returns the listeners in the order they were added.
func (s *Server) Servers() []*Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.listeners)
}

// Start binds every listener and starts serving. It binds all or none: when one listener
// cannot bind (a busy port, a bad address), the ones already bound are closed and the error
// names the listener. Start on a running server does nothing. With no listeners, Start only
// marks the server running (requests can still reach it through ServeHTTP).
func (s *Server) Start(ctx context.Context) error {
	s.life.Lock()
	defer s.life.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return nil
	}
	for i, l := range s.listeners {
		if err := l.bind(ctx); err != nil {
			for _, b := range s.listeners[:i] {
				b.unbind()
			}
			return err
		}
	}
	for _, l := range s.listeners {
		l.serve()
	}
	s.running = true
	return nil
}

// Stop stops every listener gracefully: they stop accepting at once, and in-flight requests
// finish. When ctx ends first, the remaining connections are closed and ctx's error is
// returned. The server can be started again.
func (s *Server) Stop(ctx context.Context) error {
	s.life.Lock()
	defer s.life.Unlock()
	s.mu.Lock()
	if !s.running {
		s.mu.Unlock()
		return nil
	}
	s.running = false
	ls := slices.Clone(s.listeners)
	s.mu.Unlock()
	// Handlers still running may call into s (Servers, Running) while we wait for them.
	errs := make([]error, len(ls))
	var wg sync.WaitGroup
	for i, l := range ls {
		wg.Go(func() { errs[i] = l.stop(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Running reports whether Start succeeded and Stop has not been called since.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// ServeHTTP routes one request, so that the Server can be mounted in any net/http server or
// mux. Request bodies are capped by Config.MaxBodyBytes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.dispatch(new(exchange), w, r, s.maxBody, false)
}

// String describes the server for logs.
func (s *Server) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("server(%d listeners, running=%v)", len(s.listeners), s.running)
}
