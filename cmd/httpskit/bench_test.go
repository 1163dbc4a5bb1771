package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
)

// benchSite is an HTTPS test server (HTTP/1.1 and HTTP/2) that counts what
// it sees: requests per path and protocol, handshakes, resumptions, the
// key-exchange group, and its connections' states.
type benchSite struct {
	url, caFile string
	certs       []tls.Certificate

	mu         sync.Mutex
	paths      map[string]int // requests per path
	h2         int            // requests over HTTP/2
	echo       []string       // "METHOD body x-test" per /echo request
	handshakes int
	resumed    int
	curves     map[tls.CurveID]int
	states     map[net.Conn]http.ConnState
	changed    chan struct{} // a signal after every change above
}

func startBenchSite(t *testing.T) *benchSite {
	t.Helper()
	ca, err := certs.NewCA("bench test CA", 0)
	must(t, err)
	cert, err := ca.IssueTLS(certs.LeafOptions{})
	must(t, err)
	site := &benchSite{
		paths:   map[string]int{},
		curves:  map[tls.CurveID]int{},
		states:  map[net.Conn]http.ConnState{},
		changed: make(chan struct{}, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "Hello, World!") })
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first part,")
		w.(http.Flusher).Flush()
		io.WriteString(w, " second part")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(make([]byte, 100000))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		site.mu.Lock()
		site.echo = append(site.echo, r.Method+" "+string(b)+" "+r.Header.Get("X-Test"))
		site.mu.Unlock()
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.Handle("/moved", http.RedirectHandler("/", http.StatusFound))
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusServiceUnavailable) })
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		site.update(func() {
			site.paths[r.URL.Path]++
			if r.ProtoMajor == 2 {
				site.h2++
			}
		})
		mux.ServeHTTP(w, r)
	}))
	s.EnableHTTP2 = true
	s.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
		VerifyConnection: func(cs tls.ConnectionState) error {
			site.update(func() {
				site.handshakes++
				site.curves[cs.CurveID]++
				if cs.DidResume {
					site.resumed++
				}
			})
			return nil
		},
	}
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		site.update(func() {
			if st == http.StateClosed || st == http.StateHijacked {
				delete(site.states, c)
			} else {
				site.states[c] = st
			}
		})
	}
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	site.certs = []tls.Certificate{cert}
	site.caFile = filepath.Join(t.TempDir(), "ca.pem")
	must(t, os.WriteFile(site.caFile, ca.CertPEM, 0o644))
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	site.url = "https://127.0.0.1:" + port
	return site
}

// update changes the counters under the lock and signals the change.
func (s *benchSite) update(f func()) {
	s.mu.Lock()
	f()
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// read returns a value computed under the lock.
func benchRead[T any](s *benchSite, f func() T) T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f()
}

