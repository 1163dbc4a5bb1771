package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var clientNames = []string{"httpskit", "nethttp", "node", "curl"}
var clientLabels = map[string]string{"httpskit": "httpskit", "nethttp": "net/http", "node": "node https", "curl": "curl"}
var clientModes = []string{"seq", "par", "download", "one"}

// clientRun is one client process doing one job against nginx.
type clientRun struct {
	Kind     string  `json:"kind"` // "client"
	Client   string  `json:"client"`
	Mode     string  `json:"mode"`
	Rep      int     `json:"rep"`
	WallMS   float64 `json:"wall_ms"`  // process start to exit, measured by the suite
	InnerMS  float64 `json:"inner_ms"` // the client's own figure, when it prints one
	UserMS   float64 `json:"user_ms"`
	SysMS    float64 `json:"sys_ms"`
	CPUMS    float64 `json:"cpu_ms"`
	MaxRSSKB int64   `json:"max_rss_kb"`
	Bytes    int64   `json:"bytes"`
	Proto    string  `json:"proto"`
	Command  string  `json:"command"`
}

// clientOutput is the JSON line of bench/client and client.js (contract C).
type clientOutput struct {
	Impl   string  `json:"impl"`
	Mode   string  `json:"mode"`
	N      int     `json:"n"`
	WallMS float64 `json:"wall_ms"`
	Bytes  int64   `json:"bytes"`
	Proto  string  `json:"proto"`
}

func (r *runner) clientURL(in *instance, mode string) string {
	if mode == "download" {
		return in.URL() + "100mb"
	}
	return in.URL()
}

// clientArgv is the command line of one client job, pinned to the load CPU.
func (r *runner) clientArgv(client, mode string, in *instance, dir string) ([]string, error) {
	pin := []string{"taskset", "-c", strconv.Itoa(loadCPU)}
	url := r.clientURL(in, mode)
	switch client {
	case "httpskit", "nethttp":
		bin := r.bin["client"]
		if bin == "" {
			return nil, fmt.Errorf("bench/client did not build")
		}
		return append(pin, bin, "-impl", client, "-mode", mode, "-url", url,
			"-n", strconv.Itoa(r.opts.SeqN), "-p", strconv.Itoa(r.opts.ParP), "-ca", r.caFile), nil
	case "node":
		script := filepath.Join(r.root, "bench", "client", "client.js")
		if _, err := os.Stat(script); err != nil {
			return nil, fmt.Errorf("bench/client/client.js: %w", err)
		}
		return append(pin, "node", script, "--mode", mode, "--url", url,
			"--n", strconv.Itoa(r.opts.SeqN), "--p", strconv.Itoa(r.opts.ParP), "--ca", r.caFile), nil
	case "curl":
		base := append(pin, "curl", "-s", "--http1.1", "--cacert", r.caFile)
		switch mode {
		case "seq", "par":
			n := r.opts.SeqN
			if mode == "par" {
				n = r.opts.ParP
			}
			cfg := filepath.Join(dir, fmt.Sprintf("curl-%s.cfg", mode))
			if err := writeCurlConfig(cfg, url, n); err != nil {
				return nil, err
			}
			argv := append(base, "-w", "%{http_code} %{num_connects}\\n", "-K", cfg)
			if mode == "par" {
				argv = append(argv, "--parallel", "--parallel-max", strconv.Itoa(r.opts.ParP))
			}
			return argv, nil
		case "download":
			return append(base, "-o", "/dev/null", "-w", "%{http_code} %{num_connects} %{size_download}\\n", url), nil
		case "one":
			return append(base, "-o", "/dev/null", "-w", "%{http_code} %{num_connects} %{size_download}\\n", url), nil
		}
	}
	return nil, fmt.Errorf("unknown client %s mode %s", client, mode)
}

// writeCurlConfig writes a curl -K file with n transfers of url, each to /dev/null.
func writeCurlConfig(name, url string, n int) error {
	var b strings.Builder
	for range n {
		fmt.Fprintf(&b, "url = %q\noutput = \"/dev/null\"\n", url)
	}
	return os.WriteFile(name, []byte(b.String()), 0o644)
}

// checkCurl verifies curl's -w lines: every transfer 200, the right number of transfers and
// connections, the right size. It returns the bytes and a protocol label.
func checkCurl(mode string, out string, n int) (int64, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var conns, bytes int64
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "200" {
			return 0, fmt.Errorf("curl: transfer %q, want 200", l)
		}
		c, _ := strconv.ParseInt(f[1], 10, 64)
		conns += c
		if len(f) > 2 {
			s, _ := strconv.ParseInt(f[2], 10, 64)
			bytes += s
		}
	}
	switch mode {
	case "seq":
		if len(lines) != n {
			return 0, fmt.Errorf("curl: %d transfers, want %d", len(lines), n)
		}
		if conns != 1 {
			return 0, fmt.Errorf("curl: %d connections for the sequential GETs, want 1", conns)
		}
		bytes = int64(n * len(helloBody))
	case "par":
		if len(lines) != n {
			return 0, fmt.Errorf("curl: %d transfers, want %d", len(lines), n)
		}
		bytes = int64(n * len(helloBody))
	case "download":
		if bytes != downloadSize {
			return 0, fmt.Errorf("curl: downloaded %d bytes, want %d", bytes, downloadSize)
		}
	}
	return bytes, nil
}

