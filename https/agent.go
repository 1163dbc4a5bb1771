package https

import (
	"crypto/sha256"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Agent holds what requests share: the pool of kept-alive connections and
// its limits, the proxy settings, the checked TLS settings, the client
// pairs opened with a passphrase and the request plans of recent Options,
// and the TLS session caches. It is Node's
// https.Agent. Options.Agent names the agent of a request; nil means
// DefaultAgent.
//
// The zero value is ready to use: net/http's pool limits, the proxy from the
// environment (HTTPS_PROXY, NO_PROXY), TLS session resumption on. Set its
// fields before its first request and do not change them afterwards. Its
// methods are safe for concurrent use. An Agent that is no longer needed
// should have its idle connections closed (CloseIdleConnections); it holds
// nothing else that needs closing. An Agent must not be copied after first
// use.
type Agent struct {
	// MaxConnsPerHost bounds the connections to one host and port, busy,
	// dialing and idle together: Node's maxSockets. A request beyond the
	// bound waits for a connection (HTTP/2 streams share one). Zero means
	// no bound.
	MaxConnsPerHost int
	// MaxIdleConnsPerHost bounds the idle connections kept alive per host
	// and port: Node's maxFreeSockets. Zero means 16, or 2 for a
	// MemoryFrugal connection; negative keeps none alive.
	MaxIdleConnsPerHost int
	// MaxIdleConns bounds the idle connections kept alive in all, per TLS
	// setting. Zero means 100, or 4 for MemoryFrugal.
	MaxIdleConns int
	// IdleConnTimeout closes a connection idle that long. Zero means 90
	// seconds, or 30 for MemoryFrugal.
	IdleConnTimeout time.Duration
	// Proxy returns the proxy for a request, as net/http's
	// Transport.Proxy: http.ProxyURL(u) always uses u, NoProxy never uses
	// one. A nil URL means a direct connection. The proxy URL may be
	// http:// or https:// (then the proxy's own certificate is verified
	// against the request's CA, or the system roots) and may carry
	// "user:password@" for the proxy's Basic authentication. https://
	// targets go through a CONNECT tunnel, so the proxy sees only the host
	// and port. Zero (nil) means the environment, as curl and net/http read
	// it: HTTPS_PROXY or https_proxy for https:// URLs, HTTP_PROXY for
	// http:// ones, NO_PROXY or no_proxy for the exceptions, read when the
	// agent makes its first connection. Requests to localhost and loopback
	// addresses never use the environment's proxy (net/http's rule).
	Proxy func(*http.Request) (*url.URL, error)

	proxyOnce sync.Once
	proxy     func(*http.Request) (*url.URL, error) // resolved Proxy

	plans recent[Options, plan]          // plans, without TLS, of recent Options
	tls   recent[tlsInputs, tlsSettings] // checked settings of recent TLS inputs
	pairs recent[pairInputs, [2]string]  // PEM text of recent client pairs opened with a passphrase (pfx.go)

	last       atomic.Pointer[pooled] // the entry transportFor returned last
	mu         sync.Mutex
	transports map[poolKey]*pooled
	sockets    map[socketKey]*http.Transport // Options.SocketPath (socket.go)
}

// DefaultAgent is the agent of requests whose Options.Agent is nil. Its
// fields should not be changed once requests were made with it.
var DefaultAgent = &Agent{}

// NoProxy is an Agent.Proxy that never uses a proxy, whatever the
// environment says.
func NoProxy(*http.Request) (*url.URL, error) { return nil, nil }

// maxTransports bounds the pool for programs that use many TLS settings.
const maxTransports = 32

// sessionCacheSize is the number of TLS sessions each TLS setting of an
// agent remembers for resumption.
const sessionCacheSize = 32

// pooled is one entry of the pool: checked settings and their transport.
type pooled struct {
	key       poolKey
	settings  tlsSettings
	transport *http.Transport
}

// poolKey names a pooled transport: the key of its TLS settings and the
// other settings of a connection that requests may set (the name the
// certificate is checked against, the bound on the response header
// section, and whether it is frugal with memory).
type poolKey struct {
	tls        [sha256.Size]byte
	serverName string
	maxHeader  int64
	frugal     bool
}

// agentOf returns the agent of opts.
func agentOf(opts *Options) *Agent {
	if opts.Agent != nil {
		return opts.Agent
	}
	return DefaultAgent
}

// pooledSettings returns the parsed settings pooled under key, if any.
// It is called only for TLS inputs not seen recently, so a scan of the
// (small) pool is cheap enough.
func (a *Agent) pooledSettings(key [sha256.Size]byte) (tlsSettings, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, e := range a.transports {
		if k.tls == key {
			return e.settings, true
		}
	}
	return tlsSettings{}, false
}

// transportFor returns the pooled transport for the connection settings of
// p, creating it on first use. The entry it returned last is looked at
// first, without the lock: requests in a row mostly share one.
func (a *Agent) transportFor(p *plan) *http.Transport {
	key := poolKey{tls: p.tls.key, serverName: p.serverName, maxHeader: p.maxHeader, frugal: p.memory.frugal()}
	if e := a.last.Load(); e != nil && e.key == key {
		return e.transport
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.transports[key]; ok {
		a.last.Store(e)
		return e.transport
	}
	if a.transports == nil {
		a.transports = make(map[poolKey]*pooled)
	}
	if len(a.transports) >= maxTransports {
		// Evict one: its requests in flight finish; its idle connections go.
		for k, old := range a.transports {
			old.transport.CloseIdleConnections()
			delete(a.transports, k)
			a.last.CompareAndSwap(old, nil)
			break
		}
	}
	e := &pooled{key: key, settings: p.tls, transport: a.newTransport(p.tls, key)}
	a.transports[key] = e
	a.last.Store(e)
	return e.transport
}

// newTransport makes the transport of TLS settings s for the connection
// settings of key: the agent's limits and proxy, and a TLS session cache of
// its own (a session is resumed only under the settings that verified it).
func (a *Agent) newTransport(s tlsSettings, key poolKey) *http.Transport {
	cfg := s.config(key.serverName)
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(sessionCacheSize)
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                  a.proxyFunc(),
		OnProxyConnectResponse: proxyRefused,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        cfg,
		TLSHandshakeTimeout:    10 * time.Second,
		DisableCompression:     true,          // headers and body as the server sent them
		MaxResponseHeaderBytes: key.maxHeader, // HTTP/2 derives MAX_HEADER_LIST_SIZE from it
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
		ForceAttemptHTTP2:      true,
		Protocols:              protocols,
	}
	if key.frugal {
		makeFrugal(t)
	}
	if a.MaxIdleConns != 0 {
		t.MaxIdleConns = a.MaxIdleConns
	}
	switch {
	case a.MaxIdleConnsPerHost < 0:
		t.DisableKeepAlives = true
	case a.MaxIdleConnsPerHost > 0:
		t.MaxIdleConnsPerHost = a.MaxIdleConnsPerHost
	}
	if a.IdleConnTimeout > 0 {
		t.IdleConnTimeout = a.IdleConnTimeout
	}
	t.MaxConnsPerHost = a.MaxConnsPerHost
	return t
}

// CloseIdleConnections closes the agent's idle kept-alive connections.
// Connections in use are not interrupted; they stay open for reuse when
// their requests end. It is safe for concurrent use.
func (a *Agent) CloseIdleConnections() {
	a.mu.Lock()
	ts := make([]*http.Transport, 0, len(a.transports)+len(a.sockets))
	for _, e := range a.transports {
		ts = append(ts, e.transport)
	}
	for _, t := range a.sockets {
		ts = append(ts, t)
	}
	a.mu.Unlock()
	for _, t := range ts {
		t.CloseIdleConnections()
	}
}

// CloseIdleConnections closes the idle kept-alive connections of
// DefaultAgent: DefaultAgent.CloseIdleConnections.
func CloseIdleConnections() { DefaultAgent.CloseIdleConnections() }
