package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/httpskit/httpskit/https"
)

const getUsage = `URL [flags]

Fetches URL with https.get and prints the body (or writes it to -o FILE).`

const requestUsage = `URL [flags]

Sends a request with https.request: -X METHOD, -H 'Name: value', -d DATA or
--data-file FILE, -u user:password; prints the body (or writes it to -o FILE).`

// runGet is "httpskit get URL": https.get.
func runGet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runFetch(ctx, "get", getUsage, args, stdout, stderr)
}

// runRequest is "httpskit request URL": https.request.
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
	method                   string
	headers, data, dataBin   listFlag
	dataFile, user           string
	ca, cert, key            string
	insecure                 bool
	timeout, maxTime, connTO time.Duration
	output                   string
	remoteName               bool
	include, head            bool
	silent, verbose          bool
	follow, fail             bool
	maxFilesize              byteCount
	frugal                   frugalFlag      // --frugal, HTTPSKIT_FRUGAL
	local                    clientCertFlags // --cert-type, --pass, --unix-socket (get_local.go)
}

func fetchFlagSet(name, usage string, f *fetchFlags, stderr io.Writer) *flag.FlagSet {
	fs := newFlagSet(name, usage, stderr)
	fs.StringVar(&f.method, "X", "", "request `METHOD` (default GET, or POST with data)")
	fs.StringVar(&f.method, "request", "", "alias of -X")
	fs.Var(&f.headers, "H", "request header `'Name: value'` (repeatable)")
	fs.Var(&f.headers, "header", "alias of -H")
	fs.Var(&f.data, "d", "request body `DATA`; @FILE reads FILE without newlines (repeatable, joined by &)")
	fs.Var(&f.data, "data", "alias of -d")
	fs.Var(&f.dataBin, "data-binary", "request body `DATA` as is; @FILE streams FILE")
	fs.StringVar(&f.dataFile, "data-file", "", "stream the request body from `FILE`")
	fs.StringVar(&f.user, "u", "", "Basic authentication `user:password`")
	fs.StringVar(&f.user, "user", "", "alias of -u")
	fs.StringVar(&f.ca, "ca", "", "trust the CA certificates in `FILE` instead of the system roots")
	fs.StringVar(&f.ca, "cacert", "", "alias of --ca")
	fs.StringVar(&f.cert, "cert", "", "client certificate `FILE` for mutual TLS")
	fs.StringVar(&f.cert, "E", "", "alias of --cert")
	fs.StringVar(&f.key, "key", "", "private key `FILE` of --cert")
	f.local.register(fs)
	fs.BoolVar(&f.insecure, "k", false, "do not verify the server's certificate")
	fs.BoolVar(&f.insecure, "insecure", false, "alias of -k")
	fs.DurationVar(&f.timeout, "timeout", 0, "fail when nothing moves for `DURATION` (e.g. 30s)")
	fs.DurationVar(&f.maxTime, "max-time", 0, "fail when the whole transfer takes longer than `DURATION`")
	fs.DurationVar(&f.connTO, "connect-timeout", 0, "fail when connecting takes longer than `DURATION`")
	fs.StringVar(&f.output, "o", "", "write the body to `FILE` (complete, or not at all)")
	fs.StringVar(&f.output, "output", "", "alias of -o")
	fs.BoolVar(&f.remoteName, "O", false, "write the body to a file named like the URL's last segment")
	fs.BoolVar(&f.include, "i", false, "print the status line and headers before the body")
	fs.BoolVar(&f.include, "include", false, "alias of -i")
	fs.BoolVar(&f.head, "I", false, "send HEAD and print the status line and headers")
	fs.BoolVar(&f.head, "head", false, "alias of -I")
	fs.BoolVar(&f.silent, "s", false, "no progress bar")
	fs.BoolVar(&f.silent, "silent", false, "alias of -s")
	fs.BoolVar(&f.verbose, "v", false, "print the request, the response headers and TLS details to stderr")
	fs.BoolVar(&f.verbose, "verbose", false, "alias of -v")
	fs.BoolVar(&f.follow, "L", false, "follow redirects (off by default, as in the seed)")
	fs.BoolVar(&f.follow, "location", false, "alias of -L")
	fs.BoolVar(&f.fail, "f", false, "exit 1 on an HTTP status of 400 or more")
	fs.BoolVar(&f.fail, "fail", false, "alias of -f")
	fs.Var(&f.maxFilesize, "max-filesize", "fail when the response body is larger than `BYTES` (suffix k, M or G: 1024s; 0: no limit)")
	fs.Var(&f.frugal, "frugal", frugalUsage)
	return fs
}

