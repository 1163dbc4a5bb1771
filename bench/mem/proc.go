package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/httpskit/httpskit/bench/internal/procfs"
)

// status is what mem reads from /proc/PID/status, in KiB.
type status struct {
	HWM, RSS, Anon, File int64
}

// readStatus reads VmHWM, VmRSS, RssAnon and RssFile of pid.
func readStatus(pid int) (status, error) {
	m, err := procfs.ReadStatus(pid, "VmHWM", "VmRSS", "RssAnon", "RssFile")
	if err != nil {
		return status{}, err
	}
	return status{HWM: m["VmHWM"], RSS: m["VmRSS"], Anon: m["RssAnon"], File: m["RssFile"]}, nil
}

// parseSmapsFileRSS sums, in KiB, the Rss of the mappings of file in the text of
// /proc/PID/smaps: the pages of the program's binary that are resident.
func parseSmapsFileRSS(text, file string) int64 {
	var sum int64
	mine := false
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			mine = len(f) >= 6 && f[5] == file // a mapping's header line
		case mine && len(f) == 3 && f[0] == "Rss:":
			n, _ := strconv.ParseInt(f[1], 10, 64)
			sum += n
		}
	}
	return sum
}

func binaryRSS(pid int, file string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return -1
	}
	return parseSmapsFileRSS(string(b), file)
}

// memstats is the line that httpskit prints at exit with HTTPSKIT_MEMSTATS=1: key=value
// pairs, in KiB unless the key says otherwise.
type memstats map[string]int64

var memstatsLine = regexp.MustCompile(`(?m)^httpskit memstats: (.*)$`)

// parseMemstats finds the memstats line in out; nil if there is none.
func parseMemstats(out string) memstats {
	m := memstatsLine.FindStringSubmatch(out)
	if m == nil {
		return nil
	}
	ms := memstats{}
	for _, kv := range strings.Fields(m[1]) {
		k, v, ok := strings.Cut(kv, "=")
		if n, err := strconv.ParseInt(v, 10, 64); ok && err == nil {
			ms[k] = n
		}
	}
	return ms
}

var reqPerSec = regexp.MustCompile(`([0-9.]+) req/s`)

// parseReqPerSec finds the request rate in the output of httpskit bench; 0 if none.
func parseReqPerSec(out string) float64 {
	m := reqPerSec.FindAllStringSubmatch(out, -1)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[len(m)-1][1], 64)
	return v
}

// parseTimeKB reads the output file of /usr/bin/time -f %M: peak RSS in KiB on its last line.
func parseTimeKB(out string) (int64, error) {
	lines := strings.Fields(out)
	if len(lines) == 0 {
		return 0, errors.New("time: no output")
	}
	return strconv.ParseInt(lines[len(lines)-1], 10, 64)
}

// runPeak runs argv (with env added) to the end and returns its peak RSS in KiB and its
// standard error. The peak comes from GNU time (-f %M) when timeBin is set: os/exec starts
// children with vfork semantics, so wait4's ru_maxrss would be at least this program's own
// RSS. Without timeBin it is the child's own report (hwm), which must then be given.
func runPeak(ctx context.Context, timeBin, tmp string, env, argv []string, stdout io.Writer, hwm func(stderr string) (int64, bool)) (int64, string, error) {
	var timeFile string
	if timeBin != "" {
		f, err := os.CreateTemp(tmp, "time-*")
		if err != nil {
			return 0, "", err
		}
		f.Close()
		timeFile = f.Name()
		defer os.Remove(timeFile)
		argv = append([]string{timeBin, "-f", "%M", "-o", timeFile}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, stderr.String(), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, tail(stderr.String()))
	}
	if timeBin != "" {
		b, err := os.ReadFile(timeFile)
		if err != nil {
			return 0, stderr.String(), err
		}
		kb, err := parseTimeKB(string(b))
		return kb, stderr.String(), err
	}
	if kb, ok := hwm(stderr.String()); ok {
		return kb, stderr.String(), nil
	}
	return 0, stderr.String(), errors.New("no peak RSS: install GNU time (/usr/bin/time)")
}

