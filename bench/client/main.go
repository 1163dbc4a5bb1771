// Command client is the Go side of the client comparison of the benchmark suite: the same GETs
// made with package https (-impl httpskit) or with net/http (-impl nethttp).
//
//	go build -o client ./bench/client
//	client -impl httpskit|nethttp -mode seq|par|download|one -url URL [-n 1000] [-p 50] [-ca FILE] [-h2]
//
// Modes:
//
//	seq       -n sequential GETs on one kept-alive connection
//	par       -p GETs at once, all of which must succeed
//	download  one GET, its body read and counted, checked against Content-Length
//	one       one GET (for the peak RSS of a process that makes one request)
//
// HTTP/1.1 only unless -h2, which offers HTTP/2 too (ALPN decides). It prints one JSON line,
//
//	{"impl":"httpskit","mode":"seq","n":1000,"wall_ms":225.1,"bytes":13000,"proto":"HTTP/1.1"}
//
// where wall_ms is the time of the requests, process start and flag parsing excluded, and
// exits 1 on any failure, with a message on stderr (2 for bad usage).
//
// Both implementations load the CA file once and are configured alike: TLS 1.2 minimum, no
// compression, the same connection pool bounds. The httpskit side is given the CA as PEM text:
// given a file name, package https reads the file again for every request (so that a renewed
// CA takes effect at once), which a program making many requests would not ask for.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/httpskit/httpskit/https"
)

func main() {
	// Package https offers HTTP/2 by ALPN and has no switch for it: the Go runtime's own
	// switch turns the HTTP/2 client off for the whole process. It must be set before the
	// first request, so it is set here, before run.
	if wantHTTP1Only(os.Args[1:]) {
		os.Setenv("GODEBUG", strings.TrimPrefix(os.Getenv("GODEBUG")+",http2client=0", ","))
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// wantHTTP1Only reports whether args ask for package https without -h2.
func wantHTTP1Only(args []string) bool {
	cfg, err := parse(args, io.Discard)
	return err == nil && cfg.impl == "httpskit" && !cfg.h2
}

type config struct {
	impl, mode, url, ca string
	n, p                int
	h2                  bool
}

// result is the JSON line.
type result struct {
	Impl   string  `json:"impl"`
	Mode   string  `json:"mode"`
	N      int     `json:"n"`
	WallMS float64 `json:"wall_ms"`
	Bytes  int64   `json:"bytes"`
	Proto  string  `json:"proto"`
}

func parse(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.impl, "impl", "", "httpskit or nethttp")
	fs.StringVar(&cfg.mode, "mode", "seq", "seq, par, download or one")
	fs.StringVar(&cfg.url, "url", "", "https:// URL to GET")
	fs.StringVar(&cfg.ca, "ca", "", "PEM file of the CA to trust (default: the system roots)")
	fs.IntVar(&cfg.n, "n", 1000, "seq: number of sequential GETs")
	fs.IntVar(&cfg.p, "p", 50, "par: number of parallel GETs")
	fs.BoolVar(&cfg.h2, "h2", false, "offer HTTP/2 as well as HTTP/1.1")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	case cfg.impl != "httpskit" && cfg.impl != "nethttp":
		return cfg, fmt.Errorf("-impl %q: want httpskit or nethttp", cfg.impl)
	case cfg.mode != "seq" && cfg.mode != "par" && cfg.mode != "download" && cfg.mode != "one":
		return cfg, fmt.Errorf("-mode %q: want seq, par, download or one", cfg.mode)
	case !strings.HasPrefix(cfg.url, "https://"):
		return cfg, fmt.Errorf("-url %q: want an https:// URL", cfg.url)
	case cfg.n < 1 || cfg.p < 1:
		return cfg, errors.New("-n and -p must be at least 1")
	}
	return cfg, nil
}

// run is the program; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parse(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "client:", err)
		}
		return 2
	}
	var caPEM []byte
	if cfg.ca != "" {
		if caPEM, err = os.ReadFile(cfg.ca); err != nil {
			fmt.Fprintln(stderr, "client:", err)
			return 1
		}
	}
	var g getter
	switch cfg.impl {
	case "httpskit":
		g, err = newHTTPSKit(cfg, caPEM)
	default:
		g, err = newNetHTTP(cfg, caPEM)
	}
	if err != nil {
		fmt.Fprintln(stderr, "client:", err)
		return 1
	}
	defer g.close()
	res, err := measure(ctx, cfg, g)
	if err != nil {
		fmt.Fprintln(stderr, "client:", err)
		return 1
	}
	if !cfg.h2 && res.Proto != "HTTP/1.1" {
		fmt.Fprintf(stderr, "client: %s negotiated without -h2\n", res.Proto)
		return 1
	}
	line, _ := json.Marshal(res)
	fmt.Fprintf(stdout, "%s\n", line)
	return 0
}

