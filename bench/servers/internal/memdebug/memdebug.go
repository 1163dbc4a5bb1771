// Package memdebug is the plain-HTTP debug listener of the benchmark servers: GET /mem forces a
// garbage collection, returns freed memory to the OS and reports the Go heap and stack in use, so
// the suite can measure the live memory each idle connection holds.
package memdebug

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Mem is the JSON answer of GET /mem. Byte counts come from runtime/metrics after a forced GC.
type Mem struct {
	HeapObjectsBytes uint64 `json:"heap_objects_bytes"` // /memory/classes/heap/objects:bytes
	StackBytes       uint64 `json:"stack_bytes"`        // /memory/classes/heap/stacks:bytes
	Goroutines       uint64 `json:"goroutines"`         // /sched/goroutines:goroutines
}

var names = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/sched/goroutines:goroutines",
}

// Read forces a GC, returns freed memory to the OS and reads the figures.
func Read() Mem {
	runtime.GC()
	debug.FreeOSMemory()
	s := make([]metrics.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return Mem{HeapObjectsBytes: v(0), StackBytes: v(1), Goroutines: v(2)}
}

// Handler answers GET /mem with Read as JSON, and serves CPU and heap profiles under
// /debug/pprof/.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /mem", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Read())
	})
	// CPU and heap profiles, for finding where a server's time goes under load.
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.Handle("GET /debug/pprof/heap", pprof.Handler("heap"))
	mux.Handle("GET /debug/pprof/allocs", pprof.Handler("allocs"))
	return mux
}

// Listen binds addr (plain HTTP) and serves Handler in the background. An empty addr does
// nothing.
func Listen(addr string) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return nil
}
