package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/httpskit/httpskit/https"
	"github.com/httpskit/httpskit/internal/loadgen"
)

// opTimeout bounds one operation of a custom load; a request that takes longer fails with
// "timeout" and counts as unexpected.
const opTimeout = time.Minute

// loadEnv is what every load needs to reach the server.
type loadEnv struct {
	base  string // https://127.0.0.1:PORT
	addr  string // 127.0.0.1:PORT
	caPEM []byte
	pool  *x509.CertPool
	site  *site

	h1once sync.Once
	h1     *http.Client // net/http, HTTP/1.1 only
}

// load is one kind of load: a loadgen run, or workers repeating an operation.
type load struct {
	name    string
	gen     *loadgen.Config // a loadgen run (URL is a path here, made absolute at the start)
	expect  []string        // loadgen error kinds that this load expects
	op      func(ctx context.Context, e *loadEnv, n int) outcome
	workers int
	every   time.Duration // pause between operations of one worker (0: none)
}

// loads is the mix. Connection counts are small on purpose: the soak looks for growth over
// time, not for the highest rate, and runs on small machines.
func loads() []load {
	kib := func(n int) []byte { return bytes.Repeat([]byte("u"), n<<10) }
	return []load{
		{name: "keep-alive GET (loadgen)", gen: &loadgen.Config{Mode: loadgen.KeepAlive, URL: smallPath, Connections: 4}},
		{name: "HTTP/2 GET, 8 streams (loadgen)", gen: &loadgen.Config{Mode: loadgen.H2, URL: smallPath, Connections: 2, Streams: 8}},
		{name: "new conn, resumed (loadgen)", gen: &loadgen.Config{Mode: loadgen.New, URL: smallPath, Connections: 2}},
		{name: "new conn, full handshake (loadgen)", gen: &loadgen.Config{Mode: loadgen.New, URL: smallPath, Connections: 1, DisableResumption: true}},
		{name: "upload POST 64 KiB, HTTP/1.1 (loadgen)", expect: []string{"status 4xx"},
			gen: &loadgen.Config{Mode: loadgen.KeepAlive, URL: "/upload", Connections: 2, Body: kib(64)}},
		{name: "upload PUT 1 MiB, HTTP/2 (loadgen)", expect: []string{"status 4xx"},
			gen: &loadgen.Config{Mode: loadgen.H2, URL: "/upload", Connections: 1, Streams: 2, Method: http.MethodPut, Body: kib(1024)}},
		{name: "download 8 MiB, https client (HTTP/2)", op: downloadHTTPS, workers: 1},
		{name: "download 8 MiB, net/http (HTTP/1.1)", op: downloadH1, workers: 1},
		{name: "download closed mid-body, https client", op: abortHTTPS, workers: 1, every: 50 * time.Millisecond},
		{name: "download closed mid-body, HTTP/1.1", op: abortH1, workers: 1, every: 50 * time.Millisecond},
		{name: "upload cut mid-body, HTTP/1.1", op: cutUpload, workers: 1, every: 50 * time.Millisecond},
		{name: "connection dropped mid-handshake", op: dropHandshake, workers: 1, every: 20 * time.Millisecond},
	}
}

// loadResult is what one load did.
type loadResult struct {
	Name       string           `json:"name"`
	Done       int64            `json:"done"`       // requests or operations that finished, any outcome
	OK         int64            `json:"ok"`         // completed as a client wants: status below 400, body whole
	Expected   map[string]int64 `json:"expected"`   // outcomes by design: aborts, 4xx to uploads
	Unexpected map[string]int64 `json:"unexpected"` // failures, by kind
	Examples   []string         `json:"unexpected_examples,omitempty"`
}

func (r *loadResult) unexpected() int64 {
	var n int64
	for _, v := range r.Unexpected {
		n += v
	}
	return n
}

// outcome is how one operation ended: ok, an expected kind (an abort by design), or an
// unexpected failure of some kind.
type outcome struct {
	ok       bool
	expected string
	kind     string // unexpected
	msg      string
}

func expected(kind string) outcome { return outcome{expected: kind} }

func failed(err error) outcome { return outcome{kind: kindOf(err), msg: err.Error()} }

