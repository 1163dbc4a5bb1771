package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/httpskit/httpskit/internal/loadgen"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// scenario is one load pattern of the server table.
type scenario struct {
	Name  string
	Label string
	Unit  string // what one "request" is: "req" or "conn"
	Args  []string
}

var allScenarios = []scenario{
	{Name: "h1", Label: "HTTP/1.1 keep-alive", Unit: "req", Args: []string{"--mode", "keepalive", "-c", "50"}},
	{Name: "h2", Label: "HTTP/2 keep-alive", Unit: "req", Args: []string{"--mode", "h2", "-c", "50", "-m", "10"}},
	{Name: "h2-1", Label: "HTTP/2 keep-alive, 1 stream", Unit: "req", Args: []string{"--mode", "h2", "-c", "50", "-m", "1"}},
	{Name: "resumed", Label: "new conn, resumed", Unit: "conn", Args: []string{"--mode", "new", "-c", "16", "--resume=true"}},
	{Name: "full", Label: "new conn, full", Unit: "conn", Args: []string{"--mode", "new", "-c", "16", "--resume=false"}},
}

// benchResult is the JSON printed by httpskit bench --json.
type benchResult = loadgen.Result

// serverRun is one measured load run against one server.
type serverRun struct {
	Kind        string      `json:"kind"` // "server"
	Scenario    string      `json:"scenario"`
	Server      string      `json:"server"`
	Rep         int         `json:"rep"`
	Tries       int         `json:"tries"`       // 1 + reruns for foreign load
	ForeignPct  float64     `json:"foreign_pct"` // of the server CPU, in the kept try
	TriesPct    []float64   `json:"tries_foreign_pct,omitempty"`
	Flagged     bool        `json:"flagged"`           // still over the limit after the reruns
	ServerCore  cpuTimes    `json:"server_core_ticks"` // /proc/stat delta of the server CPU over the kept try
	IRQPct      float64     `json:"irq_pct"`           // interrupt+softirq share of the server CPU (the kernel's network work)
	IRQUSPerReq float64     `json:"irq_us_per_req"`    // that time per request
	Requests    int64       `json:"requests"`
	DurationS   float64     `json:"duration_s"`
	RPS         float64     `json:"rps"`
	ServerCPUS  float64     `json:"server_cpu_s"`
	USPerReq    float64     `json:"us_per_req"`
	ReqPerCPUS  float64     `json:"req_per_cpu_s"`
	ErrorCount  int64       `json:"error_count"`
	Command     string      `json:"command"`
	Bench       benchResult `json:"bench"`
}

func (r *runner) benchArgs(in *instance, extra []string, d time.Duration, name string) []string {
	argv := []string{"taskset", "-c", strconv.Itoa(loadCPU), r.bin["httpskit"], "bench", in.URL()}
	argv = append(argv, extra...)
	argv = append(argv, "--duration", d.String(), "--ca", r.caFile, "--json", "-q")
	if r.opts.Curves != "" {
		argv = append(argv, "--curves", r.opts.Curves)
	}
	if name != "" {
		argv = append(argv, "--name", name)
	}
	return argv
}

// runBench runs the load generator to the end and parses its JSON.
func (r *runner) runBench(ctx context.Context, argv []string, limit time.Duration) (benchResult, error) {
	var res benchResult
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if perr := parseBenchJSON(stdout.Bytes(), &res); perr != nil {
		if err == nil {
			err = perr
		}
		return res, fmt.Errorf("%v\n%s", err, tail(stderr.String(), 600))
	}
	if err != nil && res.Requests == 0 && res.IdleHeld == 0 {
		return res, fmt.Errorf("%v\n%s", err, tail(stderr.String(), 600))
	}
	return res, nil
}

// parseBenchJSON takes the last line of stdout that is a JSON object.
func parseBenchJSON(out []byte, res *benchResult) error {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "{") {
			return json.Unmarshal([]byte(l), res)
		}
	}
	// Not one line: maybe indented JSON.
	if t := bytes.TrimSpace(out); len(t) > 0 && t[0] == '{' {
		return json.Unmarshal(t, res)
	}
	return fmt.Errorf("no JSON result in the output %q", tail(string(out), 200))
}

