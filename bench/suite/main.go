// Command suite runs the side-by-side benchmark of the httpskit server and client against plain
// net/http, nginx, Node and AwesomeServer, as shared/BENCH.md describes: servers pinned to CPU 1,
// the load generator (httpskit bench) to CPU 0, interleaved repetitions, server CPU per request
// from /proc, foreign load on the server CPU checked and reps rerun, results as JSONL, Go
// benchmark text, Markdown and a PNG plot.
//
//	go run ./bench/suite [-quick] [-reps 5] [-duration 10s] [-warmup 1s] [-only LIST] [-out docs]
//
// bench/run is the usual entry point: it installs what is missing and runs this pinned to CPU 0.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/httpskit/httpskit/certs"
)

const (
	serverCPU = 1 // every server runs here
	loadCPU   = 0 // the load generator, the clients and this program run here

	foreignLimit = 0.10 // a rep where others took more of the server CPU is run again

	downloadSize = 100_000_000
)

type options struct {
	Reps      int
	Duration  time.Duration
	Warmup    time.Duration
	Only      string
	Out       string
	Results   string
	Quick     bool
	IdleConns int
	IdleHold  time.Duration
	SeqN      int
	ParP      int
	Curves    string
	Keep      bool
	Reruns    int
	Args      []string // the command line, for the report
}

func main() {
	var o options
	fs := flag.NewFlagSet("suite", flag.ExitOnError)
	fs.IntVar(&o.Reps, "reps", 5, "interleaved repetitions per scenario")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured time of each load run")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "warm-up load before each measured run (not counted)")
	fs.StringVar(&o.Only, "only", "", "comma list of servers ("+strings.Join(serverNames(), ",")+") and/or scenarios ("+strings.Join(scenarioNames(), ",")+")")
	fs.StringVar(&o.Out, "out", "docs", "directory for benchmarks.md and benchmarks.png (-quick: bench/results/quick unless set)")
	fs.StringVar(&o.Results, "results", "bench/results", "directory for the raw JSONL, the Go benchmark text and the Markdown results (-quick: bench/results/quick)")
	fs.BoolVar(&o.Quick, "quick", false, "smoke test: 1 rep of 2s, 0.5s warm-up, results outside docs/")
	fs.IntVar(&o.IdleConns, "idle-conns", 1000, "idle scenario: connections held open")
	fs.DurationVar(&o.IdleHold, "idle-settle", time.Second, "idle scenario: wait after all connections are held, before reading memory")
	fs.IntVar(&o.SeqN, "seq", 1000, "client rows: sequential GETs on one connection")
	fs.IntVar(&o.ParP, "par", 50, "client rows: parallel GETs")
	fs.StringVar(&o.Curves, "curves", "X25519", "key exchange offered by the load generator (empty: Go's default list); the same for every server")
	fs.IntVar(&o.Reruns, "reruns", 2, "extra tries of a rep where others took over 10% of the server CPU (-quick: 0); then it is kept and flagged")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (certificates, configs, server logs)")
	renderFrom := fs.String("render", "", "do not run: rewrite the reports from this raw JSONL file (its last run, or -run ID)")
	renderRun := fs.String("run", "", "with -render: the run id (the \"run\" field)")
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "suite: unexpected arguments %q\n", fs.Args())
		os.Exit(2)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *renderFrom != "" {
		out := ""
		if set["out"] {
			out = o.Out
		}
		if err := render(*renderFrom, *renderRun, out); err != nil {
			fmt.Fprintln(os.Stderr, "suite:", err)
			os.Exit(1)
		}
		return
	}
	if o.Quick {
		if !set["reps"] {
			o.Reps = 1
		}
		if !set["duration"] {
			o.Duration = 2 * time.Second
		}
		if !set["warmup"] {
			o.Warmup = 500 * time.Millisecond
		}
		if !set["reruns"] {
			o.Reruns = 0
		}
		if !set["idle-settle"] {
			o.IdleHold = 500 * time.Millisecond
		}
		if !set["out"] {
			o.Out = filepath.Join("bench", "results", "quick")
		}
		if !set["results"] {
			o.Results = filepath.Join("bench", "results", "quick")
		}
	}
	o.Args = os.Args[1:]
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "suite:", err)
		os.Exit(1)
	}
}

