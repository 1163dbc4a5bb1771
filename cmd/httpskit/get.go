package main

import (
	"context"
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
	"time"

	"github.com/httpskit/httpskit/https"
)

const getUsage = `URL [flags]

Fetches URL (https://, or http:// without TLS) and prints the body, or writes
it to -o FILE. Flags mean what they mean in curl; short ones combine (-fsSL).`

const requestUsage = `URL [flags]

Sends a request with any method, headers, body, authentication, CA or client
certificate: -X METHOD, -H 'Name: value', -d DATA or --data-file FILE,
-u user:password. Prints the body, or writes it to -o FILE. Flags mean what
they mean in curl; short ones combine (-fsSL).`

// runGet is "httpskit get URL".
func runGet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runFetch(ctx, "get", getUsage, args, stdout, stderr)
}

// runRequest is "httpskit request URL".
func runRequest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runFetch(ctx, "request", requestUsage, args, stdout, stderr)
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// fetchFlags are the flags of get and request (curl's names where curl has
// them).
type fetchFlags struct {
	method                    string
	headers, data, dataBin    listFlag
	dataFile, user, userAgent string
	agentSet                  bool // -A given (possibly empty: no User-Agent)
	ca, cert, key             string
	insecure                  bool
	timeout, maxTime, connTO  seconds
	output, dumpHeader        string
	writeOut                  string
	remoteName, createDirs    bool
	include, head             bool
	silent, showError         bool
	verbose                   bool
	follow, fail              bool
	maxRedirs                 int
	maxFilesize               byteCount
	retry                     int
	retryDelay                seconds
	retryConnRefused          bool
	resolve                   listFlag
	http11, http2             bool
	compressed                bool
	proxy                     proxyFlag // -x, --proxy (getproxy.go)
	noProxy                   string    // --noproxy
	noProxySet                bool
	frugal                    frugalFlag      // --frugal, HTTPSKIT_FRUGAL
	local                     clientCertFlags // --cert-type, --pass, --unix-socket (get_local.go)
}

// agentFlag is -A: it records that it was given, as an empty value removes
// the header.
type agentFlag struct{ f *fetchFlags }

func (a agentFlag) String() string {
	if a.f == nil {
		return ""
	}
	return a.f.userAgent
}
func (a agentFlag) Set(s string) error { a.f.userAgent, a.f.agentSet = s, true; return nil }