func runFetch(ctx context.Context, name, usage string, args []string, stdout, stderr io.Writer) error {
	var f fetchFlags
	if err := f.frugal.fromEnv(); err != nil {
		return err
	}
	fs := fetchFlagSet(name, usage, &f, stderr)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	defer memReport(stderr, name)
	if len(pos) != 1 {
		fs.Usage()
		return usagef("%s: want exactly one URL, got %d", name, len(pos))
	}
	opts, err := optionsFromURL(pos[0])
	if err != nil {
		return err
	}
	if err := f.apply(&opts); err != nil {
		return err
	}
	body, err := f.body()
	if err != nil {
		return err
	}
	if f.maxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.maxTime)
		defer cancel()
	}
	out := &output{f: &f, stdout: stdout, stderr: stderr, opts: &opts}
	for redirects := 0; ; redirects++ {
		res, err := fetch(ctx, &f, opts, body, stderr)
		if err != nil {
			if ctx.Err() != nil && f.maxTime > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("timed out after --max-time %v", f.maxTime)
			}
			return explain(err, opts)
		}
		loc := res.Headers.Get("Location")
		if f.follow && loc != "" && isRedirect(res.StatusCode) {
			res.Close()
			if redirects >= 10 {
				return errors.New("too many redirects (10)")
			}
			if opts, err = redirectTo(opts, loc); err != nil {
				return err
			}
			if res.StatusCode == 303 || (res.StatusCode == 301 || res.StatusCode == 302) && opts.Method == "POST" {
				opts.Method, body = "GET", nil
				opts.Headers.Del("Content-Length")
				opts.Headers.Del("Content-Type")
			}
			continue
		}
		return out.write(ctx, res)
	}
}

// optionsFromURL turns an https URL into Options.
func optionsFromURL(raw string) (https.Options, error) {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return https.Options{}, usagef("bad URL %q: %v", raw, err)
	}
	if u.Scheme != "https" {
		return https.Options{}, usagef("URL %q: only https:// is supported", raw)
	}
	if u.Hostname() == "" {
		return https.Options{}, usagef("URL %q has no host", raw)
	}
	o := https.Options{Host: u.Hostname(), Path: u.EscapedPath(), Headers: http.Header{}}
	if p := u.Port(); p != "" {
		if o.Port, err = strconv.Atoi(p); err != nil {
			return o, usagef("URL %q: bad port", raw)
		}
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
	return o, nil
}

// redirectTo resolves loc against the current request.
func redirectTo(o https.Options, loc string) (https.Options, error) {
	base := &url.URL{Scheme: "https", Host: o.Host, Path: "/"}
	if o.Port != 0 {
		base.Host = fmt.Sprintf("%s:%d", o.Host, o.Port)
		if strings.Contains(o.Host, ":") {
			base.Host = fmt.Sprintf("[%s]:%d", o.Host, o.Port)
		}
	}
	if p, q, ok := strings.Cut(o.Path, "?"); ok {
		base.Path, base.RawQuery = p, q
	} else {
		base.Path = o.Path
	}
	u, err := base.Parse(loc)
	if err != nil {
		return o, fmt.Errorf("bad redirect Location %q: %v", loc, err)
	}
	next, err := optionsFromURL(u.String())
	if err != nil {
		return o, fmt.Errorf("redirect to %q: %v", u, err)
	}
	if next.Host != o.Host || next.Port != o.Port {
		o.Headers.Del("Authorization") // as curl: no credentials to another host
		o.Auth = ""
	}
	o.Host, o.Port, o.Path = next.Host, next.Port, next.Path
	return o, nil
}