// runServerScenarios starts every selected server once and runs the scenarios, interleaving the
// servers within each rep.
func (r *runner) runServerScenarios(ctx context.Context) error {
	main := map[string]*instance{}
	h2 := map[string]*instance{}
	needH2 := false
	for _, s := range r.scenarios {
		needH2 = needH2 || strings.HasPrefix(s.Name, "h2")
	}
	for _, spec := range r.servers {
		in, err := r.startServer(ctx, spec, false)
		if err != nil {
			r.problem("%v", err)
			continue
		}
		main[spec.Name] = in
		logf("%s up on %s (pid %d)", in, in.URL(), in.PID())
		if needH2 && (spec.Name == "node" || spec.Name == "awesome") {
			in2, err := r.startServer(ctx, spec, true)
			if err != nil {
				r.problem("%v", err)
				continue
			}
			h2[spec.Name] = in2
			logf("%s up on %s (pid %d)", in2, in2.URL(), in2.PID())
		}
	}
	if len(main) == 0 {
		return fmt.Errorf("no server came up")
	}
	// The idle and client scenarios start fresh servers; these would only sit on CPU 1.
	defer func() {
		for _, in := range main {
			r.stopServer(in)
		}
		for _, in := range h2 {
			r.stopServer(in)
		}
	}()
	for _, sc := range r.scenarios {
		for rep := 1; rep <= r.opts.Reps; rep++ {
			for _, spec := range r.servers {
				if ctx.Err() != nil {
					return nil
				}
				in := main[spec.Name]
				if strings.HasPrefix(sc.Name, "h2") && (spec.Name == "node" || spec.Name == "awesome") {
					in = h2[spec.Name]
				}
				if in == nil {
					continue
				}
				run, err := r.measure(ctx, in, sc, rep)
				if err != nil {
					r.problem("%s %s rep %d: %v", sc.Name, spec.Name, rep, err)
					continue
				}
				r.serverRuns = append(r.serverRuns, run)
				r.record(toMap(run))
				flag := ""
				if run.Tries > 1 {
					flag = fmt.Sprintf(" (%d tries)", run.Tries)
				}
				if run.Flagged {
					flag += " FLAGGED"
				}
				logf("%-7s rep %d/%d %-9s %9.0f %s/s  %7.1f µs CPU/%s  foreign %4.1f%%  %s %s %s resumed %d/%d errors %d%s",
					sc.Name, rep, r.opts.Reps, spec.Name, run.RPS, sc.Unit, run.USPerReq, sc.Unit, run.ForeignPct,
					run.Bench.Proto, run.Bench.Curve, run.Bench.Cipher, run.Bench.Resumed, run.Bench.Handshakes, run.ErrorCount, flag)
			}
		}
	}
	return nil
}

func toMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	return m
}