// waitFor waits until cond (called under the lock) holds, or fails the test
// after 20s.
func (s *benchSite) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for !benchRead(s, cond) {
		select {
		case <-s.changed:
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (s *benchSite) countStates(want http.ConnState) int {
	n := 0
	for _, st := range s.states {
		if st == want {
			n++
		}
	}
	return n
}

// benchJSON is the --json object as the contract documents it.
type benchJSON struct {
	Mode        string  `json:"mode"`
	URL         string  `json:"url"`
	Connections int     `json:"connections"`
	Streams     int     `json:"streams"`
	DurationS   float64 `json:"duration_s"`
	Requests    int64   `json:"requests"`
	RPS         float64 `json:"rps"`
	LatencyUS   struct {
		Mean, P50, P90, P99, Max float64
		P999                     float64 `json:"p999"`
	} `json:"latency_us"`
	Errors       map[string]int64 `json:"errors"`
	BytesRead    int64            `json:"bytes_read"`
	BytesWritten int64            `json:"bytes_written"`
	Proto        string           `json:"proto"`
	TLSVersion   string           `json:"tls_version"`
	Cipher       string           `json:"cipher"`
	Curve        string           `json:"curve"`
	Handshakes   int64            `json:"handshakes"`
	Resumed      int64            `json:"resumed"`
	IdleHeld     int              `json:"idle_held"`
	ClientCPUS   float64          `json:"client_cpu_s"`
	BenchLine    string           `json:"bench_line"`
}

// benchJSONKeys are the top-level keys the contract fixes.
var benchJSONKeys = []string{"mode", "url", "connections", "streams", "duration_s", "requests", "rps",
	"latency_us", "errors", "bytes_read", "bytes_written", "proto", "tls_version", "cipher", "curve",
	"handshakes", "resumed", "idle_held", "client_cpu_s", "bench_line"}

// runBenchJSON runs "bench --json args..." and decodes its one JSON object.
func runBenchJSON(t *testing.T, ctx context.Context, args ...string) (benchJSON, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(ctx, append([]string{"bench", "--json", "-q"}, args...), &stdout, &stderr)
	var res benchJSON
	if errors.As(err, new(usageError)) {
		t.Fatalf("bench %v: usage error %v", args, err)
	}
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if derr := dec.Decode(&res); derr != nil {
		t.Fatalf("bench %v: stdout is not the JSON result: %v (run error %v)\nstdout: %s\nstderr: %s", args, derr, err, stdout.String(), stderr.String())
	}
	if dec.More() {
		t.Fatalf("bench %v: more than one JSON value on stdout", args)
	}
	return res, stderr.String(), err
}

// TestBenchModes: for each mode the server saw exactly the requests bench
// reports (-n stops exactly), over the protocol bench reports, with the
// handshakes and resumptions bench reports.
func TestBenchModes(t *testing.T) {
	site := startBenchSite(t)
	tests := []struct {
		name          string
		args          []string
		path          string
		proto         string
		h2            bool
		newConns      bool // a handshake per request
		resume        bool
		minBytesRead  int64
		wantStreams   int
		wantHandshake int64 // keep-alive: at most this many
	}{
		{name: "keepalive", args: []string{"-c", "3"}, path: "/", proto: "HTTP/1.1", wantHandshake: 3},
		{name: "keepalive chunked", args: []string{"-c", "2"}, path: "/chunked", proto: "HTTP/1.1", wantHandshake: 2},
		{name: "keepalive big body", args: []string{"-c", "2"}, path: "/big", proto: "HTTP/1.1", minBytesRead: 30 * 100000, wantHandshake: 2},
		{name: "h2", args: []string{"--mode", "h2", "-c", "2", "-m", "4"}, path: "/", proto: "HTTP/2.0", h2: true, wantStreams: 4, wantHandshake: 2},
		{name: "h2 big body", args: []string{"--mode", "h2", "-c", "1", "-m", "3"}, path: "/big", proto: "HTTP/2.0", h2: true, minBytesRead: 30 * 100000, wantStreams: 3, wantHandshake: 1},
		{name: "new resumed", args: []string{"--mode", "new", "-c", "3"}, path: "/", proto: "HTTP/1.1", newConns: true, resume: true},
		{name: "new full", args: []string{"--mode", "new", "-c", "3", "--resume=false"}, path: "/", proto: "HTTP/1.1", newConns: true},
	}
	const n = 30
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := benchRead(site, func() [4]int { return [4]int{site.paths[tt.path], site.h2, site.handshakes, site.resumed} })
			args := append([]string{"--ca", site.caFile, "-n", "30", site.url + tt.path}, tt.args...)
			res, stderr, err := runBenchJSON(t, context.Background(), args...)
			if err != nil {
				t.Fatalf("bench: %v\n%s", err, stderr)
			}
			after := benchRead(site, func() [4]int { return [4]int{site.paths[tt.path], site.h2, site.handshakes, site.resumed} })
			served, h2, handshakes, resumed := after[0]-before[0], after[1]-before[1], int64(after[2]-before[2]), int64(after[3]-before[3])
			if res.Requests != n || served != n {
				t.Errorf("bench reports %d requests, server saw %d; want %d both", res.Requests, served, n)
			}
			if len(res.Errors) != 0 {
				t.Errorf("errors %v, want none", res.Errors)
			}
			if res.Proto != tt.proto || res.TLSVersion != "TLS 1.3" || res.Cipher == "" || res.Curve == "" {
				t.Errorf("proto, version, cipher, curve = %q %q %q %q", res.Proto, res.TLSVersion, res.Cipher, res.Curve)
			}
			if wantH2 := map[bool]int{true: n}[tt.h2]; h2 != wantH2 {
				t.Errorf("server saw %d HTTP/2 requests, want %d", h2, wantH2)
			}
			if res.Streams != tt.wantStreams {
				t.Errorf("streams = %d, want %d", res.Streams, tt.wantStreams)
			}
			if res.Handshakes != handshakes || res.Resumed != resumed {
				t.Errorf("bench reports %d handshakes, %d resumed; server saw %d, %d", res.Handshakes, res.Resumed, handshakes, resumed)
			}
			switch {
			case tt.newConns && handshakes != n:
				t.Errorf("new mode: %d handshakes for %d requests", handshakes, n)
			case !tt.newConns && handshakes > tt.wantHandshake:
				t.Errorf("%d handshakes, want at most %d (one per connection)", handshakes, tt.wantHandshake)
			case tt.resume && resumed < n-3:
				t.Errorf("resumption on: %d of %d handshakes resumed, want all but the first of each of 3 workers", resumed, n)
			case !tt.resume && resumed != 0:
				t.Errorf("resumption off: %d handshakes resumed, want 0", resumed)
			}
			if res.BytesRead < max(tt.minBytesRead, 1) || res.BytesWritten <= 0 {
				t.Errorf("bytes read %d (want at least %d), written %d", res.BytesRead, tt.minBytesRead, res.BytesWritten)
			}
			if res.LatencyUS.P50 <= 0 || res.LatencyUS.P50 > res.LatencyUS.P99 || res.LatencyUS.P99 > res.LatencyUS.Max {
				t.Errorf("latency %+v: want 0 < p50 <= p99 <= max", res.LatencyUS)
			}
			if res.ClientCPUS <= 0 || res.DurationS <= 0 || res.RPS <= 0 {
				t.Errorf("client cpu %v s, duration %v s, rps %v: want all positive", res.ClientCPUS, res.DurationS, res.RPS)
			}
		})
	}
}

