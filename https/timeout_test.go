package https

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

// TestTimeoutIsInactivity: a body that keeps trickling in for longer than
// the timeout, but never pauses that long, does not time out.
func TestTimeoutIsInactivity(t *testing.T) {
	checkGoroutines(t)
	// The handshake counts as idle: under emulation it alone can take 150ms,
	// so the pace and the timeout stretch together.
	pace, timeout := testenv.Scale(25*time.Millisecond), testenv.Scale(150*time.Millisecond)
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tick := time.NewTicker(pace) // pacing, not synchronisation
		defer tick.Stop()
		rc := http.NewResponseController(w)
		for i := 0; i < 16; i++ {
			<-tick.C
			w.Write([]byte("."))
			rc.Flush()
		}
	}), serverConfig{})
	r, err := Request(context.Background(), s.opts(t, "GET", "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.SetTimeout(timeout, nil)
	rec := record(r, true)
	start := time.Now()
	r.End()
	if got, want := rec.wait(t), "socket,finish,response,data*,end,res.close,close"; got != want {
		t.Errorf("events = %s, want %s (%v)", got, want, rec.Err())
	}
	if rec.Body() != "................" {
		t.Errorf("body = %q", rec.Body())
	}
	if d := time.Since(start); d < timeout {
		t.Logf("transfer took %v, shorter than the timeout: the test proved nothing", d)
	}
}

// TestTimeoutNotAfterEnd: the timeout never fires once the response ended.
func TestTimeoutNotAfterEnd(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, http.HandlerFunc(hello), serverConfig{})
	// Under -race on a loaded machine the handshake alone may outlast the
	// timeout, and a callback then is right; only one after the end is wrong.
	// Callbacks run in order on the request's loop, so one that runs after
	// 'close' was handled was fired after the end.
	var ended, fired atomic.Bool
	r, err := Request(context.Background(), s.opts(t, "GET", "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.SetTimeout(50*time.Millisecond, func() {
		if ended.Load() {
			fired.Store(true)
		}
	})
	rec := record(r, true)
	r.End()
	rec.wait(t)
	ended.Store(true)
	<-time.After(200 * time.Millisecond) // four timeouts' worth of quiet
	if fired.Load() {
		t.Error("timeout fired after the response ended")
	}
}

// TestTimeoutOff: d <= 0 turns a timeout off.
func TestTimeoutOff(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, stall, serverConfig{})
	r, _ := Get(context.Background(), s.opts(t, "GET", "/"), nil)
	var fired atomic.Bool
	r.SetTimeout(30*time.Millisecond, func() { fired.Store(true) })
	r.SetTimeout(0, nil)
	<-time.After(150 * time.Millisecond)
	r.Abort()
	if fired.Load() {
		t.Error("a timeout turned off fired")
	}
}

// TestCancelledContext: a context cancelled before Request aborts it at
// once: close, no error.
func TestCancelledContext(t *testing.T) {
	checkGoroutines(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := Get(ctx, Options{Host: "127.0.0.1", Port: closedPort(t)}, nil)
	if err == nil {
		t.Fatal("Get with a cancelled context: nil error from End")
	}
	wantKind(t, err, ErrAborted)
	rec := record(r, true)
	if got := rec.wait(t); got != "close" {
		t.Errorf("events = %s, want close", got)
	}
	if r.Aborted().IsZero() {
		t.Error("Aborted() is zero")
	}
}
