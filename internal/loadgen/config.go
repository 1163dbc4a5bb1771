package loadgen

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for the zero values of [Config].
const (
	DefaultConnections = 50
	DefaultStreams     = 10
	DefaultDuration    = 10 * time.Second
	DefaultTimeout     = 10 * time.Second
)

// Config describes one run. The zero value of every field but URL is usable.
// Run does not modify the Config, nor anything it points to.
type Config struct {
	// Mode is the load pattern. Zero means KeepAlive.
	Mode Mode

	// URL is the one address requests go to: https://host[:port]/path?query,
	// or http:// for plain HTTP/1.1 (not with H2). Run connects to its host
	// and port only and never follows redirects.
	URL string

	// Connections is the number of connections, each with its own worker
	// (H2: Streams workers). Zero means DefaultConnections.
	Connections int

	// Streams is, for H2, the number of requests in flight per connection.
	// Zero means DefaultStreams. Other modes ignore it.
	Streams int

	// Duration bounds the measured run (Idle: how long the connections are
	// held). Zero means DefaultDuration when Requests is zero, and no time
	// bound when Requests is set. At the end of Duration, requests still in
	// flight are abandoned and not counted.
	Duration time.Duration

	// Requests, when positive, stops the run after exactly that many
	// measured requests (successful or not) were sent; those in flight are
	// waited for. Zero means no count bound. Idle ignores it.
	Requests int64

	// Warmup is load applied before the measured run; its requests are not
	// counted. Zero means none. Idle ignores it.
	Warmup time.Duration

	// DisableResumption turns TLS session resumption off in New mode. By
	// default New shares one client session cache between its connections;
	// the other modes never resume.
	DisableResumption bool

	// TLSConfig is the client's TLS configuration; Run clones it and sets
	// NextProtos (and, in New mode, ClientSessionCache). Nil means the
	// defaults: system roots, verification on. An empty ServerName is set
	// from the URL's host. Ignored for http:// URLs.
	TLSConfig *tls.Config

	// Method is the request method. Empty means GET, or POST when Body is
	// not empty.
	Method string

	// Header holds extra request header fields. A Host field replaces the
	// URL's host in the request; Content-Length and Transfer-Encoding are
	// not allowed (Run sets Content-Length from Body).
	Header http.Header

	// Body is the request body sent with every request.
	Body []byte

	// Timeout bounds each request, including its connection and handshake
	// when it needs one. Zero means DefaultTimeout.
	Timeout time.Duration

	// Name is the benchmark name in Result.BenchLine. Empty means
	// "<mode>-c<connections>". It must not contain white space.
	Name string

	// Holding, if set, is called once in Idle mode when every connection
	// has been opened and has had its response, with the number held.
	Holding func(held int)

	// Progress, if set, is called about once a second during the measured
	// run with the time since it started and the requests finished so far.
	// It is called from one goroutine, never concurrently with itself.
	Progress func(elapsed time.Duration, requests int64)
}

// target is the parsed URL: where to connect and what to put in the request.
type target struct {
	url        string // as given, normalised
	scheme     string // "https" or "http"
	addr       string // host:port to dial
	host       string // Host header value
	serverName string // SNI and certificate name
	requestURI string // path?query
}

func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("loadgen: bad URL %q: %v", raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return target{}, fmt.Errorf("loadgen: URL %q: scheme must be https or http", raw)
	}
	if u.Hostname() == "" {
		return target{}, fmt.Errorf("loadgen: URL %q has no host", raw)
	}
	if u.User != nil || u.Fragment != "" {
		return target{}, fmt.Errorf("loadgen: URL %q: user info and fragments are not supported", raw)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	t := target{
		url:        u.String(),
		scheme:     u.Scheme,
		addr:       net.JoinHostPort(u.Hostname(), port),
		host:       u.Host,
		serverName: u.Hostname(),
		requestURI: u.RequestURI(),
	}
	return t, nil
}

// withDefaults returns c with its zero values replaced, or an error for a
// config no run can use.
func (c Config) withDefaults() (Config, error) {
	if c.Mode == "" {
		c.Mode = KeepAlive
	}
	if _, err := ParseMode(string(c.Mode)); err != nil {
		return c, err
	}
	if c.Connections == 0 {
		c.Connections = DefaultConnections
	}
	if c.Streams == 0 {
		c.Streams = DefaultStreams
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Duration == 0 && c.Requests == 0 {
		c.Duration = DefaultDuration
	}
	if c.Method == "" {
		c.Method = http.MethodGet
		if len(c.Body) > 0 {
			c.Method = http.MethodPost
		}
	}
	if c.Name == "" {
		c.Name = fmt.Sprintf("%s-c%d", c.Mode, c.Connections)
	}
	switch {
	case c.Connections < 0, c.Streams < 0, c.Requests < 0:
		return c, errors.New("loadgen: negative Connections, Streams or Requests")
	case c.Duration < 0, c.Warmup < 0, c.Timeout < 0:
		return c, errors.New("loadgen: negative Duration, Warmup or Timeout")
	case c.Mode == Idle && c.Duration == 0:
		return c, errors.New("loadgen: Idle needs a Duration")
	case strings.ContainsAny(c.Name, " \t\r\n"):
		return c, fmt.Errorf("loadgen: benchmark name %q contains white space", c.Name)
	case !validToken(c.Method):
		return c, fmt.Errorf("loadgen: bad method %q", c.Method)
	}
	if err := checkHeader(c.Header); err != nil {
		return c, err
	}
	return c, nil
}

// tlsConfig returns the TLS configuration for the mode, or nil for plain
// HTTP.
func (c *Config) tlsConfig(t target) *tls.Config {
	if t.scheme != "https" {
		return nil
	}
	tc := &tls.Config{}
	if c.TLSConfig != nil {
		tc = c.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = t.serverName
	}
	tc.NextProtos = []string{"http/1.1"}
	if c.Mode == H2 {
		tc.NextProtos = []string{"h2"}
	}
	tc.ClientSessionCache = nil
	if c.Mode == New && !c.DisableResumption {
		tc.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	return tc
}
