package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/httpskit/httpskit/bench/internal/procfs"
)

// clockTicks is the unit of utime, stime and /proc/stat (USER_HZ); set by initClockTicks.
var clockTicks = 100.0

func initClockTicks() {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return
	}
	if v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err == nil && v > 0 {
		clockTicks = v
	}
}

// procStat is what the suite reads from /proc/PID/stat.
type procStat struct {
	PID   int
	Comm  string
	State byte
	PPID  int
	Utime uint64 // clock ticks
	Stime uint64 // clock ticks
}

// parseProcStat parses the one line of /proc/PID/stat. The command name is in parentheses and may
// itself hold spaces and parentheses, so the fields are counted from the last ')'.
func parseProcStat(line string) (procStat, error) {
	var st procStat
	open := strings.IndexByte(line, '(')
	closing := strings.LastIndexByte(line, ')')
	if open < 0 || closing < open {
		return st, fmt.Errorf("proc stat: no (comm) in %q", line)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return st, fmt.Errorf("proc stat: pid: %w", err)
	}
	st.PID = pid
	st.Comm = line[open+1 : closing]
	f := strings.Fields(line[closing+1:])
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return st, fmt.Errorf("proc stat: %d fields after comm, want at least 13", len(f))
	}
	st.State = f[0][0]
	if st.PPID, err = strconv.Atoi(f[1]); err != nil {
		return st, fmt.Errorf("proc stat: ppid: %w", err)
	}
	if st.Utime, err = strconv.ParseUint(f[11], 10, 64); err != nil {
		return st, fmt.Errorf("proc stat: utime: %w", err)
	}
	if st.Stime, err = strconv.ParseUint(f[12], 10, 64); err != nil {
		return st, fmt.Errorf("proc stat: stime: %w", err)
	}
	return st, nil
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(string(bytes.TrimSpace(b)))
}

// processTree returns pid and all its live descendants.
func processTree(pid int) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	children := map[int][]int{}
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		st, err := parseProcStat(string(bytes.TrimSpace(b)))
		if err != nil {
			continue
		}
		children[st.PPID] = append(children[st.PPID], st.PID)
	}
	tree := []int{pid}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree
}

// treeCPUTicks is utime+stime summed over pid and its descendants (every thread of each, as
// /proc/PID/stat counts them).
func treeCPUTicks(pid int) (uint64, error) {
	var sum uint64
	for i, p := range processTree(pid) {
		st, err := readProcStat(p)
		if err != nil {
			if i == 0 {
				return 0, err
			}
			continue // a child that just exited
		}
		sum += st.Utime + st.Stime
	}
	return sum, nil
}

// treeRSSKB is VmRSS summed over pid and its descendants.
func treeRSSKB(pid int) (int64, error) {
	var sum int64
	for i, p := range processTree(pid) {
		st, err := procfs.ReadStatus(p, "VmRSS")
		if err == nil {
			sum += st["VmRSS"]
			continue
		}
		if i == 0 {
			return 0, err
		}
	}
	return sum, nil
}

// cpuTimes is one "cpuN" line of /proc/stat, in clock ticks.
type cpuTimes struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal uint64
}

// Busy is every tick the CPU was not idle, including time taken by the hypervisor (steal).
func (c cpuTimes) Busy() uint64 {
	return c.User + c.Nice + c.System + c.IRQ + c.SoftIRQ + c.Steal
}

// Total is Busy plus idle and iowait.
func (c cpuTimes) Total() uint64 { return c.Busy() + c.Idle + c.IOWait }

func (c cpuTimes) sub(o cpuTimes) cpuTimes {
	return cpuTimes{c.User - o.User, c.Nice - o.Nice, c.System - o.System, c.Idle - o.Idle,
		c.IOWait - o.IOWait, c.IRQ - o.IRQ, c.SoftIRQ - o.SoftIRQ, c.Steal - o.Steal}
}

// parseProcStatCPU finds the line "cpuN" in the text of /proc/stat.
func parseProcStatCPU(text string, cpu int) (cpuTimes, error) {
	want := "cpu" + strconv.Itoa(cpu)
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != want {
			continue
		}
		if len(f) < 9 {
			return cpuTimes{}, fmt.Errorf("proc stat: %s has %d fields", want, len(f))
		}
		var v [8]uint64
		for i := range v {
			n, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				return cpuTimes{}, fmt.Errorf("proc stat: %s: %w", want, err)
			}
			v[i] = n
		}
		return cpuTimes{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]}, nil
	}
	return cpuTimes{}, fmt.Errorf("proc stat: no %s line", want)
}

func readCPU(cpu int) (cpuTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, err
	}
	return parseProcStatCPU(string(b), cpu)
}

// foreignShare is the share (0..1) of a CPU's time over an interval that went to other tasks:
// user, nice, system and steal ticks minus the server's own ticks, over all ticks. Interrupt and
// softirq time is left out: with IRQ time accounting it is not charged to any task, and on the
// server's core it is mostly the kernel handling the benchmark's own packets (see softirqShare).
func foreignShare(delta cpuTimes, serverTicks uint64) float64 {
	total := delta.Total()
	if total == 0 {
		return 0
	}
	tasks := delta.User + delta.Nice + delta.System + delta.Steal
	if serverTicks >= tasks {
		return 0
	}
	return float64(tasks-serverTicks) / float64(total)
}

// softirqShare is the share (0..1) of a CPU's time spent in interrupts and softirqs.
func softirqShare(delta cpuTimes) float64 {
	if delta.Total() == 0 {
		return 0
	}
	return float64(delta.IRQ+delta.SoftIRQ) / float64(delta.Total())
}

// shellJoin joins a command line so that a shell reads it back as the same words.
func shellJoin(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./=:,+@%", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
