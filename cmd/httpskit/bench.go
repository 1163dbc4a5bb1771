package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/loadgen"
)

const benchUsage = `URL [flags]

Loads URL with requests and reports requests per second, latency
percentiles, errors by kind, the negotiated TLS parameters and this
process's CPU time, ending with a line in Go benchmark format.

modes (--mode):
  keepalive  HTTP/1.1 keep-alive, one request at a time per connection
  h2         HTTP/2, -m streams in flight per connection
  new        a new TLS connection per request (Connection: close);
             --resume=false turns session resumption off
  idle       open -c connections, one GET each, hold them idle for
             --duration, then close

It stops after --duration or -n requests, whichever comes first, or on
Ctrl-C, and still prints the result. It connects only to URL's host and
port and never follows redirects.`

// benchFlags are the flags of "httpskit bench".
type benchFlags struct {
	mode             string
	conns, streams   int
	duration, warmup time.Duration
	requests         int64
	resume           bool
	curves           string
	method           string
	headers          listFlag
	body, bodyFile   string
	ca               string
	insecure         bool
	timeout          time.Duration
	jsonOut, quiet   bool
	name             string
}

func benchFlagSet(f *benchFlags, stderr io.Writer) *flag.FlagSet {
	fs := newFlagSet("bench", benchUsage, stderr)
	fs.StringVar(&f.mode, "mode", "keepalive", "`MODE`: keepalive, h2, new or idle")
	fs.IntVar(&f.conns, "c", loadgen.DefaultConnections, "number of connections `N`")
	fs.IntVar(&f.conns, "connections", loadgen.DefaultConnections, "alias of -c")
	fs.IntVar(&f.streams, "m", loadgen.DefaultStreams, "h2: concurrent streams `N` per connection")
	fs.IntVar(&f.streams, "streams", loadgen.DefaultStreams, "alias of -m")
	fs.DurationVar(&f.duration, "duration", loadgen.DefaultDuration, "measured run time `D` (idle: how long to hold the connections)")
	fs.Int64Var(&f.requests, "n", 0, "stop after `N` measured requests (0 = no count bound)")
	fs.Int64Var(&f.requests, "requests", 0, "alias of -n")
	fs.DurationVar(&f.warmup, "warmup", 0, "load run `D` before measuring, not counted")
	fs.BoolVar(&f.resume, "resume", true, "new mode: TLS session resumption (--resume=false for full handshakes)")
	fs.StringVar(&f.curves, "curves", "", "key-exchange groups to offer, comma separated `LIST` (X25519, X25519MLKEM768, P256, ...); default Go's")
	fs.StringVar(&f.method, "X", "", "request `METHOD` (default GET, or POST with a body)")
	fs.Var(&f.headers, "H", "request header `'Name: value'` (repeatable)")
	fs.Var(&f.headers, "header", "alias of -H")
	fs.StringVar(&f.body, "body", "", "request body `DATA`")
	fs.StringVar(&f.bodyFile, "body-file", "", "request body read from `FILE`")
	fs.StringVar(&f.ca, "ca", "", "trust the CA certificates in `FILE` instead of the system roots")
	fs.StringVar(&f.ca, "cacert", "", "alias of --ca")
	fs.BoolVar(&f.insecure, "k", false, "do not verify the server's certificate")
	fs.BoolVar(&f.insecure, "insecure", false, "alias of -k")
	fs.DurationVar(&f.timeout, "timeout", loadgen.DefaultTimeout, "limit `D` for each request, its connection included")
	fs.BoolVar(&f.jsonOut, "json", false, "print the result as one JSON object")
	fs.StringVar(&f.name, "name", "", "`NAME` in the Go benchmark line (default <mode>-c<N>)")
	fs.BoolVar(&f.quiet, "q", false, "no progress line (shown only when stderr is a terminal)")
	fs.BoolVar(&f.quiet, "quiet", false, "alias of -q")
	return fs
}

// runBench is "httpskit bench URL": the load generator.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f benchFlags
	fs := benchFlagSet(&f, stderr)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("bench: want exactly one URL, got %d", len(pos))
	}
	cfg, err := f.config(pos[0], fs)
	if err != nil {
		return err
	}
	if cfg.Mode == loadgen.Idle {
		cfg.Holding = func(n int) { fmt.Fprintf(stderr, "bench: holding %d idle connections\n", n) }
	}
	var prog *benchProgress
	if !f.quiet && isTerminal(stderr) {
		prog = &benchProgress{w: stderr}
		cfg.Progress = prog.show
	}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return usageError{err}
	}
	prog.clear()
	if f.jsonOut {
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
			return err
		}
	} else if err := res.WriteText(stdout); err != nil {
		return err
	}
	return benchOutcome(res, cfg)
}

