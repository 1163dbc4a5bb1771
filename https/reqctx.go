package https

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// certAskedKey is the context key of the *atomic.Bool that the TLS config
// sets when the server requested a client certificate.
type certAskedKey struct{}

// certAskedCtx is a context that answers certAskedKey with its own flag,
// for the round trips of the RoundTripper (roundtripper.go); a request's
// reqCtx has the flag itself.
type certAskedCtx struct {
	context.Context
	asked atomic.Bool
}

// Value returns the flag for certAskedKey, and asks the parent otherwise.
func (c *certAskedCtx) Value(key any) any {
	if key == (certAskedKey{}) {
		return &c.asked
	}
	return c.Context.Value(key)
}

// reqCtx is the context of a request's round trip, held in the request: the
// values of the caller's context (whose cancellation is Abort, see Request,
// not this context's), cancelled when the request ends, and the flag that
// the TLS config sets when the server asks for a client certificate
// (certAskedKey).
//
// It does what context.WithCancel would, for less: net/http derives a
// cancelable context from it for every round trip, and a context derived
// from a *context.cancelCtx is registered in a map of children that the
// parent allocates; one derived from reqCtx registers with AfterFunc, in a
// slot of the request. Its zero value needs parent set before use.
type reqCtx struct {
	parent context.Context // values and deadline only
	asked  atomic.Bool     // answers certAskedKey

	done atomic.Value // chan struct{}, made by the first Done, closed by cancel

	mu       sync.Mutex
	err      error    // context.Canceled once cancelled
	afters   []func() // registered by AfterFunc, run by cancel
	afterBuf [2]func()
}

// Deadline is the parent's deadline.
func (c *reqCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

// Done returns a channel closed when the request ends.
func (c *reqCtx) Done() <-chan struct{} {
	if d := c.done.Load(); d != nil {
		return d.(chan struct{})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.done.Load(); d != nil {
		return d.(chan struct{})
	}
	d := make(chan struct{})
	if c.err != nil {
		close(d)
	}
	c.done.Store(d)
	return d
}

// Err is context.Canceled once the request ended, nil before.
func (c *reqCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Value returns the flag for certAskedKey, and asks the parent otherwise.
func (c *reqCtx) Value(key any) any {
	if key == (certAskedKey{}) {
		return &c.asked
	}
	return c.parent.Value(key)
}

// String names the context, as the context package's own do.
func (c *reqCtx) String() string { return "https request context" }

// AfterFunc arranges for f to run once c is cancelled (at once, on its own
// goroutine, if it is already): the method through which the context
// package propagates cancellation to contexts derived from c (and through
// which context.AfterFunc(c, ...) works). The stop function it returns does
// not unregister f, which then runs when the request ends: the two kinds of
// f the context package registers (cancelling a derived context, and
// context.AfterFunc's own, guarded by its stop) do nothing by then. It
// reports false, as for an f that was not stopped.
func (c *reqCtx) AfterFunc(f func()) func() bool {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return notStopped
	}
	if c.afters == nil {
		c.afters = c.afterBuf[:0]
	}
	c.afters = append(c.afters, f)
	c.mu.Unlock()
	return notStopped
}

func notStopped() bool { return false }

// cancel ends c: Done is closed, Err is context.Canceled, and the AfterFunc
// functions run (on this goroutine, as context.WithCancel's cancel cancels
// its children). Later calls do nothing.
func (c *reqCtx) cancel() {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = context.Canceled
	if d := c.done.Load(); d != nil {
		close(d.(chan struct{}))
	}
	fs := c.afters
	c.afters = nil
	c.mu.Unlock()
	for i, f := range fs {
		fs[i] = nil
		f()
	}
}
