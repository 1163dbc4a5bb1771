package main

import (
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name, line string
		want       procStat
	}{
		{"plain", "1234 (nginx) S 1 1234 1234 0 -1 4194624 500 0 0 0 17 4 0 0 20 0 1 0 100 1000 200",
			procStat{PID: 1234, Comm: "nginx", State: 'S', PPID: 1, Utime: 17, Stime: 4}},
		{"spaces and parens in comm", "77 (node (MainThread) x) R 70 77 77 0 -1 0 0 0 0 0 123456 789 0 0 20 0 11 0",
			procStat{PID: 77, Comm: "node (MainThread) x", State: 'R', PPID: 70, Utime: 123456, Stime: 789}},
	}
	for _, tt := range tests {
		got, err := parseProcStat(tt.line)
		if err != nil {
			t.Errorf("%s: parseProcStat: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: parseProcStat = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	for _, bad := range []string{"", "12 nginx S 1", "12 (x) S 1 2 3"} {
		if _, err := parseProcStat(bad); err == nil {
			t.Errorf("parseProcStat(%q) succeeded, want an error", bad)
		}
	}
}

func TestReadOwnProc(t *testing.T) {
	st, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != os.Getpid() || st.PPID != os.Getppid() {
		t.Errorf("readProcStat(self) = pid %d ppid %d, want %d %d", st.PID, st.PPID, os.Getpid(), os.Getppid())
	}
	if kb, err := treeRSSKB(os.Getpid()); err != nil || kb <= 0 {
		t.Errorf("treeRSSKB(self) = %d, %v; want > 0", kb, err)
	}
	if _, err := readCPU(0); err != nil {
		t.Errorf("readCPU(0): %v", err)
	}
}

func TestProcStatCPUAndForeign(t *testing.T) {
	before := "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 10 0 10 100 0 0 0 0 0 0\ncpu1 100 0 50 1000 10 0 5 5 0 0\nintr 1\n"
	after := "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 10 0 10 100 0 0 0 0 0 0\ncpu1 900 0 150 1080 10 0 15 5 0 0\nintr 1\n"
	c0, err := parseProcStatCPU(before, 1)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := parseProcStatCPU(after, 1)
	if err != nil {
		t.Fatal(err)
	}
	d := c1.sub(c0)
	if d.Busy() != 910 || d.Total() != 990 {
		t.Errorf("delta busy %d total %d, want 910 990", d.Busy(), d.Total())
	}
	// Tasks took 800+100 ticks, the server 860: 40 of 990 were someone else's. The 10 softirq
	// ticks are not counted as foreign.
	if got, want := foreignShare(d, 860), 40.0/990; math.Abs(got-want) > 1e-9 {
		t.Errorf("foreignShare = %v, want %v", got, want)
	}
	if got, want := softirqShare(d), 10.0/990; math.Abs(got-want) > 1e-9 {
		t.Errorf("softirqShare = %v, want %v", got, want)
	}
	if got := foreignShare(d, 2000); got != 0 {
		t.Errorf("foreignShare with more server ticks than busy = %v, want 0", got)
	}
	if _, err := parseProcStatCPU(before, 7); err == nil {
		t.Error("parseProcStatCPU found cpu7")
	}
}

func TestSummarizeAndRatios(t *testing.T) {
	tests := []struct {
		in   []float64
		want summary
	}{
		{nil, summary{}},
		{[]float64{3}, summary{1, 3, 3, 3}},
		{[]float64{5, 1, 3}, summary{3, 3, 1, 5}},
		{[]float64{4, 1, 3, 2}, summary{4, 2.5, 1, 4}},
		{[]float64{2, math.NaN(), math.Inf(1), 4}, summary{2, 3, 2, 4}},
	}
	for _, tt := range tests {
		if got := summarize(tt.in); got != tt.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	a := map[int]float64{1: 10, 2: 20, 3: 30, 4: 8}
	b := map[int]float64{1: 20, 2: 20, 3: 0, 5: 1}
	got := pairRatios(a, b)
	if len(got) != 2 || got[0] != 0.5 || got[1] != 1 {
		t.Errorf("pairRatios = %v, want [0.5 1] (rep 3 has a zero denominator, reps 4 and 5 no pair)", got)
	}
	if s := summarize([]float64{0.8, 0.9, 0.7}).ratioString(); s != "0.80× [0.70..0.90]" {
		t.Errorf("ratioString = %q", s)
	}
	if s := (summary{N: 3, Median: 25.61, Min: 21, Max: 31.44}).String(); s != "25.6 [21.0..31.4]" {
		t.Errorf("String = %q", s)
	}
	for v, want := range map[float64]string{0: "0", 0.1234: "0.123", 5.678: "5.68", 289001: "289 001", 1234: "1234"} {
		if got := fmtNum(v); got != want {
			t.Errorf("fmtNum(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestSpliceResults(t *testing.T) {
	doc := "# Benchmarks\n\nanalysis by hand\n\n" + beginMarker + "\nold results\n" + endMarker + "\n\nmore by hand\n"
	got := spliceResults(doc, "new results\n")
	want := "# Benchmarks\n\nanalysis by hand\n\n" + beginMarker + "\nnew results\n" + endMarker + "\n\nmore by hand\n"
	if got != want {
		t.Errorf("spliceResults =\n%s\nwant\n%s", got, want)
	}
	if again := spliceResults(got, "new results\n"); again != want {
		t.Errorf("spliceResults is not idempotent:\n%s", again)
	}
	fresh := spliceResults("", "R")
	if !strings.Contains(fresh, "## Analysis") || !strings.Contains(fresh, beginMarker+"\nR\n"+endMarker) {
		t.Errorf("spliceResults on an empty doc =\n%s", fresh)
	}
	noMarkers := spliceResults("# Mine\n", "R")
	if !strings.HasPrefix(noMarkers, "# Mine\n") || !strings.Contains(noMarkers, beginMarker+"\nR\n"+endMarker) {
		t.Errorf("spliceResults without markers =\n%s", noMarkers)
	}
}

func sampleReport() *report {
	rep := &report{
		Env:       envInfo{Date: "2026-11-21 16:00 UTC", CPUModel: "Test CPU", Cores: 2, Kernel: "6.1", Go: "go version go1.26.8 linux/amd64"},
		Opts:      options{Reps: 2, IdleConns: 1000, SeqN: 1000, ParP: 50, Curves: "X25519"},
		Servers:   allServers,
		Scenarios: allScenarios,
		Commands:  []commandNote{{"server", "GOMAXPROCS=1 taskset -c 1 srv -addr 127.0.0.1:1"}, {"bench", "taskset -c 0 httpskit bench URL"}},
	}
	for rep1 := 1; rep1 <= 2; rep1++ {
		f := float64(rep1)
		for i, s := range allServers {
			for _, sc := range allScenarios {
				us := (20 + 5*float64(i)) * f
				if sc.Unit == "conn" {
					us *= 20
				}
				rep.ServerRuns = append(rep.ServerRuns, serverRun{Kind: "server", Scenario: sc.Name, Server: s.Name, Rep: rep1,
					Requests: 1000, USPerReq: us, ReqPerCPUS: 1e6 / us, RPS: 30000 / f})
			}
			ir := idleRun{Kind: "idle", Server: s.Name, Rep: rep1, Held: 1000, RSSKBPerConn: 30 + float64(i)}
			if s.IsGo {
				ir.GoKBPerConn, ir.RSSGCKBPerConn, ir.GoIdle = 24, 28, &goMem{}
			}
			rep.IdleRuns = append(rep.IdleRuns, ir)
		}
		for i, c := range clientNames {
			for _, m := range clientModes {
				rep.ClientRuns = append(rep.ClientRuns, clientRun{Kind: "client", Client: c, Mode: m, Rep: rep1,
					WallMS: 100 * float64(i+1), CPUMS: 50 * float64(i+1), MaxRSSKB: 9000, Proto: "HTTP/1.1"})
			}
		}
	}
	return rep
}

func TestMarkdownAndBenchText(t *testing.T) {
	rep := sampleReport()
	md := rep.markdown()
	for _, want := range []string{
		"Test CPU, 2 cores",
		"| httpskit | 30.0 [20.0..40.0] |",
		"server CPU per req, httpskit / net/http, HTTP/1.1 keep-alive | 0.80× |",
		"req per CPU-second, httpskit / AwesomeServer, HTTP/1.1 keep-alive | 2.25× |",
		"client wall time, httpskit / curl, 1000 sequential GETs on one connection | 0.25× |",
		"| AwesomeServer | 35.0 | – | – | – |",
		"taskset -c 0 httpskit bench URL",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	txt := rep.benchText()
	for _, want := range []string{
		"cpu: Test CPU\n",
		"BenchmarkServer/scenario=h1/server=httpskit 1000 20.00 us/req 50000 req/cpu-s 30000 req/s 0.0 foreign-%\n",
		"BenchmarkServer/scenario=full/server=nginx 1000 700.00 us/conn",
		"BenchmarkIdle/server=httpskit 1000 30.00 rss-KB/conn 28.00 rss-gc-KB/conn 24.00 go-KB/conn\n",
		"BenchmarkClient/mode=seq/client=curl 1 400.0 wall-ms 200.0 cpu-ms 9000 maxrss-KB\n",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("bench text lacks %q:\n%s", want, txt)
		}
	}
	// Every benchmark line is name, an integer, then value-unit pairs (what benchstat parses).
	for _, l := range strings.Split(txt, "\n") {
		if !strings.HasPrefix(l, "Benchmark") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 4 || len(f)%2 != 0 {
			t.Errorf("bench line %q: want name, iterations and value/unit pairs", l)
		}
	}
}

func TestPlot(t *testing.T) {
	name := filepath.Join(t.TempDir(), "b.png")
	if err := writePlot(name, sampleReport()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 400 {
		t.Errorf("plot is %v, want a wide chart", b)
	}
	if err := writePlot(name, &report{}); err == nil {
		t.Error("writePlot with no data succeeded")
	}
}

func TestCheckCurl(t *testing.T) {
	if _, err := checkCurl("seq", "200 1\n200 0\n200 0\n", 3); err != nil {
		t.Errorf("checkCurl seq: %v", err)
	}
	if _, err := checkCurl("seq", "200 1\n200 1\n200 0\n", 3); err == nil {
		t.Error("checkCurl seq with 2 connections succeeded")
	}
	if _, err := checkCurl("par", "200 1\n503 1\n", 2); err == nil {
		t.Error("checkCurl par with a 503 succeeded")
	}
	if n, err := checkCurl("download", "200 1 100000000\n", 1); err != nil || n != downloadSize {
		t.Errorf("checkCurl download = %d, %v", n, err)
	}
	if _, err := checkCurl("download", "200 1 99\n", 1); err == nil {
		t.Error("checkCurl short download succeeded")
	}
}

func TestParseBenchJSON(t *testing.T) {
	out := "some text\n{\"mode\":\"keepalive\",\"requests\":289001,\"rps\":28894.2,\"errors\":{\"status 5xx\":1},\"proto\":\"HTTP/1.1\",\"client_cpu_s\":1.5}\n"
	var r benchResult
	if err := parseBenchJSON([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Requests != 289001 || r.RPS != 28894.2 || r.Errors["status 5xx"] != 1 || r.ClientCPUS != 1.5 {
		t.Errorf("parseBenchJSON = %+v", r)
	}
	if err := parseBenchJSON([]byte("bench: refused\n"), &r); err == nil {
		t.Error("parseBenchJSON without JSON succeeded")
	}
}

func TestSelectWork(t *testing.T) {
	r := &runner{}
	if err := r.selectWork("httpskit,nginx,h1,idle"); err != nil {
		t.Fatal(err)
	}
	if len(r.servers) != 2 || len(r.scenarios) != 1 || !r.doIdle || r.doClients {
		t.Errorf("selectWork: %d servers, %d scenarios, idle %v, clients %v", len(r.servers), len(r.scenarios), r.doIdle, r.doClients)
	}
	r = &runner{}
	if err := r.selectWork(""); err != nil || len(r.servers) != len(allServers) || len(r.scenarios) != len(allScenarios) || !r.doIdle || !r.doClients {
		t.Errorf("selectWork(\"\") = %v: %d servers %d scenarios", err, len(r.servers), len(r.scenarios))
	}
	if err := (&runner{}).selectWork("apache"); err == nil {
		t.Error("selectWork(apache) succeeded")
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"taskset", "-c", "0", "curl", "-w", "%{http_code} %{num_connects}\\n", "it's", ""})
	want := `taskset -c 0 curl -w '%{http_code} %{num_connects}\n' 'it'\''s' ''`
	if got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}

func TestParseTimeOutput(t *testing.T) {
	if kb, err := parseTimeOutput("Command exited with non-zero status 1\n12880\n"); err != nil || kb != 12880 {
		t.Errorf("parseTimeOutput = %d, %v; want 12880", kb, err)
	}
	if _, err := parseTimeOutput("garbage"); err == nil {
		t.Error("parseTimeOutput(garbage) succeeded")
	}
}

func TestRenderFromJSONL(t *testing.T) {
	dir := t.TempDir()
	rep := sampleReport()
	id := "20261121T160000"
	var b strings.Builder
	add := func(v map[string]any) {
		v["run"] = id
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(j, '\n'))
	}
	add(map[string]any{"kind": "meta", "env": rep.Env, "options": rep.Opts})
	for _, r := range rep.ServerRuns {
		add(toMap(r))
	}
	for _, r := range rep.IdleRuns {
		add(toMap(r))
	}
	for _, r := range rep.ClientRuns {
		add(toMap(r))
	}
	add(map[string]any{"kind": "commands", "commands": rep.Commands, "problems": []string{"a problem"}, "load_avg_end": "1 2 3"})
	// Another run in the same file must be left out.
	other := toMap(rep.ServerRuns[0])
	other["run"], other["us_per_req"] = "20261121T150000", 9999
	j, _ := json.Marshal(other)
	b.Write(append(j, '\n'))
	jsonl := filepath.Join(dir, "2026-11-21.jsonl")
	if err := os.WriteFile(jsonl, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "docs")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "benchmarks.md"), []byte("# B\n\nmine\n\n"+beginMarker+"\nold\n"+endMarker+"\ntail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout, _ = os.Open(os.DevNull)
	err := render(jsonl, "", out)
	os.Stdout = stdout
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "benchmarks.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# B\n\nmine\n\n" + beginMarker, endMarker + "\ntail\n", "| httpskit | 30.0 [20.0..40.0] |", "- a problem", "1 2 3 at the end", "![server CPU per request](benchmarks.png)"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("rendered benchmarks.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(string(md), "9999") || strings.Contains(string(md), "old\n") {
		t.Errorf("rendered benchmarks.md has another run's figures or the old section:\n%s", md)
	}
	for _, name := range []string{filepath.Join(out, "benchmarks.png"), filepath.Join(dir, "2026-11-21.txt"), filepath.Join(dir, "2026-11-21.md")} {
		if _, err := os.Stat(name); err != nil {
			t.Error(err)
		}
	}
}

func TestGenericCommand(t *testing.T) {
	in := "taskset -c 1 /usr/sbin/nginx -p /tmp/httpskit-bench-831845369/nginx-10 -c /tmp/httpskit-bench-831845369/nginx-10/nginx.conf"
	if got, want := genericCommand(in), "taskset -c 1 /usr/sbin/nginx -p $T/nginx -c $T/nginx/nginx.conf"; got != want {
		t.Errorf("genericCommand =\n%s\nwant\n%s", got, want)
	}
	in = "taskset -c 0 /tmp/httpskit-bench-1/bin/httpskit bench https://127.0.0.1:42857/ --ca /tmp/httpskit-bench-1/ca.pem; node /work/x/bench/node/x.js --port 35847"
	if got, want := genericCommand(in), "taskset -c 0 $T/bin/httpskit bench https://127.0.0.1:PORT/ --ca $T/ca.pem; node bench/node/x.js --port PORT"; got != want {
		t.Errorf("genericCommand =\n%s\nwant\n%s", got, want)
	}
}