func fetchFlagSet(name, usage string, f *fetchFlags, stderr io.Writer) *flag.FlagSet {
	fs := newFlagSet(name, usage, stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: httpskit %s %s\n\nflags:\n", name, usage)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s", exitCodeHelp())
	}
	fs.StringVar(&f.method, "X", "", "request `METHOD` (default GET, or POST with data)")
	fs.StringVar(&f.method, "request", "", "alias of -X")
	fs.Var(&f.headers, "H", "request header `'Name: value'` (repeatable)")
	fs.Var(&f.headers, "header", "alias of -H")
	fs.Var(agentFlag{f}, "A", "User-Agent `VALUE` (default httpskit/VERSION; empty: none)")
	fs.Var(agentFlag{f}, "user-agent", "alias of -A")
	fs.Var(&f.data, "d", "request body `DATA`; @FILE reads FILE without newlines (repeatable, joined by &)")
	fs.Var(&f.data, "data", "alias of -d")
	fs.Var(&f.dataBin, "data-binary", "request body `DATA` as is; @FILE streams FILE")
	fs.StringVar(&f.dataFile, "data-file", "", "stream the request body from `FILE`")
	fs.StringVar(&f.user, "u", "", "Basic authentication `user:password`")
	fs.StringVar(&f.user, "user", "", "alias of -u")
	fs.StringVar(&f.ca, "ca", "", "trust the CA certificates in `FILE` instead of the system roots")
	fs.StringVar(&f.ca, "cacert", "", "alias of --ca")
	fs.Var(certFlag{&f.cert, &f.local.pass}, "cert", "client certificate `FILE[:PASSWORD]` for mutual TLS (may hold the key too), as curl's: a ':' in FILE is written '\\:'; PASSWORD is --pass's and shows in ps: prefer $"+passphraseEnv)
	fs.Var(certFlag{&f.cert, &f.local.pass}, "E", "alias of --cert")
	fs.StringVar(&f.key, "key", "", "private key `FILE` of --cert (default: --cert's file)")
	f.local.register(fs)
	fs.BoolVar(&f.insecure, "k", false, "do not verify the server's certificate")
	fs.BoolVar(&f.insecure, "insecure", false, "alias of -k")
	fs.Var(&f.timeout, "timeout", "fail when nothing moves for `SECONDS` (2.5, or a duration: 30s)")
	fs.Var(&f.maxTime, "max-time", "fail when the whole transfer takes longer than `SECONDS`")
	fs.Var(&f.maxTime, "m", "alias of --max-time")
	fs.Var(&f.connTO, "connect-timeout", "fail when connecting takes longer than `SECONDS`")
	fs.StringVar(&f.output, "o", "", "write the body to `FILE` (complete, or not at all); - is stdout")
	fs.StringVar(&f.output, "output", "", "alias of -o")
	fs.BoolVar(&f.remoteName, "O", false, "write the body to a file named like the URL's last segment")
	fs.BoolVar(&f.remoteName, "remote-name", false, "alias of -O")
	fs.BoolVar(&f.createDirs, "create-dirs", false, "create the directories of -o FILE")
	fs.StringVar(&f.dumpHeader, "D", "", "write the status lines and headers to `FILE`; - is stdout")
	fs.StringVar(&f.dumpHeader, "dump-header", "", "alias of -D")
	fs.StringVar(&f.writeOut, "w", "", "print `FORMAT` after the transfer: %{http_code}, %{time_total}... (see below)")
	fs.StringVar(&f.writeOut, "write-out", "", "alias of -w")
	fs.BoolVar(&f.include, "i", false, "print the status line and headers before the body")
	fs.BoolVar(&f.include, "include", false, "alias of -i")
	fs.BoolVar(&f.head, "I", false, "send HEAD and print the status line and headers")
	fs.BoolVar(&f.head, "head", false, "alias of -I")
	fs.BoolVar(&f.silent, "s", false, "no progress meter and no error message")
	fs.BoolVar(&f.silent, "silent", false, "alias of -s")
	fs.BoolVar(&f.showError, "S", false, "with -s, still print the error message")
	fs.BoolVar(&f.showError, "show-error", false, "alias of -S")
	fs.BoolVar(&f.verbose, "v", false, "print the request, the response headers and TLS details to stderr")
	fs.BoolVar(&f.verbose, "verbose", false, "alias of -v")
	fs.BoolVar(&f.follow, "L", false, "follow redirects (off by default)")
	fs.BoolVar(&f.follow, "location", false, "alias of -L")
	fs.IntVar(&f.maxRedirs, "max-redirs", 50, "with -L, fail (exit 47) after `N` redirects (-1: no limit)")
	fs.BoolVar(&f.fail, "f", false, "fail (exit 22) on an HTTP status of 400 or more, printing no body")
	fs.BoolVar(&f.fail, "fail", false, "alias of -f")
	fs.Var(&f.maxFilesize, "max-filesize", "fail when the response body is larger than `BYTES` (suffix k, M or G: 1024s; 0: no limit)")
	fs.IntVar(&f.retry, "retry", 0, "retry a GET, HEAD, PUT, DELETE or OPTIONS up to `N` times after a timeout, a closed connection or a 408, 429, 500, 502, 503 or 504, waiting 1s, 2s, 4s... or what Retry-After says")
	fs.Var(&f.retryDelay, "retry-delay", "wait `SECONDS` between retries instead")
	fs.BoolVar(&f.retryConnRefused, "retry-connrefused", false, "with --retry, retry a refused connection too")
	fs.Var(&f.resolve, "resolve", "connect to ADDR for HOST:PORT (`HOST:PORT:ADDR`; repeatable), certificate still checked for HOST")
	fs.BoolVar(&f.http11, "http1.1", false, "use HTTP/1.1 only")
	fs.BoolVar(&f.http2, "http2", false, "use HTTP/2 when the server agrees (the default for https://; http:// stays HTTP/1.1)")
	fs.Var(&f.proxy, "x", "use the proxy at `[http://|https://][user:password@]HOST[:PORT]` (default port 1080; \"\": none, whatever HTTPS_PROXY says)")
	fs.Var(&f.proxy, "proxy", "alias of -x")
	fs.Func("noproxy", "connect directly to the hosts in `LIST` (comma separated names, their subdomains, IP addresses, CIDR prefixes; * for all), instead of NO_PROXY", func(s string) error {
		f.noProxy, f.noProxySet = s, true
		return nil
	})
	fs.BoolVar(&f.compressed, "compressed", false, "ask for a gzip-compressed body and decompress it")
	fs.Var(&f.frugal, "frugal", frugalUsage)
	return fs
}

