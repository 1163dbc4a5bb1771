package https

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// orderHandler serves the event-order tests.
var orderHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/204":
		w.WriteHeader(http.StatusNoContent)
	case "/echo":
		echo(w, r)
	case "/wait":
		<-r.Context().Done() // until the client goes away
	default:
		io.WriteString(w, "hello events")
	}
})

func TestEventOrder(t *testing.T) {
	checkGoroutines(t)
	for _, proto := range []struct {
		name   string
		h1Only bool
	}{{"h1", true}, {"h2", false}} {
		t.Run(proto.name, func(t *testing.T) {
			s := newServer(t, orderHandler, serverConfig{h1Only: proto.h1Only})
			tests := []struct {
				name, method, path, body string
				flowing                  bool
				want                     string
				wantBody                 string
			}{
				{"GET", "GET", "/", "", true, "socket,finish,response,data*,end,res.close,close", "hello events"},
				{"POST with body", "POST", "/echo", "a posted body", true, "socket,finish,response,data*,end,res.close,close", "a posted body"},
				{"HEAD", "HEAD", "/", "", false, "socket,finish,response,end,res.close,close", ""},
				{"204", "GET", "/204", "", false, "socket,finish,response,end,res.close,close", ""},
				{"paused GET is not consumed", "GET", "/", "", false, "socket,finish,response", ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r, err := Request(context.Background(), s.opts(t, tt.method, tt.path), nil)
					if err != nil {
						t.Fatal(err)
					}
					rec := record(r, tt.flowing)
					var body [][]byte
					if tt.body != "" {
						body = append(body, []byte(tt.body))
					}
					if err := r.End(body...); err != nil {
						t.Fatal(err)
					}
					if !tt.flowing && strings.HasSuffix(tt.want, "response") {
						m, err := r.Response()
						if err != nil {
							t.Fatal(err)
						}
						// Nothing flows until OnData or Read; then the body
						// is read and the request closes.
						b, err := io.ReadAll(m)
						if err != nil || string(b) != "hello events" {
							t.Fatalf("ReadAll = %q, %v", b, err)
						}
						tt.want += ",end,res.close,close"
					}
					if got := rec.wait(t); got != tt.want {
						t.Errorf("events = %s\nwant     %s", got, tt.want)
					}
					if got := rec.Body(); got != tt.wantBody {
						t.Errorf("body = %q, want %q", got, tt.wantBody)
					}
					if rec.conn == nil {
						t.Error("OnSocket got a nil conn")
					}
				})
			}
		})
	}
}

func TestEventOrderAbort(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, orderHandler, serverConfig{})

	t.Run("before End", func(t *testing.T) {
		r, err := Request(context.Background(), s.opts(t, "POST", "/echo"), nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := record(r, true)
		before := time.Now()
		r.Abort()
		if got, want := rec.wait(t), "close"; got != want {
			t.Errorf("events = %s, want %s", got, want)
		}
		if a := r.Aborted(); a.Before(before) {
			t.Errorf("Aborted() = %v, want a time after %v", a, before)
		}
		if _, err := r.Write([]byte("x")); !errors.Is(err, ErrAborted) {
			t.Errorf("Write after Abort = %v, want ErrAborted", err)
		}
		if _, err := r.Response(); !errors.Is(err, ErrAborted) {
			t.Errorf("Response after Abort = %v, want ErrAborted", err)
		}
	})

	t.Run("after End, waiting for the response", func(t *testing.T) {
		r, err := Request(context.Background(), s.opts(t, "GET", "/wait"), nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := record(r, true)
		finished := make(chan struct{})
		r.OnFinish(func() { close(finished) })
		if err := r.End(); err != nil {
			t.Fatal(err)
		}
		<-finished
		r.Abort()
		if got, want := rec.wait(t), "socket,finish,close"; got != want {
			t.Errorf("events = %s, want %s", got, want)
		}
		if r.Aborted().IsZero() {
			t.Error("Aborted() is zero after Abort")
		}
	})

	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		r, err := Request(ctx, s.opts(t, "GET", "/wait"), nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := record(r, true)
		finished := make(chan struct{})
		r.OnFinish(func() { close(finished) })
		r.End()
		<-finished
		cancel()
		if got, want := rec.wait(t), "socket,finish,close"; got != want {
			t.Errorf("events = %s, want %s", got, want)
		}
		if r.Aborted().IsZero() {
			t.Error("Aborted() is zero after cancel")
		}
	})

	t.Run("Abort after close does nothing", func(t *testing.T) {
		r, err := Get(context.Background(), s.opts(t, "GET", "/204"), nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := record(r, true)
		rec.wait(t)
		r.Abort()
		if !r.Aborted().IsZero() {
			t.Error("Abort after close set Aborted")
		}
	})
}

func TestEventOrderError(t *testing.T) {
	checkGoroutines(t)
	o := Options{Host: "127.0.0.1", Port: closedPort(t)}
	r, err := Request(context.Background(), o, func(*IncomingMessage) { t.Error("response callback called") })
	if err != nil {
		t.Fatal(err)
	}
	rec := record(r, true)
	r.End()
	if got, want := rec.wait(t), "error,close"; got != want {
		t.Errorf("events = %s, want %s", got, want)
	}
	wantKind(t, rec.Err(), ErrRefused)
}

// TestLateRegistration: a callback registered after its one-time event ran
// is called at once, so registering after Get never misses an event.
func TestLateRegistration(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, orderHandler, serverConfig{})
	r, err := Get(context.Background(), s.opts(t, "GET", "/204"), nil)
	if err != nil {
		t.Fatal(err)
	}
	first := record(r, false)
	first.wait(t)
	// Everything has happened: callbacks registered now still run, in the
	// order they are registered.
	var got []string
	done := make(chan struct{})
	add := func(name string) func() { return func() { got = append(got, name) } }
	r.OnSocket(func(net.Conn) { add("socket")() })
	r.OnFinish(add("finish"))
	r.OnResponse(func(*IncomingMessage) { add("response")() })
	m, err := r.Response()
	if err != nil {
		t.Fatal(err)
	}
	m.OnEnd(add("end"))
	m.OnClose(add("res.close"))
	r.OnClose(func() { add("close")(); close(done) })
	<-done
	if got, want := strings.Join(got, ","), "socket,finish,response,end,res.close,close"; got != want {
		t.Errorf("late events = %s, want %s", got, want)
	}
	// Registered late in the usual shape (OnEnd inside OnResponse, OnClose
	// beside it): still in the order the events fired, not the order of
	// registration.
	if got, want := record(r, false).wait(t), "socket,finish,response,end,res.close,close"; got != want {
		t.Errorf("late events, nested = %s, want %s", got, want)
	}
}
