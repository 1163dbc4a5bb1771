package https

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/net/http/httpproxy"
)

// proxyFunc returns the agent's proxy function: Proxy, or the environment's
// proxy read once, at the agent's first connection.
func (a *Agent) proxyFunc() func(*http.Request) (*url.URL, error) {
	a.proxyOnce.Do(func() {
		if a.Proxy != nil {
			a.proxy = a.Proxy
			return
		}
		env := httpproxy.FromEnvironment()
		if env.HTTPProxy == "" && env.HTTPSProxy == "" {
			return // nil: net/http does not even ask
		}
		fromEnv := env.ProxyFunc()
		a.proxy = func(r *http.Request) (*url.URL, error) { return fromEnv(r.URL) }
	})
	return a.proxy
}

// ProxyError is the cause of an *Error of kind ErrProxy: the proxy answered
// the CONNECT that opens a tunnel with a status other than 200.
type ProxyError struct {
	Proxy      string // the proxy's host and port
	StatusCode int    // e.g. 407
	Status     string // e.g. "407 Proxy Authentication Required"
}

// Error says which proxy refused and how, with a hint for 407.
func (e *ProxyError) Error() string {
	msg := fmt.Sprintf("proxy %s answered CONNECT with %s", e.Proxy, e.Status)
	if e.StatusCode == http.StatusProxyAuthRequired {
		msg += " (give user:password in the proxy URL)"
	}
	return msg
}

// proxyRefused is the transports' OnProxyConnectResponse: a refused tunnel
// becomes a *ProxyError, which kindOf reports as ErrProxy.
func proxyRefused(_ context.Context, proxy *url.URL, _ *http.Request, resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return &ProxyError{Proxy: proxy.Host, StatusCode: resp.StatusCode, Status: resp.Status}
}
