package https

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Hostile servers: each one keeps sending (a header that never ends, a
// body past any bound) until the client stops reading or it has written
// floodCap bytes. The client must fail with the typed error long before:
// that the server could not write floodCap bytes shows, indirectly, that
// the client neither read nor buffered them.
const floodCap = 64 << 20

// flood is what a hostile server wrote before the client stopped it.
type flood struct {
	wrote chan int64 // the bytes written in all, once the server gave up
}

// report records the bytes written for one response; only the first
// response of a server is reported.
func (f *flood) report(n int64) {
	select {
	case f.wrote <- n:
	default:
	}
}

// written waits for the server to give up and returns how many bytes it
// wrote. The client's failure closed the connection, so this is prompt.
func (f *flood) written(t *testing.T) int64 {
	t.Helper()
	return <-f.wrote
}

// floodWrite writes head, then fill again and again, to w until a write
// fails or limit bytes are out, and returns the bytes written. flush, if
// not nil, runs after each write.
func floodWrite(w io.Writer, head string, fill []byte, limit int64, flush func() error) int64 {
	n, err := io.WriteString(w, head)
	total := int64(n)
	for err == nil && total < limit {
		n, err = w.Write(fill[:min(int64(len(fill)), limit-total)])
		total += int64(n)
		if flush != nil {
			flush()
		}
	}
	return total
}

// rawFlood is an HTTP/1.1 server on raw TLS that answers the first request
// with head, then fill forever: handcrafted bytes, no net/http in the way.
func rawFlood(t *testing.T, head string, fill []byte) (Options, *flood) {
	f := &flood{wrote: make(chan int64, 1)}
	port := rawTLS(t, func(c *tls.Conn) {
		readRequestHead(c)
		f.report(floodWrite(c, head, fill, floodCap, nil))
	})
	return rawOpts(t, port, "GET", "/"), f
}

// floodServer is a net/http server (HTTP/2 unless h1Only) whose handler
// sets header, then writes fill again and again: size bytes in all, or
// forever when size is floodCap.
type floodServer struct {
	header  http.Header
	fill    []byte
	size    int64
	declare bool // send Content-Length: size
	h1Only  bool
}

func (fs floodServer) start(t *testing.T) (Options, *flood) {
	f := &flood{wrote: make(chan int64, 1)}
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range fs.header {
			w.Header()[k] = v
		}
		if fs.declare {
			w.Header().Set("Content-Length", strconv.FormatInt(fs.size, 10))
		}
		f.report(floodWrite(w, "", fs.fill, fs.size, http.NewResponseController(w).Flush))
	}), serverConfig{h1Only: fs.h1Only})
	return s.opts(t, "GET", "/"), f
}