// TestBenchJSONFields: --json prints one object with exactly the
// contract's keys.
func TestBenchJSONFields(t *testing.T) {
	site := startBenchSite(t)
	var stdout bytes.Buffer
	must(t, run(context.Background(), []string{"bench", "--json", "-n", "5", "-c", "1", "--ca", site.caFile, site.url}, &stdout, io.Discard))
	var m map[string]any
	must(t, json.Unmarshal(stdout.Bytes(), &m))
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := slices.Clone(benchJSONKeys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("JSON keys %v\nwant %v", keys, want)
	}
	lat, _ := m["latency_us"].(map[string]any)
	for _, k := range []string{"mean", "p50", "p90", "p99", "p999", "max"} {
		if _, ok := lat[k].(float64); !ok {
			t.Errorf("latency_us.%s missing or not a number in %v", k, lat)
		}
	}
	if e, ok := m["errors"].(map[string]any); !ok || len(e) != 0 {
		t.Errorf("errors = %v, want {}", m["errors"])
	}
}

// TestBenchText: the default report is text ending with a line in Go
// benchmark format (name, iterations, then value-unit pairs).
func TestBenchText(t *testing.T) {
	site := startBenchSite(t)
	for _, tt := range []struct {
		args []string
		name string
	}{
		{[]string{"-c", "2"}, "keepalive-c2"},
		{[]string{"-c", "2", "--name", "mine"}, "mine"},
	} {
		var stdout bytes.Buffer
		args := append([]string{"bench", "-n", "10", "--ca", site.caFile, site.url}, tt.args...)
		must(t, run(context.Background(), args, &stdout, io.Discard))
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		last := lines[len(lines)-1]
		re := regexp.MustCompile(`^BenchmarkBench/` + tt.name + ` 10( [0-9.]+ [^ ]+)+$`)
		if !re.MatchString(last) {
			t.Errorf("last line %q does not match %s", last, re)
		}
		for _, unit := range []string{" ns/op", " req/s", " p50-µs", " p99-µs", " cpu-µs/op"} {
			if !strings.Contains(last, unit) {
				t.Errorf("bench line %q has no%s", last, unit)
			}
		}
		wantContains(t, "report", stdout.String(), "requests    10,", "errors      none", "TLS 1.3")
	}
}