// writeOutHelp lists the variables of -w for --help.
const writeOutHelp = `-w variables: http_code, response_code, http_version, size_download,
size_header, content_type, num_redirects, time_namelookup, time_connect,
time_appconnect, time_starttransfer, time_total, url_effective, remote_ip,
remote_port, exitcode, errormsg; %{stderr} and %{stdout} switch where the rest
goes; \n, \r and \t are escapes.
`

func runFetch(ctx context.Context, name, usage string, args []string, stdout, stderr io.Writer) error {
	var f fetchFlags
	if err := f.frugal.fromEnv(); err != nil {
		return err
	}
	fs := fetchFlagSet(name, usage, &f, stderr)
	usageWithVars := fs.Usage
	fs.Usage = func() { usageWithVars(); fmt.Fprintf(stderr, "\n%s", writeOutHelp) }
	args, err := expandShort(fs, args)
	if err != nil {
		return err
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	defer memReport(stderr, name)
	if len(pos) != 1 {
		return usagef("%s: want exactly one URL, got %d (run \"httpskit %s -h\" for the flags)", name, len(pos), name)
	}
	t, err := newTransfer(&f, pos[0], stdout, stderr)
	if err != nil {
		return err
	}
	err = t.run(ctx)
	t.writeOut(err)
	if err == nil || errors.As(err, new(usageError)) {
		return err
	}
	return exitError{code: fetchExitCode(err), err: err, quiet: f.silent && !f.showError}
}

// target is where a request goes: its options and whether it is http://.
type target struct {
	opts  https.Options
	plain bool
}

// url is the target as a URL, as curl's url_effective prints it: without
// the scheme's default port.
func (t target) url() string {
	u := url.URL{Scheme: "https", Host: t.opts.Host}
	if t.plain {
		u.Scheme = "http"
	}
	if strings.Contains(u.Host, ":") {
		u.Host = "[" + u.Host + "]"
	}
	if p := t.opts.Port; p != 0 && !(p == 443 && !t.plain) && !(p == 80 && t.plain) {
		u.Host = net.JoinHostPort(t.opts.Host, strconv.Itoa(p))
	}
	return u.Scheme + "://" + u.Host + t.opts.Path
}

// targetFromURL turns an https:// or http:// URL into a target; without a
// scheme it is https://.
func targetFromURL(raw string) (target, error) {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, usagef("bad URL %q: %v", raw, err)
	}
	var t target
	switch u.Scheme {
	case "https":
	case "http":
		t.plain = true
	default:
		return target{}, usagef("URL %q: only https:// and http:// are supported", raw)
	}
	if u.Hostname() == "" {
		return target{}, usagef("URL %q has no host", raw)
	}
	o := https.Options{Host: u.Hostname(), Path: u.EscapedPath(), Headers: http.Header{}}
	if p := u.Port(); p != "" {
		if o.Port, err = strconv.Atoi(p); err != nil || o.Port < 1 || o.Port > 65535 {
			return target{}, usagef("URL %q: bad port", raw)
		}
	} else if t.plain {
		o.Port = 80
	}
	if !t.plain && o.Port == 443 {
		o.Port = 0 // one spelling of the default, so redirects compare hosts rightly
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if u.RawQuery != "" {
		o.Path += "?" + u.RawQuery
	}
	if u.User != nil {
		o.Auth = u.User.String()
		if p, ok := u.User.Password(); ok {
			o.Auth = u.User.Username() + ":" + p
		}
	}
	t.opts = o
	return t, nil
}

// apply copies the flags into o.
func (f *fetchFlags) apply(o *https.Options) error {
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return usagef("-H %q: want 'Name: value'", h)
		}
		o.Headers.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if _, ok := o.Headers["User-Agent"]; !ok {
		ua := userAgent()
		if f.agentSet {
			ua = f.userAgent
		}
		o.Headers.Set("User-Agent", ua) // empty: none is sent
	}
	if f.compressed && o.Headers.Get("Accept-Encoding") == "" {
		o.Headers.Set("Accept-Encoding", "gzip")
	}
	if f.user != "" {
		o.Auth = f.user
	}
	key := f.key
	if key == "" {
		key = f.cert // curl's -E FILE with the key in the same file
	}
	o.CA, o.Cert, o.Key, o.InsecureSkipVerify = f.ca, f.cert, key, f.insecure
	if err := f.local.apply(o); err != nil {
		return err
	}
	o.Method = f.method
	o.MaxBodyBytes = int64(f.maxFilesize)
	o.Memory = f.frugal.memory()
	hasData := len(f.data) > 0 || len(f.dataBin) > 0 || f.dataFile != ""
	switch {
	case f.head && o.Method == "":
		o.Method = "HEAD"
	case o.Method == "" && hasData:
		o.Method = "POST"
	}
	if len(f.data)+len(f.dataBin) > 0 && o.Headers.Get("Content-Type") == "" {
		o.Headers.Set("Content-Type", "application/x-www-form-urlencoded") // as curl -d and --data-binary
	}
	switch {
	case f.output != "" && f.remoteName:
		return usagef("-o and -O exclude each other")
	case f.http11 && f.http2:
		return usagef("--http1.1 and --http2 exclude each other")
	case f.retry < 0:
		return usagef("--retry %d: want 0 or more", f.retry)
	case f.maxRedirs < -1:
		return usagef("--max-redirs %d: want -1 (no limit) or more", f.maxRedirs)
	}
	return nil
}

