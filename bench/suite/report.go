package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

const (
	beginMarker = "<!-- results:begin -->"
	endMarker   = "<!-- results:end -->"
)

// report is everything the writers need, free of the runner's processes.
type report struct {
	Env        envInfo
	Opts       options
	Servers    []serverSpec
	Scenarios  []scenario
	ServerRuns []serverRun
	IdleRuns   []idleRun
	ClientRuns []clientRun
	Commands   []commandNote
	Problems   []string
	PNG        string // file name of the plot, relative to the Markdown file ("" = none)
	RunID      string
	RawPath    string // the raw JSONL, relative to the repository root when inside it
}

func (r *runner) report() *report {
	return &report{RunID: r.runID, Env: r.env, Opts: r.opts, Servers: r.servers, Scenarios: r.scenarios,
		ServerRuns: r.serverRuns, IdleRuns: r.idleRuns, ClientRuns: r.clientRuns,
		Commands: r.commands, Problems: r.problems}
}

// writeReports writes the Go benchmark text and the Markdown results next to the JSONL, the
// plot, and the results section of benchmarks.md in the output directory.
func (r *runner) writeReports(jsonlPath string) error {
	rep := r.report()
	rep.RawPath = jsonlPath
	if rel, err := filepath.Rel(r.root, jsonlPath); err == nil && !strings.HasPrefix(rel, "..") {
		rep.RawPath = rel
	}
	day := r.started.Format("2006-01-02")
	resDir := r.abs(r.opts.Results)
	outDir := r.abs(r.opts.Out)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	txt := filepath.Join(resDir, day+".txt")
	if err := os.WriteFile(txt, []byte(rep.benchText()), 0o644); err != nil {
		return err
	}
	png := filepath.Join(outDir, "benchmarks.png")
	if err := writePlot(png, rep); err != nil {
		if !errors.Is(err, errNothingToPlot) {
			r.problem("plot: %v", err)
		}
		png = ""
	} else {
		rep.PNG = "benchmarks.png"
	}
	section := rep.markdown()
	mdRes := filepath.Join(resDir, day+".md")
	resSection := section
	if png != "" {
		if rel, err := filepath.Rel(resDir, png); err == nil {
			resSection = strings.ReplaceAll(section, "(benchmarks.png)", "("+rel+")")
		}
	}
	if err := os.WriteFile(mdRes, []byte("# httpskit benchmark results, "+day+"\n\n"+resSection), 0o644); err != nil {
		return err
	}
	docs := filepath.Join(outDir, "benchmarks.md")
	old, err := os.ReadFile(docs)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.WriteFile(docs, []byte(spliceResults(string(old), section)), 0o644); err != nil {
		return err
	}
	fmt.Println(section)
	logf("wrote %s", strings.Join(slices.DeleteFunc([]string{jsonlPath, txt, mdRes, docs, png}, func(s string) bool { return s == "" }), ", "))
	return nil
}

// docsSkeleton is benchmarks.md when it does not exist yet.
const docsSkeleton = `# Benchmarks

How httpskit's server and client compare with plain net/http, nginx, Node and AwesomeServer on
one machine. ` + "`bench/run`" + ` regenerates everything between the results markers; the analysis
around them is written by hand.

## Analysis

(to be written)

## Results

` + beginMarker + "\n" + endMarker + "\n"

// spliceResults puts section between the markers of doc, keeping everything outside them. A doc
// without markers gets the section appended (an empty doc gets the skeleton).
func spliceResults(doc, section string) string {
	if strings.TrimSpace(doc) == "" {
		doc = docsSkeleton
	}
	block := beginMarker + "\n" + strings.TrimRight(section, "\n") + "\n" + endMarker
	b := strings.Index(doc, beginMarker)
	e := strings.Index(doc, endMarker)
	if b < 0 || e < b {
		return strings.TrimRight(doc, "\n") + "\n\n" + block + "\n"
	}
	return doc[:b] + block + doc[e+len(endMarker):]
}

// values collects one figure of the server runs of a scenario and server, by rep.
func (rep *report) values(scn, srv string, f func(serverRun) float64) map[int]float64 {
	m := map[int]float64{}
	for _, r := range rep.ServerRuns {
		if r.Scenario == scn && r.Server == srv {
			m[r.Rep] = f(r)
		}
	}
	return m
}

