package main

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/httpskit/httpskit/https"
)

// connector decides how get and request connect: --resolve, --http1.1 and
// http:// URLs, through https.Connect. Without them requests use the
// package's pooled connections as they are.
type connector struct {
	resolve map[string][]string // "host:port", lower case -> addresses
	http11  bool
	secure  *https.Connect // made on first use
	plain   *https.Connect
}

// newConnector reads the --resolve entries (HOST:PORT:ADDR[,ADDR...], an
// IPv6 ADDR in brackets) and --http1.1.
func newConnector(f *fetchFlags) (*connector, error) {
	c := &connector{http11: f.http11}
	for _, entry := range f.resolve {
		host, rest, ok := strings.Cut(entry, ":")
		port, addrs, ok2 := strings.Cut(rest, ":")
		if p, err := strconv.Atoi(port); !ok || !ok2 || host == "" || addrs == "" || err != nil || p < 1 || p > 65535 {
			return nil, usagef("--resolve %q: want HOST:PORT:ADDR", entry)
		}
		var list []string
		for _, a := range strings.Split(addrs, ",") {
			a = strings.TrimSuffix(strings.TrimPrefix(a, "["), "]")
			if net.ParseIP(a) == nil {
				return nil, usagef("--resolve %q: %q is not an IP address", entry, a)
			}
			list = append(list, a)
		}
		if c.resolve == nil {
			c.resolve = make(map[string][]string)
		}
		key := strings.ToLower(net.JoinHostPort(strings.Trim(host, "[]"), port))
		c.resolve[key] = append(c.resolve[key], list...)
	}
	return c, nil
}

// context returns ctx carrying the https.Connect for a request to an
// http:// (plain) or https:// URL, or ctx itself when nothing changes.
func (c *connector) context(ctx context.Context, plain bool) context.Context {
	var dial func(context.Context, string, string) (net.Conn, error)
	if c.resolve != nil {
		dial = c.dial
	}
	switch {
	case plain:
		if c.plain == nil {
			c.plain = &https.Connect{Plain: true, Dial: dial}
		}
		return https.WithConnect(ctx, c.plain)
	case dial != nil || c.http11:
		if c.secure == nil {
			c.secure = &https.Connect{Dial: dial, HTTP1Only: c.http11}
		}
		return https.WithConnect(ctx, c.secure)
	}
	return ctx
}

// dialTimeout bounds one dial, as package https's own dialer.
const dialTimeout = 30 * time.Second

// dial connects to the --resolve addresses of addr in turn, or to addr.
func (c *connector) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	addrs, ok := c.resolve[strings.ToLower(addr)]
	if !ok {
		return d.DialContext(ctx, network, addr)
	}
	_, port, _ := net.SplitHostPort(addr)
	var err error
	for _, a := range addrs {
		var conn net.Conn
		if conn, err = d.DialContext(ctx, network, net.JoinHostPort(a, port)); err == nil {
			return conn, nil
		}
	}
	return nil, err
}

// closeIdle closes the connections the transfer kept.
func (c *connector) closeIdle() {
	for _, hc := range []*https.Connect{c.secure, c.plain} {
		if hc != nil {
			hc.CloseIdleConnections()
		}
	}
}