// bodySource opens the request body again for each attempt (redirects).
type bodySource struct {
	data []byte // in memory, or
	file string // streamed from a file
}

// body builds the request body from -d, --data-binary and --data-file.
func (f *fetchFlags) body() (*bodySource, error) {
	n := 0
	for _, set := range []bool{len(f.data) > 0, len(f.dataBin) > 0, f.dataFile != ""} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return nil, usagef("use one of -d, --data-binary and --data-file")
	case f.dataFile != "":
		return &bodySource{file: f.dataFile}, nil
	case len(f.dataBin) == 1 && strings.HasPrefix(f.dataBin[0], "@"):
		return &bodySource{file: f.dataBin[0][1:]}, nil
	case len(f.dataBin) > 0:
		return &bodySource{data: []byte(strings.Join(f.dataBin, "&"))}, nil
	case len(f.data) > 0:
		var parts []string
		for _, d := range f.data {
			if name, ok := strings.CutPrefix(d, "@"); ok {
				b, err := os.ReadFile(name)
				if err != nil {
					return nil, fmt.Errorf("-d @%s: %w", name, err)
				}
				d = strings.NewReplacer("\r", "", "\n", "").Replace(string(b))
			}
			parts = append(parts, d)
		}
		return &bodySource{data: []byte(strings.Join(parts, "&"))}, nil
	}
	return nil, nil
}

// send sends one request to t and waits for its response.
func (tr *transfer) send(ctx context.Context, t target, body *bodySource) (*https.IncomingMessage, error) {
	o := t.opts
	var src io.Reader
	if body != nil {
		if body.file != "" {
			fh, err := os.Open(body.file)
			if err != nil {
				return nil, err
			}
			defer fh.Close()
			st, err := fh.Stat()
			if err != nil {
				return nil, err
			}
			if st.Mode().IsRegular() {
				o.Headers = o.Headers.Clone()
				o.Headers.Set("Content-Length", strconv.FormatInt(st.Size(), 10))
			}
			src = fh
		} else {
			o.Headers = o.Headers.Clone()
			o.Headers.Set("Content-Length", strconv.Itoa(len(body.data)))
			src = strings.NewReader(string(body.data))
		}
	}
	ctx = tr.conn.context(ctx, t.plain)
	ctx = tr.stats.trace(ctx)
	r, err := https.Request(ctx, o, nil)
	if err != nil {
		return nil, err
	}
	r.OnSocket(tr.stats.socket)
	if tr.f.timeout > 0 {
		r.SetTimeout(time.Duration(tr.f.timeout), nil)
	}
	if d := time.Duration(tr.f.connTO); d > 0 {
		t := time.AfterFunc(d, func() {
			tr.connTimedOut.Store(true)
			r.Abort()
		})
		r.OnSocket(func(c net.Conn) { t.Stop() })
		r.OnClose(func() { t.Stop() })
	}
	if tr.f.verbose {
		verboseRequest(tr.stderr, r, o)
	}
	if src != nil {
		if _, err := io.Copy(r, src); err != nil {
			r.Abort()
			if _, rerr := r.Response(); rerr != nil && !errors.Is(rerr, https.ErrAborted) {
				return nil, rerr
			}
			return nil, err
		}
	}
	if err := r.End(); err != nil {
		return nil, err
	}
	return r.Response()
}