func (rep *report) idleValues(srv string, f func(idleRun) float64) map[int]float64 {
	m := map[int]float64{}
	for _, r := range rep.IdleRuns {
		if r.Server == srv {
			m[r.Rep] = f(r)
		}
	}
	return m
}

func (rep *report) clientValues(client, mode string, f func(clientRun) float64) map[int]float64 {
	m := map[int]float64{}
	for _, r := range rep.ClientRuns {
		if r.Client == client && r.Mode == mode {
			m[r.Rep] = f(r)
		}
	}
	return m
}

func mapValues(m map[int]float64) []float64 {
	var v []float64
	for _, x := range m {
		v = append(v, x)
	}
	return v
}

func usPerReq(r serverRun) float64   { return r.USPerReq }
func rps(r serverRun) float64        { return r.RPS }
func reqPerCPU(r serverRun) float64  { return r.ReqPerCPUS }
func clientCPU(r clientRun) float64  { return r.CPUMS }
func clientWall(r clientRun) float64 { return r.WallMS }

// ratio is one line of the ratio list.
type ratio struct {
	Label string
	S     summary
}

// ratios are the comparisons the suite prints, each the median [min..max] over interleaved
// pairs (same rep number).
func (rep *report) ratios() []ratio {
	var out []ratio
	add := func(label string, a, b map[int]float64) {
		if s := summarize(pairRatios(a, b)); s.N > 0 {
			out = append(out, ratio{label, s})
		}
	}
	for _, sc := range rep.Scenarios {
		add(fmt.Sprintf("server CPU per %s, httpskit / net/http, %s", sc.Unit, sc.Label),
			rep.values(sc.Name, "httpskit", usPerReq), rep.values(sc.Name, "nethttp", usPerReq))
	}
	for _, sc := range rep.Scenarios {
		if !strings.HasPrefix(sc.Name, "h2") {
			continue
		}
		add(fmt.Sprintf("server CPU per %s, httpskit batching h2 / net/http, %s", sc.Unit, sc.Label),
			rep.values(sc.Name, "httpskit-batching", usPerReq), rep.values(sc.Name, "nethttp", usPerReq))
		add(fmt.Sprintf("server CPU per %s, httpskit batching h2 / nginx, %s", sc.Unit, sc.Label),
			rep.values(sc.Name, "httpskit-batching", usPerReq), rep.values(sc.Name, "nginx", usPerReq))
	}
	for _, sc := range rep.Scenarios {
		add(fmt.Sprintf("server CPU per %s, httpskit / net/http with the same timeouts, %s", sc.Unit, sc.Label),
			rep.values(sc.Name, "httpskit", usPerReq), rep.values(sc.Name, "nethttp-limits", usPerReq))
	}
	for _, sc := range rep.Scenarios {
		add(fmt.Sprintf("server CPU per %s, httpskit / nginx, %s", sc.Unit, sc.Label),
			rep.values(sc.Name, "httpskit", usPerReq), rep.values(sc.Name, "nginx", usPerReq))
	}
	for _, sc := range rep.Scenarios {
		add(fmt.Sprintf("%s per CPU-second, httpskit / AwesomeServer, %s", sc.Unit, sc.Label),
			rep.values(sc.Name, "httpskit", reqPerCPU), rep.values(sc.Name, "awesome", reqPerCPU))
	}
	kb := func(r idleRun) float64 { return r.RSSKBPerConn }
	add("idle memory per connection (RSS), httpskit / net/http", rep.idleValues("httpskit", kb), rep.idleValues("nethttp", kb))
	add("idle memory per connection (RSS), httpskit / nginx", rep.idleValues("httpskit", kb), rep.idleValues("nginx", kb))
	goKB := func(r idleRun) float64 { return r.GoKBPerConn }
	add("idle Go heap+stack per connection after GC, httpskit / net/http", rep.idleValues("httpskit", goKB), rep.idleValues("nethttp", goKB))
	for _, m := range []string{"seq", "download"} {
		add(fmt.Sprintf("client CPU, httpskit / net/http, %s", clientModeLabel(m, rep.Opts)),
			rep.clientValues("httpskit", m, clientCPU), rep.clientValues("nethttp", m, clientCPU))
	}
	for _, m := range []string{"seq", "par", "download", "one"} {
		add(fmt.Sprintf("client wall time, httpskit / curl, %s", clientModeLabel(m, rep.Opts)),
			rep.clientValues("httpskit", m, clientWall), rep.clientValues("curl", m, clientWall))
	}
	return out
}