// slowReader reads r at about rate bytes per second, as a consumer slower than the network
// (a device writing to an SD card) does, and discards the bytes.
func slowReader(r io.Reader, rate int) error {
	buf := make([]byte, 32<<10)
	start := time.Now()
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if due := start.Add(time.Duration(float64(n) / float64(rate) * float64(time.Second))); time.Until(due) > 0 {
			time.Sleep(time.Until(due))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// serveProc is an `httpskit serve` process, native or under qemu-user.
type serveProc struct {
	cmd    *exec.Cmd
	url    string // https://127.0.0.1:PORT
	caFile string
	mu     sync.Mutex
	stderr strings.Builder
	lines  chan string
	exited chan struct{}
}

// startServe runs argv (an httpskit serve command line) with env added and waits until it
// prints where it listens.
func startServe(ctx context.Context, env, argv []string) (*serveProc, error) {
	p := &serveProc{lines: make(chan string, 64), exited: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.stderr}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches mem only
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		p.cmd.Wait()
		close(p.exited)
	}()
	timeout := time.NewTimer(2 * time.Minute) // a first TLS certificate under emulation is slow
	defer timeout.Stop()
	for {
		select {
		case line := <-p.lines:
			f := strings.Fields(line)
			switch {
			case len(f) == 2 && f[0] == "HTTPS" && p.url == "":
				p.url = strings.TrimSuffix(f[1], "/")
			case strings.HasPrefix(line, "CA file: "):
				p.caFile = strings.TrimPrefix(line, "CA file: ")
			case strings.HasPrefix(line, "press Ctrl-C"):
				if p.url == "" {
					p.kill()
					return nil, errors.New("serve printed no HTTPS URL")
				}
				return p, nil
			}
		case <-p.exited:
			return nil, fmt.Errorf("serve exited early:\n%s", tail(p.errText()))
		case <-timeout.C:
			p.kill()
			return nil, errors.New("serve printed no banner in 2 minutes")
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		}
	}
}

func (p *serveProc) pid() int { return p.cmd.Process.Pid }

func (p *serveProc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// stop sends SIGTERM, waits for the exit and returns serve's memstats line, if any.
func (p *serveProc) stop() memstats {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		p.kill()
	}
	return parseMemstats(p.errText())
}

func (p *serveProc) kill() {
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Kill()
		<-p.exited
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// sampler reads VmRSS of pid every interval until stop is closed, and returns the samples.
func sampler(pid int, interval time.Duration, stop <-chan struct{}) <-chan []int64 {
	done := make(chan []int64, 1)
	go func() {
		var rss []int64
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if st, err := readStatus(pid); err == nil {
				rss = append(rss, st.RSS)
			}
			select {
			case <-stop:
				done <- rss
				return
			case <-t.C:
			}
		}
	}()
	return done
}

// dist is a summary of samples: the median and the range.
type dist struct {
	Median, Min, Max float64
	N                int
}

func summarize(v []float64) dist {
	if len(v) == 0 {
		return dist{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return dist{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

func (d dist) String() string {
	if d.N == 0 {
		return "–"
	}
	if d.N == 1 || d.Min == d.Max {
		return strconv.FormatFloat(d.Median, 'f', 0, 64)
	}
	return fmt.Sprintf("%.0f [%.0f..%.0f]", d.Median, d.Min, d.Max)
}

func tail(s string) string {
	if len(s) > 1500 {
		s = "..." + s[len(s)-1500:]
	}
	return s
}

// memstatsHWM reads httpskit's memstats line for its peak RSS.
func memstatsHWM(stderr string) (int64, bool) {
	ms := parseMemstats(stderr)
	v, ok := ms["vm_hwm_kb"]
	return v, ok
}
