package server

import (
	"crypto/tls"
	"maps"
	"net/http"
	"os"

	"github.com/httpskit/httpskit/internal/h2serve"
)

// HTTP2Engine selects the code that serves the HTTP/2 connections of a TLS listener
// (HTTPSConfig.HTTP2Engine). Either way net/http accepts connections and completes TLS
// handshakes, and HTTP/1.1 stays net/http's. The default is the batching engine; net/http's
// stays one switch away (HTTP2NetHTTP, or HTTPSKIT_HTTP2_ENGINE=nethttp).
type HTTP2Engine int

const (
	// HTTP2Default is the zero value: the engine named by the environment variable
	// HTTP2EngineEnv ("batching" or "nethttp") when set, else HTTP2Batching.
	HTTP2Default HTTP2Engine = iota
	// HTTP2NetHTTP serves HTTP/2 with net/http's own server (a goroutine per stream and a
	// write per response).
	HTTP2NetHTTP
	// HTTP2Batching serves HTTP/2 with httpskit's engine (internal/h2serve): one read
	// loop, handlers per stream, and the responses of many streams coalesced into one TLS
	// record and one write, for about half of net/http's server CPU per request with one
	// stream per connection and a fifth with ten (docs/benchmarks.md). It passes all 145
	// cases of h2spec 2.x (net/http: 141). It advertises 16 KiB frames (net/http 1 MiB)
	// unless Original().HTTP2.MaxReadFrameSize says otherwise.
	HTTP2Batching
)

// HTTP2EngineEnv names the environment variable that picks the engine of listeners whose
// HTTPSConfig.HTTP2Engine is HTTP2Default: "batching" or "nethttp". It is read when the
// listener is added.
const HTTP2EngineEnv = "HTTPSKIT_HTTP2_ENGINE"

func (e HTTP2Engine) resolve() HTTP2Engine {
	if e != HTTP2Default {
		return e
	}
	if os.Getenv(HTTP2EngineEnv) == "nethttp" {
		return HTTP2NetHTTP
	}
	return HTTP2Batching
}

// useHTTP2Engine makes hs hand its HTTP/2 connections to a new batching engine, when the
// listener uses it. It runs when the listener starts serving hs, so the engine follows what
// was set through Original before Start: the timeouts, MaxHeaderBytes, ErrorLog, ConnState
// and the HTTP2 limits (MaxConcurrentStreams, MaxReadFrameSize, MaxReceiveBufferPerStream
// and MaxReceiveBufferPerConnection; zero fields keep the engine's defaults, which are
// net/http's except for 16 KiB frames).
//
// A "h2" entry the user put in Original().TLSNextProto, or HTTP/2 turned off in
// Original().Protocols, leaves hs as it is.
func (l *Listener) useHTTP2Engine(hs *http.Server) {
	if l.tlsCfg == nil || l.h2 != HTTP2Batching {
		return
	}
	if _, custom := hs.TLSNextProto["h2"]; custom {
		return
	}
	if p := hs.Protocols; p != nil && !p.HTTP2() {
		return
	}
	cfg := h2serve.Config{
		MaxHeaderListSize: uint32(min(max(hs.MaxHeaderBytes, 0), 1<<30)),
		ReadHeaderTimeout: hs.ReadHeaderTimeout,
		ReadTimeout:       hs.ReadTimeout,
		WriteTimeout:      hs.WriteTimeout,
		IdleTimeout:       hs.IdleTimeout,
		ConnState:         hs.ConnState,
		ErrorLog:          hs.ErrorLog,
	}
	if c := hs.HTTP2; c != nil {
		cfg.MaxConcurrentStreams = uint32(max(c.MaxConcurrentStreams, 0))
		cfg.MaxReadFrameSize = uint32(max(c.MaxReadFrameSize, 0))
		cfg.StreamWindow = int32(min(max(c.MaxReceiveBufferPerStream, 0), 1<<31-1))
		cfg.ConnWindow = int32(min(max(c.MaxReceiveBufferPerConnection, 0), 1<<31-1))
	}
	eng := h2serve.New(cfg)
	next := maps.Clone(hs.TLSNextProto) // keeps the user's other protocols
	if next == nil {
		next = make(map[string]func(*http.Server, *tls.Conn, http.Handler))
	}
	next["h2"] = eng.TLSNextProto
	hs.TLSNextProto = next
	hs.RegisterOnShutdown(eng.Shutdown)
}
