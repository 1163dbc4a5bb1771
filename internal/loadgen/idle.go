package loadgen

import (
	"context"
	"sync"
	"time"
)

// maxDialing bounds the connections Idle opens at the same time, so that a
// large count does not overflow the server's accept queue.
const maxDialing = 64

// runIdle opens Config.Connections connections, sends one request on each,
// and once all have their response holds those that worked, idle, for
// Config.Duration or until ctx is cancelled. Then it checks which ones the
// server closed meanwhile ("closed while idle") and closes them all.
func (r *runner) runIdle(ctx context.Context) *Result {
	r.phase.Store(phaseMeasure)
	from := r.snapshot()
	conns := make([]*h1conn, r.cfg.Connections)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		t    tally
		sema = make(chan struct{}, maxDialing)
	)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sema <- struct{}{}
			defer func() { <-sema }()
			c, status, latency, err := r.openIdle()
			mu.Lock()
			r.done(&t, true, status, latency, err)
			mu.Unlock()
			if err == nil {
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	held := 0
	for _, c := range conns {
		if c != nil {
			held++
		}
	}
	holdFrom := time.Now()
	if held > 0 && ctx.Err() == nil {
		if r.cfg.Holding != nil {
			r.cfg.Holding(held)
		}
		timer := time.NewTimer(r.cfg.Duration)
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
	}
	holdTo := time.Now()
	for _, c := range conns {
		if c == nil {
			continue
		}
		if !stillOpen(c) {
			t.errors[kindClosedIdle]++
		}
		c.close()
	}
	r.mu.Lock()
	r.total = t
	r.mu.Unlock()
	from.at = holdFrom
	to := r.snapshot()
	to.at = holdTo
	r.held = held
	return r.result(from, to)
}

// openIdle opens one connection and does its one request.
func (r *runner) openIdle() (*h1conn, int, time.Duration, error) {
	start := time.Now()
	deadline := start.Add(r.cfg.Timeout)
	c, err := r.dialH1(deadline)
	if err != nil {
		return nil, 0, 0, err
	}
	res, err := c.roundTrip(r.req, r.head, deadline)
	latency := time.Since(start)
	if err == nil && res.close {
		err = errProtocol("the server closed the connection after its response")
	}
	if err != nil {
		c.close()
		return nil, 0, 0, err
	}
	if !c.raw.stop() { // cancelled meanwhile: the connection is closed
		c.close()
		return nil, 0, 0, context.Canceled
	}
	// From here on the hold, not the context, decides when it closes.
	c.rd = nil // held idle: keep no buffer
	return c, res.status, latency, nil
}

// stillOpen reports whether the server has kept c open and silent: an idle
// HTTP/1.1 connection has nothing to read until the server closes it (a TLS
// server sends close_notify first).
func stillOpen(c *h1conn) bool {
	return nothingToRead(c.raw.Conn)
}
