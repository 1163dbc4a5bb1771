package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/http2"

	"github.com/httpskit/httpskit/https"
	"github.com/httpskit/httpskit/internal/testenv"
	"github.com/httpskit/httpskit/server"
)

// withMemoryLimit sets the process's memory limit for the test (math.MaxInt64: none), as
// GOMEMLIMIT does when a program starts.
func withMemoryLimit(t *testing.T, limit int64) {
	old := debug.SetMemoryLimit(limit)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
}

// TestFrugalFlag: --frugal and HTTPSKIT_FRUGAL give get and request the client's memory
// setting: MemoryAuto when neither says anything (the https package then follows the memory
// limit), MemoryFrugal when on, MemoryFast when off; the flag wins over the variable.
func TestFrugalFlag(t *testing.T) {
	tests := []struct {
		name string
		env  string
		args []string
		want https.Memory
	}{
		{"neither", "", nil, https.MemoryAuto},
		{"flag", "", []string{"--frugal"}, https.MemoryFrugal},
		{"flag true", "", []string{"--frugal=true"}, https.MemoryFrugal},
		{"flag false", "", []string{"--frugal=false"}, https.MemoryFast},
		{"variable 1", "1", nil, https.MemoryFrugal},
		{"variable 0", "0", nil, https.MemoryFast},
		{"variable on, flag off", "1", []string{"--frugal=false"}, https.MemoryFast},
		{"variable off, flag on", "false", []string{"--frugal"}, https.MemoryFrugal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(frugalEnv, tt.env)
			var f fetchFlags
			if err := f.frugal.fromEnv(); err != nil {
				t.Fatal(err)
			}
			fs := fetchFlagSet("get", getUsage, &f, io.Discard)
			if _, err := parseInterleaved(fs, append([]string{"https://localhost/"}, tt.args...)); err != nil {
				t.Fatal(err)
			}
			o := https.Options{Headers: http.Header{}}
			if err := f.apply(&o); err != nil {
				t.Fatal(err)
			}
			if o.Memory != tt.want {
				t.Errorf("%s=%q %q: Options.Memory = %v, want %v", frugalEnv, tt.env, tt.args, o.Memory, tt.want)
			}
		})
	}
}

// TestFrugalUsage: a value of --frugal or HTTPSKIT_FRUGAL that is not a boolean is bad
// usage (exit 2), named in the message.
func TestFrugalUsage(t *testing.T) {
	tests := []struct {
		name, env string
		args      []string
		want      string
	}{
		{"flag", "", []string{"--frugal=maybe"}, "frugal"},
		{"variable", "maybe", nil, frugalEnv + `="maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(frugalEnv, tt.env)
			for _, try := range []func(t *testing.T) error{
				func(t *testing.T) error {
					_, _, err := runFetchTest(runGet, append([]string{"https://127.0.0.1:1/"}, tt.args...)...)
					return err
				},
				func(t *testing.T) error {
					return run(t.Context(), append([]string{"serve", "--port", "0", "--ca-root", t.TempDir(), t.TempDir()}, tt.args...), io.Discard, io.Discard)
				},
			} {
				err := try(t)
				if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s=%q %q: error %v, want a usage error naming %s", frugalEnv, tt.env, tt.args, err, tt.want)
				}
			}
		})
	}
}

// TestMemStats: with HTTPSKIT_MEMSTATS set, get and request print one line of memory
// figures to stderr as they end, after a normal run (--frugal here); without it, nothing.
func TestMemStats(t *testing.T) {
	site := startFetchSite(t)
	keys := []string{"go_heap_objects_kb", "go_heap_other_kb", "go_stacks_kb", "go_runtime_kb", "go_mapped_kb", "gc_cycles", "gomaxprocs", "gogc", "gomemlimit_kb"}
	if runtime.GOOS == "linux" {
		keys = append(keys, "vm_hwm_kb", "vm_rss_kb", "rss_anon_kb", "rss_file_kb")
	}
	tests := []struct {
		name string
		env  string
		cmd  string
		args []string
	}{
		{"get without the variable", "", "get", []string{site.url + "/big", "--ca", site.caFile, "--frugal"}},
		{"get", "1", "get", []string{site.url + "/big", "--ca", site.caFile, "--frugal"}},
		{"request", "1", "request", []string{site.url + "/echo", "--ca", site.caFile, "-d", "x"}},
	}
	line := regexp.MustCompile(`(?m)^httpskit memstats: cmd=(\w+)((?: \w+=-?\d+)+)$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(memStatsEnv, tt.env)
			runCmd := runGet
			if tt.cmd == "request" {
				runCmd = runRequest
			}
			stdout, stderr, err := runFetchTest(runCmd, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if tt.cmd == "get" && stdout != strings.Repeat("b", 100000) {
				t.Errorf("get printed %d bytes, want the 100000 of /big", len(stdout))
			}
			m := line.FindStringSubmatch(stderr)
			if tt.env == "" {
				if strings.Contains(stderr, "memstats") {
					t.Errorf("without %s, stderr has %q", memStatsEnv, stderr)
				}
				return
			}
			if m == nil || m[1] != tt.cmd {
				t.Fatalf("stderr %q: no memstats line for %s", stderr, tt.cmd)
			}
			got := map[string]int64{}
			for _, kv := range strings.Fields(m[2]) {
				k, v, _ := strings.Cut(kv, "=")
				got[k], _ = strconv.ParseInt(v, 10, 64)
			}
			for _, k := range keys {
				if _, ok := got[k]; !ok {
					t.Errorf("memstats line %q has no %s", m[0], k)
				}
			}
			if got["go_mapped_kb"] <= 0 || got["gomaxprocs"] < 1 || got["go_heap_objects_kb"] <= 0 {
				t.Errorf("memstats line %q: want go_mapped_kb, go_heap_objects_kb and gomaxprocs above 0", m[0])
			}
		})
	}
}

