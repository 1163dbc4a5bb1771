package https

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/httpskit/httpskit/certs"
)

// h2Opening is what a client sent as it opened an HTTP/2 connection: its SETTINGS and the
// increment of its first connection-level WINDOW_UPDATE (0 if it sent none before its first
// request).
type h2Opening struct {
	settings      map[http2.SettingID]uint32
	connIncrement uint32
}

// startH2Probe serves HTTP/2 by hand on 127.0.0.1 (TLS, ALPN "h2", a certificate from
// testCA): it reports how each client opened its connection, and answers every request
// 200 with the body "ok".
func startH2Probe(t *testing.T) (int, <-chan h2Opening) {
	t.Helper()
	cert := leaf(t, testCA(t), certs.LeafOptions{})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	openings := make(chan h2Opening, 8)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { serveH2Probe(c, openings) })
		}
	})
	return ln.Addr().(*net.TCPAddr).Port, openings
}

func serveH2Probe(c net.Conn, openings chan<- h2Opening) {
	defer c.Close()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	fr := http2.NewFramer(c, c)
	open := h2Opening{settings: map[http2.SettingID]uint32{}}
	reported := false
	report := func() {
		if !reported {
			reported = true
			openings <- open
		}
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				continue
			}
			f.ForeachSetting(func(s http2.Setting) error { open.settings[s.ID] = s.Val; return nil })
			fr.WriteSettings()
			fr.WriteSettingsAck()
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 && open.connIncrement == 0 {
				open.connIncrement = f.Increment
			}
		case *http2.HeadersFrame:
			report()
			block.Reset()
			enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			enc.WriteField(hpack.HeaderField{Name: "content-length", Value: "2"})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: block.Bytes(), EndHeaders: true})
			fr.WriteData(f.StreamID, true, []byte("ok"))
		}
	}
}

// withMemoryLimit sets the process's memory limit for the test (math.MaxInt64: none), as
// GOMEMLIMIT does at start.
func withMemoryLimit(t *testing.T, limit int64) {
	old := debug.SetMemoryLimit(limit)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
}

// TestMemoryWindows: the HTTP/2 flow-control windows a connection advertises, as the server
// sees them on the wire: net/http's (4 MiB per stream, 1 GiB more for the connection) with
// MemoryFast, FrugalWindow for both with MemoryFrugal, and by the memory limit with
// MemoryAuto.
func TestMemoryWindows(t *testing.T) {
	const noLimit = math.MaxInt64
	fast := [2]uint32{4 << 20, 1 << 30}
	frugal := [2]uint32{FrugalWindow, FrugalWindow}
	tests := []struct {
		name   string
		memory Memory
		limit  int64
		want   [2]uint32 // stream window, connection increment
	}{
		{"fast", MemoryFast, noLimit, fast},
		{"frugal", MemoryFrugal, noLimit, frugal},
		{"auto without a memory limit", MemoryAuto, noLimit, fast},
		{"auto with a memory limit", MemoryAuto, 1 << 40, frugal},
		{"fast despite a memory limit", MemoryFast, 1 << 40, fast},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withMemoryLimit(t, tt.limit)
			port, openings := startH2Probe(t)
			t.Cleanup(CloseIdleConnections)
			r, err := Get(context.Background(), Options{Host: "127.0.0.1", Port: port, CA: string(testCA(t).CertPEM), Memory: tt.memory}, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Response()
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res)
			if err != nil || string(body) != "ok" || res.HTTPVersion != "2.0" {
				t.Fatalf("got %q over HTTP/%s, %v; want \"ok\" over HTTP/2.0", body, res.HTTPVersion, err)
			}
			var open h2Opening
			select {
			case open = <-openings:
			case <-time.After(30 * time.Second):
				t.Fatal("the probe saw no request")
			}
			got := [2]uint32{open.settings[http2.SettingInitialWindowSize], open.connIncrement}
			if got != tt.want {
				t.Errorf("Memory %v: stream window %d, connection increment %d; want %d, %d", tt.memory, got[0], got[1], tt.want[0], tt.want[1])
			}
		})
	}
}