// runClients runs the client rows against nginx: every client and mode, interleaved per rep.
func (r *runner) runClients(ctx context.Context) {
	spec := serverByName("nginx")
	in, err := r.startServer(ctx, spec, false)
	if err != nil {
		r.problem("client rows need nginx: %v", err)
		return
	}
	defer r.stopServer(in)
	dir := filepath.Join(r.tmp, "clients")
	_ = os.MkdirAll(dir, 0o755)
	var clients []string
	for _, c := range clientNames {
		if _, err := r.clientArgv(c, "one", in, dir); err != nil {
			r.problem("client %s skipped: %v", c, err)
			continue
		}
		clients = append(clients, c)
	}
	reps := r.opts.Reps
	for rep := 1; rep <= reps; rep++ {
		for _, mode := range clientModes {
			for _, c := range clients {
				if ctx.Err() != nil {
					return
				}
				run, err := r.runClient(ctx, c, mode, rep, in, dir)
				if err != nil {
					r.problem("client %s %s rep %d: %v", c, mode, rep, err)
					continue
				}
				r.clientRuns = append(r.clientRuns, run)
				r.record(toMap(run))
				logf("client  rep %d/%d %-8s %-9s wall %7.1f ms  CPU %6.1f ms  max RSS %6d KB  %s", rep, reps, mode, c, run.WallMS, run.CPUMS, run.MaxRSSKB, run.Proto)
			}
		}
	}
}

func (r *runner) runClient(ctx context.Context, client, mode string, rep int, in *instance, dir string) (clientRun, error) {
	run := clientRun{Kind: "client", Client: client, Mode: mode, Rep: rep}
	argv, err := r.clientArgv(client, mode, in, dir)
	if err != nil {
		return run, err
	}
	run.Command = shellJoin(argv)
	r.noteCommand("client", run.Command)
	// Peak RSS comes from /usr/bin/time, not from this program's wait4: os/exec starts children
	// with vfork semantics, so their ru_maxrss starts at this program's RSS (~15 MB) and would
	// hide a smaller client. time forks a small process, and its report is its child's rusage.
	timeFile := filepath.Join(dir, "time.out")
	full := argv
	if r.timeBin != "" {
		full = append([]string{r.timeBin, "-f", "%M", "-o", timeFile}, argv...)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, full[0], full[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err = cmd.Run()
	run.WallMS = float64(time.Since(t0).Microseconds()) / 1000
	if err != nil {
		return run, fmt.Errorf("%v: %s", err, tail(stderr.String(), 400))
	}
	// CPU: wait4 reports a child's own time plus that of the descendants it waited for, in
	// microseconds (time's %U/%S have only 10 ms resolution); time and taskset add well under 1 ms.
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		run.UserMS = tvMS(ru.Utime)
		run.SysMS = tvMS(ru.Stime)
		run.CPUMS = run.UserMS + run.SysMS
		run.MaxRSSKB = int64(ru.Maxrss) // KiB (int32 on 32-bit Linux); only an upper bound (see above) unless time replaces it
	}
	if r.timeBin != "" {
		b, err := os.ReadFile(timeFile)
		if err != nil {
			return run, err
		}
		if run.MaxRSSKB, err = parseTimeOutput(string(b)); err != nil {
			return run, err
		}
	}
	if client == "curl" {
		n := r.opts.SeqN
		if mode == "par" {
			n = r.opts.ParP
		}
		if run.Bytes, err = checkCurl(mode, stdout.String(), n); err != nil {
			return run, err
		}
		run.Proto = "HTTP/1.1"
		return run, nil
	}
	var out clientOutput
	line := strings.TrimSpace(stdout.String())
	if i := strings.LastIndex(line, "\n"); i >= 0 {
		line = line[i+1:]
	}
	if err := json.Unmarshal([]byte(line), &out); err != nil {
		return run, fmt.Errorf("client output %q: %v", tail(stdout.String(), 200), err)
	}
	run.InnerMS, run.Bytes, run.Proto = out.WallMS, out.Bytes, out.Proto
	if mode == "download" && out.Bytes != downloadSize {
		return run, fmt.Errorf("downloaded %d bytes, want %d", out.Bytes, downloadSize)
	}
	return run, nil
}

// parseTimeOutput reads the last line of /usr/bin/time -f "%M": the peak RSS in KiB.
func parseTimeOutput(text string) (int64, error) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	kb, err := strconv.ParseInt(strings.TrimSpace(lines[len(lines)-1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("time output %q: %w", text, err)
	}
	return kb, nil
}

func tvMS(tv syscall.Timeval) float64 {
	return float64(tv.Sec)*1000 + float64(tv.Usec)/1000
}
