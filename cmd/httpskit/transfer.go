package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/httpskit/httpskit/https"
)

// transfer is one run of get or request: the request as the flags describe
// it, where its output goes, and the figures -w prints.
type transfer struct {
	f              *fetchFlags
	first, last    target // as given, and after redirects
	body           *bodySource
	stdout         *countingWriter
	stderr         io.Writer
	conn           *connector
	agent          *https.Agent // this run's: pool and proxy
	proxies        proxies
	stats          stats
	headers        io.Writer // -D, opened on first use
	headersFile    *os.File
	connTimedOut   atomic.Bool // --connect-timeout fired
	expectedLength int64       // Content-Length of the body being read; -1: unknown
}

func newTransfer(f *fetchFlags, rawURL string, stdout, stderr io.Writer) (*transfer, error) {
	t, err := targetFromURL(rawURL)
	if err != nil {
		return nil, err
	}
	if err := f.apply(&t.opts); err != nil {
		return nil, err
	}
	body, err := f.body()
	if err != nil {
		return nil, err
	}
	conn, err := newConnector(f)
	if err != nil {
		return nil, err
	}
	tr := &transfer{f: f, body: body, stdout: &countingWriter{w: stdout},
		stderr: stderr, conn: conn, expectedLength: -1}
	if tr.agent, err = f.newAgent(&tr.proxies); err != nil {
		return nil, err
	}
	t.opts.Agent = tr.agent
	tr.first, tr.last = t, t
	return tr, nil
}

// run makes the transfer, retrying as --retry says, and returns its
// failure in words for people, its kind kept for the exit code.
func (tr *transfer) run(ctx context.Context) error {
	if d := time.Duration(tr.f.maxTime); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, errMaxTime)
		defer cancel()
	}
	defer tr.conn.closeIdle()
	defer tr.agent.CloseIdleConnections()
	defer tr.closeHeaders()
	for attempt := 0; ; attempt++ {
		tr.stats.reset()
		err := tr.classify(ctx, tr.once(ctx, tr.mayRetry(attempt)))
		tr.stats.end()
		wait, why, ok := tr.retryWait(err, attempt)
		if !ok {
			return err
		}
		if !tr.f.silent {
			fmt.Fprintf(tr.stderr, "httpskit: %s; retrying in %v, %d retries left\n", why, wait, tr.f.retry-attempt)
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return tr.classify(ctx, ctx.Err())
		}
	}
}

// once sends the request, follows redirects with -L and writes the final
// response. When mayRetry, a response whose status says "try again" is not
// written but returned as a *retryStatus.
func (tr *transfer) once(ctx context.Context, mayRetry bool) error {
	cur, body := tr.first, tr.body
	for redirects := 0; ; redirects++ {
		tr.last = cur
		res, err := tr.send(ctx, cur, body)
		if err != nil {
			return err
		}
		tr.stats.response(res)
		if err := tr.dumpHeaders(res); err != nil {
			res.Close()
			return err
		}
		if tr.f.follow {
			next, plain, ok, err := https.RedirectPlain(cur.opts, cur.plain, res.StatusCode, res.Headers.Get("Location"))
			if err != nil {
				res.Close()
				return err
			}
			if ok {
				res.Close()
				if tr.f.maxRedirs >= 0 && redirects >= tr.f.maxRedirs {
					return failure(errTooManyRedirects, "maximum (%d) redirects followed (--max-redirs)", tr.f.maxRedirs)
				}
				if next.Method != cur.opts.Method && next.Method == "GET" {
					body = nil // 303, or 301/302 after a POST: a GET without the body
				}
				cur = target{opts: next, plain: plain}
				tr.stats.redirected()
				continue
			}
		}
		if mayRetry && retryableStatus(res.StatusCode) {
			res.Close()
			return &retryStatus{code: res.StatusCode, after: retryAfter(res.Headers.Get("Retry-After"))}
		}
		return tr.output(res)
	}
}