// config checks the flags and turns them into a loadgen.Config.
func (f *benchFlags) config(rawURL string, fs *flag.FlagSet) (loadgen.Config, error) {
	var cfg loadgen.Config
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		return cfg, usagef("bench: bad URL %q: %v", rawURL, err)
	case u.Scheme != "https" && u.Scheme != "http":
		return cfg, usagef("bench: URL %q: want https:// (or http://)", rawURL)
	case u.Hostname() == "":
		return cfg, usagef("bench: URL %q has no host", rawURL)
	}
	mode, err := loadgen.ParseMode(f.mode)
	if err != nil {
		return cfg, usagef("bench: --mode %q: want keepalive, h2, new or idle", f.mode)
	}
	switch {
	case f.conns < 1:
		return cfg, usagef("bench: -c %d: want at least 1 connection", f.conns)
	case mode == loadgen.H2 && f.streams < 1:
		return cfg, usagef("bench: -m %d: want at least 1 stream", f.streams)
	case f.requests < 0:
		return cfg, usagef("bench: -n %d: want 0 (no count bound) or more", f.requests)
	case f.duration <= 0 && (f.requests == 0 || mode == loadgen.Idle):
		return cfg, usagef("bench: --duration %v: want a positive duration (or -n)", f.duration)
	case f.timeout <= 0:
		return cfg, usagef("bench: --timeout %v: want a positive duration", f.timeout)
	case f.warmup < 0:
		return cfg, usagef("bench: --warmup %v: want 0 or more", f.warmup)
	case isSet(fs, "resume") && mode != loadgen.New:
		return cfg, usagef("bench: --resume applies to --mode new only")
	case mode == loadgen.Idle && (f.requests > 0 || f.warmup > 0):
		return cfg, usagef("bench: -n and --warmup do not apply to --mode idle")
	case mode == loadgen.H2 && u.Scheme != "https":
		return cfg, usagef("bench: --mode h2 needs an https:// URL")
	case f.body != "" && f.bodyFile != "":
		return cfg, usagef("bench: use one of --body and --body-file")
	case strings.ContainsAny(f.name, " \t\r\n"):
		return cfg, usagef("bench: --name %q: no white space allowed", f.name)
	}
	cfg = loadgen.Config{
		Mode:              mode,
		URL:               rawURL,
		Connections:       f.conns,
		Duration:          max(f.duration, 0),
		Requests:          f.requests,
		Warmup:            f.warmup,
		DisableResumption: !f.resume,
		Method:            f.method,
		Timeout:           f.timeout,
		Name:              f.name,
		Header:            http.Header{},
	}
	if mode == loadgen.H2 {
		cfg.Streams = f.streams
	}
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return cfg, usagef("bench: -H %q: want 'Name: value'", h)
		}
		cfg.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	switch {
	case f.bodyFile != "":
		b, err := os.ReadFile(f.bodyFile)
		if err != nil {
			return cfg, usagef("bench: --body-file: %v", err)
		}
		cfg.Body = b
	case f.body != "":
		cfg.Body = []byte(f.body)
	}
	tc := &tls.Config{InsecureSkipVerify: f.insecure}
	if f.ca != "" {
		pool, err := certs.LoadCertPool(f.ca)
		if err != nil {
			return cfg, usagef("bench: --ca: %v", err)
		}
		tc.RootCAs = pool
	}
	if f.curves != "" {
		ids, err := loadgen.ParseCurves(f.curves)
		if err != nil {
			return cfg, usagef("bench: --curves: %v", err)
		}
		tc.CurvePreferences = ids
	}
	cfg.TLSConfig = tc
	return cfg, nil
}

// benchOutcome turns a run where nothing worked into an error (exit 1) that
// says why; a run with some failures is still a success (exit 0).
func benchOutcome(res *loadgen.Result, cfg loadgen.Config) error {
	worked := res.OK > 0
	if cfg.Mode == loadgen.Idle {
		worked = res.IdleHeld > 0
	}
	if worked {
		return nil
	}
	host := cfg.URL
	if u, err := url.Parse(cfg.URL); err == nil {
		host = u.Host
	}
	switch {
	case res.Errors["tls: unknown authority"] > 0:
		return errors.New("bench: certificate signed by unknown authority: pass --ca FILE or --insecure")
	case res.Errors["tls: name mismatch"] > 0:
		return fmt.Errorf("bench: the certificate is not valid for %s: use a name it covers, or --insecure", host)
	case res.Errors["connect refused"] > 0:
		return fmt.Errorf("bench: connection refused: nothing listens on %s", host)
	case res.Errors["dns"] > 0:
		return fmt.Errorf("bench: cannot resolve %s", host)
	case res.Requests > 0:
		return errors.New("bench: every response had an error status")
	}
	return errors.New("bench: no request succeeded")
}

// benchProgress draws "requests so far, req/s, elapsed" on one terminal line.
type benchProgress struct {
	w     io.Writer
	drawn bool
}

func (p *benchProgress) show(elapsed time.Duration, requests int64) {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(requests) / s
	}
	fmt.Fprintf(p.w, "\r%-60s", fmt.Sprintf("bench: %5.1fs  %d requests  %.0f req/s", elapsed.Seconds(), requests, rate))
	p.drawn = true
}

// clear removes the progress line, if one was drawn.
func (p *benchProgress) clear() {
	if p != nil && p.drawn {
		fmt.Fprintf(p.w, "\r%-60s\r", "")
	}
}
