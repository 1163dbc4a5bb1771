package https

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/squidtest"
)

// proxyOrigin starts a server whose certificate names origin.test, a name
// that only squid resolves (to 127.0.0.1), and returns Options for it: a
// request that reaches it went through the proxy.
func proxyOrigin(t *testing.T, h1 bool) (*server, Options) {
	t.Helper()
	cert := leaf(t, testCA(t), certs.LeafOptions{Hosts: []string{"origin.test"}})
	s := newServer(t, http.HandlerFunc(hello), serverConfig{cert: &cert, h1Only: h1})
	return s, Options{Host: "origin.test", Port: s.Port, CA: string(testCA(t).CertPEM)}
}

// viaProxy runs a GET of o through agent a and returns the body, the HTTP
// version and the error.
func viaProxy(t *testing.T, a *Agent, o Options) (string, string, error) {
	t.Helper()
	o.Agent = a
	m, body, err := do(t, o, nil)
	if err != nil {
		return "", "", err
	}
	return body, m.HTTPVersion, nil
}

// TestProxySquid: requests tunnel through a real squid (CONNECT), over an
// http:// and an https:// connection to the proxy, with and without Basic
// authentication, over HTTP/1.1 and HTTP/2 end to end.
func TestProxySquid(t *testing.T) {
	checkGoroutines(t)
	cert, key, err := testCA(t).Issue(certs.LeafOptions{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	open := squidtest.Start(t, squidtest.Config{CertPEM: cert, KeyPEM: key, Hosts: map[string]string{"origin.test": "127.0.0.1"}})
	authed := squidtest.Start(t, squidtest.Config{CertPEM: cert, KeyPEM: key, Users: map[string]string{"alice": "s3cret:x"},
		Hosts: map[string]string{"origin.test": "127.0.0.1"}})
	for _, h1 := range []bool{true, false} {
		_, o := proxyOrigin(t, h1)
		want := "2.0"
		if h1 {
			want = "1.1"
		}
		for _, tt := range []struct {
			name  string
			proxy *url.URL
			kind  error // nil: the request succeeds
		}{
			{"http proxy", open.URL, nil},
			{"https proxy", open.TLSURL, nil},
			{"http proxy with auth", squidtest.WithUser(authed.URL, "alice", "s3cret:x"), nil},
			{"https proxy with auth", squidtest.WithUser(authed.TLSURL, "alice", "s3cret:x"), nil},
			{"no credentials", authed.URL, ErrProxy},
			{"wrong password", squidtest.WithUser(authed.URL, "alice", "nope"), ErrProxy},
		} {
			a := &Agent{Proxy: http.ProxyURL(tt.proxy)}
			body, version, err := viaProxy(t, a, o)
			a.CloseIdleConnections()
			if tt.kind != nil {
				wantKind(t, err, tt.kind)
				var pe *ProxyError
				if !errors.As(err, &pe) || pe.StatusCode != http.StatusProxyAuthRequired {
					t.Errorf("%s: error %v, want a *ProxyError with status 407", tt.name, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("h1 %v, %s: %v\nsquid said:\n%s", h1, tt.name, err, authed.Log())
				continue
			}
			if body != "hello" || version != want {
				t.Errorf("h1 %v, %s: body %q over HTTP/%s, want hello over HTTP/%s", h1, tt.name, body, version, want)
			}
		}
	}
}

// TestProxyRoundTripper: an agent's RoundTripper goes through its proxy.
func TestProxyRoundTripper(t *testing.T) {
	checkGoroutines(t)
	sq := squidtest.Start(t, squidtest.Config{Users: map[string]string{"bob": "pw"}, Hosts: map[string]string{"origin.test": "127.0.0.1"}})
	_, o := proxyOrigin(t, false)
	a := &Agent{Proxy: http.ProxyURL(squidtest.WithUser(sq.URL, "bob", "pw"))}
	defer a.CloseIdleConnections()
	rt, err := a.RoundTripper(Options{CA: o.CA})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: rt}).Get("https://origin.test:" + strconv.Itoa(o.Port) + "/")
	if err != nil {
		t.Fatalf("%v\nsquid said:\n%s", err, sq.Log())
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "hello" {
		t.Errorf("body %q, %v; want hello", b, err)
	}
}

// TestProxyEnvironment: by default an agent takes its proxy from
// HTTPS_PROXY (or https_proxy) and its exceptions from NO_PROXY, as curl and
// net/http do; Agent.Proxy overrides the environment.
func TestProxyEnvironment(t *testing.T) {
	checkGoroutines(t)
	sq := squidtest.Start(t, squidtest.Config{Hosts: map[string]string{"origin.test": "127.0.0.1"}})
	_, o := proxyOrigin(t, false)
	for _, tt := range []struct {
		name  string
		env   map[string]string
		proxy func(*http.Request) (*url.URL, error)
		kind  error // nil: through the proxy; ErrDNS: direct (only squid knows origin.test)
	}{
		{"HTTPS_PROXY", map[string]string{"HTTPS_PROXY": sq.URL.String()}, nil, nil},
		{"https_proxy", map[string]string{"https_proxy": sq.URL.String()}, nil, nil},
		{"HTTP_PROXY is for http:// only", map[string]string{"HTTP_PROXY": sq.URL.String()}, nil, ErrDNS},
		{"NO_PROXY names the host", map[string]string{"HTTPS_PROXY": sq.URL.String(), "NO_PROXY": "example.com,origin.test"}, nil, ErrDNS},
		{"no_proxy by domain", map[string]string{"HTTPS_PROXY": sq.URL.String(), "no_proxy": ".test"}, nil, ErrDNS},
		{"NO_PROXY names another host", map[string]string{"HTTPS_PROXY": sq.URL.String(), "NO_PROXY": "example.com"}, nil, nil},
		{"NoProxy wins", map[string]string{"HTTPS_PROXY": sq.URL.String()}, NoProxy, ErrDNS},
		{"Agent.Proxy wins", map[string]string{"HTTPS_PROXY": "http://127.0.0.1:1"}, http.ProxyURL(sq.URL), nil},
		{"no proxy at all", nil, nil, ErrDNS},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
				t.Setenv(name, tt.env[name])
			}
			a := &Agent{Proxy: tt.proxy}
			defer a.CloseIdleConnections()
			body, _, err := viaProxy(t, a, o)
			if tt.kind != nil {
				wantKind(t, err, tt.kind)
				return
			}
			if err != nil || body != "hello" {
				t.Errorf("body %q, error %v; want hello through the proxy\nsquid said:\n%s", body, err, sq.Log())
			}
		})
	}
}

// TestProxyRefused: a proxy that is not there fails like a server that is
// not there, and says it was the proxy.
func TestProxyRefused(t *testing.T) {
	checkGoroutines(t)
	_, o := proxyOrigin(t, false)
	a := &Agent{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(closedPort(t))})}
	_, _, err := viaProxy(t, a, o)
	wantKind(t, err, ErrRefused)
	if err == nil || !strings.Contains(err.Error(), "proxyconnect") {
		t.Errorf("error %v does not say it was the proxy", err)
	}
}
