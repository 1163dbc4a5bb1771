// Command mem measures the memory of httpskit: the peak RSS of `httpskit get` for one HTTPS
// GET, and of `httpskit serve` idle and under keep-alive connections, natively and under
// qemu-user for ARM, in each of a few modes (default, --frugal, GOMEMLIMIT).
//
//	go run ./bench/mem                          # amd64, armv6, armv7, arm64; 5 runs each
//	go run ./bench/mem -arch amd64 -n 9         # natively only
//	go run ./bench/mem -modes 'default=;gogc50=GOGC=50;frugal=--frugal'
//
// It builds httpskit as a release is built (CGO_ENABLED=0, -trimpath, -ldflags '-s -w') for
// each architecture, and the floor programs the same way (floor.go): a static hello-world,
// and, unless -floor=false, a GET with crypto/tls alone, with net/http alone and with
// package https alone. It makes a site
// with a 4 KiB and an 8 MiB file and serves it with a native `httpskit serve` on 127.0.0.1
// with a development CA in a temporary --ca-root. Then, for each architecture and mode:
//
//   - get: `httpskit get --ca CA URL` of the 4 KiB file, -n times; peak RSS from GNU time
//     (-f %M) and the median. The same for the 8 MiB file with its output read at -slow bytes
//     per second (a consumer slower than the network, as a device writing to an SD card):
//     what the client buffers then shows.
//   - the floor programs, -n times each, under the same runner: hello is the baseline that
//     any Go program pays there; the GETs show what crypto/tls, net/http and package https
//     cost before the CLI adds anything.
//   - serve: a fresh `httpskit serve` of the same site; its RSS once started and idle
//     (VmHWM, RssAnon, RssFile from /proc/PID/status; the resident pages of its binary from
//     /proc/PID/smaps); then `httpskit bench -c CONNS --duration D` (HTTP/1.1 keep-alive
//     GETs of the 4 KiB file, a native load generator) while its VmRSS is sampled every
//     100 ms: the peak (VmHWM after the load) and the steady RSS (median of the samples of
//     the second half). A second fresh serve takes -c CONNS HTTP/2 connections POSTing the
//     8 MiB file (`bench --mode h2 -X POST`): what request bodies queued ahead of the
//     handler cost.
//
// Each httpskit process runs with HTTPSKIT_MEMSTATS=1 and prints, as it ends, its memory as
// the Go runtime sees it (runtime/metrics); the tables carry its RSS split into anonymous and
// file-backed pages and the memory the runtime holds.
//
// Under qemu-user the RSS is the emulator's: qemu's own code and data, its translated code
// cache (which grows with the guest code that runs) and the guest's memory. The tables give
// the raw figure and the figure minus hello under the same qemu; neither is what the program
// takes on an ARM board (the code cache makes the second too high), but the Go runtime's own
// figures (heap, stacks) are the guest's and are what an ARM board would see.
//
// Results go to standard output as Markdown, with the commands; -json FILE also writes them
// as JSON. Exit 1 when a measurement failed, 2 on bad usage.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "mem:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "mem:", err)
		os.Exit(1)
	}
}

type usageError struct{ error }

// arch is a target: how to build for it and how to run its binaries here.
type arch struct {
	Name   string `json:"name"`
	GOARCH string `json:"goarch"`
	GOARM  string `json:"goarm,omitempty"`
	Qemu   string `json:"qemu,omitempty"` // qemu-user program; "" when it runs natively
	CPU    string `json:"qemu_cpu,omitempty"`
}

// arches are the targets mem knows: the CPUs are those of the Raspberry Pi Zero/1 (v6),
// the Pi 2 (v7) and the Pi 3 (arm64).
var arches = []arch{
	{Name: "amd64", GOARCH: "amd64"},
	{Name: "armv6", GOARCH: "arm", GOARM: "6", Qemu: "qemu-arm-static", CPU: "arm1176"},
	{Name: "armv7", GOARCH: "arm", GOARM: "7", Qemu: "qemu-arm-static", CPU: "cortex-a7"},
	{Name: "arm64", GOARCH: "arm64", Qemu: "qemu-aarch64-static", CPU: "cortex-a53"},
}

// runner is the command prefix that runs a binary of a on this machine.
func (a arch) runner() []string {
	if a.Qemu == "" {
		return nil
	}
	return []string{a.Qemu, "-cpu", a.CPU}
}

// mode is a way to run httpskit: environment variables and flags added to get and serve.
type mode struct {
	Name  string   `json:"name"`
	Env   []string `json:"env,omitempty"`
	Flags []string `json:"flags,omitempty"`
}

