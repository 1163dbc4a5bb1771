package server

// Graceful stop under load: internal/loadgen (the engine of `httpskit bench`) keeps every
// listener busy while Stop runs.

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/loadgen"
)

// gatedRoute is a handler that counts its calls and, from call armAfter+1 on, signals on
// blocked and waits for gate to close: requests in flight at a known moment.
type gatedRoute struct {
	armAfter          int64
	started, finished atomic.Int64
	blocked           chan struct{} // one send per handler that waits
	gate              chan struct{} // closed: waiting handlers go on
}

func newGatedRoute(armAfter int64) *gatedRoute {
	return &gatedRoute{armAfter: armAfter, blocked: make(chan struct{}, 1024), gate: make(chan struct{})}
}

func (g *gatedRoute) handle(_ string, _ *Request, res *Response) error {
	if g.started.Add(1) > g.armAfter {
		g.blocked <- struct{}{}
		<-g.gate
	}
	g.finished.Add(1)
	return res.WriteText(0, "ok", nil)
}

// refused reports whether a TCP connection to addr is refused (a listener that is closed).
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// neverReachedHandler are the loadgen error kinds of requests that no handler saw: a
// connection refused, and a request on a kept-alive HTTP/1.1 connection the server closed
// while idle (RFC 9112 section 9.3.1). HTTP/2 streams refused by GOAWAY are sent again by
// loadgen and fail, if at all, as refused connections.
var neverReachedHandler = []string{"connect refused", "closed while idle"}

// TestStopUnderLoad: with loadgen running on every listener (two or three sharing one router)
// in keep-alive, HTTP/2 and new-connection modes, Stop with requests in flight lets every
// request whose handler started finish with 200 at the client, starts no handler after it
// began, makes new connections fail (refused), and the clients see no other error. The
// requests in flight are known: the route lets a warm-up through, then holds every request
// until the listeners refuse connections, while Stop waits for them.
func TestStopUnderLoad(t *testing.T) {
	tests := []struct {
		name           string
		mode           loadgen.Mode
		kinds          []string // the listeners the mode can load
		conns, streams int      // per listener; streams: H2 only (1 or 2 keep every stream held)
	}{
		{"keepalive", loadgen.KeepAlive, []string{KindHTTP, KindHTTPS, KindHTTP2}, 3, 0},
		{"h2", loadgen.H2, []string{KindHTTPS, KindHTTP2}, 2, 2},
		{"new", loadgen.New, []string{KindHTTP, KindHTTPS, KindHTTP2}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{})
			var urls, addrs []string
			startTargets(t, s)
			for _, l := range s.Servers() {
				addrs = append(addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port())))
				if slices.Contains(tt.kinds, l.Kind()) {
					urls = append(urls, wireBase(l)+"/work")
				}
			}
			// A handler waits for every request a worker can have in flight: one per
			// connection, Streams per HTTP/2 connection. Fewer than 2 streams would not be
			// all held: loadgen opens new streams once half of them finished.
			inFlight := int64(len(urls) * tt.conns * max(tt.streams, 1))
			g := newGatedRoute(3 * inFlight)
			must(t, s.RouteFunc("GET", "/work", g.handle))

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			lg := startLoad(ctx, urls, loadgen.Config{
				Mode: tt.mode, Connections: tt.conns, Streams: tt.streams,
				Duration: 5 * time.Minute, Timeout: 2 * time.Minute, // bounds; the test ends the runs
				TLSConfig: &tls.Config{RootCAs: getPKI(t).pool, ServerName: "localhost"},
			})
			timeout := time.NewTimer(time.Minute)
			defer timeout.Stop()
			for i := range inFlight {
				select {
				case <-g.blocked:
				case <-timeout.C:
					t.Fatalf("%d of %d requests reached the gate; %d handlers started", i, inFlight, g.started.Load())
				}
			}
			startedAtStop := g.started.Load()
			if n := startedAtStop - g.finished.Load(); n != inFlight {
				t.Fatalf("%d handlers in flight before Stop, want %d", n, inFlight)
			}

			stopped := make(chan error, 1)
			go func() {
				sctx, scancel := context.WithTimeout(context.Background(), time.Minute)
				defer scancel()
				stopped <- s.Stop(sctx)
			}()
			waitUntil(t, "every listener refuses connections", func() bool {
				return !slices.ContainsFunc(addrs, func(a string) bool { return !refused(a) })
			})
			select {
			case err := <-stopped:
				t.Fatalf("Stop returned %v with %d handlers in flight", err, inFlight)
			default:
			}
			close(g.gate)
			if err := <-stopped; err != nil {
				t.Fatalf("Stop = %v, want nil", err)
			}

			started, finished := g.started.Load(), g.finished.Load()
			if started != startedAtStop {
				t.Errorf("%d handlers started after Stop began, want 0", started-startedAtStop)
			}
			if finished != started {
				t.Errorf("%d handlers started, %d finished; want all finished", started, finished)
			}
			for _, a := range addrs {
				if !refused(a) {
					t.Errorf("a connection to %s was not refused after Stop", a)
				}
			}

			results := lg.wait(t, finished, cancel)
			var ok, requests int64
			errs := map[string]int64{}
			for _, r := range results {
				ok += r.OK
				requests += r.Requests
				for k, n := range r.Errors {
					errs[k] += n
				}
			}
			if ok != finished || requests != finished {
				t.Errorf("clients: %d responses, %d with 200; want %d, every handler that ran", requests, ok, finished)
			}
			for k, n := range errs {
				if !slices.Contains(neverReachedHandler, k) {
					t.Errorf("clients: %d errors %q; want only kinds of requests no handler saw %q", n, k, neverReachedHandler)
				}
			}
			if errs["connect refused"] == 0 {
				t.Errorf("clients: errors %v; want refused connections once the server stopped", errs)
			}
		})
	}
}