// TestBenchIdle: idle holds N connections (the server sees them open and
// idle), prints the contract's line, and closes them all at the end.
func TestBenchIdle(t *testing.T) {
	site := startBenchSite(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := newLineWriter()
	var stdout bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"bench", "--mode", "idle", "-c", "5", "--duration", "1m", "--json", "--ca", site.caFile, site.url}, &stdout, stderr)
	}()
	select {
	case line := <-stderr.lines:
		if line != "bench: holding 5 idle connections" {
			t.Fatalf("stderr line %q, want %q", line, "bench: holding 5 idle connections")
		}
	case err := <-done:
		t.Fatalf("bench ended before holding: %v\n%s", err, stderr)
	case <-time.After(20 * time.Second):
		t.Fatal("no holding line in 20s")
	}
	site.waitFor(t, "5 idle connections on the server", func() bool { return site.countStates(http.StateIdle) == 5 })
	if n := benchRead(site, func() int { return site.paths["/"] }); n != 5 {
		t.Errorf("server saw %d requests, want 5 (one per connection)", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("bench: %v", err)
	}
	var res benchJSON
	must(t, json.Unmarshal(stdout.Bytes(), &res))
	if res.IdleHeld != 5 || res.Requests != 5 || len(res.Errors) != 0 || res.Handshakes != 5 {
		t.Errorf("idle_held %d, requests %d, handshakes %d, errors %v; want 5, 5, 5, none", res.IdleHeld, res.Requests, res.Handshakes, res.Errors)
	}
	site.waitFor(t, "the server to see every connection closed", func() bool { return len(site.states) == 0 })
}

// TestBenchIdleServerCloses: connections the server drops during the hold
// are reported as "closed while idle".
func TestBenchIdleServerCloses(t *testing.T) {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2")
		io.WriteString(w, "ok")
	}))
	var mu sync.Mutex
	var conns []net.Conn
	idle := make(chan struct{}, 10)
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateIdle {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			idle <- struct{}{}
		}
	}
	s.Start()
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := newLineWriter()
	var stdout bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"bench", "--mode", "idle", "-c", "3", "--duration", "1m", "--json", s.URL}, &stdout, stderr)
	}()
	timeout := time.After(20 * time.Second)
	for range 4 { // three idle connections on the server, and the holding line
		select {
		case <-idle:
		case <-stderr.lines:
		case err := <-done:
			t.Fatalf("bench ended before holding: %v", err)
		case <-timeout:
			t.Fatal("no three idle connections and holding line in 20s")
		}
	}
	mu.Lock()
	conns[0].Close() // the server drops one held connection
	mu.Unlock()
	cancel()
	must(t, <-done)
	var res benchJSON
	must(t, json.Unmarshal(stdout.Bytes(), &res))
	if res.IdleHeld != 3 || res.Errors["closed while idle"] != 1 || res.TLSVersion != "" || res.Proto != "HTTP/1.1" {
		t.Errorf("idle_held %d, errors %v, tls %q, proto %q; want 3, closed while idle 1, no TLS, HTTP/1.1",
			res.IdleHeld, res.Errors, res.TLSVersion, res.Proto)
	}
}