// TestHeaderLimit: a response header section past Options.MaxHeaderBytes
// fails the request with ErrHeaderTooLarge ('error', then 'close'; no
// 'response'), over HTTP/1.1 and HTTP/2, after at most a bounded read.
func TestHeaderLimit(t *testing.T) {
	checkGoroutines(t)
	// answer is a server that sends header and a 4-byte body.
	answer := func(header http.Header, h1Only bool) func(*testing.T) (Options, *flood) {
		return floodServer{header: header, fill: []byte("body"), size: 4, declare: true, h1Only: h1Only}.start
	}
	big := func(n int) http.Header { return http.Header{"X-Big": {strings.Repeat("v", n)}} }
	many := func(n, size int) http.Header {
		h := http.Header{"X-Big": {strings.Repeat("v", size)}}
		for i := range n {
			h.Set("X-Field-"+strconv.Itoa(i), strings.Repeat("v", size))
		}
		return h
	}
	endless := bytes.Repeat([]byte("v"), 16<<10)
	tests := []struct {
		name  string
		max   int // Options.MaxHeaderBytes
		start func(t *testing.T) (Options, *flood)
		ok    bool  // the response is accepted
		limit int64 // the bound the error names
	}{
		{"h1 header that never ends", 64 << 10, func(t *testing.T) (Options, *flood) {
			return rawFlood(t, "HTTP/1.1 200 OK\r\nX-Endless: ", endless)
		}, false, 64 << 10},
		{"h1 header lines that never end", 64 << 10, func(t *testing.T) (Options, *flood) {
			return rawFlood(t, "HTTP/1.1 200 OK\r\n", bytes.Repeat([]byte("X-More: more\r\n"), 1000))
		}, false, 64 << 10},
		{"h1 header that never ends, default bound", 0, func(t *testing.T) (Options, *flood) {
			return rawFlood(t, "HTTP/1.1 200 OK\r\nX-Endless: ", endless)
		}, false, DefaultMaxHeaderBytes},
		{"h1 huge header", 64 << 10, answer(big(1<<20), true), false, 64 << 10},
		{"h2 huge header field", 64 << 10, answer(big(1<<20), false), false, 64 << 10},
		{"h2 huge header field, default bound", 0, answer(big(2<<20), false), false, DefaultMaxHeaderBytes},
		{"h2 header list past the bound, many frames", 64 << 10, answer(many(100, 1000), false), false, 64 << 10},
		{"h2 header list past the bound, one frame", 1000, answer(many(20, 100), false), false, 1000},
		{"h1 header within the bound", 64 << 10, answer(big(32<<10), true), true, 0},
		{"h2 header within the bound", 64 << 10, answer(big(32<<10), false), true, 0},
		{"h1 negative: net/http's 10 MiB", -1, answer(big(2<<20), true), true, 0},
		{"h2 negative: net/http's 10 MiB", -1, answer(big(2<<20), false), true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, f := tt.start(t)
			o.MaxHeaderBytes = tt.max
			r, rec := startRecorded(t, o, false)
			m, err := r.Response()
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if b, err := io.ReadAll(m); err != nil || string(b) != "body" {
					t.Fatalf("body %q, %v; want body", b, err)
				}
				if got := len(m.Headers.Get("X-Big")); got < 32<<10 {
					t.Errorf("X-Big has %d bytes, want all of them", got)
				}
				rec.wait(t)
				return
			}
			wantKind(t, err, ErrHeaderTooLarge)
			if !strings.Contains(err.Error(), "MaxHeaderBytes "+strconv.FormatInt(tt.limit, 10)) {
				t.Errorf("error %q does not name the bound %d", err, tt.limit)
			}
			if got, want := rec.wait(t), "socket,finish,error,close"; got != want {
				t.Errorf("events = %s, want %s", got, want)
			}
			wantKind(t, rec.Err(), ErrHeaderTooLarge)
			if n := f.written(t); n >= floodCap {
				t.Errorf("the server wrote all of its %d bytes: the client kept reading", n)
			}
		})
	}
}

// TestHeaderLimitPool: MaxHeaderBytes is a setting of the connection, so
// requests with different bounds do not share one: a request with a small
// bound is refused even right after one with a large bound succeeded.
func TestHeaderLimitPool(t *testing.T) {
	checkGoroutines(t)
	for _, h1Only := range []bool{true, false} {
		o, _ := floodServer{header: http.Header{"X-Big": {strings.Repeat("v", 32<<10)}}, fill: []byte("body"), size: 4, h1Only: h1Only}.start(t)
		for _, step := range []struct {
			max int
			ok  bool
		}{{1 << 20, true}, {16 << 10, false}, {1 << 20, true}} {
			o.MaxHeaderBytes = step.max
			_, _, err := do(t, o, nil)
			if step.ok && err != nil {
				t.Errorf("h1Only=%v, MaxHeaderBytes %d: %v", h1Only, step.max, err)
			}
			if !step.ok && !errors.Is(err, ErrHeaderTooLarge) {
				t.Errorf("h1Only=%v, MaxHeaderBytes %d: %v, want ErrHeaderTooLarge", h1Only, step.max, err)
			}
		}
	}
}

