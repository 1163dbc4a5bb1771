package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report is the JSON result of a soak.
type report struct {
	Date      string        `json:"date"`
	Server    string        `json:"server"`
	DurationS float64       `json:"duration_s"`
	WarmupS   float64       `json:"warmup_s"`
	Samples   []sample      `json:"samples"` // start, one per -sample, end
	Load      []*loadResult `json:"load"`
	Warmup    []*loadResult `json:"warmup,omitempty"`
	Stop      stopResult    `json:"stop"`
	Checks    []check       `json:"checks"`
	NewFiles  []string      `json:"new_files,omitempty"` // open at the end, not at the start
	OK        bool          `json:"ok"`
}

// check is one pass/fail criterion: End must not exceed Limit.
type check struct {
	Name  string  `json:"name"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Limit float64 `json:"limit"`
	OK    bool    `json:"ok"`
	Unit  string  `json:"unit,omitempty"`
}

// check fills rep.Checks and rep.OK from the start and end samples, the load results and
// how serve stopped.
func (rep *report) check(cfg config, start, end sample) {
	add := func(name, unit string, s, e, limit float64) {
		rep.Checks = append(rep.Checks, check{Name: name, Unit: unit, Start: s, End: e, Limit: limit, OK: e <= limit})
	}
	add("goroutines", "", float64(start.Goroutines), float64(end.Goroutines), float64(start.Goroutines+cfg.goroutineSlack))
	add("open files", "", float64(start.FDs), float64(end.FDs), float64(start.FDs+cfg.fdSlack))
	heap := float64(start.HeapInuse)
	add("heap in use", "MiB", heap/(1<<20), float64(end.HeapInuse)/(1<<20), (heap+max(heap*cfg.heapGrowth, heapSlack))/(1<<20))
	add("live connections after the load", "", float64(start.ConnsLive), float64(end.ConnsLive), 0)
	var unexpected int64
	for _, r := range rep.Load {
		unexpected += r.unexpected()
	}
	add("unexpected failures", "", 0, float64(unexpected), 0)
	stopped := 0.0
	if rep.Stop.ExitCode != 0 || !rep.Stop.Stopped || rep.Stop.Error != "" {
		stopped = 1
	}
	add("serve stopped on SIGTERM (exit 0, \"stopped\")", "", 0, stopped, 0)
	rep.OK = !slices.ContainsFunc(rep.Checks, func(c check) bool { return !c.OK })
	rep.NewFiles = added(start.Files, end.Files)
	for _, s := range []sample{start, end} {
		if s.Error != "" {
			rep.OK = false
		}
	}
}

// print writes the tables: samples, loads, checks.
func (rep *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "sample\telapsed\tgoroutines\theap in use\theap alloc\tRSS\topen files\tconnections\tsettled\t")
	for _, s := range rep.Samples {
		if s.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\terror: %s\t\t\t\t\t\t\t\n", s.Label, s.elapsed().Round(100*time.Millisecond), s.Error)
			continue
		}
		settled := ""
		if s.Label == "start" || s.Label == "end" {
			settled = fmt.Sprint(s.Settled)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\t%s\t\n", s.Label, s.elapsed().Round(100*time.Millisecond),
			s.Goroutines, mib(int64(s.HeapInuse)), mib(int64(s.HeapAlloc)), mib(s.RSS), s.FDs, s.ConnsLive, settled)
	}
	tw.Flush()
	fmt.Fprintln(w)

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "load\tdone\tok\texpected\tunexpected")
	for _, r := range rep.Load {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", r.Name, r.Done, r.OK, counts(r.Expected), counts(r.Unexpected))
	}
	tw.Flush()
	for _, r := range rep.Load {
		for _, ex := range r.Examples {
			fmt.Fprintf(w, "  %s: %s\n", r.Name, ex)
		}
	}
	fmt.Fprintln(w)

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "check\tstart\tend\tlimit\tresult")
	for _, c := range rep.Checks {
		result := "ok"
		if !c.OK {
			result = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, num(c.Start, c.Unit), num(c.End, c.Unit), num(c.Limit, c.Unit), result)
	}
	tw.Flush()
	if len(rep.NewFiles) > 0 {
		fmt.Fprintf(w, "open at the end, not at the start: %s\n", strings.Join(rep.NewFiles, ", "))
	}
}

// added returns the items of the sorted list to that are not in the sorted list from, as
// many times as they are in excess.
func added(from, to []string) []string {
	var out []string
	for i, j := 0, 0; j < len(to); {
		switch {
		case i < len(from) && from[i] == to[j]:
			i++
			j++
		case i < len(from) && from[i] < to[j]:
			i++
		default:
			out = append(out, to[j])
			j++
		}
	}
	return out
}

// counts formats a map of counts as "a: 1, b: 2", or "-".
func counts(m map[string]int64) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func num(v float64, unit string) string {
	if unit == "" {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}