// TestBenchErrors: failures are counted by kind, the run still prints its
// result, and a run where nothing worked exits 1 with a message that says
// why.
func TestBenchErrors(t *testing.T) {
	site := startBenchSite(t)
	refused := "https://127.0.0.1:" + freePort(t) + "/"
	h1only := httptest.NewUnstartedServer(http.NotFoundHandler())
	h1only.TLS = &tls.Config{Certificates: site.certs}
	h1only.Config.ErrorLog = log.New(io.Discard, "", 0)
	h1only.StartTLS() // offers http/1.1 only
	defer h1only.Close()
	tests := []struct {
		name     string
		args     []string
		wantKind string
		wantN    int64
		wantReq  int64
		wantMsg  string // "" means exit 0
	}{
		{"refused keepalive", []string{"-n", "3", "-c", "1", refused}, "connect refused", 3, 0, "connection refused"},
		{"refused h2", []string{"--mode", "h2", "-n", "3", "-c", "1", "-m", "1", refused}, "connect refused", 3, 0, "connection refused"},
		{"refused new", []string{"--mode", "new", "-n", "3", "-c", "1", refused}, "connect refused", 3, 0, "connection refused"},
		{"refused idle", []string{"--mode", "idle", "-c", "2", "--duration", "1s", refused}, "connect refused", 2, 0, "connection refused"},
		{"unknown CA keepalive", []string{"-n", "3", "-c", "1", site.url}, "tls: unknown authority", 3, 0, "--ca FILE or --insecure"},
		{"unknown CA h2", []string{"--mode", "h2", "-n", "3", "-c", "1", "-m", "1", site.url}, "tls: unknown authority", 3, 0, "--ca FILE or --insecure"},
		{"unknown CA new", []string{"--mode", "new", "-n", "3", "-c", "1", site.url}, "tls: unknown authority", 3, 0, "--ca FILE or --insecure"},
		{"timeout keepalive", []string{"-n", "2", "-c", "1", "--timeout", "100ms", "--ca", site.caFile, site.url + "/stall"}, "timeout", 2, 0, "no request succeeded"},
		{"timeout h2", []string{"--mode", "h2", "-n", "2", "-c", "1", "-m", "1", "--timeout", "100ms", "--ca", site.caFile, site.url + "/stall"}, "timeout", 2, 0, "no request succeeded"},
		{"h2 to an HTTP/1.1-only server", []string{"--mode", "h2", "-n", "2", "-c", "1", "-m", "1", "--ca", site.caFile, h1only.URL}, "protocol", 2, 0, "no request succeeded"},
		{"status 5xx", []string{"-n", "4", "-c", "1", "--ca", site.caFile, site.url + "/fail"}, "status 5xx", 4, 4, "error status"},
		{"status 5xx h2", []string{"--mode", "h2", "-n", "4", "-c", "1", "-m", "2", "--ca", site.caFile, site.url + "/fail"}, "status 5xx", 4, 4, "error status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _, err := runBenchJSON(t, context.Background(), tt.args...)
			if got := res.Errors[tt.wantKind]; got != tt.wantN || len(res.Errors) != 1 {
				t.Errorf("errors %v, want only %q: %d", res.Errors, tt.wantKind, tt.wantN)
			}
			if res.Requests != tt.wantReq {
				t.Errorf("requests %d, want %d", res.Requests, tt.wantReq)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %v, want one containing %q", err, tt.wantMsg)
			}
			if code := exitCode(err, io.Discard); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
		})
	}
}

