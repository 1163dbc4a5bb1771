package https

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Connect changes how the connections of the requests made with a context
// carrying it (WithConnect) are opened: where they dial, which HTTP versions
// they offer, and whether they speak TLS at all. It is what curl's
// --resolve, --http1.1 and http:// URLs need.
//
// The zero value changes nothing but keeps its own connections. A Connect
// holds its kept-alive connections apart from the agents' pools, so
// connections dialed its way serve only requests made with the same
// *Connect (and Agent, whose limits and proxy they keep; with a proxy, Dial
// is asked for the proxy's address); CloseIdleConnections closes them. Its
// fields must not change after its first request. It is safe for
// concurrent use.
type Connect struct {
	// Dial opens the TCP connection to addr, the request's "host:port"
	// with the host name not resolved (the certificate is still verified
	// against that name). Nil means a net.Dialer with a 30 s timeout.
	// Its errors are classified as the dialer's: a *net.DNSError is
	// ErrDNS, ECONNREFUSED is ErrRefused.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// HTTP1Only offers only HTTP/1.1 in the TLS handshake (no "h2" by
	// ALPN). The zero value offers HTTP/2 and HTTP/1.1; the server picks.
	HTTP1Only bool
	// Plain speaks HTTP/1.1 over TCP without TLS: an http:// URL. Then
	// Options.Port zero means 80, and CA, Cert, Key and
	// InsecureSkipVerify have no effect. The zero value uses TLS.
	Plain bool

	mu         sync.Mutex
	transports map[connectPoolKey]*http.Transport
}

// connectKey is the context key of a *Connect.
type connectKey struct{}

// WithConnect returns a copy of ctx that carries c: Request and Get called
// with it (or a context derived from it) open their connections as c says.
// A nil c removes an outer one.
func WithConnect(ctx context.Context, c *Connect) context.Context {
	return context.WithValue(ctx, connectKey{}, c)
}

// CloseIdleConnections closes the idle kept-alive connections that c
// opened. Connections in use are not interrupted. It is safe for
// concurrent use.
func (c *Connect) CloseIdleConnections() {
	c.mu.Lock()
	ts := make([]*http.Transport, 0, len(c.transports))
	for _, t := range c.transports {
		ts = append(ts, t)
	}
	c.mu.Unlock()
	for _, t := range ts {
		t.CloseIdleConnections()
	}
}

// connectFor returns the transport of a request of agent a whose plan is p,
// whose Options gave port and whose context is ctx: the agent's pooled
// transport without a Connect, else the Connect's own for that agent. A
// Connect for plain HTTP changes p to its http:// form.
func connectFor(ctx context.Context, a *Agent, p *plan, port int) *http.Transport {
	c, _ := ctx.Value(connectKey{}).(*Connect)
	if c != nil && c.Plain {
		*p = p.plain(port)
	}
	switch {
	case p.socket != "":
		return a.socketTransport(*p, c) // socket.go
	case c == nil:
		return a.transportFor(p)
	}
	return c.transport(a, p)
}

// connectPoolKey names a transport of a Connect: the agent whose settings
// (limits, proxy) it has, and the connection settings of its requests.
type connectPoolKey struct {
	agent *Agent
	poolKey
}

// transport returns c's transport for agent a and the connection settings
// of p, creating it on first use. The number of settings a program uses is
// small (see Agent.transportFor), and so is this map.
func (c *Connect) transport(a *Agent, p *plan) *http.Transport {
	pk := poolKey{tls: p.tls.key, serverName: p.serverName, maxHeader: p.maxHeader, frugal: p.memory.frugal()}
	key := connectPoolKey{agent: a, poolKey: pk}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.transports[key]; ok {
		return t
	}
	if len(c.transports) >= maxTransports {
		for k, old := range c.transports {
			old.CloseIdleConnections()
			delete(c.transports, k)
			break
		}
	}
	t := a.newTransport(p.tls, pk)
	if c.Dial != nil {
		t.DialContext = c.Dial
	}
	if c.HTTP1Only || c.Plain {
		t.Protocols = new(http.Protocols)
		t.Protocols.SetHTTP1(true)
	}
	if c.transports == nil {
		c.transports = make(map[connectPoolKey]*http.Transport)
	}
	c.transports[key] = t
	return t
}

// plain returns a copy of p for an http:// URL on port (zero: 80): the
// scheme, the URL's authority (no ":80") and the Host header unless the
// caller set one.
func (p plan) plain(port int) plan {
	if port == 0 {
		port = 80
	}
	old := p.url.Host
	host := old
	if h, _, err := net.SplitHostPort(old); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	authority := net.JoinHostPort(host, strconv.Itoa(port))
	if port == 80 {
		authority = host
		if strings.Contains(host, ":") {
			authority = "[" + host + "]"
		}
	}
	u := *p.url // the plan's URL may be shared with other requests: copy it
	u.Scheme, u.Host = "http", authority
	p.url = &u
	if p.host == old {
		p.host = authority
	}
	p.urlString = "http://" + authority + strings.TrimPrefix(p.urlString, "https://"+old)
	return p
}