func clientModeLabel(mode string, o options) string {
	switch mode {
	case "seq":
		return fmt.Sprintf("%d sequential GETs on one connection", o.SeqN)
	case "par":
		return fmt.Sprintf("%d parallel GETs", o.ParP)
	case "download":
		return "100 MB download"
	case "one":
		return "one GET"
	}
	return mode
}

// markdown renders the results section (without the markers).
func (rep *report) markdown() string {
	var b strings.Builder
	e, o := rep.Env, rep.Opts
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("_Generated by `%s` on %s. Everything between the results markers is rewritten by the suite._\n\n", strings.TrimSpace("bench/run "+strings.Join(o.Args, " ")), e.Date)
	p("- **Machine:** %s, %d cores, Linux %s; load average %s at the start, %s at the end.\n", e.CPUModel, e.Cores, e.Kernel, e.LoadAvgStart, e.LoadAvgEnd)
	p("- **Software:** %s; %s; nginx %s; node %s; %s; @awesomeeng/awesome-server %s with awesome-log %s; httpskit %s.\n",
		e.Go, e.OpenSSL, e.Nginx, e.Node, e.Curl, e.AwesomeServer, e.AwesomeLog, e.Commit)
	curves := o.Curves
	if curves == "" {
		curves = "Go's default list"
	}
	p("- **Method:** %d interleaved rep(s) of %s after a %s warm-up per run; every server pinned to CPU %d (Go with GOMAXPROCS=1), the load generator (`httpskit bench`) and the clients to CPU %d; one ECDSA P-256 leaf from a throwaway CA for every server, key exchange offered: %s; body `%s` (13 bytes). Server CPU is utime+stime from `/proc/PID/stat` summed over the server's process tree, read around each measured run (it includes the handshakes of the run's connections). %s\n\n",
		o.Reps, o.Duration, o.Warmup, serverCPU, loadCPU, curves, helloBody, rerunPolicy(o))
	if rep.PNG != "" {
		p("![server CPU per request](%s)\n\n", rep.PNG)
	}

	if len(rep.ServerRuns) > 0 {
		p("### Server CPU per request, µs (lower is better)\n\nmedian [min..max] over the reps; for new connections one request is one TLS handshake.\n\n")
		rep.serverTable(&b, usPerReq, func(s summary) string { return s.String() })
		p("\n### Requests per server CPU-second (higher is better)\n\n")
		rep.serverTable(&b, reqPerCPU, func(s summary) string { return s.String() })
		p("\n### Kernel interrupt and softirq time on CPU %d per request, µs\n\nNot charged to any process (so not in the figures above): mostly the kernel's network processing of the run's own packets on the server core.\n\n", serverCPU)
		rep.serverTable(&b, func(r serverRun) float64 { return r.IRQUSPerReq }, func(s summary) string { return s.String() })
		p("\n### Requests per second\n\nThroughput depends on the load generator too: for new connections its own handshake CPU on CPU %d is the limit, so compare CPU per request.\n\n", loadCPU)
		rep.serverTable(&b, rps, func(s summary) string { return s.String() })
		p("\n")
		rep.tlsNotes(&b)
	}

	if len(rep.IdleRuns) > 0 {
		p("### Memory per idle TLS connection, KB (lower is better)\n\n%d connections over HTTP/1.1, one GET each, then idle; a fresh server per rep. RSS delta ÷ connections from `/proc/PID/status`; for Go servers also after `runtime.GC(); debug.FreeOSMemory()`, and the Go heap objects + stacks from `runtime/metrics`.\n\n", o.IdleConns)
		p("| server | RSS | RSS after GC | Go heap+stack after GC | goroutines per conn |\n|---|---|---|---|---|\n")
		for _, s := range rep.Servers {
			rss := summarize(mapValues(rep.idleValues(s.Name, func(r idleRun) float64 { return r.RSSKBPerConn })))
			if rss.N == 0 {
				continue
			}
			gc, goKB, gr := "–", "–", "–"
			if s.IsGo {
				gc = summarize(mapValues(rep.idleValues(s.Name, func(r idleRun) float64 { return r.RSSGCKBPerConn }))).String()
				goKB = summarize(mapValues(rep.idleValues(s.Name, func(r idleRun) float64 { return r.GoKBPerConn }))).String()
				gr = summarize(mapValues(rep.idleValues(s.Name, func(r idleRun) float64 { return r.GoroutinesPerConn }))).String()
			}
			p("| %s | %s | %s | %s | %s |\n", s.Label, rss, gc, goKB, gr)
		}
		p("\n")
	}

	if len(rep.ClientRuns) > 0 {
		p("### Clients against nginx (CPU %d), client on CPU %d\n\nWall time is process start to exit, measured by the suite; CPU is user+sys from wait4's rusage; peak RSS is `/usr/bin/time -f %%M` (the suite's own wait4 would report at least its own RSS, because Go starts children with vfork). curl runs with `--http1.1`; the protocol each client used is in the last column.\n\n", serverCPU, loadCPU)
		p("| job | client | wall ms | CPU ms | peak RSS KB | protocol |\n|---|---|---|---|---|---|\n")
		for _, m := range clientModes {
			for _, c := range clientNames {
				w := summarize(mapValues(rep.clientValues(c, m, clientWall)))
				if w.N == 0 {
					continue
				}
				cpu := summarize(mapValues(rep.clientValues(c, m, clientCPU)))
				rss := summarize(mapValues(rep.clientValues(c, m, func(r clientRun) float64 { return float64(r.MaxRSSKB) })))
				proto := ""
				for _, r := range rep.ClientRuns {
					if r.Client == c && r.Mode == m {
						proto = r.Proto
					}
				}
				p("| %s | %s | %s | %s | %s | %s |\n", clientModeLabel(m, o), clientLabels[c], w, cpu, rss, proto)
			}
		}
		p("\n")
	}

	if rs := rep.ratios(); len(rs) > 0 {
		p("### Ratios\n\nEach is the median [min..max] of the per-rep ratios of interleaved runs (rep i of one against rep i of the other). For CPU, memory and time, below 1 means httpskit used less; for work per CPU-second, above 1 means httpskit did more.\n\n")
		p("| ratio | value |\n|---|---|\n")
		for _, r := range rs {
			p("| %s | %s |\n", r.Label, r.S.ratioString())
		}
		p("\n")
	}

	rep.foreignSection(&b)
	if len(rep.Problems) > 0 {
		p("### Problems during the run\n\n")
		for _, s := range rep.Problems {
			p("- %s\n", strings.ReplaceAll(strings.TrimSpace(s), "\n", " "))
		}
		p("\n")
	}
	p("### Commands\n\nThe builds, the servers, then every distinct load-generator and client command; `$T` is the run's temporary directory and `PORT` a free port picked per server (the raw results keep the exact commands).\n\n```sh\n")
	seen := map[string]bool{}
	for _, kind := range []string{"build", "server", "bench", "client"} {
		for _, c := range rep.Commands {
			if c.Kind != kind {
				continue
			}
			cmd := genericCommand(c.Cmd)
			if !seen[cmd] {
				seen[cmd] = true
				p("%s\n", cmd)
			}
		}
	}
	p("```\n\nRaw results: `%s` (one JSON object per run; this run is `\"run\":\"%s\"`) and the `.txt` beside it in Go benchmark format (`benchstat` reads it).\n", rep.RawPath, rep.RunID)
	return b.String()
}