// runner holds one run's state.
type runner struct {
	opts     options
	root     string // repository root
	tmp      string
	bin      map[string]string
	nginx    string
	timeBin  string // GNU time, for the clients' peak RSS; "" = rusage from wait4
	certFile string
	keyFile  string
	caFile   string
	caPEM    []byte
	wwwDir   string
	live     map[*instance]bool
	seq      int
	runID    string
	started  time.Time
	env      envInfo
	commands []commandNote
	cmdSeen  map[string]bool
	jsonl    *os.File

	servers   []serverSpec
	scenarios []scenario
	doIdle    bool
	doClients bool

	serverRuns []serverRun
	idleRuns   []idleRun
	clientRuns []clientRun
	problems   []string
}

type commandNote struct {
	Kind string `json:"kind"`
	Cmd  string `json:"cmd"`
}

func (r *runner) noteCommand(kind, cmd string) {
	if r.cmdSeen[kind+"\x00"+cmd] {
		return
	}
	r.cmdSeen[kind+"\x00"+cmd] = true
	r.commands = append(r.commands, commandNote{kind, cmd})
}

func (r *runner) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(os.Stderr, "suite: "+msg)
	r.problems = append(r.problems, msg)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, o options) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	r := &runner{opts: o, root: root, bin: map[string]string{}, live: map[*instance]bool{}, cmdSeen: map[string]bool{}, started: time.Now()}
	r.runID = r.started.Format("20060102T150405")
	if err := r.selectWork(o.Only); err != nil {
		return err
	}
	raiseNoFile()
	initClockTicks()
	warnAffinity()

	r.tmp, err = os.MkdirTemp("", "httpskit-bench-")
	if err != nil {
		return err
	}
	// nginx's worker runs as an unprivileged user when the suite runs as root: it must reach the
	// files it serves (the keys stay 0600 and are read by the master).
	if err := os.Chmod(r.tmp, 0o755); err != nil {
		return err
	}
	if o.Keep {
		logf("temporary directory %s (kept)", r.tmp)
	} else {
		defer os.RemoveAll(r.tmp)
	}
	defer r.stopAll()

	if err := r.setup(ctx); err != nil {
		return err
	}
	r.env = collectEnv(ctx, r)
	if err := os.MkdirAll(r.abs(o.Results), 0o755); err != nil {
		return err
	}
	jpath := filepath.Join(r.abs(o.Results), r.started.Format("2006-01-02")+".jsonl")
	r.jsonl, err = os.OpenFile(jpath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer r.jsonl.Close()
	r.record(map[string]any{"kind": "meta", "env": r.env, "options": o})

	if len(r.scenarios) > 0 {
		if err := r.runServerScenarios(ctx); err != nil {
			return err
		}
	}
	if r.doIdle && ctx.Err() == nil {
		r.runIdle(ctx)
	}
	if r.doClients && ctx.Err() == nil {
		r.runClients(ctx)
	}
	r.stopAll()
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted; raw results so far are in %s", jpath)
	}
	r.env.LoadAvgEnd = loadAvg()
	r.record(map[string]any{"kind": "commands", "commands": r.commands, "problems": r.problems, "load_avg_end": r.env.LoadAvgEnd})
	return r.writeReports(jpath)
}

// record appends one JSON line to the raw results, tagged with the run id.
func (r *runner) record(v map[string]any) {
	v["run"] = r.runID
	b, err := json.Marshal(v)
	if err != nil {
		r.problem("jsonl: %v", err)
		return
	}
	if _, err := r.jsonl.Write(append(b, '\n')); err != nil {
		r.problem("jsonl: %v", err)
	}
}

func (r *runner) abs(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(r.root, p)
}