// parseModes reads "name=TOKENS;name=TOKENS": each token NAME=VALUE is an environment
// variable, any other a flag.
func parseModes(s string) ([]mode, error) {
	var modes []mode
	for part := range strings.SplitSeq(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, toks, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, usageError{fmt.Errorf("-modes: %q: want name=TOKENS", part)}
		}
		m := mode{Name: name}
		for _, t := range strings.Fields(toks) {
			if k, _, ok := strings.Cut(t, "="); ok && !strings.HasPrefix(t, "-") && k == strings.ToUpper(k) {
				m.Env = append(m.Env, t)
			} else {
				m.Flags = append(m.Flags, t)
			}
		}
		modes = append(modes, m)
	}
	if len(modes) == 0 {
		return nil, usageError{errors.New("-modes: no mode")}
	}
	return modes, nil
}

func (m mode) String() string {
	return strings.TrimSpace(strings.Join(m.Env, " ") + " httpskit CMD " + strings.Join(m.Flags, " "))
}

// config is the command line.
type config struct {
	arches   []arch
	modes    []mode
	n        int
	conns    int
	duration time.Duration
	slow     int
	jsonOut  string
	keep     bool
	floor    bool
}

// results is everything measured, for the JSON output.
type results struct {
	Date     string            `json:"date"`
	Host     map[string]string `json:"host"`
	Sizes    map[string]int64  `json:"binary_bytes"`
	Hello    map[string]dist   `json:"hello_peak_kb"`
	Floor    []floorResult     `json:"floor"`
	Get      []getResult       `json:"get"`
	Serve    []serveResult     `json:"serve"`
	Commands []string          `json:"commands"`
	Problems []string          `json:"problems,omitempty"`
}

// floorResult is the peak RSS of a floor program.
type floorResult struct {
	Arch   string `json:"arch"`
	Name   string `json:"name"`
	PeakKB dist   `json:"peak_kb"`
}

type getResult struct {
	Arch     string             `json:"arch"`
	Mode     string             `json:"mode"`
	Case     string             `json:"case"` // "4k" or "8m-slow"
	PeakKB   dist               `json:"peak_kb"`
	Memstats map[string][]int64 `json:"memstats"` // per key, one value per run
}