var (
	tmpDirRE  = regexp.MustCompile(`\S*/httpskit-bench-\d+`)
	portRE    = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	portArgRE = regexp.MustCompile(`--port \d+`)
	nginxRE   = regexp.MustCompile(`/nginx-\d+\b`)
	scriptRE  = regexp.MustCompile(`\S*/(bench/(?:node|client)/)`)
)

// genericCommand replaces what changes from run to run in a command line (the temporary
// directory, ports, the nginx instance directory) with placeholders.
func genericCommand(cmd string) string {
	cmd = tmpDirRE.ReplaceAllString(cmd, "$$T")
	cmd = portRE.ReplaceAllString(cmd, "127.0.0.1:PORT")
	cmd = portArgRE.ReplaceAllString(cmd, "--port PORT")
	cmd = scriptRE.ReplaceAllString(cmd, "$1")
	return nginxRE.ReplaceAllString(cmd, "/nginx")
}

func rerunPolicy(o options) string {
	if o.Reruns <= 0 {
		return fmt.Sprintf("Reps where other tasks took over %.0f%% of CPU %d (from `/proc/stat`) are flagged, not run again.", foreignLimit*100, serverCPU)
	}
	return fmt.Sprintf("A rep where other tasks took over %.0f%% of CPU %d (from `/proc/stat`) was run again, up to %d times, then kept and flagged.", foreignLimit*100, serverCPU, o.Reruns)
}

