package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/httpskit/httpskit/bench/internal/procfs"
)

// serveProc is the `httpskit serve` process under test.
type serveProc struct {
	cmd                      *exec.Cmd
	url, addr, debug, caFile string // https://127.0.0.1:PORT, 127.0.0.1:PORT, http://127.0.0.1:PORT
	caPEM                    []byte
	logName                  string // serve's standard error
	debugClient              *http.Client

	mu     sync.Mutex
	stdout strings.Builder // everything serve printed
	lines  chan string

	exited  chan struct{} // closed once the process has exited; waitErr is set then
	waitErr error
}

// startServe runs `httpskit serve` over dir on 127.0.0.1 with a development CA and the debug
// endpoint, and waits until it has printed where it listens. The process gets its own process
// group, so that Ctrl-C in the terminal reaches soak only: soak then stops the load, samples,
// reports, and stops serve itself.
func startServe(ctx context.Context, bin, tmp, dir string) (*serveProc, error) {
	p := &serveProc{
		logName:     filepath.Join(tmp, "serve.log"),
		lines:       make(chan string, 64),
		exited:      make(chan struct{}),
		debugClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute},
	}
	log, err := os.Create(p.logName)
	if err != nil {
		return nil, err
	}
	defer log.Close() // the child has its own descriptor
	p.cmd = exec.Command(bin, "serve", "--host", "127.0.0.1", "--port", "0", "--ca-root", filepath.Join(tmp, "ca"),
		"--debug-addr", "127.0.0.1:0", "--grace", "30s", dir)
	p.cmd.Stderr = log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go p.read(out)

	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for ready := false; !ready; {
		select {
		case line := <-p.lines:
			f := strings.Fields(line)
			switch {
			case len(f) == 3 && f[0] == "debug":
				p.debug = strings.TrimSuffix(f[1], "/debug/vars")
			case len(f) == 2 && f[0] == "HTTPS":
				p.url = strings.TrimSuffix(f[1], "/")
			case strings.HasPrefix(line, "CA file: "):
				p.caFile = strings.TrimPrefix(line, "CA file: ")
			case strings.HasPrefix(line, "press Ctrl-C"):
				ready = true
			}
		case <-p.exited:
			return nil, fmt.Errorf("serve exited: %v\n%s%s", p.waitErr, p.output(), p.logTail())
		case <-timeout.C:
			p.kill()
			return nil, fmt.Errorf("serve printed no banner in a minute\n%s%s", p.output(), p.logTail())
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		}
	}
	if p.url == "" || p.debug == "" || p.caFile == "" {
		p.kill()
		return nil, fmt.Errorf("serve did not print its HTTPS URL, debug endpoint and CA file:\n%s", p.output())
	}
	u, err := url.Parse(p.url)
	if err != nil {
		p.kill()
		return nil, err
	}
	p.addr = u.Host
	if p.caPEM, err = os.ReadFile(p.caFile); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// read collects serve's standard output and hands each line to p.lines while someone
// listens; it waits for the process when the output ends.
func (p *serveProc) read(out interface{ Read([]byte) (int, error) }) {
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		p.mu.Lock()
		p.stdout.WriteString(sc.Text() + "\n")
		p.mu.Unlock()
		select {
		case p.lines <- sc.Text():
		default:
		}
	}
	p.waitErr = p.cmd.Wait()
	close(p.exited)
}

