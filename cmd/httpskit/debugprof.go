package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"time"
)

// The /debug/pprof/ part of the debug endpoint, written on runtime/pprof. It serves what
// `go tool pprof http://127.0.0.1:6060/debug/pprof/NAME` and `go tool trace` fetch, with the
// paths and parameters of net/http/pprof:
//
//	GET /debug/pprof/                      the profiles and their counts, as text
//	GET /debug/pprof/NAME?debug=N&gc=1     a runtime/pprof profile: goroutine, heap, allocs,
//	                                       block, mutex, threadcreate; debug=1 or 2 for text,
//	                                       gc=1 collects before a heap profile
//	GET /debug/pprof/profile?seconds=N     a CPU profile (30 s by default)
//	GET /debug/pprof/trace?seconds=N       an execution trace (1 s by default)
//	GET /debug/pprof/cmdline               the command line, arguments NUL-separated
//
// net/http/pprof is not linked, to keep the release binaries small (docs/devices.md): it
// adds 130-200 KB (internal/profile, text/tabwriter) for an HTML index, delta profiles
// (?seconds= on a named profile) and /symbol, which go tool pprof does not need: the
// profiles carry their symbols. Compare two profiles with `go tool pprof -diff_base`.

// pprofIndex lists the profiles that /debug/pprof/NAME serves.
func pprofIndex(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fmt.Fprintf(w, "/debug/pprof/: runtime profiles; add ?debug=1 for text\n\n")
	for _, p := range pprof.Profiles() {
		fmt.Fprintf(w, "%8d  %s\n", p.Count(), p.Name())
	}
	fmt.Fprintf(w, "\n%8s  profile?seconds=30 (CPU)\n%8s  trace?seconds=1\n%8s  cmdline\n", "", "", "")
}

// pprofNamed writes the runtime/pprof profile named by the last path element.
func pprofNamed(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	p := pprof.Lookup(name)
	if p == nil {
		pprofError(w, http.StatusNotFound, "unknown profile "+strconv.Quote(name)+"; GET /debug/pprof/ lists them")
		return
	}
	if r.FormValue("seconds") != "" {
		pprofError(w, http.StatusBadRequest, "delta profiles (?seconds=) are not served: take two profiles and compare them with go tool pprof -diff_base")
		return
	}
	debug, _ := strconv.Atoi(r.FormValue("debug"))
	if name == "heap" && r.FormValue("gc") == "1" {
		runtime.GC()
	}
	pprofHeaders(w, name, debug != 0)
	p.WriteTo(w, debug) // a write error means the client went away
}

// pprofCPU writes a CPU profile of the next ?seconds (30 by default).
func pprofCPU(w http.ResponseWriter, r *http.Request) {
	pprofFor(w, r, "profile", 30, pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// pprofTrace writes an execution trace of the next ?seconds (1 by default).
func pprofTrace(w http.ResponseWriter, r *http.Request) {
	pprofFor(w, r, "trace", 1, trace.Start, trace.Stop)
}

// pprofFor records with start into w for ?seconds (def by default) and stops, earlier if the
// client goes away. Only one CPU profile or trace runs at a time: start fails for another.
func pprofFor(w http.ResponseWriter, r *http.Request, name string, def int, start func(io.Writer) error, stop func()) {
	d, ok := pprofSeconds(w, r, def)
	if !ok {
		return
	}
	pprofHeaders(w, name, false)
	if err := start(w); err != nil {
		pprofError(w, http.StatusInternalServerError, "cannot start the "+name+": "+err.Error())
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
	stop()
}

// pprofCmdline writes the command line as net/http/pprof does: arguments separated by NUL.
func pprofCmdline(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fmt.Fprint(w, strings.Join(os.Args, "\x00"))
}

// pprofSeconds reads ?seconds, a positive integer, or answers 400 and returns false.
func pprofSeconds(w http.ResponseWriter, r *http.Request, def int) (time.Duration, bool) {
	s := r.FormValue("seconds")
	if s == "" {
		return time.Duration(def) * time.Second, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		pprofError(w, http.StatusBadRequest, "seconds="+strconv.Quote(s)+": want a positive whole number")
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// pprofHeaders sets the headers of a profile: text, or a binary download named name.
func pprofHeaders(w http.ResponseWriter, name string, text bool) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if text {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		return
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
}

// pprofError answers status with msg as text, clearing any profile headers set before.
func pprofError(w http.ResponseWriter, status int, msg string) {
	w.Header().Del("Content-Disposition")
	http.Error(w, msg, status)
}