// h2ServerSettings opens an HTTP/2 connection to the server of rawURL and returns the
// SETTINGS it announces and its connection flow-control window (65535 plus its first
// connection WINDOW_UPDATE).
func h2ServerSettings(t *testing.T, rawURL, caFile string) (map[http2.SettingID]uint32, uint32) {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: pool, ServerName: u.Hostname(), NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN %q, want h2", p)
	}
	settings, window, err := testenv.H2Settings(c)
	if err != nil {
		t.Fatal(err)
	}
	return settings, window
}

// TestServeFrugal: serve --frugal (or HTTPSKIT_FRUGAL=1, or a memory limit) announces, on the
// wire, HTTP/2 frames of at most 16 KiB, 32 streams and 256 KiB flow-control windows per
// stream and per connection; otherwise serve keeps net/http's 1 MiB frames and windows and
// 250 streams. Asked for, frugal mode also sets GOGC to 50; a memory limit alone leaves it.
func TestServeFrugal(t *testing.T) {
	frugal := map[http2.SettingID]uint32{http2.SettingMaxFrameSize: 16 << 10, http2.SettingMaxConcurrentStreams: 32, http2.SettingInitialWindowSize: https.FrugalWindow}
	fast := map[http2.SettingID]uint32{http2.SettingMaxFrameSize: 1 << 20, http2.SettingMaxConcurrentStreams: 250, http2.SettingInitialWindowSize: 1 << 20}
	if os.Getenv(server.HTTP2EngineEnv) != "nethttp" {
		// The batching engine keeps 16 KiB frames (h2spec 4.2/3 sends the advertised size
		// plus one and wants FRAME_SIZE_ERROR).
		fast[http2.SettingMaxFrameSize] = 16 << 10
	}
	tests := []struct {
		name       string
		env        string
		limit      int64
		args       []string
		want       map[http2.SettingID]uint32
		wantWindow uint32
		wantGOGC   bool // GOGC becomes 50
	}{
		{"default", "", math.MaxInt64, nil, fast, 1 << 20, false},
		{"flag", "", math.MaxInt64, []string{"--frugal"}, frugal, https.FrugalWindow, true},
		{"variable", "1", math.MaxInt64, nil, frugal, https.FrugalWindow, true},
		{"memory limit", "", 1 << 40, nil, frugal, https.FrugalWindow, false},
		{"memory limit, flag off", "", 1 << 40, []string{"--frugal=false"}, fast, 1 << 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(frugalEnv, tt.env)
			t.Setenv("GOGC", "") // as when the variable is not set
			withMemoryLimit(t, tt.limit)
			gogc := debug.SetGCPercent(100)
			debug.SetGCPercent(gogc)
			t.Cleanup(func() { debug.SetGCPercent(gogc) })
			dir := t.TempDir()
			must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644))
			site := startServe(t, append([]string{"--port", "0", "--ca-root", filepath.Join(t.TempDir(), "ca"), dir}, tt.args...)...)
			settings, window := h2ServerSettings(t, site.url, site.caFile)
			for id, want := range tt.want {
				if settings[id] != want {
					t.Errorf("serve %q: SETTINGS %v = %d, want %d", tt.args, id, settings[id], want)
				}
			}
			if window != tt.wantWindow {
				t.Errorf("serve %q: connection window %d, want %d", tt.args, window, tt.wantWindow)
			}
			sample := []metrics.Sample{{Name: "/gc/gogc:percent"}}
			metrics.Read(sample)
			want := uint64(gogc)
			if tt.wantGOGC {
				want = frugalGOGC
			}
			if got := sample[0].Value.Uint64(); got != want {
				t.Errorf("serve %q: GOGC %d, want %d", tt.args, got, want)
			}
			resp, err := caClient(t, site.caFile, true).Get(site.url + "a.txt")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "a" || resp.ProtoMajor != 2 {
				t.Errorf("GET /a.txt over HTTP/2: %d %q %s, want 200 \"a\" HTTP/2", resp.StatusCode, body, resp.Proto)
			}
			if err := site.stop(); err != nil {
				t.Errorf("serve stopped with %v", err)
			}
		})
	}
}