type serveResult struct {
	Arch          string   `json:"arch"`
	Mode          string   `json:"mode"`
	Idle          status   `json:"idle_kb"`
	IdleBinaryKB  int64    `json:"idle_binary_resident_kb"`
	LoadPeakKB    int64    `json:"load_peak_kb"`
	LoadSteadyKB  dist     `json:"load_steady_kb"`
	LoadReqPerSec float64  `json:"load_req_per_s"`
	LoadMemstats  memstats `json:"load_memstats"` // at exit, after the load
	UpIdleKB      int64    `json:"upload_idle_kb"`
	UpPeakKB      int64    `json:"upload_peak_kb"`
	UpReqPerSec   float64  `json:"upload_req_per_s"`
	UpMemstats    memstats `json:"upload_memstats"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mem", flag.ContinueOnError)
	fs.SetOutput(stderr)
	archList := fs.String("arch", "amd64,armv6,armv7,arm64", "architectures, comma separated (amd64, armv6, armv7, arm64)")
	modeList := fs.String("modes", "default=;frugal=--frugal;gomemlimit=GOMEMLIMIT=16MiB", "modes: name=TOKENS;... (NAME=VALUE tokens are environment, others flags)")
	var c config
	fs.IntVar(&c.n, "n", 5, "runs of each get measurement")
	fs.IntVar(&c.conns, "c", 50, "connections of the serve loads")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "length of each serve load")
	fs.IntVar(&c.slow, "slow", 4<<20, "bytes per second at which the 8 MiB download is read")
	fs.StringVar(&c.jsonOut, "json", "", "also write the results as JSON to `FILE`")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (binaries, site, CA)")
	fs.BoolVar(&c.floor, "floor", true, "also measure the floor programs: a GET with crypto/tls alone, net/http alone, package https alone")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 || c.n < 1 || c.conns < 1 || c.slow < 1 {
		return usageError{errors.New("usage: mem [-arch LIST] [-modes LIST] [-n N] [-c CONNS] [-duration D] [-slow BYTES] [-json FILE]")}
	}
	var err error
	if c.modes, err = parseModes(*modeList); err != nil {
		return err
	}
	res := &results{Date: time.Now().UTC().Format(time.RFC3339), Sizes: map[string]int64{}, Hello: map[string]dist{}}
	for name := range strings.SplitSeq(*archList, ",") {
		i := indexArch(strings.TrimSpace(name))
		if i < 0 {
			return usageError{fmt.Errorf("-arch: unknown %q", name)}
		}
		a := arches[i]
		if a.GOARCH == runtime.GOARCH && (a.GOARCH != "arm" || a.Qemu == "") {
			a.Qemu, a.CPU = "", "" // native
		}
		if a.Qemu != "" {
			if _, err := exec.LookPath(a.Qemu); err != nil {
				res.Problems = append(res.Problems, fmt.Sprintf("%s skipped: %s is missing (apt-get install qemu-user-static)", a.Name, a.Qemu))
				continue
			}
		}
		c.arches = append(c.arches, a)
	}

	tmp, err := os.MkdirTemp("", "httpskit-mem-")
	if err != nil {
		return err
	}
	if c.keep {
		fmt.Fprintln(stderr, "mem: keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	m := &measurer{cfg: c, tmp: tmp, res: res, log: stderr}
	if err := m.setup(ctx); err != nil {
		return err
	}
	defer m.server.kill()
	for _, a := range c.arches {
		if err := m.measureArch(ctx, a); err != nil {
			return fmt.Errorf("%s: %w", a.Name, err)
		}
	}
	m.server.stop()
	report(stdout, c, res)
	if c.jsonOut != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if len(res.Problems) > 0 {
		return fmt.Errorf("%d problem(s), see the report", len(res.Problems))
	}
	return nil
}

func indexArch(name string) int {
	for i, a := range arches {
		if a.Name == name {
			return i
		}
	}
	return -1
}

// measurer holds what the measurements share.
type measurer struct {
	cfg      config
	tmp, bin string // bin: directory of the binaries
	site     string
	timeBin  string     // GNU time, or "" to use the programs' own reports
	host     string     // native httpskit: the server of the get runs and the load generator
	server   *serveProc // native serve for the get runs
	res      *results
	log      io.Writer
	commands map[string]bool
}

// anyPort matches the port of a loopback URL: each serve has its own.
var anyPort = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// note records a command for the report, with $T for the temporary directory and PORT for
// the server's port.
func (m *measurer) note(cmd string) {
	cmd = anyPort.ReplaceAllString(strings.ReplaceAll(cmd, m.tmp, "$T"), "127.0.0.1:PORT")
	if m.commands == nil {
		m.commands = map[string]bool{}
	}
	if !m.commands[cmd] {
		m.commands[cmd] = true
		m.res.Commands = append(m.res.Commands, cmd)
	}
}

func (m *measurer) logf(format string, args ...any) {
	fmt.Fprintf(m.log, "mem: "+format+"\n", args...)
}

// setup builds the binaries, makes the site and starts the native server.
func (m *measurer) setup(ctx context.Context) error {
	m.bin = filepath.Join(m.tmp, "bin")
	m.site = filepath.Join(m.tmp, "site")
	if err := os.MkdirAll(m.site, 0o755); err != nil {
		return err
	}
	for name, size := range map[string]int{"small.bin": 4 << 10, "big.bin": 8 << 20} {
		b := make([]byte, size)
		rand.Read(b)
		if err := os.WriteFile(filepath.Join(m.site, name), b, 0o644); err != nil {
			return err
		}
	}
	if out, err := exec.Command("/usr/bin/time", "-f", "%M", "true").CombinedOutput(); err == nil && strings.TrimSpace(string(out)) != "" {
		m.timeBin = "/usr/bin/time"
	} else {
		m.res.Problems = append(m.res.Problems, "GNU time (/usr/bin/time) is missing: peaks come from the programs' own VmHWM")
	}
	root, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return fmt.Errorf("go list -m: %w (run mem inside the httpskit module)", err)
	}
	type program struct{ name, dir, pkg string }
	programs := []program{{"httpskit", strings.TrimSpace(string(root)), "./cmd/httpskit"}}
	for _, f := range m.floors() {
		p := program{f.Name, strings.TrimSpace(string(root)), f.pkg}
		if f.src != "" {
			p.dir, p.pkg = filepath.Join(m.tmp, "src", f.Name), "."
			if err := writeProgram(p.dir, f.src); err != nil {
				return err
			}
		}
		programs = append(programs, p)
	}
	native := arch{Name: "host", GOARCH: runtime.GOARCH}
	built := 0
	for _, a := range append([]arch{native}, m.cfg.arches...) {
		for _, p := range programs {
			if a.Name == "host" && p.name != "httpskit" {
				continue
			}
			out := filepath.Join(m.bin, p.name+"-"+a.Name)
			cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, p.pkg)
			cmd.Dir = p.dir
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+a.GOARCH, "GOARM="+a.GOARM)
			if b, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("build %s for %s: %w\n%s", p.name, a.Name, err, b)
			}
			built++
			if a.Name != "host" {
				st, err := os.Stat(out)
				if err != nil {
					return err
				}
				m.res.Sizes[p.name+"-"+a.Name] = st.Size()
				env := "CGO_ENABLED=0 GOOS=linux GOARCH=" + a.GOARCH
				if a.GOARM != "" {
					env += " GOARM=" + a.GOARM
				}
				m.note(fmt.Sprintf("%s go build -trimpath -ldflags='-s -w' -o %s-%s %s", env, p.name, a.Name, p.pkg))
			}
		}
	}
	m.host = filepath.Join(m.bin, "httpskit-host")
	m.res.Host = hostInfo(ctx)
	m.logf("built %d binaries in %s", built, m.bin)
	var errS error
	m.server, errS = startServe(ctx, nil, m.serveArgv(nil, m.host, nil))
	if errS != nil {
		return fmt.Errorf("native serve: %w", errS)
	}
	return nil
}

// floors are the floor programs to build and run: hello always, the others with -floor.
func (m *measurer) floors() []floor {
	if m.cfg.floor {
		return floors
	}
	return floors[:1]
}

// serveArgv is the command line of serve over the site, with prefix (qemu) and flags.
func (m *measurer) serveArgv(prefix []string, bin string, flags []string) []string {
	argv := append(append([]string{}, prefix...), bin, "serve", "--host", "127.0.0.1", "--port", "0",
		"--ca-root", filepath.Join(m.tmp, "ca"), "--max-conns-per-ip", "-1")
	return append(append(argv, flags...), m.site)
}

func hostInfo(ctx context.Context) map[string]string {
	info := map[string]string{"go": runtime.Version(), "cpus": fmt.Sprint(runtime.NumCPU())}
	if b, err := exec.CommandContext(ctx, "uname", "-srm").Output(); err == nil {
		info["kernel"] = strings.TrimSpace(string(b))
	}
	if b, err := exec.CommandContext(ctx, "qemu-arm-static", "--version").Output(); err == nil {
		info["qemu"] = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	}
	return info
}

// measureArch runs hello, the get cases and the serve cases of one architecture.
func (m *measurer) measureArch(ctx context.Context, a arch) error {
	prefix := a.runner()
	bin := filepath.Join(m.bin, "httpskit-"+a.Name)
	for _, f := range m.floors() {
		prog := filepath.Join(m.bin, f.Name+"-"+a.Name)
		argv := append(append([]string{}, prefix...), prog)
		if f.Name != "hello" {
			argv = append(argv, m.server.caFile, m.server.url+"/small.bin")
		}
		var peaks []float64
		for range m.cfg.n {
			kb, _, err := runPeak(ctx, m.timeBin, m.tmp, nil, argv, io.Discard, floorHWM)
			if err != nil {
				return err
			}
			peaks = append(peaks, float64(kb))
		}
		d := summarize(peaks)
		if f.Name == "hello" {
			m.res.Hello[a.Name] = d
		}
		m.res.Floor = append(m.res.Floor, floorResult{Arch: a.Name, Name: f.Name, PeakKB: d})
		m.note(strings.Join(argv, " "))
		m.logf("%s %s %v KiB", a.Name, f.Name, d)
	}

	for _, md := range m.cfg.modes {
		for _, cs := range []string{"4k", "8m-slow"} {
			r, err := m.measureGet(ctx, a, md, prefix, bin, cs)
			if err != nil {
				return err
			}
			m.res.Get = append(m.res.Get, r)
			m.logf("%s %s get %s peak %v KiB", a.Name, md.Name, cs, r.PeakKB)
		}
	}
	for _, md := range m.cfg.modes {
		r, err := m.measureServe(ctx, a, md, prefix, bin)
		if err != nil {
			return err
		}
		m.res.Serve = append(m.res.Serve, r)
		m.logf("%s %s serve idle %d KiB, %d conns peak %d KiB (%.0f req/s), uploads peak %d KiB",
			a.Name, md.Name, r.Idle.HWM, m.cfg.conns, r.LoadPeakKB, r.LoadReqPerSec, r.UpPeakKB)
	}
	return nil
}

func (m *measurer) measureGet(ctx context.Context, a arch, md mode, prefix []string, bin, cs string) (getResult, error) {
	r := getResult{Arch: a.Name, Mode: md.Name, Case: cs, Memstats: map[string][]int64{}}
	file := "small.bin"
	if cs == "8m-slow" {
		file = "big.bin"
	}
	argv := append(append(append([]string{}, prefix...), bin, "get", "--ca", m.server.caFile, m.server.url+"/"+file), md.Flags...)
	env := append([]string{"HTTPSKIT_MEMSTATS=1"}, md.Env...)
	var peaks []float64
	for range m.cfg.n {
		var out io.Writer = io.Discard
		var pr *io.PipeReader
		var readErr chan error
		if cs == "8m-slow" {
			var pw *io.PipeWriter
			pr, pw = io.Pipe()
			out = pw
			readErr = make(chan error, 1)
			go func() { readErr <- slowReader(pr, m.cfg.slow) }()
		}
		kb, stderr, err := runPeak(ctx, m.timeBin, m.tmp, env, argv, out, memstatsHWM)
		if pw, ok := out.(*io.PipeWriter); ok {
			pw.Close()
			if rerr := <-readErr; rerr != nil && err == nil {
				err = rerr
			}
		}
		if err != nil {
			return r, err
		}
		peaks = append(peaks, float64(kb))
		for k, v := range parseMemstats(stderr) {
			r.Memstats[k] = append(r.Memstats[k], v)
		}
	}
	r.PeakKB = summarize(peaks)
	m.note(strings.Join(env, " ") + " " + strings.Join(argv, " ") + map[bool]string{true: " | (read at -slow bytes/s)", false: " >/dev/null"}[cs == "8m-slow"])
	return r, nil
}

// measureServe starts serve twice: idle then keep-alive load; idle then uploads.
func (m *measurer) measureServe(ctx context.Context, a arch, md mode, prefix []string, bin string) (serveResult, error) {
	r := serveResult{Arch: a.Name, Mode: md.Name}
	env := append([]string{"HTTPSKIT_MEMSTATS=1"}, md.Env...)
	argv := m.serveArgv(prefix, bin, md.Flags)
	m.note(strings.Join(env, " ") + " " + strings.Join(argv, " "))
	settle := time.Second
	if a.Qemu != "" {
		settle = 3 * time.Second
	}

	loads := []struct {
		name  string
		flags []string
		idle  *int64
		peak  *int64
		rate  *float64
		ms    *memstats
	}{
		{"keepalive", []string{"/small.bin", "-c", fmt.Sprint(m.cfg.conns)}, nil, &r.LoadPeakKB, &r.LoadReqPerSec, &r.LoadMemstats},
		{"uploads", []string{"/small.bin", "-c", fmt.Sprint(m.cfg.conns), "--mode", "h2", "-X", "POST", "--body-file", filepath.Join(m.site, "big.bin")}, &r.UpIdleKB, &r.UpPeakKB, &r.UpReqPerSec, &r.UpMemstats},
	}
	for i, l := range loads {
		p, err := startServe(ctx, env, argv)
		if err != nil {
			return r, err
		}
		select {
		case <-time.After(settle):
		case <-ctx.Done():
			p.kill()
			return r, ctx.Err()
		}
		idle, err := readStatus(p.pid())
		if err != nil {
			p.kill()
			return r, err
		}
		if i == 0 {
			r.Idle = idle
			r.IdleBinaryKB = binaryRSS(p.pid(), bin)
		} else {
			*l.idle = idle.HWM
		}
		bargs := append([]string{m.host, "bench", p.url + l.flags[0], "--ca", p.caFile, "--duration", m.cfg.duration.String()}, l.flags[1:]...)
		m.note(strings.Join(bargs, " "))
		stop := make(chan struct{})
		samples := sampler(p.pid(), 100*time.Millisecond, stop)
		out, berr := exec.CommandContext(ctx, bargs[0], bargs[1:]...).CombinedOutput()
		close(stop)
		rss := <-samples
		st, err := readStatus(p.pid())
		*l.ms = p.stop()
		if err != nil {
			return r, err
		}
		*l.rate = parseReqPerSec(string(out))
		if berr != nil && *l.rate == 0 {
			return r, fmt.Errorf("bench %s: %v\n%s", l.name, berr, tail(string(out)))
		}
		*l.peak = st.HWM
		if i == 0 {
			var second []float64
			for _, v := range rss[len(rss)/2:] {
				second = append(second, float64(v))
			}
			r.LoadSteadyKB = summarize(second)
		}
	}
	return r, nil
}