func dayOf(date string) string {
	if len(date) >= 10 {
		return date[:10]
	}
	return date
}

func (rep *report) serverTable(b *strings.Builder, f func(serverRun) float64, cell func(summary) string) {
	fmt.Fprintf(b, "| server |")
	for _, sc := range rep.Scenarios {
		fmt.Fprintf(b, " %s |", sc.Label)
	}
	fmt.Fprintf(b, "\n|---|%s\n", strings.Repeat("---|", len(rep.Scenarios)))
	for _, s := range rep.Servers {
		fmt.Fprintf(b, "| %s |", s.Label)
		for _, sc := range rep.Scenarios {
			fmt.Fprintf(b, " %s |", cell(summarize(mapValues(rep.values(sc.Name, s.Name, f)))))
		}
		fmt.Fprintf(b, "\n")
	}
}

// tlsNotes says what the runs negotiated, from the load generator's reports.
func (rep *report) tlsNotes(b *strings.Builder) {
	var order []string
	groups := map[string][]string{}
	type hs struct{ resumed, total int64 }
	counts := map[string]map[string]*hs{} // scenario -> server -> handshakes
	var errs []string
	for _, r := range rep.ServerRuns {
		k := strings.TrimSpace(fmt.Sprintf("%s %s %s", r.Bench.TLSVersion, r.Bench.Cipher, r.Bench.Curve))
		lbl := serverLabelOf(r.Server)
		if !slices.Contains(groups[k], lbl) {
			if len(groups[k]) == 0 {
				order = append(order, k)
			}
			groups[k] = append(groups[k], lbl)
		}
		if unitOf(r.Scenario) == "conn" {
			if counts[r.Scenario] == nil {
				counts[r.Scenario] = map[string]*hs{}
			}
			c := counts[r.Scenario][r.Server]
			if c == nil {
				c = &hs{}
				counts[r.Scenario][r.Server] = c
			}
			c.resumed += r.Bench.Resumed
			c.total += r.Bench.Handshakes
		}
		if r.ErrorCount > 0 {
			errs = append(errs, fmt.Sprintf("%s/%s rep %d: %v", r.Scenario, r.Server, r.Rep, r.Bench.Errors))
		}
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%s: %s", strings.Join(groups[k], ", "), k))
	}
	fmt.Fprintf(b, "Negotiated: %s.", strings.Join(parts, "; "))
	for _, sc := range rep.Scenarios {
		if counts[sc.Name] == nil {
			continue
		}
		var cs []string
		for _, s := range rep.Servers {
			if c := counts[sc.Name][s.Name]; c != nil {
				cs = append(cs, fmt.Sprintf("%s %d/%d", s.Label, c.resumed, c.total))
			}
		}
		fmt.Fprintf(b, " Resumed handshakes in %q: %s.", sc.Label, strings.Join(cs, ", "))
	}
	if len(errs) > 0 {
		fmt.Fprintf(b, " Request errors: %s.", strings.Join(errs, "; "))
	}
	fmt.Fprintf(b, "\n\n")
}