// measure makes the requests of cfg.mode with g.
func measure(ctx context.Context, cfg config, g getter) (result, error) {
	res := result{Impl: cfg.impl, Mode: cfg.mode}
	buf := make([]byte, 32<<10)
	start := time.Now()
	switch cfg.mode {
	case "seq":
		res.N = cfg.n
		for i := range cfg.n {
			n, proto, err := g.get(ctx, buf, false)
			if err != nil {
				return res, fmt.Errorf("request %d: %w", i+1, err)
			}
			res.Bytes += n
			res.Proto = proto
		}
	case "par":
		res.N = cfg.p
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			first error
		)
		for range cfg.p {
			wg.Go(func() {
				n, proto, err := g.get(ctx, make([]byte, 32<<10), false)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && first == nil {
					first = err
				}
				res.Bytes += n
				res.Proto = proto
			})
		}
		wg.Wait()
		if first != nil {
			return res, first
		}
	default: // download, one
		res.N = 1
		n, proto, err := g.get(ctx, buf, cfg.mode == "download")
		if err != nil {
			return res, err
		}
		res.Bytes, res.Proto = n, proto
	}
	res.WallMS = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// getter makes one GET of the URL and reads its body to the end into buf. With check, a
// response without Content-Length is an error, and so is a body of another length. It returns
// the body's length and the protocol, as "HTTP/1.1".
type getter interface {
	get(ctx context.Context, buf []byte, check bool) (int64, string, error)
	close()
}

// readAll reads r to io.EOF into buf and returns the bytes read.
func readAll(r io.Reader, buf []byte) (int64, error) {
	var total int64
	for {
		n, err := r.Read(buf)
		total += int64(n)
		switch {
		case err == io.EOF:
			return total, nil
		case err != nil:
			return total, err
		}
	}
}

func checkLength(got, want int64) error {
	if want < 0 {
		return errors.New("download: the response has no Content-Length")
	}
	if got != want {
		return fmt.Errorf("download: %d bytes, Content-Length %d", got, want)
	}
	return nil
}

func checkStatus(code int) error {
	if code != http.StatusOK {
		return fmt.Errorf("status %d", code)
	}
	return nil
}

type httpsKit struct{ opts https.Options }

func newHTTPSKit(cfg config, caPEM []byte) (*httpsKit, error) {
	u, err := url.Parse(cfg.url)
	if err != nil {
		return nil, err
	}
	port := 443
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("-url %q: port %q", cfg.url, p)
		}
	}
	return &httpsKit{opts: https.Options{Host: u.Hostname(), Port: port, Path: u.RequestURI(), CA: string(caPEM)}}, nil
}

func (h *httpsKit) get(ctx context.Context, buf []byte, check bool) (int64, string, error) {
	r, err := https.Get(ctx, h.opts, nil)
	if err != nil {
		return 0, "", err
	}
	m, err := r.Response()
	if err != nil {
		return 0, "", err
	}
	n, err := readAll(m, buf)
	if err != nil {
		return n, "", err
	}
	if err := checkStatus(m.StatusCode); err != nil {
		return n, "", err
	}
	if check {
		want := int64(-1)
		if v := m.Headers.Get("Content-Length"); v != "" {
			if want, err = strconv.ParseInt(v, 10, 64); err != nil {
				return n, "", fmt.Errorf("download: Content-Length %q", v)
			}
		}
		if err := checkLength(n, want); err != nil {
			return n, "", err
		}
	}
	return n, protoName(m.HTTPVersion), nil
}

// protoName is "HTTP/" + version, as net/http's Response.Proto, without a
// concatenation per request for the usual versions (the harness's cost, not
// the client's).
func protoName(version string) string {
	switch version {
	case "1.1":
		return "HTTP/1.1"
	case "2.0":
		return "HTTP/2.0"
	}
	return "HTTP/" + version
}

func (h *httpsKit) close() { https.CloseIdleConnections() }

type netHTTP struct {
	client    *http.Client
	transport *http.Transport
	url       string
}

// newNetHTTP configures an http.Transport as package https configures its own.
func newNetHTTP(cfg config, caPEM []byte) (*netHTTP, error) {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caPEM != nil {
		tlsCfg.RootCAs = x509.NewCertPool()
		if !tlsCfg.RootCAs.AppendCertsFromPEM(caPEM) {
			return nil, fmt.Errorf("-ca %s: no certificate found", cfg.ca)
		}
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(cfg.h2)
	t := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   10 * time.Second,
		DisableCompression:    true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     cfg.h2,
		Protocols:             protocols,
	}
	client := &http.Client{
		Transport: t,
		// package https does not follow redirects either
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &netHTTP{client: client, transport: t, url: cfg.url}, nil
}

func (h *netHTTP) get(ctx context.Context, buf []byte, check bool) (int64, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	n, err := readAll(resp.Body, buf)
	if err != nil {
		return n, "", err
	}
	if err := checkStatus(resp.StatusCode); err != nil {
		return n, "", err
	}
	if check {
		if err := checkLength(n, resp.ContentLength); err != nil {
			return n, "", err
		}
	}
	return n, resp.Proto, nil
}

func (h *netHTTP) close() { h.transport.CloseIdleConnections() }