// TestMemoryIdleConns: after a burst of parallel HTTP/1.1 requests to one host, a
// MemoryFrugal transport keeps 2 connections alive and closes the others; MemoryFast keeps
// them all (up to 16). net/http reports each connection it offers to its idle pool through
// httptrace's PutIdleConn, with an error when it refuses it.
func TestMemoryIdleConns(t *testing.T) {
	const parallel = 4
	tests := []struct {
		name     string
		memory   Memory
		wantKept int
	}{
		{"fast keeps all", MemoryFast, parallel},
		{"frugal keeps 2", MemoryFrugal, frugalIdlePerHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(CloseIdleConnections)
			// The handler holds every request until all have arrived: each has its own
			// connection.
			var arrived atomic.Int32
			all := make(chan struct{})
			closed := make(chan struct{}, 2*parallel)
			s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if arrived.Add(1) == parallel {
					close(all)
				}
				select {
				case <-all:
					io.WriteString(w, "ok")
				case <-r.Context().Done():
				}
			}), serverConfig{h1Only: true, state: func(_ net.Conn, st http.ConnState) {
				if st == http.StateClosed {
					closed <- struct{}{}
				}
			}})
			puts := make(chan error, parallel)
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{PutIdleConn: func(err error) { puts <- err }})
			opts := s.opts(t, "GET", "/")
			opts.Memory = tt.memory
			errs := make(chan error, parallel)
			for range parallel {
				go func() {
					r, err := Get(ctx, opts, nil)
					if err != nil {
						errs <- err
						return
					}
					res, err := r.Response()
					if err != nil {
						errs <- err
						return
					}
					_, err = io.ReadAll(res)
					errs <- err
				}()
			}
			for range parallel {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			kept := 0
			for range parallel {
				select {
				case err := <-puts:
					if err == nil {
						kept++
					} else if !strings.Contains(err.Error(), "too many idle") {
						t.Errorf("PutIdleConn: %v, want nil or too many idle connections", err)
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("only %d of %d connections were offered to the idle pool", kept, parallel)
				}
			}
			if kept != tt.wantKept {
				t.Fatalf("Memory %v: %d idle connections kept after %d parallel requests, want %d", tt.memory, kept, parallel, tt.wantKept)
			}
			// The server sees the refused ones close.
			for i := range parallel - tt.wantKept {
				select {
				case <-closed:
				case <-time.After(30 * time.Second):
					t.Fatalf("the server saw %d connections close, want %d", i, parallel-tt.wantKept)
				}
			}
			if got := s.conns.Load(); got != parallel {
				t.Errorf("the server saw %d connections, want %d", got, parallel)
			}
		})
	}
}

// TestMemoryInvalid: a Memory outside the constants is refused before any I/O.
func TestMemoryInvalid(t *testing.T) {
	for _, m := range []Memory{-1, MemoryFrugal + 1} {
		_, err := Request(context.Background(), Options{Host: "127.0.0.1", Port: 1, Memory: m}, nil)
		var e *Error
		if !errors.As(err, &e) || e.Kind != ErrInvalidRequest || !strings.Contains(err.Error(), "memory "+m.String()) {
			t.Errorf("Request with Memory %v: %v, want ErrInvalidRequest naming the memory", m, err)
		}
	}
}

// TestMemoryString: the constants print their names; other values their number.
func TestMemoryString(t *testing.T) {
	tests := []struct {
		m    Memory
		want string
	}{
		{MemoryAuto, "MemoryAuto"},
		{MemoryFast, "MemoryFast"},
		{MemoryFrugal, "MemoryFrugal"},
		{7, "Memory(7)"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("Memory(%d).String() = %q, want %q", int(tt.m), got, tt.want)
		}
	}
}
