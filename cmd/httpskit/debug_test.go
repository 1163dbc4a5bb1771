package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// debugGet GETs url on a new connection and returns the status and body.
func debugGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// debugVarsAt reads /debug/vars (with ?gc=1 when gc) and returns the "httpskit" object; it
// checks that expvar's own variables are there too.
func debugVarsAt(t *testing.T, base string, gc bool) debugVars {
	t.Helper()
	u := base + "/debug/vars"
	if gc {
		u += "?gc=1"
	}
	status, body := debugGet(t, u)
	var all map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &all); status != 200 || err != nil {
		t.Fatalf("GET %s = %d, %v:\n%s", u, status, err, body)
	}
	for _, k := range []string{"cmdline", "memstats", "httpskit"} {
		if _, ok := all[k]; !ok {
			t.Errorf("GET %s: no %q variable", u, k)
		}
	}
	var v debugVars
	if err := json.Unmarshal(all["httpskit"], &v); err != nil {
		t.Fatalf("GET %s: httpskit: %v", u, err)
	}
	return v
}

// TestServeDebug: `serve --debug-addr 127.0.0.1:0` prints the endpoint; /debug/vars reports
// goroutines, heap, open files and the live connections of serve's listeners (none, one
// kept alive, none once the client closed it); ?gc=1 collects first; pprof answers under
// /debug/pprof/; the HTTPS listener does not serve any of it.
func TestServeDebug(t *testing.T) {
	site := startServe(t, "--port", "0", "--host", "127.0.0.1", "--debug-addr", "127.0.0.1:0",
		"--ca-root", filepath.Join(t.TempDir(), "ca"), t.TempDir())
	var base string
	for _, line := range strings.Split(site.stdout.String(), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "debug" {
			base = strings.TrimSuffix(f[1], "/debug/vars")
		}
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Fatalf("no debug line with http://127.0.0.1:PORT/debug/vars in:\n%s", site.stdout)
	}

	v := debugVarsAt(t, base, false)
	if v.Goroutines <= 0 || v.HeapInuseBytes == 0 || v.HeapAllocBytes == 0 || v.SysBytes == 0 {
		t.Errorf("debug vars %+v: want goroutines and heap figures", v)
	}
	if runtime.GOOS == "linux" && v.OpenFDs <= 0 {
		t.Errorf("open_fds = %d, want the count of /proc/self/fd", v.OpenFDs)
	}
	if v.ConnsLive != 0 || v.ConnsAccepted != 0 {
		t.Errorf("before any request: conns_live %d, conns_accepted %d; want 0, 0", v.ConnsLive, v.ConnsAccepted)
	}

	c := caClient(t, site.caFile, false)
	resp, err := c.Get(site.url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if v := debugVarsAt(t, base, false); v.ConnsLive != 1 || v.ConnsAccepted != 1 {
		t.Errorf("with one kept-alive connection: conns_live %d, conns_accepted %d; want 1, 1", v.ConnsLive, v.ConnsAccepted)
	}
	c.CloseIdleConnections()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(5 * time.Millisecond) // polling the server's count
	defer tick.Stop()
	for v := debugVarsAt(t, base, false); v.ConnsLive != 0; v = debugVarsAt(t, base, false) {
		if time.Now().After(deadline) {
			t.Fatalf("conns_live %d a minute after the client closed its connection, want 0", v.ConnsLive)
		}
		<-tick.C
	}

	before := debugVarsAt(t, base, false).NumGC
	if after := debugVarsAt(t, base, true).NumGC; after <= before {
		t.Errorf("num_gc %d after ?gc=1, was %d: want a collection", after, before)
	}

	for _, tt := range []struct{ path, want string }{
		{"/debug/pprof/", "goroutine"},
		{"/debug/pprof/goroutine?debug=1", "goroutine profile:"},
		{"/debug/pprof/heap?gc=1&debug=1", "heap profile:"},
		{"/debug/pprof/cmdline", "httpskit"}, // in a test: the test binary
	} {
		if status, body := debugGet(t, base+tt.path); status != 200 || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s = %d, want 200 containing %q:\n%.300s", tt.path, status, tt.want, body)
		}
	}

	for _, path := range []string{"debug/vars", "debug/pprof/"} {
		resp, err := c.Get(site.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s%s on the HTTPS listener = %d, want 404", site.url, path, resp.StatusCode)
		}
	}

	if err := site.stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if resp, err := http.Get(base + "/debug/vars"); err == nil {
		resp.Body.Close()
		t.Errorf("the debug endpoint still answers after serve returned")
	}
}

// TestDebugAddr: the debug endpoint listens on loopback only; anything else is a usage error
// (exit 2) that says why.
func TestDebugAddr(t *testing.T) {
	tests := []struct {
		name, addr, want string // want: the address to listen on, or a piece of the error
		ok               bool
	}{
		{"IPv4 loopback", "127.0.0.1:6060", "127.0.0.1:6060", true},
		{"any free port", "127.0.0.1:0", "127.0.0.1:0", true},
		{"other IPv4 loopback", "127.0.0.2:6060", "127.0.0.2:6060", true},
		{"IPv6 loopback", "[::1]:6060", "[::1]:6060", true},
		{"localhost", "localhost:6060", "127.0.0.1:6060", true},
		{"every interface", "0.0.0.0:6060", "loopback only", false},
		{"no host", ":6060", "loopback only", false},
		{"every IPv6 interface", "[::]:6060", "loopback only", false},
		{"LAN address", "192.0.2.1:6060", "loopback only", false},
		{"host name", "example.com:6060", "loopback only", false},
		{"no port", "127.0.0.1", "want HOST:PORT", false},
		{"bad port", "127.0.0.1:99999", "bad port", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkDebugAddr(tt.addr)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Errorf("checkDebugAddr(%q) = %q, %v; want %q, nil", tt.addr, got, err, tt.want)
				}
				return
			}
			err = run(t.Context(), []string{"serve", "--debug-addr", tt.addr}, io.Discard, io.Discard)
			if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("serve --debug-addr %q = %v, want a usage error containing %q", tt.addr, err, tt.want)
			}
		})
	}
}
