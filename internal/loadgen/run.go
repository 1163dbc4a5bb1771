package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Phases of a run. Each request counts in the phase it started in.
const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseDone
)

// runner is the state of one Run, shared by its workers.
type runner struct {
	cfg  Config
	tgt  target
	tls  *tls.Config // nil for http://
	req  []byte      // HTTP/1.1 request bytes
	head bool        // the method is HEAD: responses have no body
	h2   *h2client   // H2 only

	// killCtx is cancelled when requests in flight are abandoned: at the end
	// of Duration, or when the caller's context is cancelled. Connections
	// close on it.
	killCtx context.Context
	kill    context.CancelFunc
	killed  atomic.Bool

	stopOnce sync.Once
	stopped  chan struct{} // closed: no new requests
	phase    atomic.Int32
	issued   atomic.Int64 // measured requests started (for Requests)
	finished atomic.Int64 // measured responses (for Progress)

	bytesRead, bytesWritten atomic.Int64
	handshakes, resumed     atomic.Int64

	mu                 sync.Mutex // guards what follows
	total              tally
	tlsVersion, cipher uint16
	curve              tls.CurveID
	held               int // Idle: connections held
}

// tally is what one worker counts; workers merge theirs at the end.
type tally struct {
	hist     histogram
	requests int64 // responses, any status
	ok       int64 // responses with a status below 400
	errors   [numKinds]int64
}

func (t *tally) merge(o *tally) {
	t.hist.merge(&o.hist)
	t.requests += o.requests
	t.ok += o.ok
	for i, n := range o.errors {
		t.errors[i] += n
	}
}

// Run loads the server at cfg.URL as cfg says and returns the result. It
// returns an error only for an unusable Config; failed requests are counted
// in Result.Errors. Cancelling ctx ends the run early: requests in flight are
// abandoned and Run returns the result so far. Run is safe to call
// concurrently; runs share nothing.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	tgt, err := parseTarget(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Mode == H2 && tgt.scheme != "https" {
		return nil, errors.New("loadgen: h2 needs an https:// URL")
	}
	r := &runner{
		cfg:     cfg,
		tgt:     tgt,
		tls:     cfg.tlsConfig(tgt),
		req:     buildRequest(cfg.Method, tgt, cfg.Header, cfg.Body, cfg.Mode == New),
		head:    cfg.Method == http.MethodHead,
		stopped: make(chan struct{}),
	}
	r.killCtx, r.kill = context.WithCancel(ctx)
	defer r.kill()
	if cfg.Mode == H2 {
		if r.h2, err = r.newH2Client(); err != nil {
			return nil, err
		}
	}
	if cfg.Mode == Idle {
		return r.runIdle(ctx), nil
	}
	return r.runLoad(ctx), nil
}

// runLoad runs the workers of KeepAlive, H2 or New through warm-up and
// measurement.
func (r *runner) runLoad(ctx context.Context) *Result {
	var from snapshot
	if r.cfg.Warmup == 0 {
		from = r.snapshot()
		r.phase.Store(phaseMeasure)
	}
	var wg sync.WaitGroup
	r.startWorkers(&wg)
	workersDone := make(chan struct{})
	go func() { wg.Wait(); close(workersDone) }()

	if r.cfg.Warmup > 0 {
		t := time.NewTimer(r.cfg.Warmup)
		select {
		case <-t.C:
		case <-ctx.Done():
			r.abandon()
		}
		t.Stop()
		from = r.snapshot()
		r.phase.CompareAndSwap(phaseWarmup, phaseMeasure)
	}

	var deadline <-chan time.Time
	if r.cfg.Duration > 0 {
		t := time.NewTimer(r.cfg.Duration)
		defer t.Stop()
		deadline = t.C
	}
	var tick <-chan time.Time
	if r.cfg.Progress != nil {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C
	}
	var end time.Time
wait:
	for {
		select {
		case <-deadline:
			end = time.Now()
			r.abandon()
			break wait
		case <-ctx.Done():
			end = time.Now()
			r.abandon()
			break wait
		case <-r.stopped: // Requests reached: let those in flight finish
			break wait
		case now := <-tick:
			r.cfg.Progress(now.Sub(from.at), r.finished.Load())
		}
	}
	<-workersDone
	if r.h2 != nil {
		r.h2.closeAll()
	}
	to := r.snapshot()
	if end.IsZero() {
		end = to.at
	}
	to.at = end
	return r.result(from, to)
}

func (r *runner) startWorkers(wg *sync.WaitGroup) {
	for range r.cfg.Connections {
		switch r.cfg.Mode {
		case KeepAlive:
			r.spawn(wg, r.keepAliveWorker)
		case New:
			r.spawn(wg, r.newConnWorker)
		case H2:
			r.spawn(wg, r.h2Worker)
		}
	}
}

// spawn runs one worker with its own tally, merged when it returns.
func (r *runner) spawn(wg *sync.WaitGroup, work func(*tally)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := new(tally)
		work(t)
		r.mu.Lock()
		r.total.merge(t)
		r.mu.Unlock()
	}()
}

// stop ends the run for new requests; those in flight go on.
func (r *runner) stop() {
	r.phase.Store(phaseDone)
	r.stopOnce.Do(func() { close(r.stopped) })
}

// abandon ends the run now: no new requests, and those in flight are
// dropped and their connections closed.
func (r *runner) abandon() {
	r.killed.Store(true)
	r.stop()
	r.kill()
}

// begin is called by a worker before each request. ok false means stop;
// measured says whether the request counts.
func (r *runner) begin() (measured, ok bool) {
	switch r.phase.Load() {
	case phaseWarmup:
		return false, true
	case phaseMeasure:
		if r.cfg.Requests > 0 {
			n := r.issued.Add(1)
			if n > r.cfg.Requests {
				return false, false
			}
			if n == r.cfg.Requests {
				r.stop()
			}
		}
		return true, true
	}
	return false, false
}

// done records one finished request: a response with status, or err.
// Requests abandoned at the end are not counted.
func (r *runner) done(t *tally, measured bool, status int, latency time.Duration, err error) {
	if !measured {
		return
	}
	if err != nil {
		if r.killCtx.Err() == nil {
			t.errors[classify(err)]++
		}
		return
	}
	if r.killed.Load() {
		return
	}
	t.requests++
	if k, bad := statusKind(status); bad {
		t.errors[k]++
	} else {
		t.ok++
	}
	t.hist.record(latency)
	r.finished.Add(1)
}

// pause waits a little after a failed connection, so that a refused port
// does not become a busy loop; it returns early when the run stops.
func (r *runner) pause(fails *int) {
	*fails++
	t := time.NewTimer(time.Millisecond << min(*fails, 7))
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.stopped:
	}
}
