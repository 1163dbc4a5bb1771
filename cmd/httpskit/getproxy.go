package main

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/net/http/httpproxy"

	"github.com/httpskit/httpskit/https"
)

// proxyFlag is -x/--proxy: it records that it was given, as an empty value
// means "no proxy", whatever the environment says.
type proxyFlag struct {
	url string
	set bool
}

func (p *proxyFlag) String() string     { return p.url }
func (p *proxyFlag) Set(s string) error { p.url, p.set = s, true; return nil }

// proxies is the proxy choice of one get or request run: -x, --noproxy and
// the environment, and the proxy the last connection went through (for the
// words and the exit code of a failure).
type proxies struct {
	mu   sync.Mutex
	last *url.URL // nil: the last connection was direct
}

// newAgent returns the agent of one run: the package's defaults, with the
// proxy of -x (curl's default port 1080 for http://, 443 for https://; no
// scheme means http://; "" means none) or of the environment, and the
// exceptions of --noproxy (replacing NO_PROXY; "*" means no proxy at all).
func (f *fetchFlags) newAgent(p *proxies) (*https.Agent, error) {
	var choose func(*http.Request) (*url.URL, error)
	switch {
	case f.proxy.set && f.proxy.url == "":
		return &https.Agent{Proxy: https.NoProxy}, nil
	case f.proxy.set:
		u, err := parseProxy(f.proxy.url)
		if err != nil {
			return nil, err
		}
		choose = func(*http.Request) (*url.URL, error) { return u, nil }
	default:
		env := httpproxy.FromEnvironment()
		if env.HTTPProxy == "" && env.HTTPSProxy == "" {
			return &https.Agent{}, nil
		}
		if f.noProxySet {
			env.NoProxy = "" // --noproxy replaces it
		}
		fromEnv := env.ProxyFunc()
		choose = func(r *http.Request) (*url.URL, error) { return fromEnv(r.URL) }
	}
	except := strings.TrimSpace(f.noProxy)
	if except == "*" {
		return &https.Agent{Proxy: https.NoProxy}, nil
	}
	return &https.Agent{Proxy: func(r *http.Request) (*url.URL, error) {
		var u *url.URL
		var err error
		if !noProxyMatch(except, r.URL.Hostname()) {
			u, err = choose(r)
		}
		p.mu.Lock()
		p.last = u
		p.mu.Unlock()
		return u, err
	}}, nil
}

// parseProxy reads -x's URL as curl does: http:// when it has no scheme,
// and curl's default ports.
func parseProxy(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, usagef("-x %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, usagef("-x %q: only http:// and https:// proxies are supported", raw)
	}
	if u.Hostname() == "" || u.Path != "" && u.Path != "/" {
		return nil, usagef("-x %q: want [http://|https://][user:password@]HOST[:PORT]", raw)
	}
	if u.Port() == "" {
		port := "1080" // curl's default proxy port
		if u.Scheme == "https" {
			port = "443"
		}
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	u.Path = ""
	return u, nil
}

// noProxyMatch reports whether host is one of list's exceptions, as curl's
// --noproxy reads them: comma separated names, each matching itself and its
// subdomains (a leading dot is ignored), IP addresses and CIDR prefixes.
func noProxyMatch(list, host string) bool {
	if list == "" {
		return false
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	ip, ipErr := netip.ParseAddr(host)
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(entry), "."), "."))
		entry = strings.TrimSuffix(strings.TrimPrefix(entry, "["), "]")
		switch {
		case entry == "":
		case entry == "*":
			return true
		case ipErr == nil:
			if pfx, err := netip.ParsePrefix(entry); err == nil && pfx.Contains(ip) {
				return true
			}
			if a, err := netip.ParseAddr(entry); err == nil && a == ip {
				return true
			}
		case host == entry || strings.HasSuffix(host, "."+entry):
			return true
		}
	}
	return false
}

// used returns the proxy the last connection went through, or nil.
func (p *proxies) used() *url.URL {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// explainProxy turns a failure that happened at the proxy into words and
// curl's kinds: the proxy host not resolved (5), refused (7), or the tunnel
// refused (56). It returns nil for any other failure.
func (p *proxies) explainProxy(err error) error {
	var perr *https.ProxyError
	if errors.As(err, &perr) {
		return failure(err, "%v", perr)
	}
	u := p.used()
	if u == nil {
		return nil
	}
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns) && strings.EqualFold(strings.TrimSuffix(dns.Name, "."), u.Hostname()):
		return failure(errProxyDNS, "cannot resolve proxy host %s", u.Hostname())
	case errors.Is(err, https.ErrRefused):
		return failure(err, "connection refused: nothing listens on proxy %s", u.Host)
	}
	return nil
}