// classify turns the failure of an attempt into words: the end of
// --max-time (with the bytes that arrived), Ctrl-C, --connect-timeout, or
// what package https said (explain).
func (tr *transfer) classify(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(context.Cause(ctx), errMaxTime):
		got := tr.stats.size.Load()
		of := ""
		if tr.expectedLength >= 0 {
			of = " of " + strconv.FormatInt(tr.expectedLength, 10)
		}
		return failure(errMaxTime, "timed out after --max-time %v with %d%s bytes received", time.Duration(tr.f.maxTime), got, of)
	case ctx.Err() != nil:
		return failure(errInterrupted, "interrupted with %d bytes received", tr.stats.size.Load())
	case tr.connTimedOut.Load():
		return failure(https.ErrTimeout, "timed out: no connection after --connect-timeout %v", time.Duration(tr.f.connTO))
	}
	if perr := tr.proxies.explainProxy(err); perr != nil {
		return perr
	}
	return explain(err, tr.last.opts)
}

// retryStatus is a response that says "try again": 408, 429, 500, 502,
// 503 or 504, as curl's --retry counts them.
type retryStatus struct {
	code  int
	after time.Duration // from Retry-After; -1: none
}

func (e *retryStatus) Error() string { return fmt.Sprintf("the server answered %d", e.code) }

func retryableStatus(code int) bool {
	switch code {
	case 408, 429, 500, 502, 503, 504:
		return true
	}
	return false
}

// retryAfter reads a Retry-After value: seconds or an HTTP date. It returns
// -1 when there is none or it does not parse.
func retryAfter(v string) time.Duration {
	if v == "" {
		return -1
	}
	if n, err := strconv.ParseInt(v, 10, 32); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return -1
}

// maxRetryWait bounds the backoff between retries, as curl's.
const maxRetryWait = 10 * time.Minute

// retryWait says whether err after attempt (from 0) is retried, after how
// long, and why. Only idempotent methods are retried, and only when nothing
// went to standard output yet (it cannot be taken back; -o files are written
// whole or not at all).
func (tr *transfer) retryWait(err error, attempt int) (time.Duration, string, bool) {
	if err == nil || !tr.mayRetry(attempt) {
		return 0, "", false
	}
	wait := time.Second << min(attempt, 10)
	if tr.f.retryDelay > 0 {
		wait = time.Duration(tr.f.retryDelay)
	}
	wait = min(wait, maxRetryWait)
	var rs *retryStatus
	switch {
	case errors.As(err, &rs):
		if rs.after >= 0 {
			wait = rs.after
		}
		return wait, fmt.Sprintf("HTTP %d", rs.code), true
	case errors.Is(err, errMaxTime), errors.Is(err, errInterrupted):
		return 0, "", false
	case errors.Is(err, https.ErrTimeout), errors.Is(err, https.ErrClosed), errors.Is(err, https.ErrTruncated):
		return wait, err.Error(), true
	case errors.Is(err, https.ErrRefused) && tr.f.retryConnRefused:
		return wait, err.Error(), true
	}
	return 0, "", false
}

// mayRetry reports whether a failure of attempt (from 0) may be retried:
// --retry allows another, the method is idempotent, and nothing went to
// standard output yet.
func (tr *transfer) mayRetry(attempt int) bool {
	if attempt >= tr.f.retry || tr.stdout.n > 0 {
		return false
	}
	switch tr.first.opts.Method {
	case "", "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE":
		return true
	}
	return false
}

// dumpHeaders writes res's status line and headers to the -D file.
func (tr *transfer) dumpHeaders(res *https.IncomingMessage) error {
	if tr.f.dumpHeader == "" {
		return nil
	}
	if tr.headers == nil {
		if tr.f.dumpHeader == "-" {
			tr.headers = tr.stdout
		} else {
			if err := tr.createDirs(tr.f.dumpHeader); err != nil {
				return err
			}
			f, err := os.Create(tr.f.dumpHeader)
			if err != nil {
				return failure(errWrite, "cannot write -D %s: %v", tr.f.dumpHeader, err)
			}
			tr.headers, tr.headersFile = f, f
		}
	}
	if err := writeHead(tr.headers, res, ""); err != nil {
		return failure(errWrite, "cannot write -D %s: %v", tr.f.dumpHeader, err)
	}
	return nil
}

func (tr *transfer) closeHeaders() {
	if tr.headersFile != nil {
		tr.headersFile.Close()
	}
}

// createDirs makes the directories of name with --create-dirs.
func (tr *transfer) createDirs(name string) error {
	if !tr.f.createDirs {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return failure(errWrite, "--create-dirs: %v", err)
	}
	return nil
}

// countingWriter counts what it writes.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