// TestBenchRequestShape: -X, -H and --body/--body-file reach the server in
// every mode; redirects are counted, not followed.
func TestBenchRequestShape(t *testing.T) {
	site := startBenchSite(t)
	bodyFile := filepath.Join(t.TempDir(), "body")
	must(t, os.WriteFile(bodyFile, []byte("from a file"), 0o644))
	for _, mode := range []string{"keepalive", "h2", "new"} {
		site.mu.Lock()
		site.echo = nil
		site.mu.Unlock()
		_, _, err := runBenchJSON(t, context.Background(), "--mode", mode, "-n", "2", "-c", "1",
			"-X", "PUT", "-H", "X-Test: yes", "--body", "payload", "--ca", site.caFile, site.url+"/echo")
		must(t, err)
		_, _, err = runBenchJSON(t, context.Background(), "--mode", mode, "-n", "1", "-c", "1",
			"--body-file", bodyFile, "--ca", site.caFile, site.url+"/echo")
		must(t, err)
		got := benchRead(site, func() []string { return slices.Clone(site.echo) })
		want := []string{"PUT payload yes", "PUT payload yes", "POST from a file "}
		if !slices.Equal(got, want) {
			t.Errorf("%s: server saw %q, want %q", mode, got, want)
		}
	}
	res, _, err := runBenchJSON(t, context.Background(), "-n", "5", "-c", "1", "--ca", site.caFile, site.url+"/moved")
	must(t, err)
	if paths := benchRead(site, func() map[string]int { return maps(site.paths) }); paths["/moved"] != 5 || paths["/"] != 0 || res.Requests != 5 {
		t.Errorf("requests %d; server saw /moved %d, / %d; want 5, 5, 0 (no redirect followed)", res.Requests, paths["/moved"], paths["/"])
	}
}

func maps(m map[string]int) map[string]int {
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestBenchCurves: --curves decides the key-exchange group, on both ends.
func TestBenchCurves(t *testing.T) {
	site := startBenchSite(t)
	for _, tt := range []struct {
		flag, want string
		id         tls.CurveID
	}{
		{"X25519", "X25519", tls.X25519},
		{"p256", "P256", tls.CurveP256},
		{"X25519MLKEM768,X25519", "X25519MLKEM768", tls.X25519MLKEM768},
	} {
		before := benchRead(site, func() int { return site.curves[tt.id] })
		res, _, err := runBenchJSON(t, context.Background(), "--curves", tt.flag, "-n", "2", "-c", "1", "--ca", site.caFile, site.url)
		must(t, err)
		after := benchRead(site, func() int { return site.curves[tt.id] })
		if res.Curve != tt.want || after-before != 1 {
			t.Errorf("--curves %s: bench reports %q, server saw %d handshakes with %v; want %q, 1", tt.flag, res.Curve, after-before, tt.id, tt.want)
		}
	}
}

// TestBenchCancel: cancelling the context (SIGINT in main) ends a long run
// early and still prints its result.
func TestBenchCancel(t *testing.T) {
	site := startBenchSite(t)
	for _, mode := range []string{"keepalive", "h2", "new"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			before := benchRead(site, func() int { return site.paths["/"] })
			var stdout bytes.Buffer
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"bench", "--json", "--mode", mode, "-c", "2", "-m", "1", "--duration", "10m",
					"--ca", site.caFile, site.url}, &stdout, io.Discard)
			}()
			site.waitFor(t, "20 requests", func() bool { return site.paths["/"]-before >= 20 })
			cancel()
			select {
			case err := <-done:
				must(t, err)
			case <-time.After(20 * time.Second):
				t.Fatal("bench did not stop within 20s of the cancel")
			}
			var res benchJSON
			must(t, json.Unmarshal(stdout.Bytes(), &res))
			// Two connections, one request at a time each: when the server has
			// seen 20 requests, bench has read at least 18 whole responses.
			served := benchRead(site, func() int { return site.paths["/"] - before })
			if res.Requests < 18 || res.Requests > int64(served) || res.DurationS >= 600 {
				t.Errorf("requests %d (server saw %d), duration %v s: want at least 18, at most the server's, well under 10m",
					res.Requests, served, res.DurationS)
			}
			if len(res.Errors) != 0 {
				t.Errorf("errors %v: requests abandoned at the cancel must not count", res.Errors)
			}
		})
	}
}

