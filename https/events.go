package https

import "sync"

// loop runs the callbacks of one request one at a time, in the order they
// were queued. It owns no goroutine while idle: the first queued callback
// starts a drain goroutine that exits when the queue is empty. Callbacks
// never run on the caller's goroutine nor on net/http's goroutines, so a
// callback may block or call any method of the request without deadlock.
//
// mu also guards the state of the request and message that share the loop.
type loop struct {
	mu        sync.Mutex
	queue     []func()
	running   bool
	fires     uint32     // one-time events fired (or queued to fire) so far
	late      []lateCall // handlers registered after their event fired, in firing order
	runLateFn func()     // l.runLate, made once
}

// lateCall is a handler registered after its event fired: the event's place
// in the firing order, and the call.
type lateCall struct {
	seq uint32
	f   func()
}

// postLateLocked queues f, a handler of the event fired seq-th, so that
// handlers registered late run in the order their events fired, whatever
// the order of registration: a request's OnClose registered right after
// Get, when the whole exchange was already over, runs after the OnEnd that
// its OnResponse handler registers. l.mu must be held.
func (l *loop) postLateLocked(seq uint32, f func()) {
	i := len(l.late)
	for i > 0 && l.late[i-1].seq > seq {
		i--
	}
	l.late = append(l.late, lateCall{})
	copy(l.late[i+1:], l.late[i:])
	l.late[i] = lateCall{seq, f}
	if l.runLateFn == nil {
		l.runLateFn = l.runLate
	}
	l.postLocked(l.runLateFn)
}

// runLate runs the earliest-fired late handler; each postLateLocked queues
// one runLate.
func (l *loop) runLate() {
	l.mu.Lock()
	c := l.late[0]
	l.late[0] = lateCall{}
	l.late = l.late[1:]
	l.mu.Unlock()
	c.f()
}

// postLocked queues f. l.mu must be held.
func (l *loop) postLocked(f func()) {
	l.queue = append(l.queue, f)
	if !l.running {
		l.running = true
		go l.drain()
	}
}

// release ends a turn of a goroutine that ran callbacks as the loop (it set
// running while the loop was idle): callbacks queued meanwhile get a drain
// goroutine.
func (l *loop) release() {
	l.mu.Lock()
	if len(l.queue) > 0 {
		go l.drain()
	} else {
		l.running = false
	}
	l.mu.Unlock()
}

func (l *loop) drain() {
	l.mu.Lock()
	for len(l.queue) > 0 {
		f := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.mu.Unlock()
		f()
		l.mu.Lock()
	}
	l.queue = nil
	l.running = false
	l.mu.Unlock()
}

// once is a one-time event carrying a value of type T: handlers registered
// before it fires run when it fires; handlers registered after run at once
// (queued on the loop, in the order the events fired), like a settled promise.
// Firing is itself queued, so a
// handler registered by an earlier callback (OnEnd inside the response
// callback) is in place when a later event fires. Guarded by loop.mu.
type once[T any] struct {
	queued   bool   // fireLocked was called
	fired    bool   // its handlers were taken
	seq      uint32 // its place in the loop's firing order
	val      T
	handlers []func(T)
}

// onLocked registers h. l.mu must be held.
func (e *once[T]) onLocked(l *loop, h func(T)) {
	if h == nil {
		return
	}
	if e.fired {
		v := e.val
		l.postLateLocked(e.seq, func() { h(v) })
		return
	}
	e.handlers = append(e.handlers, h)
}

// fireLocked queues the firing of e with v; later calls do nothing.
// l.mu must be held.
func (e *once[T]) fireLocked(l *loop, v T) {
	if e.queued {
		return
	}
	e.queued, e.val = true, v
	l.fires++
	e.seq = l.fires
	if len(e.handlers) == 0 && !l.running {
		// Nobody listens yet, and no callback is queued or running that
		// could register a handler before a queued firing would run: firing
		// now is the same as queuing it and running it at once, without
		// the closure and the drain goroutine. Handlers registered later
		// run at once, as after any firing.
		e.fired = true
		return
	}
	l.postLocked(func() {
		l.mu.Lock()
		e.fired = true
		hs := e.handlers
		e.handlers = nil
		l.mu.Unlock()
		for _, h := range hs {
			h(v)
		}
	})
}

// on registers h on e under l.mu.
func on[T any](l *loop, e *once[T], h func(T)) {
	l.mu.Lock()
	e.onLocked(l, h)
	l.mu.Unlock()
}

// noArg adapts a func() handler to once[struct{}].
func noArg(h func()) func(struct{}) {
	if h == nil {
		return nil
	}
	return func(struct{}) { h() }
}
