package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// envInfo describes the machine and the software of one run.
type envInfo struct {
	Date          string `json:"date"`
	CPUModel      string `json:"cpu_model"`
	Cores         int    `json:"cores"`
	Kernel        string `json:"kernel"`
	Go            string `json:"go"`
	OpenSSL       string `json:"openssl"`
	Nginx         string `json:"nginx"`
	Node          string `json:"node"`
	Curl          string `json:"curl"`
	AwesomeServer string `json:"awesome_server"`
	AwesomeLog    string `json:"awesome_log"`
	Commit        string `json:"commit"`
	LoadAvgStart  string `json:"load_avg_start"`
	LoadAvgEnd    string `json:"load_avg_end,omitempty"`
	Lscpu         string `json:"lscpu"`
}

func collectEnv(ctx context.Context, r *runner) envInfo {
	out := func(name string, args ...string) string {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		b, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
		return strings.TrimSpace(string(b))
	}
	first := func(s string) string {
		s, _, _ = strings.Cut(s, "\n")
		return strings.TrimSpace(s)
	}
	e := envInfo{
		Date:         r.started.Format("2006-01-02 15:04 MST"),
		Cores:        runtime.NumCPU(),
		Go:           first(out("go", "version")),
		OpenSSL:      fields(first(out("openssl", "version")), 2),
		Nginx:        strings.TrimPrefix(strings.TrimPrefix(first(out(r.nginx, "-v")), "nginx version: "), "nginx/"),
		Node:         first(out("node", "--version")),
		Curl:         fields(first(out("curl", "--version")), 2),
		LoadAvgStart: loadAvg(),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = strings.TrimSpace(string(b))
	}
	e.Lscpu = out("lscpu")
	e.CPUModel = lscpuField(e.Lscpu, "Model name")
	// runtime.NumCPU honours this process's affinity (bench/run pins it to one CPU).
	if n, err := strconv.Atoi(lscpuField(e.Lscpu, "CPU(s)")); err == nil && n > 0 {
		e.Cores = n
	}
	nm := filepath.Join(r.root, "bench", "node", "node_modules", "@awesomeeng")
	e.AwesomeServer = packageVersion(filepath.Join(nm, "awesome-server", "package.json"))
	e.AwesomeLog = packageVersion(filepath.Join(nm, "awesome-log", "package.json"))
	gitCmd := func(args ...string) string {
		c := exec.CommandContext(ctx, "git", args...)
		c.Dir = r.root
		b, _ := c.Output()
		return strings.TrimSpace(string(b))
	}
	e.Commit = gitCmd("rev-parse", "--short", "HEAD")
	if e.Commit != "" && gitCmd("status", "--porcelain", "--untracked-files=no") != "" {
		e.Commit += " (with uncommitted changes)"
	}
	return e
}

// fields keeps the first n space-separated words of s.
func fields(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = f[:n]
	}
	return strings.Join(f, " ")
}

// lscpuField returns the value of "Name:" in lscpu output.
func lscpuField(text, name string) string {
	for _, l := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func packageVersion(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	var p struct {
		Version string `json:"version"`
	}
	_ = json.Unmarshal(b, &p)
	return p.Version
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return strings.TrimSpace(string(b))
}