// selectWork applies -only.
func (r *runner) selectWork(only string) error {
	var srv, scn []string
	for _, w := range strings.Split(only, ",") {
		w = strings.TrimSpace(w)
		switch {
		case w == "":
		case contains(serverNames(), w):
			srv = append(srv, w)
		case contains(scenarioNames(), w):
			scn = append(scn, w)
		default:
			return fmt.Errorf("-only: unknown %q (servers: %s; scenarios: %s)", w,
				strings.Join(serverNames(), ","), strings.Join(scenarioNames(), ","))
		}
	}
	for _, s := range allServers {
		if len(srv) == 0 || contains(srv, s.Name) {
			r.servers = append(r.servers, s)
		}
	}
	for _, s := range allScenarios {
		if len(scn) == 0 || contains(scn, s.Name) {
			r.scenarios = append(r.scenarios, s)
		}
	}
	r.doIdle = len(scn) == 0 || contains(scn, "idle")
	r.doClients = len(scn) == 0 || contains(scn, "client")
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func serverNames() []string {
	var n []string
	for _, s := range allServers {
		n = append(n, s.Name)
	}
	return n
}

func scenarioNames() []string {
	var n []string
	for _, s := range allScenarios {
		n = append(n, s.Name)
	}
	return append(n, "idle", "client")
}

// repoRoot walks up from the working directory to the module root.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/httpskit/httpskit") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the httpskit repository")
		}
		dir = parent
	}
}

// raiseNoFile lifts the open-file soft limit to the hard limit for this process and the
// servers and load generator it starts (the idle scenario holds 1000 connections).
func raiseNoFile() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// warnAffinity says when this program is not pinned to the load CPU (bench/run pins it).
func warnAffinity() {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			if strings.TrimSpace(v) != fmt.Sprint(loadCPU) {
				logf("note: this program runs on CPUs %s; bench/run pins it to CPU %d (load generator and clients are pinned either way)", strings.TrimSpace(v), loadCPU)
			}
		}
	}
}

// setup builds the binaries, issues the certificate and creates the download file.
func (r *runner) setup(ctx context.Context) error {
	binDir := filepath.Join(r.tmp, "bin")
	builds := []struct{ name, pkg string }{
		{"httpskit", "./cmd/httpskit"},
		{"server-httpskit", "./bench/servers/httpskit"},
		{"server-nethttp", "./bench/servers/nethttp"},
		{"client", "./bench/client"},
	}
	for _, b := range builds {
		out := filepath.Join(binDir, b.name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, b.pkg)
		cmd.Dir = r.root
		if msg, err := cmd.CombinedOutput(); err != nil {
			if b.name == "client" {
				r.problem("go build %s failed; the httpskit/nethttp client rows are skipped:\n%s", b.pkg, tail(string(msg), 600))
				continue
			}
			return fmt.Errorf("go build %s: %v\n%s", b.pkg, err, msg)
		}
		r.bin[b.name] = out
		r.noteCommand("build", "go build -o BIN "+b.pkg)
	}
	// The load generator must speak the contract.
	if out, err := exec.CommandContext(ctx, r.bin["httpskit"], "bench", "-h").CombinedOutput(); !strings.Contains(string(out), "--json") && !strings.Contains(string(out), "-json") {
		return fmt.Errorf("httpskit bench is not usable yet (%v):\n%s", err, tail(string(out), 600))
	}
	var err error
	if r.nginx, err = exec.LookPath("nginx"); err != nil {
		r.nginx = "/usr/sbin/nginx"
	}
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		r.timeBin = "/usr/bin/time"
	} else {
		r.problem("/usr/bin/time is missing: client peak RSS comes from wait4 and is at least this program's RSS")
	}

	ca, err := certs.NewCA("httpskit bench CA", 0)
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := ca.Issue(certs.LeafOptions{Hosts: []string{"localhost", "127.0.0.1"}})
	if err != nil {
		return err
	}
	r.caPEM = ca.CertPEM
	r.caFile = filepath.Join(r.tmp, "ca.pem")
	r.certFile = filepath.Join(r.tmp, "cert.pem")
	r.keyFile = filepath.Join(r.tmp, "key.pem")
	if err := os.WriteFile(r.caFile, ca.CertPEM, 0o644); err != nil {
		return err
	}
	if err := certs.WriteFiles(r.certFile, certPEM, r.keyFile, keyPEM); err != nil {
		return err
	}
	r.wwwDir = filepath.Join(r.tmp, "www")
	if err := os.MkdirAll(r.wwwDir, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(r.wwwDir, "100mb"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.CopyN(f, zeroReader{}, downloadSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