// measure runs the warm-up and one measured run, reading the server's CPU and the server core's
// busy time around the measured run, and runs it again while others took over 10% of the core.
func (r *runner) measure(ctx context.Context, in *instance, sc scenario, rep int) (serverRun, error) {
	name := fmt.Sprintf("%s/server=%s", sc.Name, in.Spec.Name)
	var tries []float64
	for try := 1; ; try++ {
		if r.opts.Warmup > 0 {
			wargv := r.benchArgs(in, sc.Args, r.opts.Warmup, name+"/warmup")
			if _, err := r.runBench(ctx, wargv, r.opts.Warmup+time.Minute); err != nil {
				// A short warm-up on a busy core may finish before any request does; the
				// measured run says whether the server works.
				logf("%s rep %d %s: warm-up: %v", sc.Name, rep, in.Spec.Name, firstLine(err.Error()))
			}
		}
		argv := r.benchArgs(in, sc.Args, r.opts.Duration, name)
		r.noteCommand("bench", shellJoin(argv))
		cpu0, err := treeCPUTicks(in.PID())
		if err != nil {
			return serverRun{}, err
		}
		core0, err := readCPU(serverCPU)
		if err != nil {
			return serverRun{}, err
		}
		res, err := r.runBench(ctx, argv, r.opts.Duration+time.Minute)
		core1, cerr := readCPU(serverCPU)
		cpu1, perr := treeCPUTicks(in.PID())
		if err != nil {
			return serverRun{}, err
		}
		if cerr != nil || perr != nil {
			return serverRun{}, fmt.Errorf("reading /proc after the run: %v %v", cerr, perr)
		}
		ticks := cpu1 - cpu0
		foreign := foreignShare(core1.sub(core0), ticks)
		tries = append(tries, round1(foreign*100))
		if foreign > foreignLimit && try <= r.opts.Reruns && ctx.Err() == nil {
			logf("%s rep %d %s: others took %.0f%% of CPU %d; running it again", sc.Name, rep, in.Spec.Name, foreign*100, serverCPU)
			continue
		}
		run := serverRun{
			Kind: "server", Scenario: sc.Name, Server: in.Spec.Name, Rep: rep, Tries: try,
			ForeignPct: round1(foreign * 100), Flagged: foreign > foreignLimit, ServerCore: core1.sub(core0),
			Requests: res.Requests, DurationS: res.DurationS, RPS: res.RPS,
			ServerCPUS: float64(ticks) / clockTicks,
			Command:    shellJoin(argv), Bench: res,
		}
		run.TriesPct = tries
		for _, n := range res.Errors {
			run.ErrorCount += n
		}
		run.IRQPct = round1(softirqShare(run.ServerCore) * 100)
		if res.Requests > 0 {
			run.USPerReq = run.ServerCPUS * 1e6 / float64(res.Requests)
			run.IRQUSPerReq = float64(run.ServerCore.IRQ+run.ServerCore.SoftIRQ) / clockTicks * 1e6 / float64(res.Requests)
		}
		if run.ServerCPUS > 0 {
			run.ReqPerCPUS = float64(res.Requests) / run.ServerCPUS
		}
		return run, nil
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// idleRun is the memory one server holds for idle TLS connections.
type idleRun struct {
	Kind              string  `json:"kind"` // "idle"
	Server            string  `json:"server"`
	Rep               int     `json:"rep"`
	Held              int64   `json:"held"`
	RSSBaseKB         int64   `json:"rss_base_kb"`
	RSSIdleKB         int64   `json:"rss_idle_kb"`
	RSSBaseGCKB       int64   `json:"rss_base_after_gc_kb,omitempty"`
	RSSIdleGCKB       int64   `json:"rss_idle_after_gc_kb,omitempty"`
	RSSKBPerConn      float64 `json:"rss_kb_per_conn"`
	RSSGCKBPerConn    float64 `json:"rss_after_gc_kb_per_conn,omitempty"`
	GoBase            *goMem  `json:"go_base,omitempty"`
	GoIdle            *goMem  `json:"go_idle,omitempty"`
	GoKBPerConn       float64 `json:"go_heap_stack_kb_per_conn,omitempty"`
	GoroutinesPerConn float64 `json:"goroutines_per_conn,omitempty"`
	Command           string  `json:"command"`
}

var holdingRE = regexp.MustCompile(`bench: holding (\d+) idle connections`)

// runIdle measures, for each server in turn and each rep, a fresh server holding N idle
// connections that each made one request.
func (r *runner) runIdle(ctx context.Context) {
	for rep := 1; rep <= r.opts.Reps; rep++ {
		for _, spec := range r.servers {
			if ctx.Err() != nil {
				return
			}
			run, err := r.measureIdle(ctx, spec, rep)
			if err != nil {
				r.problem("idle %s rep %d: %v", spec.Name, rep, err)
				continue
			}
			r.idleRuns = append(r.idleRuns, run)
			r.record(toMap(run))
			extra := ""
			if spec.IsGo {
				extra = fmt.Sprintf(", RSS after GC %.1f KB/conn, Go heap+stack %.1f KB/conn, %.2f goroutines/conn", run.RSSGCKBPerConn, run.GoKBPerConn, run.GoroutinesPerConn)
			}
			logf("idle    rep %d/%d %-9s %d held: RSS %.1f KB/conn%s", rep, r.opts.Reps, spec.Name, run.Held, run.RSSKBPerConn, extra)
		}
	}
}

func (r *runner) measureIdle(ctx context.Context, spec serverSpec, rep int) (idleRun, error) {
	run := idleRun{Kind: "idle", Server: spec.Name, Rep: rep}
	in, err := r.startServer(ctx, spec, false)
	if err != nil {
		return run, err
	}
	defer r.stopServer(in)
	// Measurement settling, not synchronisation: the server has answered its readiness probe;
	// let its start-up allocations and first GC settle before the baseline RSS is read.
	time.Sleep(500 * time.Millisecond)
	snap := func() (rss, rssGC int64, m *goMem, err error) {
		if rss, err = treeRSSKB(in.PID()); err != nil {
			return
		}
		if !spec.IsGo {
			return
		}
		mm, err := readGoMem(in.DebugPort)
		if err != nil {
			return
		}
		m = &mm
		rssGC, err = treeRSSKB(in.PID())
		return
	}
	if run.RSSBaseKB, run.RSSBaseGCKB, run.GoBase, err = snap(); err != nil {
		return run, err
	}

	hold := 10 * time.Minute // until the suite stops it
	argv := r.benchArgs(in, []string{"--mode", "idle", "-c", strconv.Itoa(r.opts.IdleConns)}, hold, "idle/server="+spec.Name)
	run.Command = shellJoin(argv)
	r.noteCommand("bench", run.Command)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return run, err
	}
	if err := cmd.Start(); err != nil {
		return run, err
	}
	held := make(chan int64, 1)
	var errText strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := holdingRE.FindStringSubmatch(line); m != nil {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				select {
				case held <- n:
				default:
				}
				continue
			}
			if errText.Len() < 2000 {
				errText.WriteString(line + "\n")
			}
		}
		close(held)
	}()
	stopBench := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	select {
	case n, ok := <-held:
		if !ok {
			stopBench()
			return run, fmt.Errorf("bench ended before holding its connections:\n%s", tail(errText.String(), 600))
		}
		run.Held = n
	case <-time.After(2 * time.Minute):
		stopBench()
		return run, fmt.Errorf("bench did not report holding its connections within 2 minutes")
	case <-ctx.Done():
		stopBench()
		return run, ctx.Err()
	}
	time.Sleep(r.opts.IdleHold)
	var mErr error
	run.RSSIdleKB, run.RSSIdleGCKB, run.GoIdle, mErr = snap()
	stopBench()
	if mErr != nil {
		return run, mErr
	}
	var res benchResult
	if err := parseBenchJSON(stdout.Bytes(), &res); err == nil && res.IdleHeld > 0 && int64(res.IdleHeld) != run.Held {
		r.problem("idle %s rep %d: bench held %d at the start, reports %d at the end", spec.Name, rep, run.Held, res.IdleHeld)
	}
	if run.Held <= 0 {
		return run, fmt.Errorf("no connections held")
	}
	n := float64(run.Held)
	run.RSSKBPerConn = float64(run.RSSIdleKB-run.RSSBaseKB) / n
	if spec.IsGo && run.GoBase != nil && run.GoIdle != nil {
		run.RSSGCKBPerConn = float64(run.RSSIdleGCKB-run.RSSBaseGCKB) / n
		base := float64(run.GoBase.HeapObjectsBytes + run.GoBase.StackBytes)
		idle := float64(run.GoIdle.HeapObjectsBytes + run.GoIdle.StackBytes)
		run.GoKBPerConn = (idle - base) / 1024 / n
		run.GoroutinesPerConn = (float64(run.GoIdle.Goroutines) - float64(run.GoBase.Goroutines)) / n
	}
	return run, nil
}