func failedf(kind, format string, args ...any) outcome {
	return outcome{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// runLoads runs every load for d (or until ctx ends), calling tick every `every` meanwhile
// (every 0: never), and returns what each did. When it returns, the loads are over and the
// idle client connections closed; a connection whose request was cancelled at the end may
// become idle a moment later (see loadEnv.closeIdle).
func runLoads(ctx context.Context, e *loadEnv, d, every time.Duration, tick func()) []*loadResult {
	// Cancelled, not a deadline: a dial or read that fails on a deadline can return before
	// ctx says it is done, and loadgen and runOps would count it as a timeout.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer time.AfterFunc(d, cancel).Stop()
	ls := loads()
	results := make([]*loadResult, len(ls))
	var wg sync.WaitGroup
	for i, l := range ls {
		results[i] = &loadResult{Name: l.name, Expected: map[string]int64{}, Unexpected: map[string]int64{}}
		if l.gen != nil {
			wg.Go(func() { runGen(ctx, e, l, results[i]) })
			continue
		}
		var mu sync.Mutex
		for w := range l.workers {
			wg.Go(func() { runOps(ctx, e, l, w, &mu, results[i]) })
		}
	}
	if every > 0 && tick != nil {
		t := time.NewTicker(every)
		for ctx.Err() == nil {
			select {
			case <-t.C:
				if ctx.Err() == nil {
					tick()
				}
			case <-ctx.Done():
			}
		}
		t.Stop()
	}
	<-ctx.Done()
	wg.Wait()
	e.closeIdle()
	return results
}

// runGen runs one loadgen load until ctx ends (loadgen drops the requests then in flight).
func runGen(ctx context.Context, e *loadEnv, l load, r *loadResult) {
	cfg := *l.gen
	cfg.URL = e.base + cfg.URL
	cfg.Duration = 365 * 24 * time.Hour // ctx ends it
	cfg.Timeout = opTimeout
	cfg.TLSConfig = &tls.Config{RootCAs: e.pool}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		r.Unexpected["config"]++
		r.Examples = append(r.Examples, err.Error())
		return
	}
	r.OK = res.OK
	r.Done = res.Requests
	for _, k := range slices.Sorted(maps.Keys(res.Errors)) {
		n := res.Errors[k]
		if !strings.HasPrefix(k, "status ") {
			r.Done += n // a failure without a response
		}
		if slices.Contains(l.expect, k) {
			r.Expected[k] += n
		} else {
			r.Unexpected[k] += n
		}
	}
}

// runOps repeats the load's operation until ctx ends; the operation cut by the end is not
// counted.
func runOps(ctx context.Context, e *loadEnv, l load, worker int, mu *sync.Mutex, r *loadResult) {
	var pause *time.Ticker
	if l.every > 0 {
		pause = time.NewTicker(l.every)
		defer pause.Stop()
	}
	for n := worker; ctx.Err() == nil; n += l.workers {
		octx, cancel := context.WithTimeout(ctx, opTimeout)
		o := l.op(octx, e, n)
		cancel()
		if !o.ok && ctx.Err() != nil {
			return
		}
		mu.Lock()
		r.Done++
		switch {
		case o.ok:
			r.OK++
		case o.expected != "":
			r.Expected[o.expected]++
		default:
			r.Unexpected[o.kind]++
			if len(r.Examples) < 5 {
				r.Examples = append(r.Examples, o.msg)
			}
		}
		mu.Unlock()
		if pause != nil {
			select {
			case <-pause.C:
			case <-ctx.Done():
			}
		}
	}
}

// closeIdle closes the clients' idle connections (loadgen closes its own when a run ends).
func (e *loadEnv) closeIdle() {
	https.CloseIdleConnections()
	if e.h1 != nil {
		e.h1.CloseIdleConnections()
	}
}

// kindOf names the kind of a failure.
func kindOf(err error) string {
	var he *https.Error
	var ne net.Error
	switch {
	case errors.As(err, &he) && he.Kind != nil:
		return strings.TrimPrefix(he.Kind.Error(), "https: ")
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connect refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	case errors.Is(err, io.EOF):
		return "eof"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "tls: "):
		return "tls"
	}
	return "other"
}

// httpsGet starts a GET of path with package https (HTTP/2 by ALPN) and waits for the
// response header.
func (e *loadEnv) httpsGet(ctx context.Context, path string) (*https.IncomingMessage, error) {
	host, port, _ := net.SplitHostPort(e.addr)
	p, _ := strconv.Atoi(port)
	// The CA as PEM text: given a file name, package https would read it for every request.
	r, err := https.Get(ctx, https.Options{Host: host, Port: p, Path: path, CA: string(e.caPEM)}, nil)
	if err != nil {
		return nil, err
	}
	return r.Response()
}

// h1Get starts a GET of path with net/http over HTTP/1.1 and waits for the response header.
func (e *loadEnv) h1Get(ctx context.Context, path string) (*http.Response, error) {
	e.h1once.Do(func() {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pool}, Protocols: new(http.Protocols)}
		tr.Protocols.SetHTTP1(true)
		e.h1 = &http.Client{Transport: tr}
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+path, nil)
	if err != nil {
		return nil, err
	}
	return e.h1.Do(req)
}

