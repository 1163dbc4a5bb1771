package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// iotjsKB is IoT.js's peak RSS for the same GET (shared/reference/iotjs-https.md: 2.7-3.7 MB,
// "~3 MB"), the figure the issue measures frugal mode against.
const iotjsKB = 3000

// report writes the results as Markdown.
func report(w io.Writer, c config, res *results) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## httpskit memory (bench/mem), %s\n\n", res.Date)
	for _, k := range slices.Sorted(maps.Keys(res.Host)) {
		p("- %s: %s\n", k, res.Host[k])
	}
	p("- modes: ")
	for i, m := range c.modes {
		if i > 0 {
			p("; ")
		}
		p("**%s** `%s`", m.Name, m)
	}
	source := "GNU time -f %M"
	if strings.Contains(strings.Join(res.Problems, " "), "GNU time") {
		source = "the programs' own VmHWM"
	}
	p("\n- peak RSS: %s; %d runs per get figure, median [min..max]; KiB throughout\n\n", source, c.n)

	p("### Binaries\n\n| binary | bytes |\n|---|---|\n")
	for _, k := range slices.Sorted(maps.Keys(res.Sizes)) {
		p("| %s | %d |\n", k, res.Sizes[k])
	}

	if len(res.Floor) > len(c.arches) {
		p("\n### Floor: what a GET costs any Go program\n\nThe same GET of the 4 KiB file by small static programs built like httpskit, peak RSS (\"− hello\" as below):\n\n")
		for _, f := range floors {
			p("- **%s**: %s\n", f.Name, f.Doc)
		}
		p("\n| arch | program | binary bytes | peak | − hello |\n|---|---|---|---|---|\n")
		for _, f := range res.Floor {
			p("| %s | %s | %d | %v | %.0f |\n", f.Arch, f.Name, res.Sizes[f.Name+"-"+f.Arch], f.PeakKB, f.PeakKB.Median-res.Hello[f.Arch].Median)
		}
	}

	p("\n### httpskit get\n\nOne GET of a 4 KiB file, and of an 8 MiB file read at %d KiB/s, from a native `httpskit serve` over HTTP/2. "+
		"\"− hello\" subtracts the median peak of a static Go hello-world under the same runner. Anon / file: RssAnon and RssFile as the process ends. "+
		"Go heap / stacks: the runtime's heap (objects and spans not returned) and stacks as it ends. IoT.js needs about %d KiB for the same GET.\n\n", c.slow>>10, iotjsKB)
	p("| arch | mode | one GET: peak | − hello | anon / file | Go heap / stacks | 8 MiB slow: peak | − hello | anon |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, a := range c.arches {
		hello := res.Hello[a.Name].Median
		for _, m := range c.modes {
			small, big := findGet(res, a.Name, m.Name, "4k"), findGet(res, a.Name, m.Name, "8m-slow")
			if small == nil || big == nil {
				continue
			}
			p("| %s | %s | %v | %.0f | %.0f / %.0f | %.0f / %.0f | %v | %.0f | %.0f |\n", a.Name, m.Name,
				small.PeakKB, small.PeakKB.Median-hello,
				med(small.Memstats["rss_anon_kb"]), med(small.Memstats["rss_file_kb"]),
				med(small.Memstats["go_heap_objects_kb"])+med(small.Memstats["go_heap_other_kb"]), med(small.Memstats["go_stacks_kb"]),
				big.PeakKB, big.PeakKB.Median-hello, med(big.Memstats["rss_anon_kb"]))
		}
	}
	p("\nhello (static Go hello-world): ")
	for i, a := range c.arches {
		if i > 0 {
			p(", ")
		}
		p("%s %v", a.Name, res.Hello[a.Name])
	}
	p("\n")

	p("\n### httpskit serve\n\nIdle: a fresh serve, %s after its banner (RSS, anonymous / file-backed, and its binary's resident pages). "+
		"Keep-alive: `httpskit bench -c %d --duration %s` GETs of the 4 KiB file over HTTP/1.1; peak is VmHWM after the load, steady the median VmRSS of the load's second half. "+
		"Uploads: a fresh serve, `bench -c %d --mode h2 -X POST` of the 8 MiB file (answered after the body is read or refused). "+
		"Go heap / stacks: the runtime's figures as serve stopped after the keep-alive load. req/s come from a loaded, shared machine: read them as an order of magnitude.\n\n",
		"1 s (3 s under qemu)", c.conns, c.duration, c.conns)
	p("| arch | mode | idle | idle anon / file (binary) | keep-alive peak | steady | req/s | Go heap / stacks | uploads peak | req/s |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range res.Serve {
		ms := r.LoadMemstats
		p("| %s | %s | %d | %d / %d (%d) | %d | %v | %.0f | %d / %d | %d | %.0f |\n", r.Arch, r.Mode, r.Idle.HWM, r.Idle.Anon, r.Idle.File, r.IdleBinaryKB,
			r.LoadPeakKB, r.LoadSteadyKB, r.LoadReqPerSec, ms["go_heap_objects_kb"]+ms["go_heap_other_kb"], ms["go_stacks_kb"], r.UpPeakKB, r.UpReqPerSec)
	}

	if len(res.Problems) > 0 {
		p("\n### Problems\n\n")
		for _, pr := range res.Problems {
			p("- %s\n", pr)
		}
	}
	p("\n### Commands\n\n```sh\n")
	for _, cmd := range res.Commands {
		p("%s\n", cmd)
	}
	p("```\n")
}

func findGet(res *results, arch, mode, cs string) *getResult {
	for i := range res.Get {
		if g := &res.Get[i]; g.Arch == arch && g.Mode == mode && g.Case == cs {
			return g
		}
	}
	return nil
}

// med is the median of v; 0 for none.
func med(v []int64) float64 {
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	return summarize(f).Median
}
