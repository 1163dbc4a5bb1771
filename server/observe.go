package server

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"
)

// RequestInfo describes one finished request of a listener, for an Observer and the access
// log. It is passed by value; Request may be kept.
type RequestInfo struct {
	// Listener is the listener the request came in on.
	Listener *Listener
	// Request is the request as net/http gave it to the router (its URL, Proto, RemoteAddr,
	// TLS and headers; its body may have been read).
	Request *http.Request
	// Start is when the listener got the request, after its headers were read. A plain HTTP
	// listener's answers to ACME HTTP-01 challenges are observed too.
	Start time.Time
	// Duration is the time the routes took, from Start until the last route returned (the
	// last bytes may still be in net/http's buffers).
	Duration time.Duration
	// Status is the status sent (for a route that wrote nothing, the 404 the router sent).
	// Zero when the request was aborted before a status went out.
	Status int
	// Bytes counts the response body bytes the routes and the router wrote, as sent: after
	// compression, without headers or HTTP/2 framing. Zero for HEAD, whose body net/http
	// drops.
	Bytes int64
	// Aborted reports that the response was cut off (a handler failed after starting it, or
	// panicked with http.ErrAbortHandler): the client got no complete response.
	Aborted bool
}

// Observer is told of every finished request of a listener (HTTPConfig.Observer), for
// metrics or logs. RequestDone is called once per request, on the request's goroutine, after
// the last route returned; it is called concurrently for concurrent requests, and so must be
// safe for concurrent use. It runs on the request path: it must be quick and must not block.
// A panic in it is treated as a panic of the request (net/http logs it and drops the
// connection). Requests through Server.ServeHTTP (a Server mounted elsewhere) are not
// observed: the outer server sees them.
type Observer interface {
	RequestDone(info RequestInfo)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(info RequestInfo)

// RequestDone calls f(info).
func (f ObserverFunc) RequestDone(info RequestInfo) { f(info) }

// Observers returns an Observer that calls each non-nil one of obs in order, or nil when
// there is none.
func Observers(obs ...Observer) Observer {
	var list multiObserver
	for _, o := range obs {
		if o != nil {
			list = append(list, o)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return list
}

type multiObserver []Observer

func (m multiObserver) RequestDone(info RequestInfo) {
	for _, o := range m {
		o.RequestDone(info)
	}
}

// AccessLogObserver returns the Observer behind HTTPConfig.AccessLog: for each request it
// logs, at level Info, the message "request" with the attributes
//
//	remote    the client's address, "IP:port"
//	method    GET, POST, ...
//	path      the request target as sent, query included
//	proto     HTTP/1.1 or HTTP/2.0
//	status    the status sent (0: none, the request was aborted)
//	bytes     response body bytes sent (after compression)
//	duration  time the routes took
//	tls       the TLS version ("TLS 1.3"), or "" over plain HTTP
//	resumed   whether the TLS session was resumed
//	ua        the User-Agent
//	aborted   true, only when the response was cut off
//
// and the record's time is when the request finished. A nil logger gives nil.
func AccessLogObserver(logger *slog.Logger) Observer {
	if logger == nil {
		return nil
	}
	return accessLog{logger}
}

type accessLog struct{ l *slog.Logger }

// RequestDone builds the record and hands it to the logger's handler directly: Logger.LogAttrs
// would also capture the caller's program counter, a stack walk that costs a tenth of a
// keep-alive request and that an access line has no use for (its source is always here).
func (a accessLog) RequestDone(info RequestInfo) {
	ctx := context.Background()
	h := a.l.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	if lh, ok := h.(*lineHandler); ok {
		lh.access(time.Now(), info) // the same line, without building a Record (loghandler.go)
		return
	}
	r := info.Request
	version, resumed := "", false
	if r.TLS != nil {
		version, resumed = tls.VersionName(r.TLS.Version), r.TLS.DidResume
	}
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("remote", r.RemoteAddr), slog.String("method", r.Method),
		slog.String("path", requestURI(r)), slog.String("proto", r.Proto), slog.Int("status", info.Status),
		slog.Int64("bytes", info.Bytes), slog.Duration("duration", info.Duration), slog.String("tls", version),
		slog.Bool("resumed", resumed), slog.String("ua", r.UserAgent()))
	if info.Aborted {
		rec.AddAttrs(slog.Bool("aborted", true))
	}
	h.Handle(ctx, rec) // a handler's write error has nowhere to go, as with Logger
}

// observer is the listener's Observer: the access log, then the configured Observer.
func (c HTTPConfig) observer() Observer {
	return Observers(AccessLogObserver(c.AccessLog), c.Observer)
}

// observe tells l's Observer about the request ex answered. It is deferred by serveHTTP: a
// panic on its way to net/http (http.ErrAbortHandler) is reported as an aborted request and
// then passed on.
func (l *Listener) observe(ex *exchange, r *http.Request, start time.Time) {
	v := recover()
	w := &ex.res.w
	info := RequestInfo{Listener: l, Request: r, Start: start, Duration: time.Since(start), Bytes: w.written, Aborted: v != nil}
	if w.wroteHeader || v == nil {
		info.Status = w.status
	}
	if r.Method == http.MethodHead {
		info.Bytes = 0
	}
	l.obs.RequestDone(info)
	if v != nil {
		panic(v)
	}
}
