package https

import (
	"sync"
	"sync/atomic"
	"time"
)

// idleTimer is an inactivity timer: it calls req.timedOut once when touch has
// not been called for d. Touching costs one atomic store (and a clock read once
// the timer was armed), so it is done for every chunk of body moved; the timer
// re-arms itself lazily for the remainder.
type idleTimer struct {
	last  atomic.Int64 // time of the last activity, in UnixNano, once armed
	armed atomic.Bool  // set has armed the timer once: activity is worth noting

	mu      sync.Mutex
	t       *time.Timer
	d       time.Duration
	cb      func()
	gen     uint64 // bumps on every set/stop, so a stale timer does nothing
	stopped bool
	req     *ClientRequest // its timedOut is called without mu when the timer expires
}

// touch notes activity. Before the timer is first armed there is nothing to
// note: arming counts as activity.
func (it *idleTimer) touch() {
	if it.armed.Load() {
		it.last.Store(time.Now().UnixNano())
	}
}

// set arms the timer for d with cb (which may be nil); d <= 0 disarms it.
func (it *idleTimer) set(d time.Duration, cb func()) {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.gen++
	if it.t != nil {
		it.t.Stop()
		it.t = nil
	}
	if it.stopped || d <= 0 {
		return
	}
	it.d, it.cb = d, cb
	it.armed.Store(true)
	it.touch()
	gen := it.gen
	it.t = time.AfterFunc(d, func() { it.expire(gen) })
}

func (it *idleTimer) expire(gen uint64) {
	it.mu.Lock()
	if gen != it.gen || it.stopped || it.t == nil {
		it.mu.Unlock()
		return
	}
	idle := time.Duration(time.Now().UnixNano() - it.last.Load())
	if idle < it.d {
		it.t.Reset(it.d - idle)
		it.mu.Unlock()
		return
	}
	it.t = nil // one shot: SetTimeout again to re-arm
	d, cb := it.d, it.cb
	it.mu.Unlock()
	it.req.timedOut(d, cb)
}

// stop disarms the timer for good.
func (it *idleTimer) stop() {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.stopped = true
	it.gen++
	if it.t != nil {
		it.t.Stop()
		it.t = nil
	}
}
