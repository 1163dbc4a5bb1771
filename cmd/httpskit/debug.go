package main

import (
	"encoding/json"
	"expvar"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/httpskit/httpskit/server"
)

// The debug endpoint of `serve --debug-addr`: plain HTTP on a loopback address, off by
// default. It shows memory, goroutine stacks and the command line, which is why it refuses
// any other address.
//
//	GET /debug/vars        expvar JSON: "cmdline", "memstats", and "httpskit" (debugVars)
//	GET /debug/vars?gc=1   the same after a forced garbage collection
//	GET /debug/pprof/      profiles, goroutine stacks, CPU profile, trace (debugprof.go)

// debugVars is the "httpskit" object of /debug/vars.
type debugVars struct {
	Goroutines     int    `json:"goroutines"`
	HeapAllocBytes uint64 `json:"heap_alloc_bytes"` // live objects and garbage not yet collected
	HeapInuseBytes uint64 `json:"heap_inuse_bytes"` // heap spans in use
	HeapObjects    uint64 `json:"heap_objects"`
	SysBytes       uint64 `json:"sys_bytes"` // memory obtained from the OS
	NumGC          uint32 `json:"num_gc"`
	OpenFDs        int    `json:"open_fds"`       // entries of /proc/self/fd; -1 where it does not exist
	ConnsLive      int64  `json:"conns_live"`     // connections to serve's listeners open now
	ConnsAccepted  int64  `json:"conns_accepted"` // connections accepted since the start
}

// debugServer serves the debug endpoint until Close.
type debugServer struct {
	*sideServer
	live, accepted atomic.Int64
}

// checkDebugAddr accepts HOST:PORT where HOST is a loopback address or "localhost" (taken as
// 127.0.0.1) and returns the address to listen on.
func checkDebugAddr(addr string) (string, error) {
	return checkSideAddr("--debug-addr", addr, "the debug endpoint shows memory, goroutine stacks and the command line, so it listens on loopback only (127.0.0.1, ::1 or localhost)")
}

// startDebug binds addr (see checkDebugAddr) and serves the debug endpoint. It counts the
// connections of the listeners of s, so it must be called before s starts.
func startDebug(addr string, s *server.Server) (*debugServer, error) {
	addr, err := checkDebugAddr(addr)
	if err != nil {
		return nil, err
	}
	d := &debugServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/vars", d.vars)
	mux.HandleFunc("GET /debug/pprof/{$}", pprofIndex) // debugprof.go
	mux.HandleFunc("GET /debug/pprof/{name}", pprofNamed)
	mux.HandleFunc("GET /debug/pprof/profile", pprofCPU)
	mux.HandleFunc("GET /debug/pprof/trace", pprofTrace)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprofCmdline)
	// No write timeout: a CPU profile or a trace takes as long as it is asked to.
	if d.sideServer, err = startSide("debug endpoint", addr, mux, 0); err != nil {
		return nil, err
	}
	for _, l := range s.Servers() {
		d.track(l.Original())
	}
	return d, nil
}

// track counts the connections of hs through its ConnState hook, keeping any hook set before.
func (d *debugServer) track(hs *http.Server) {
	addConnState(hs, func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			d.live.Add(1)
			d.accepted.Add(1)
		case http.StateClosed, http.StateHijacked:
			d.live.Add(-1)
		}
	})
}

// vars writes the expvar variables (as expvar.Handler does) and the "httpskit" object.
func (d *debugServer) vars(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("gc") == "1" {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	v, err := json.Marshal(debugVars{
		Goroutines:     runtime.NumGoroutine(),
		HeapAllocBytes: ms.HeapAlloc,
		HeapInuseBytes: ms.HeapInuse,
		HeapObjects:    ms.HeapObjects,
		SysBytes:       ms.Sys,
		NumGC:          ms.NumGC,
		OpenFDs:        openFDs(),
		ConnsLive:      d.live.Load(),
		ConnsAccepted:  d.accepted.Load(),
	})
	if err != nil { // a struct of numbers always marshals
		http.Error(w, "cannot encode the variables", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fmt.Fprintf(w, "{\n")
	expvar.Do(func(kv expvar.KeyValue) {
		fmt.Fprintf(w, "%q: %s,\n", kv.Key, kv.Value)
	})
	fmt.Fprintf(w, "%q: %s\n}\n", "httpskit", v)
}

// openFDs counts the open file descriptors of the process, or returns -1 where
// /proc/self/fd does not exist.
func openFDs() int {
	f, err := os.Open("/proc/self/fd")
	if err != nil {
		return -1
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return -1
	}
	return len(names) - 1 // the directory itself is open while it is read
}