// TestBodyLimit: a body past Options.MaxBodyBytes fails with
// ErrBodyTooLarge after exactly MaxBodyBytes bytes were delivered (none
// when its Content-Length says it is larger), with Read and with OnData,
// over HTTP/1.1 and HTTP/2; a body of exactly the bound is fine.
func TestBodyLimit(t *testing.T) {
	checkGoroutines(t)
	const limit = 256 << 10
	fill := bytes.Repeat([]byte("0123456789abcdef"), 1<<10) // 16 KiB
	chunk := append([]byte(strconv.FormatInt(int64(len(fill)), 16)+"\r\n"), append(fill, "\r\n"...)...)
	tests := []struct {
		name  string
		start func(t *testing.T) (Options, *flood)
		got   int   // body bytes delivered
		ok    bool  // the body ends normally
		cl    int64 // the declared length the error names, if any
	}{
		{"h1 chunked body that never ends", func(t *testing.T) (Options, *flood) {
			return rawFlood(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk)
		}, limit, false, 0},
		{"h1 body to EOF that never ends", func(t *testing.T) (Options, *flood) {
			return rawFlood(t, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", fill)
		}, limit, false, 0},
		{"h1 Content-Length past the bound", func(t *testing.T) (Options, *flood) {
			return rawFlood(t, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(floodCap)+"\r\n\r\n", fill)
		}, 0, false, floodCap},
		{"h1 chunked body past the bound", floodServer{fill: fill, size: 2 * limit, h1Only: true}.start, limit, false, 0},
		{"h2 body that never ends", floodServer{fill: fill, size: floodCap}.start, limit, false, 0},
		{"h2 body past the bound, no length", floodServer{fill: fill, size: 2 * limit}.start, limit, false, 0},
		{"h2 Content-Length past the bound", floodServer{fill: fill, size: floodCap, declare: true}.start, 0, false, floodCap},
		{"h1 Content-Length of exactly the bound", floodServer{fill: fill, size: limit, declare: true, h1Only: true}.start, limit, true, 0},
		{"h1 chunked body of exactly the bound", floodServer{fill: fill, size: limit, h1Only: true}.start, limit, true, 0},
		{"h2 Content-Length of exactly the bound", floodServer{fill: fill, size: limit, declare: true}.start, limit, true, 0},
		{"h2 body of exactly the bound, no length", floodServer{fill: fill, size: limit}.start, limit, true, 0},
	}
	for _, tt := range tests {
		for _, flowing := range []bool{false, true} {
			mode := map[bool]string{false: "Read", true: "OnData"}[flowing]
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				o, f := tt.start(t)
				o.MaxBodyBytes = limit
				r, rec := startRecorded(t, o, flowing)
				m, err := r.Response()
				if err != nil {
					t.Fatal(err)
				}
				got, err := 0, error(nil)
				if flowing {
					rec.wait(t)
					got, err = len(rec.Body()), rec.Err()
				} else {
					var b []byte
					b, err = io.ReadAll(m)
					got = len(b)
				}
				if got != tt.got {
					t.Errorf("delivered %d body bytes, want %d", got, tt.got)
				}
				events := rec.wait(t)
				if tt.ok {
					if err != nil {
						t.Fatal(err)
					}
					if want := "socket,finish,response,"; !strings.HasPrefix(events, want) || !strings.HasSuffix(events, "end,res.close,close") {
						t.Errorf("events = %s, want ...,end,res.close,close", events)
					}
					return
				}
				wantKind(t, err, ErrBodyTooLarge)
				if !strings.Contains(err.Error(), "MaxBodyBytes "+strconv.Itoa(limit)) {
					t.Errorf("error %q does not name the bound", err)
				}
				if tt.cl > 0 && !strings.Contains(err.Error(), "Content-Length "+strconv.FormatInt(tt.cl, 10)) {
					t.Errorf("error %q does not name the Content-Length", err)
				}
				want := "socket,finish,response,data*,error,res.close,close"
				if !flowing || tt.got == 0 {
					want = "socket,finish,response,error,res.close,close"
				}
				if events != want {
					t.Errorf("events = %s, want %s", events, want)
				}
				if n := f.written(t); n >= floodCap {
					t.Errorf("the server wrote all of its %d bytes: the client kept reading", n)
				}
			})
		}
	}
}