func isRedirect(code int) bool {
	switch code {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
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
	if f.user != "" {
		o.Auth = f.user
	}
	o.CA, o.Cert, o.Key, o.InsecureSkipVerify = f.ca, f.cert, f.key, f.insecure
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
	if len(f.data) > 0 && o.Headers.Get("Content-Type") == "" {
		o.Headers.Set("Content-Type", "application/x-www-form-urlencoded") // as curl -d
	}
	if f.output != "" && f.remoteName {
		return usagef("-o and -O exclude each other")
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

// fetch sends one request and waits for its response.
func fetch(ctx context.Context, f *fetchFlags, o https.Options, body *bodySource, stderr io.Writer) (*https.IncomingMessage, error) {
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
	r, err := https.Request(ctx, o, nil)
	if err != nil {
		return nil, err
	}
	if f.timeout > 0 {
		r.SetTimeout(f.timeout, nil)
	}
	if f.connTO > 0 {
		t := time.AfterFunc(f.connTO, func() {
			fmt.Fprintf(stderr, "httpskit: no connection after --connect-timeout %v\n", f.connTO)
			r.Abort()
		})
		r.OnSocket(func(c net.Conn) { t.Stop() })
		r.OnClose(func() { t.Stop() })
	}
	if f.verbose {
		verboseRequest(stderr, r, o)
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

// explain turns an *https.Error into a one-line reason with a hint.
func explain(err error, o https.Options) error {
	host := o.Host
	if o.Port != 0 {
		host = fmt.Sprintf("%s:%d", o.Host, o.Port)
	}
	switch {
	case errors.Is(err, https.ErrInvalidRequest):
		return usageError{err}
	case errors.Is(err, https.ErrSelfSigned): // before ErrUnknownAuthority, which it also is
		return errors.New("server certificate is self-signed: pass that certificate as --ca FILE to trust it, or --insecure")
	case errors.Is(err, https.ErrUnknownAuthority):
		return errors.New("certificate signed by unknown authority: pass --ca FILE or --insecure")
	case errors.Is(err, https.ErrNameMismatch):
		return fmt.Errorf("certificate is not valid for %s: use a name it covers, or --insecure", o.Host)
	case errors.Is(err, https.ErrNotYetValid): // before ErrExpired, which it also is
		return fmt.Errorf("server certificate is not valid until %s: check the clocks of this machine and the server, or pass --insecure",
			certDate(err, func(c *x509.Certificate) time.Time { return c.NotBefore }))
	case errors.Is(err, https.ErrExpired):
		return fmt.Errorf("server certificate expired on %s: the server must renew it, or pass --insecure",
			certDate(err, func(c *x509.Certificate) time.Time { return c.NotAfter }))
	case errors.Is(err, https.ErrClientCertRefused) && o.Cert == "":
		return errors.New("the server requires a client certificate: pass --cert FILE --key FILE")
	case errors.Is(err, https.ErrClientCertRefused):
		return errors.New("the server refused the client certificate: pass --cert FILE --key FILE that it trusts")
	case errors.Is(err, https.ErrHeaderTooLarge):
		limit := o.MaxHeaderBytes
		if limit == 0 {
			limit = https.DefaultMaxHeaderBytes
		}
		return fmt.Errorf("the server's response headers are larger than %d bytes", limit)
	case errors.Is(err, https.ErrBodyTooLarge):
		return fmt.Errorf("maximum file size exceeded: the response body is larger than --max-filesize %d bytes", o.MaxBodyBytes)
	case errors.Is(err, https.ErrRefused) && o.SocketPath != "":
		return fmt.Errorf("connection refused: nothing listens on the Unix socket %s", o.SocketPath)
	case errors.Is(err, https.ErrRefused):
		return fmt.Errorf("connection refused: nothing listens on %s", host)
	case errors.Is(err, https.ErrDNS):
		return fmt.Errorf("cannot resolve host %s", o.Host)
	case errors.Is(err, https.ErrTimeout):
		return fmt.Errorf("timed out: %v", err)
	case errors.Is(err, https.ErrAborted):
		return errors.New("aborted")
	}
	return err
}

// certDate returns the date of the certificate that err names (x509's
// CertificateInvalidError), or "an unknown date".
func certDate(err error, date func(*x509.Certificate) time.Time) string {
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Cert != nil {
		return date(inv.Cert).UTC().Format(time.RFC3339)
	}
	return "an unknown date"
}

// byteCount is a size flag in bytes, with curl's optional suffixes k, M and
// G (multiples of 1024).
type byteCount int64

func (b *byteCount) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteCount) Set(s string) error {
	mult := int64(1)
	if i := len(s) - 1; i > 0 {
		switch s[i] {
		case 'k', 'K':
			mult, s = 1<<10, s[:i]
		case 'm', 'M':
			mult, s = 1<<20, s[:i]
		case 'g', 'G':
			mult, s = 1<<30, s[:i]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return errors.New("want a number of bytes, optionally with k, M or G")
	}
	*b = byteCount(n * mult)
	return nil
}

// output writes a response: headers (-i, -I, -v), then the body to stdout
// or a file, with a progress bar on a terminal.
type output struct {
	f              *fetchFlags
	stdout, stderr io.Writer
	opts           *https.Options
}

func (w *output) write(ctx context.Context, res *https.IncomingMessage) error {
	defer res.Close()
	if w.f.verbose {
		writeHead(w.stderr, res, "< ")
	}
	if w.f.include || w.f.head {
		writeHead(w.stdout, res, "")
	}
	if w.f.fail && res.StatusCode >= 400 {
		return fmt.Errorf("the server answered %d %s", res.StatusCode, res.StatusMessage)
	}
	if w.f.head {
		_, err := io.Copy(io.Discard, res)
		return err
	}
	name := w.f.output
	if w.f.remoteName {
		name = path.Base(strings.SplitN(w.opts.Path, "?", 2)[0])
		if name == "/" || name == "." || name == "" {
			name = "index.html"
		}
	}
	var src io.Reader = res
	if !w.f.silent && name != "" && isTerminal(w.stderr) {
		total, _ := strconv.ParseInt(res.Headers.Get("Content-Length"), 10, 64)
		p := newProgress(w.stderr, total)
		defer p.done()
		src = io.TeeReader(res, p)
	}
	if name == "" {
		if _, err := io.Copy(w.stdout, src); err != nil {
			return explain(err, *w.opts)
		}
		return nil
	}
	return writeFileAtomic(name, src, w.opts)
}

// writeFileAtomic writes src to a temporary file next to name and renames
// it into place once complete; on failure nothing is left behind. A name
// that is a symbolic link is written through (its target is replaced). A
// name that exists and is not a regular file (/dev/null, a FIFO, a
// terminal) is written to directly: renaming over it would replace the
// device with a file.
func writeFileAtomic(name string, src io.Reader, o *https.Options) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(name); err == nil {
		if !fi.Mode().IsRegular() {
			return writeSpecial(name, src, o)
		}
		mode = fi.Mode().Perm()
		if target, err := filepath.EvalSymlinks(name); err == nil {
			name = target
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return explain(err, *o)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// writeSpecial copies src into an existing file that is not a regular
// file, such as /dev/null, without creating, truncating or replacing it.
func writeSpecial(name string, src io.Reader, o *https.Options) error {
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return explain(err, *o)
	}
	return f.Close()
}

// writeHead prints the status line and the headers, sorted, each line
// prefixed.
func writeHead(w io.Writer, res *https.IncomingMessage, prefix string) {
	fmt.Fprintf(w, "%sHTTP/%s %d %s\r\n", prefix, res.HTTPVersion, res.StatusCode, res.StatusMessage)
	names := make([]string, 0, len(res.Headers))
	for k := range res.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range res.Headers[k] {
			fmt.Fprintf(w, "%s%s: %s\r\n", prefix, k, v)
		}
	}
	fmt.Fprintf(w, "%s\r\n", prefix)
}

// verboseRequest prints, as curl -v, the connection, TLS details and the
// request head to w.
func verboseRequest(w io.Writer, r *https.ClientRequest, o https.Options) {
	r.OnSocket(func(c net.Conn) {
		fmt.Fprintf(w, "* connected to %s (%s)\n", o.Host, c.RemoteAddr())
		if tc, ok := c.(*tls.Conn); ok {
			st := tc.ConnectionState()
			fmt.Fprintf(w, "* %s, %s, ALPN %q\n", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol)
			if len(st.PeerCertificates) > 0 {
				leaf := st.PeerCertificates[0]
				fmt.Fprintf(w, "* server certificate: %s, issuer %s, expires %s\n",
					leaf.Subject, leaf.Issuer, leaf.NotAfter.Format(time.RFC3339))
			}
		}
		method := o.Method
		if method == "" {
			method = "GET"
		}
		fmt.Fprintf(w, "> %s %s\n", method, o.Path)
		names := make([]string, 0, len(o.Headers))
		for k := range o.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			for _, v := range o.Headers[k] {
				fmt.Fprintf(w, "> %s: %s\n", k, v)
			}
		}
		fmt.Fprintln(w, ">")
	})
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws a one-line progress bar with rate and ETA; it counts the
// bytes written to it.
type progress struct {
	w            io.Writer
	total, n     int64
	start, drawn time.Time
}

func newProgress(w io.Writer, total int64) *progress {
	return &progress{w: w, total: total, start: time.Now()}
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if now := time.Now(); now.Sub(p.drawn) >= 200*time.Millisecond {
		p.drawn = now
		p.draw()
	}
	return len(b), nil
}

func (p *progress) draw() {
	elapsed := time.Since(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.n) / elapsed
	}
	line := fmt.Sprintf("%s  %s/s", byteSize(float64(p.n)), byteSize(rate))
	if p.total > 0 {
		frac := min(float64(p.n)/float64(p.total), 1)
		const width = 30
		bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
		eta := "--:--"
		if rate > 0 {
			left := time.Duration(float64(p.total-p.n) / rate * float64(time.Second)).Round(time.Second)
			eta = fmt.Sprintf("%d:%02d", int(left.Minutes()), int(left.Seconds())%60)
		}
		line = fmt.Sprintf("%3.0f%% [%s] %s of %s  %s/s  ETA %s", frac*100, bar,
			byteSize(float64(p.n)), byteSize(float64(p.total)), byteSize(rate), eta)
	}
	fmt.Fprintf(p.w, "\r%-78s", line)
}

// done draws the final state and ends the line.
func (p *progress) done() {
	p.draw()
	fmt.Fprintln(p.w)
}

// byteSize formats n bytes as B, KiB, MiB or GiB.
func byteSize(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", n, units[i])
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}