func serverLabelOf(name string) string {
	for _, s := range allServers {
		if s.Name == name {
			return s.Label
		}
	}
	return name
}

// foreignSection summarizes how much of the server CPU other tasks took.
func (rep *report) foreignSection(b *strings.Builder) {
	if len(rep.ServerRuns) == 0 {
		return
	}
	var all []float64
	var over, reran []string
	for _, r := range rep.ServerRuns {
		all = append(all, r.ForeignPct)
		pcts := make([]string, len(r.TriesPct))
		for i, v := range r.TriesPct {
			pcts[i] = fmt.Sprintf("%.0f%%", v)
		}
		line := fmt.Sprintf("%s/%s rep %d: %s", r.Scenario, r.Server, r.Rep, strings.Join(pcts, ", "))
		switch {
		case r.Flagged:
			over = append(over, line)
		case r.Tries > 1:
			reran = append(reran, line)
		}
	}
	s := summarize(all)
	fmt.Fprintf(b, "### Foreign load on CPU %d\n\nShare of CPU %d taken by other tasks (user, system and steal time beyond the server's own) during the kept runs: %s%%. %d of %d runs were rerun and are within %.0f%%; %d were kept over it.\n\n",
		serverCPU, serverCPU, s, len(reran), len(rep.ServerRuns), foreignLimit*100, len(over))
	if len(over) > 0 {
		fmt.Fprintf(b, "Kept over the limit (every try): %s.\n\n", strings.Join(over, "; "))
	}
	if len(reran) > 0 {
		fmt.Fprintf(b, "Rerun (every try): %s.\n\n", strings.Join(reran, "; "))
	}
}

// benchText renders every run in Go benchmark format, for benchstat.
func (rep *report) benchText() string {
	var b strings.Builder
	e := rep.Env
	fmt.Fprintf(&b, "goos: linux\ngoarch: amd64\npkg: github.com/httpskit/httpskit/bench\ncpu: %s\n", e.CPUModel)
	fmt.Fprintf(&b, "# %s; %s; %s; nginx %s; node %s; load average %s\n", e.Date, e.Go, e.OpenSSL, e.Nginx, e.Node, e.LoadAvgStart)
	runs := append([]serverRun(nil), rep.ServerRuns...)
	sort.SliceStable(runs, func(i, j int) bool {
		if runs[i].Scenario != runs[j].Scenario {
			return scenarioIndex(runs[i].Scenario) < scenarioIndex(runs[j].Scenario)
		}
		return runs[i].Server < runs[j].Server
	})
	for _, r := range runs {
		fmt.Fprintf(&b, "BenchmarkServer/scenario=%s/server=%s %d %.2f us/%s %.0f %s/cpu-s %.0f %s/s %.1f foreign-%%\n",
			r.Scenario, r.Server, max(r.Requests, 1), r.USPerReq, unitOf(r.Scenario), r.ReqPerCPUS, unitOf(r.Scenario), r.RPS, unitOf(r.Scenario), r.ForeignPct)
	}
	for _, r := range rep.IdleRuns {
		fmt.Fprintf(&b, "BenchmarkIdle/server=%s %d %.2f rss-KB/conn", r.Server, max(r.Held, 1), r.RSSKBPerConn)
		if r.GoIdle != nil {
			fmt.Fprintf(&b, " %.2f rss-gc-KB/conn %.2f go-KB/conn", r.RSSGCKBPerConn, r.GoKBPerConn)
		}
		fmt.Fprintf(&b, "\n")
	}
	for _, r := range rep.ClientRuns {
		fmt.Fprintf(&b, "BenchmarkClient/mode=%s/client=%s 1 %.1f wall-ms %.1f cpu-ms %d maxrss-KB\n", r.Mode, r.Client, r.WallMS, r.CPUMS, r.MaxRSSKB)
	}
	return b.String()
}

func scenarioIndex(name string) int {
	for i, s := range allScenarios {
		if s.Name == name {
			return i
		}
	}
	return len(allScenarios)
}

func unitOf(scn string) string {
	for _, s := range allScenarios {
		if s.Name == scn {
			return s.Unit
		}
	}
	return "req"
}