func (p *serveProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

// logTail is the end of serve's standard error, for messages.
func (p *serveProc) logTail() string {
	b, _ := os.ReadFile(p.logName)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func (p *serveProc) pid() int { return p.cmd.Process.Pid }

// kill ends serve at once if it still runs.
func (p *serveProc) kill() {
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// stopResult is how serve stopped at the end.
type stopResult struct {
	ExitCode int    `json:"exit_code"`
	Stopped  bool   `json:"printed_stopped"` // it printed "stopped"
	Error    string `json:"error,omitempty"`
}

// stop sends SIGTERM and waits up to a minute for serve to exit.
func (p *serveProc) stop() stopResult {
	var r stopResult
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		r.Error = err.Error()
	}
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		r.Error = "serve did not exit within a minute of SIGTERM"
		p.kill()
	}
	var ee *exec.ExitError
	switch {
	case p.waitErr == nil:
	case errors.As(p.waitErr, &ee):
		r.ExitCode = ee.ExitCode()
	default:
		r.Error = p.waitErr.Error()
	}
	r.Stopped = strings.Contains(p.output(), "\nstopped\n")
	return r
}

// sample is one look at the server process.
type sample struct {
	Label       string   `json:"label"`
	ElapsedS    float64  `json:"elapsed_s"` // since the measured load began (start: 0)
	Goroutines  int      `json:"goroutines"`
	HeapInuse   uint64   `json:"heap_inuse_bytes"` // after a forced GC
	HeapAlloc   uint64   `json:"heap_alloc_bytes"` // after a forced GC
	HeapObjects uint64   `json:"heap_objects"`
	RSS         int64    `json:"rss_bytes"` // /proc/PID/status VmRSS
	FDs         int      `json:"open_fds"`  // entries of /proc/PID/fd
	ConnsLive   int64    `json:"conns_live"`
	Settled     bool     `json:"settled,omitempty"` // start and end: the settle step completed
	Files       []string `json:"files,omitempty"`   // start and end: what the open files are
	Error       string   `json:"error,omitempty"`
}

func (s sample) elapsed() time.Duration { return time.Duration(s.ElapsedS * float64(time.Second)) }

// brief is the sample in one line.
func (s sample) brief() string {
	if s.Error != "" {
		return "error: " + s.Error
	}
	return fmt.Sprintf("goroutines %d, heap in use %s, RSS %s, open files %d, connections %d",
		s.Goroutines, mib(int64(s.HeapInuse)), mib(s.RSS), s.FDs, s.ConnsLive)
}

// debugVars is the part of serve's /debug/vars that soak reads.
type debugVars struct {
	HTTPSKit struct {
		Goroutines  int    `json:"goroutines"`
		HeapInuse   uint64 `json:"heap_inuse_bytes"`
		HeapAlloc   uint64 `json:"heap_alloc_bytes"`
		HeapObjects uint64 `json:"heap_objects"`
		ConnsLive   int64  `json:"conns_live"`
	} `json:"httpskit"`
}

func (p *serveProc) vars(gc bool) (debugVars, error) {
	var v debugVars
	u := p.debug + "/debug/vars"
	if gc {
		u += "?gc=1"
	}
	resp, err := p.debugClient.Get(u)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return v, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return v, json.NewDecoder(resp.Body).Decode(&v)
}

// sample looks at the server: /proc first (so that the connection of the debug request is
// not among the open files), then its debug variables after a forced GC. files says to list
// the open files too.
func (p *serveProc) sample(label string, begin time.Time, files bool) sample {
	s := sample{Label: label, ElapsedS: time.Since(begin).Seconds()}
	var err error
	if files {
		s.Files = procFiles(p.pid())
	}
	if s.RSS, err = procRSS(p.pid()); err == nil {
		s.FDs, err = procFDs(p.pid())
	}
	if err != nil {
		s.Error = err.Error()
		return s
	}
	v, err := p.vars(true)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	h := v.HTTPSKit
	s.Goroutines, s.HeapInuse, s.HeapAlloc, s.HeapObjects, s.ConnsLive = h.Goroutines, h.HeapInuse, h.HeapAlloc, h.HeapObjects, h.ConnsLive
	return s
}

// settle is the settle step: it waits until serve has no live connection, calling closeIdle
// meanwhile (a client connection whose request was cancelled as the load ended turns idle a
// moment later, and only then can it be closed), then samples until goroutines and open files
// are the same three times running, 200ms apart, all within budget. It returns the last
// sample, Settled when the step completed.
func (p *serveProc) settle(label string, budget time.Duration, begin time.Time, closeIdle func()) sample {
	deadline := time.Now().Add(budget)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		closeIdle()
		if v, err := p.vars(false); err == nil && v.HTTPSKit.ConnsLive == 0 {
			break
		}
		<-tick.C
	}
	tick.Reset(200 * time.Millisecond)
	var prev sample
	for same := 0; ; {
		s := p.sample(label, begin, true)
		if s.Error == "" && prev.Error == "" && s.ConnsLive == 0 && s.Goroutines == prev.Goroutines && s.FDs == prev.FDs {
			same++
		} else {
			same = 0
		}
		prev = s
		if same == 2 || time.Now().After(deadline) {
			s.Settled = same == 2
			return s
		}
		<-tick.C
	}
}

// procRSS is VmRSS of pid in bytes.
func procRSS(pid int) (int64, error) {
	st, err := procfs.ReadStatus(pid, "VmRSS")
	return st["VmRSS"] << 10, err
}

// procFDs counts the entries of /proc/PID/fd.
func procFDs(pid int) (int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(entries), err
}

// procFiles lists what the open files of a process are: "socket", "pipe", a file name, as
// the links of /proc/PID/fd say.
func procFiles(pid int) []string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, _ := os.ReadDir(dir)
	var files []string
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if kind, _, ok := strings.Cut(target, ":["); ok {
			target = kind // socket:[12345] is one more socket
		}
		files = append(files, target)
	}
	slices.Sort(files)
	return files
}

// mib formats a byte count in MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