// TestBenchWarmup: warm-up requests reach the server but are not counted.
func TestBenchWarmup(t *testing.T) {
	site := startBenchSite(t)
	res, _, err := runBenchJSON(t, context.Background(), "--warmup", "200ms", "-n", "10", "-c", "1", "--ca", site.caFile, site.url)
	must(t, err)
	served := benchRead(site, func() int { return site.paths["/"] })
	if res.Requests != 10 || served <= 10 {
		t.Errorf("bench reports %d requests, server saw %d; want 10 and more than 10", res.Requests, served)
	}
}

// TestBenchPlainHTTP: http:// URLs work without TLS (not for h2).
func TestBenchPlainHTTP(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain") }))
	defer s.Close()
	for _, mode := range []string{"keepalive", "new"} {
		res, _, err := runBenchJSON(t, context.Background(), "--mode", mode, "-n", "7", "-c", "2", s.URL)
		must(t, err)
		if res.Requests != 7 || res.TLSVersion != "" || res.Handshakes != 0 || res.Proto != "HTTP/1.1" {
			t.Errorf("%s: requests %d, tls %q, handshakes %d, proto %q", mode, res.Requests, res.TLSVersion, res.Handshakes, res.Proto)
		}
	}
}

// TestBenchUsage: bad command lines exit 2 and run nothing.
func TestBenchUsage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	const u = "https://127.0.0.1:1/"
	tests := []struct {
		name string
		args []string
	}{
		{"no URL", nil},
		{"two URLs", []string{u, u}},
		{"bad scheme", []string{"ftp://127.0.0.1/"}},
		{"no host", []string{"https:///x"}},
		{"bad mode", []string{"--mode", "fast", u}},
		{"zero connections", []string{"-c", "0", u}},
		{"zero streams", []string{"--mode", "h2", "-m", "0", u}},
		{"zero duration without -n", []string{"--duration", "0", u}},
		{"negative duration without -n", []string{"--duration", "-1s", u}},
		{"negative -n", []string{"-n", "-1", u}},
		{"zero timeout", []string{"--timeout", "0", u}},
		{"resume with keepalive", []string{"--resume=false", u}},
		{"resume with h2", []string{"--mode", "h2", "--resume", u}},
		{"idle with -n", []string{"--mode", "idle", "-n", "5", u}},
		{"h2 over http", []string{"--mode", "h2", "http://127.0.0.1:1/"}},
		{"body and body-file", []string{"--body", "x", "--body-file", missing, u}},
		{"body-file missing", []string{"--body-file", missing, u}},
		{"ca missing", []string{"--ca", missing, u}},
		{"bad curve", []string{"--curves", "P999", u}},
		{"bad header", []string{"-H", "nocolon", u}},
		{"header injection", []string{"-H", "X-A: 1\r\nX-B: 2", u}},
		{"content-length header", []string{"-H", "Content-Length: 3", u}},
		{"bad method", []string{"-X", "GET /", u}},
		{"name with space", []string{"--name", "a b", u}},
		{"unknown flag", []string{"--bogus", u}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"bench"}, tt.args...), &stdout, &stderr)
		if code := exitCode(err, io.Discard); code != 2 {
			t.Errorf("%s: bench %q: exit code %d (%v), want 2", tt.name, tt.args, code, err)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: printed a result for a bad command line: %s", tt.name, stdout.String())
		}
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"bench", "-h"}, &stdout, &stdout); exitCode(err, io.Discard) != 0 {
		t.Errorf("bench -h: %v, want exit 0", err)
	}
	wantContains(t, "bench -h", stdout.String(), "-mode", "-resume", "-curves", "keepalive", "idle")
}