// loadRuns is loadgen running against several URLs at once.
type loadRuns struct {
	progress []atomic.Int64 // responses so far, per run (loadgen Progress)
	want     atomic.Int64   // responses to wait for; -1: not known yet
	caughtUp chan struct{}  // closed once the runs counted want responses
	once     sync.Once
	done     chan *loadgen.Result
}

// startLoad starts one loadgen run of cfg per URL; they end when ctx is cancelled.
func startLoad(ctx context.Context, urls []string, cfg loadgen.Config) *loadRuns {
	lr := &loadRuns{
		progress: make([]atomic.Int64, len(urls)),
		caughtUp: make(chan struct{}),
		done:     make(chan *loadgen.Result, len(urls)),
	}
	lr.want.Store(-1)
	for i, u := range urls {
		c := cfg
		c.URL = u
		c.Progress = func(_ time.Duration, n int64) {
			lr.progress[i].Store(n)
			lr.check()
		}
		go func() {
			res, err := loadgen.Run(ctx, c)
			if err != nil {
				res = &loadgen.Result{URL: u, Errors: map[string]int64{"run: " + err.Error(): 1}}
			}
			lr.done <- res
		}()
	}
	return lr
}

func (lr *loadRuns) check() {
	want := lr.want.Load()
	var sum int64
	for i := range lr.progress {
		sum += lr.progress[i].Load()
	}
	if want >= 0 && sum >= want {
		lr.once.Do(func() { close(lr.caughtUp) })
	}
}

// wait waits until the runs have counted n responses (loadgen reports progress about once a
// second), then ends them with cancel and returns their results. Ending a run drops the
// requests in flight, so the runs are ended only once every response is counted.
func (lr *loadRuns) wait(t *testing.T, n int64, cancel context.CancelFunc) []*loadgen.Result {
	t.Helper()
	lr.want.Store(n)
	lr.check()
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	select {
	case <-lr.caughtUp:
	case <-timeout.C:
		var sum int64
		for i := range lr.progress {
			sum += lr.progress[i].Load()
		}
		t.Errorf("the clients counted %d responses in a minute, want %d", sum, n)
	}
	cancel()
	results := make([]*loadgen.Result, cap(lr.done))
	for i := range results {
		results[i] = <-lr.done
	}
	return results
}