// checkBody reads a whole download and compares it with big.bin.
func (e *loadEnv) checkBody(status int, body io.Reader) outcome {
	if status != http.StatusOK {
		return failedf(fmt.Sprintf("status %d", status), "GET %s: status %d", bigPath, status)
	}
	h := sha256.New()
	n, err := io.Copy(h, body)
	switch {
	case err != nil:
		return failed(err)
	case n != e.site.bigSize || [32]byte(h.Sum(nil)) != e.site.bigSum:
		return failedf("corrupt body", "GET %s: %d bytes, SHA-256 match %v; want %d bytes, the file", bigPath, n, [32]byte(h.Sum(nil)) == e.site.bigSum, e.site.bigSize)
	}
	return outcome{ok: true}
}

func downloadHTTPS(ctx context.Context, e *loadEnv, _ int) outcome {
	res, err := e.httpsGet(ctx, bigPath)
	if err != nil {
		return failed(err)
	}
	defer res.Close()
	return e.checkBody(res.StatusCode, res)
}

func downloadH1(ctx context.Context, e *loadEnv, _ int) outcome {
	resp, err := e.h1Get(ctx, bigPath)
	if err != nil {
		return failed(err)
	}
	defer resp.Body.Close()
	return e.checkBody(resp.StatusCode, resp.Body)
}

// dial connects to the server, over TLS with tc unless it is nil, and sets ctx's deadline
// on the connection.
func (e *loadEnv) dial(ctx context.Context, tc *tls.Config) (net.Conn, error) {
	var c net.Conn
	var err error
	if tc != nil {
		c, err = (&tls.Dialer{Config: tc}).DialContext(ctx, "tcp", e.addr)
	} else {
		c, err = (&net.Dialer{}).DialContext(ctx, "tcp", e.addr)
	}
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	return c, nil
}

// abortAfter is how much of big.bin an aborted download reads before closing.
const abortAfter = 256 << 10

func abortHTTPS(ctx context.Context, e *loadEnv, _ int) outcome {
	res, err := e.httpsGet(ctx, bigPath)
	if err != nil {
		return failed(err)
	}
	defer res.Close() // before the end: drops the stream
	return readThenAbort(res.StatusCode, res)
}

func abortH1(ctx context.Context, e *loadEnv, _ int) outcome {
	resp, err := e.h1Get(ctx, bigPath)
	if err != nil {
		return failed(err)
	}
	defer resp.Body.Close() // before the end: drops the connection
	return readThenAbort(resp.StatusCode, resp.Body)
}

func readThenAbort(status int, body io.Reader) outcome {
	if status != http.StatusOK {
		return failedf(fmt.Sprintf("status %d", status), "GET %s: status %d", bigPath, status)
	}
	if _, err := io.CopyN(io.Discard, body, abortAfter); err != nil {
		return failed(err)
	}
	return expected("closed mid-body")
}

// cutUpload sends a POST that announces 200 KiB, sends 64 KiB of it and closes the
// connection. The static site answers POST with 404 but first reads the body to discard it
// (net/http does so for bodies under 256 KiB, to keep the connection), so the server is in
// the middle of reading when the connection ends.
func cutUpload(ctx context.Context, e *loadEnv, _ int) outcome {
	c, err := e.dial(ctx, &tls.Config{RootCAs: e.pool, NextProtos: []string{"http/1.1"}, ServerName: "127.0.0.1"})
	if err != nil {
		return failed(err)
	}
	defer c.Close()
	head := "POST /upload HTTP/1.1\r\nHost: " + e.addr + "\r\nContent-Length: 204800\r\n\r\n"
	if _, err := c.Write(append([]byte(head), make([]byte, 64<<10)...)); err != nil {
		return failed(err)
	}
	return expected("cut mid-body")
}

// dropHandshake opens a connection and drops it during the TLS handshake, in turn: before
// the ClientHello, in the middle of it, and after the server's first flight.
func dropHandshake(ctx context.Context, e *loadEnv, n int) outcome {
	c, err := e.dial(ctx, nil)
	if err != nil {
		return failed(err)
	}
	defer c.Close()
	switch n % 3 {
	case 0:
		return expected("dropped before ClientHello")
	case 1:
		// A handshake record that announces 512 bytes, and the start of a ClientHello.
		if _, err := c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}); err != nil {
			return failed(err)
		}
		return expected("dropped mid-ClientHello")
	}
	tc := tls.Client(&closeOnRead{Conn: c}, &tls.Config{RootCAs: e.pool, ServerName: "127.0.0.1"})
	if err := tc.HandshakeContext(ctx); err == nil {
		return failedf("other", "the handshake completed although the connection was closed")
	}
	return expected("dropped after ServerHello")
}

// closeOnRead closes the connection as soon as the first bytes from the server arrive.
type closeOnRead struct{ net.Conn }

func (c *closeOnRead) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.Conn.Close()
	return n, err
}
