package https

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
)

// agentGet sends a GET of path on s through a and reads the body; it returns
// the connection the request used.
func agentGet(t *testing.T, a *Agent, s *server, path string) net.Conn {
	t.Helper()
	o := s.opts(t, "GET", path)
	o.Agent = a
	r, err := Get(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	var conn net.Conn
	got := make(chan struct{})
	r.OnSocket(func(c net.Conn) { conn = c; close(got) })
	m, err := r.Response()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(m); err != nil || string(b) != "hello" {
		t.Fatalf("body %q, %v; want hello", b, err)
	}
	<-got
	return conn
}

// TestAgentPools: each agent has its own pool; CloseIdleConnections of one
// leaves the other's connections alone.
func TestAgentPools(t *testing.T) {
	checkGoroutines(t)
	for _, h1 := range []bool{true, false} {
		s := newServer(t, http.HandlerFunc(hello), serverConfig{h1Only: h1})
		a, b := &Agent{}, &Agent{}
		t.Cleanup(a.CloseIdleConnections)
		t.Cleanup(b.CloseIdleConnections)
		agentGet(t, a, s, "/")
		agentGet(t, b, s, "/")
		agentGet(t, a, s, "/")
		if n := s.conns.Load(); n != 2 {
			t.Errorf("h1 %v: %d connections after two agents' requests, want 2 (one each, reused)", h1, n)
		}
		a.CloseIdleConnections()
		agentGet(t, a, s, "/")
		agentGet(t, b, s, "/")
		if n := s.conns.Load(); n != 3 {
			t.Errorf("h1 %v: %d connections after a's CloseIdleConnections, want 3 (a new one for a only)", h1, n)
		}
	}
}

// TestAgentMaxConnsPerHost: requests beyond the bound wait for the one
// connection instead of opening more.
func TestAgentMaxConnsPerHost(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, http.HandlerFunc(hello), serverConfig{h1Only: true})
	a := &Agent{MaxConnsPerHost: 1}
	t.Cleanup(a.CloseIdleConnections)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { agentGet(t, a, s, "/") })
	}
	wg.Wait()
	if n := s.conns.Load(); n != 1 {
		t.Errorf("%d connections with MaxConnsPerHost 1, want 1", n)
	}
}

// TestAgentNoKeepAlive: a negative MaxIdleConnsPerHost keeps no connection.
func TestAgentNoKeepAlive(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, http.HandlerFunc(hello), serverConfig{h1Only: true})
	a := &Agent{MaxIdleConnsPerHost: -1}
	agentGet(t, a, s, "/")
	agentGet(t, a, s, "/")
	if n := s.conns.Load(); n != 2 {
		t.Errorf("%d connections for two requests without keep-alive, want 2", n)
	}
}

// TestAgentSessionResumption: a new connection of the same agent resumes
// the TLS session of the last one; another agent does not share it.
func TestAgentSessionResumption(t *testing.T) {
	checkGoroutines(t)
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		s := newServer(t, http.HandlerFunc(hello), serverConfig{h1Only: true, tweak: func(c *tls.Config) { c.MaxVersion = version }})
		a := &Agent{}
		if c := agentGet(t, a, s, "/"); c.(*tls.Conn).ConnectionState().DidResume {
			t.Errorf("%s: first connection resumed", tls.VersionName(version))
		}
		a.CloseIdleConnections()
		if c := agentGet(t, a, s, "/"); !c.(*tls.Conn).ConnectionState().DidResume {
			t.Errorf("%s: second connection of the agent did not resume", tls.VersionName(version))
		}
		a.CloseIdleConnections()
		other := &Agent{}
		if c := agentGet(t, other, s, "/"); c.(*tls.Conn).ConnectionState().DidResume {
			t.Errorf("%s: another agent resumed the first agent's session", tls.VersionName(version))
		}
		other.CloseIdleConnections()
	}
}

// TestContextErrors: a deadline is ErrTimeout, a cancellation ErrAborted, and
// each matches its context error, before the response and during the body.
func TestContextErrors(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	}), serverConfig{})
	for _, tt := range []struct {
		name    string
		path    string
		ctx     func() (context.Context, context.CancelFunc)
		kind    error
		ctxErr  error
		cancels bool
	}{
		{"deadline before response", "/", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, ErrTimeout, context.DeadlineExceeded, false},
		{"cancel before response", "/", func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, ErrAborted, context.Canceled, true},
		{"deadline during body", "/body", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, ErrTimeout, context.DeadlineExceeded, false},
		{"cancel during body", "/body", func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, ErrAborted, context.Canceled, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := s.opts(t, "GET", tt.path) // before the clock starts: it reads files
			ctx, cancel := tt.ctx()
			defer cancel()
			r, err := Get(ctx, o, nil)
			if err != nil {
				t.Fatal(err)
			}
			rec := record(r, false)
			if tt.path == "/" {
				if tt.cancels {
					r.OnSocket(func(net.Conn) { cancel() })
				}
				_, err = r.Response()
			} else {
				m, rerr := r.Response()
				if rerr != nil {
					t.Fatal(rerr)
				}
				if tt.cancels {
					cancel()
				}
				_, err = io.ReadAll(m)
			}
			wantKind(t, err, tt.kind)
			if !errors.Is(err, tt.ctxErr) {
				t.Errorf("error %q does not match %v", err, tt.ctxErr)
			}
			// Like Abort: close, and no error event.
			if got := rec.wait(t); strings.Contains(got, "error") || !strings.HasSuffix(got, ",close") {
				t.Errorf("events = %s, want no error event, close last", got)
			}
		})
	}
	t.Run("cancelled before Request", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Get(ctx, s.opts(t, "GET", "/"), nil)
		wantKind(t, err, ErrAborted)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %q does not match context.Canceled", err)
		}
	})
}

// TestServerName: a server reached by its IP address whose certificate
// names only a DNS name is verified against ServerName, which is also the
// name sent in SNI; a wrong ServerName fails as a name mismatch.
func TestServerName(t *testing.T) {
	checkGoroutines(t)
	cert := leaf(t, testCA(t), certs.LeafOptions{Hosts: []string{"origin.test"}})
	sni := make(chan string, 4)
	s := newServer(t, http.HandlerFunc(hello), serverConfig{cert: &cert, tweak: func(c *tls.Config) {
		c.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			sni <- h.ServerName
			return nil, nil
		}
	}})
	o := s.opts(t, "GET", "/")
	_, _, err := do(t, o, nil)
	wantKind(t, err, ErrNameMismatch)
	<-sni

	o.ServerName = "origin.test"
	m, body := mustDo(t, o, nil)
	if body != "hello" || m.URL != "https://127.0.0.1:"+strconv.Itoa(s.Port)+"/" {
		t.Errorf("body %q, URL %q", body, m.URL)
	}
	if got := <-sni; got != "origin.test" {
		t.Errorf("SNI %q, want origin.test", got)
	}

	o.ServerName = "other.test"
	_, _, err = do(t, o, nil)
	wantKind(t, err, ErrNameMismatch)

	o.ServerName = "bad name"
	_, err = Request(context.Background(), o, nil)
	wantKind(t, err, ErrInvalidRequest)
}
