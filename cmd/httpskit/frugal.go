package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"

	"github.com/httpskit/httpskit/https"
	"github.com/httpskit/httpskit/server"
)

// Frugal mode, for small devices (docs/devices.md has the figures):
//
//	httpskit get --frugal URL       or HTTPSKIT_FRUGAL=1 httpskit get URL
//	httpskit serve --frugal DIR
//
// get and request: the client's connections are https.MemoryFrugal (HTTP/2 windows of
// 256 KiB instead of 4 MiB, few idle connections). serve: HTTP/2 connections take at most
// 256 KiB of request body ahead of the handler (net/http: 1 MiB), in frames of at most
// 16 KiB (net/http: 1 MiB), at most 32 streams at once (net/http: 250), and the garbage
// collector runs at GOGC=50 (unless GOGC is set). A process that runs with a memory limit
// (GOMEMLIMIT) is frugal unless --frugal=false says otherwise, except that serve then leaves
// GOGC to the limit.
//
// HTTPSKIT_MEMSTATS=1 makes get, request and serve print one line of memory figures to
// stderr as they end (see memReport); bench/mem reads it.

const (
	frugalEnv   = "HTTPSKIT_FRUGAL"
	memStatsEnv = "HTTPSKIT_MEMSTATS"
)

// frugalUsage is the help text of --frugal.
const frugalUsage = "use less memory, for small devices (see docs/devices.md); default from $" + frugalEnv + ", and on when GOMEMLIMIT is set"

// frugalFlag is --frugal: unset, on or off. HTTPSKIT_FRUGAL sets it before the command line
// does.
type frugalFlag struct{ set, on bool }

func (f *frugalFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return strconv.FormatBool(f.on)
}

func (f *frugalFlag) Set(s string) error {
	on, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	f.set, f.on = true, on
	return nil
}

// IsBoolFlag lets --frugal stand alone.
func (f *frugalFlag) IsBoolFlag() bool { return true }

// fromEnv reads HTTPSKIT_FRUGAL (1, true, 0, false; unset or empty: no opinion).
func (f *frugalFlag) fromEnv() error {
	v := os.Getenv(frugalEnv)
	if v == "" {
		return nil
	}
	if err := f.Set(v); err != nil {
		return usagef("%s=%q: %v", frugalEnv, v, err)
	}
	return nil
}

// active reports whether frugal mode is on: asked for, or, when nothing was said, because
// the process runs with a memory limit.
func (f frugalFlag) active() bool {
	if f.set {
		return f.on
	}
	return debug.SetMemoryLimit(-1) < math.MaxInt64
}

// memory is the client's setting: MemoryAuto when nothing was said, so that the https
// package decides by the memory limit as it does for every program.
func (f frugalFlag) memory() https.Memory {
	switch {
	case !f.set:
		return https.MemoryAuto
	case f.on:
		return https.MemoryFrugal
	}
	return https.MemoryFast
}

// frugalGOGC is serve's GOGC in frugal mode: the heap may grow to 1.5 times the live data
// between collections instead of twice, for some more CPU spent collecting.
const frugalGOGC = 50

// frugalLimits puts frugal mode's HTTP/2 limits (server.HTTPConfig.FrugalHTTP2) on hc, a
// listener's configuration, when frugal mode is active.
func frugalLimits(hc *server.HTTPConfig, f frugalFlag) {
	if f.active() {
		hc.FrugalHTTP2()
	}
}

// frugalGC sets GOGC=50 when frugal mode was asked for (not only implied by a memory limit,
// which already drives the collector) and GOGC is not set.
func frugalGC(f frugalFlag) {
	if f.active() && f.set && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(frugalGOGC)
	}
}

// memReport prints, when HTTPSKIT_MEMSTATS is set, one line of memory figures of this
// process to w as "httpskit memstats: cmd=NAME key=value ...", in KiB unless the key says
// otherwise:
//
//	vm_hwm_kb, vm_rss_kb, rss_anon_kb, rss_file_kb   peak and current resident memory, from
//	                                                 /proc/self/status (Linux; under
//	                                                 qemu-user, the emulator's)
//	go_heap_objects_kb   live and not yet collected heap objects
//	go_heap_other_kb     heap spans in use or free but not returned to the OS, minus objects
//	go_stacks_kb         goroutine and OS thread stacks
//	go_runtime_kb        the runtime's metadata and buffers, mapped (not all of it resident)
//	go_mapped_kb         everything the runtime mapped, minus what it returned to the OS
//	gc_cycles, gomaxprocs, gogc, gomemlimit_kb (-1: no limit)
func memReport(w io.Writer, cmd string) {
	if os.Getenv(memStatsEnv) == "" {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "httpskit memstats: cmd=%s", cmd)
	if st, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, k := range [][2]string{{"VmHWM", "vm_hwm_kb"}, {"VmRSS", "vm_rss_kb"}, {"RssAnon", "rss_anon_kb"}, {"RssFile", "rss_file_kb"}} {
			if v, ok := statusKB(string(st), k[0]); ok {
				fmt.Fprintf(&b, " %s=%d", k[1], v)
			}
		}
	}
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/memory/classes/os-stacks:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/gogc:percent"},
		{Name: "/gc/gomemlimit:bytes"},
	}
	metrics.Read(samples)
	v := make([]uint64, len(samples))
	for i, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	objects, unused, free, stacks, osStacks, total, released := v[0], v[1], v[2], v[3], v[4], v[5], v[6]
	mapped := total - released
	limitKB := int64(-1)
	if v[9] < math.MaxInt64 {
		limitKB = int64(v[9] >> 10)
	}
	fmt.Fprintf(&b, " go_heap_objects_kb=%d go_heap_other_kb=%d go_stacks_kb=%d go_runtime_kb=%d go_mapped_kb=%d gc_cycles=%d gomaxprocs=%d gogc=%d gomemlimit_kb=%d\n",
		objects>>10, (unused+free)>>10, (stacks+osStacks)>>10, (mapped-objects-unused-free-stacks-osStacks)>>10, mapped>>10,
		v[7], runtime.GOMAXPROCS(0), int64(v[8]), limitKB)
	io.WriteString(w, b.String())
}

// statusKB returns the value in kB of the line "key: N kB" of /proc/self/status.
func statusKB(status, key string) (int64, bool) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		return n, err == nil
	}
	return 0, false
}
