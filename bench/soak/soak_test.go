package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

// TestSoak runs the whole soak for 5 seconds (20 under emulation): it builds httpskit (or
// runs the one named by $HTTPSKIT_TEST_HTTPSKIT, which .ci/emulated builds for ARM), serves
// the site, runs every load, and passes its own checks (nothing grew, no unexpected failure,
// serve stopped on SIGTERM). Every load did something, every aborted load counted its aborts
// as expected, and the JSON result has the start, a sample during the load, and the end.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak test takes about 15 seconds")
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Under emulation a load needs longer to finish one operation (an 8 MiB download).
	args := []string{"-duration", testenv.Scale(5 * time.Second).String(), "-warmup", "1s",
		"-sample", testenv.Scale(2 * time.Second).String(), "-out", out}
	if bin := os.Getenv(testenv.HTTPSKitEnv); bin != "" {
		args = append(args, "-httpskit", bin)
	} else if testenv.Emulated() {
		t.Skipf("under emulation go build would build httpskit for the host: set %s to one built for %s", testenv.HTTPSKitEnv, runtime.GOARCH)
	}
	err := run(ctx, args, &stdout, &stderr)
	if err != nil {
		t.Fatalf("soak: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	if !strings.Contains(stdout.String(), "soak: PASS") {
		t.Errorf("no PASS line:\n%s", &stdout)
	}
	files, _ := filepath.Glob(filepath.Join(out, "soak-*.json"))
	if len(files) != 1 {
		t.Fatalf("result files %q, want one soak-YYYY-MM-DD.json", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.OK || len(rep.Checks) == 0 {
		t.Errorf("JSON result: ok %v, checks %+v", rep.OK, rep.Checks)
	}
	if n := len(rep.Samples); n < 3 || rep.Samples[0].Label != "start" || rep.Samples[n-1].Label != "end" {
		t.Errorf("samples %+v: want start, at least one during the load, end", rep.Samples)
	}
	if len(rep.Load) != len(loads()) {
		t.Fatalf("%d load results, want %d", len(rep.Load), len(loads()))
	}
	for i, l := range loads() {
		r := rep.Load[i]
		if r.Done == 0 {
			t.Errorf("%s: did nothing", r.Name)
		}
		if strings.Contains(l.name, "mid-") && len(r.Expected) == 0 {
			t.Errorf("%s: no abort counted as expected: %+v", r.Name, r)
		}
	}
}

// TestChecks: the pass/fail rules of the soak: goroutines and open files within their slack,
// heap in use within 50% or 4 MiB of the start, whichever is larger, no live connection at
// the end, no unexpected failure, serve stopped cleanly.
func TestChecks(t *testing.T) {
	const mb = 1 << 20
	start := sample{Label: "start", Goroutines: 10, FDs: 12, HeapInuse: 10 * mb, Settled: true}
	cfg := config{goroutineSlack: 5, fdSlack: 5, heapGrowth: 0.5}
	cleanStop := stopResult{Stopped: true}
	tests := []struct {
		name   string
		end    func(*sample)
		load   loadResult
		stop   stopResult
		failed []string // the checks that fail
	}{
		{"steady", func(*sample) {}, loadResult{}, cleanStop, nil},
		{"within the slacks", func(s *sample) { s.Goroutines, s.FDs, s.HeapInuse = 15, 17, 15*mb }, loadResult{}, cleanStop, nil},
		{"goroutines grew", func(s *sample) { s.Goroutines = 16 }, loadResult{}, cleanStop, []string{"goroutines"}},
		{"open files grew", func(s *sample) { s.FDs = 18 }, loadResult{}, cleanStop, []string{"open files"}},
		{"heap grew past half", func(s *sample) { s.HeapInuse = 15*mb + 1 }, loadResult{}, cleanStop, []string{"heap in use"}},
		{"a connection left", func(s *sample) { s.ConnsLive = 1 }, loadResult{}, cleanStop, []string{"live connections after the load"}},
		{"an unexpected failure", func(*sample) {}, loadResult{Unexpected: map[string]int64{"reset": 1}}, cleanStop, []string{"unexpected failures"}},
		{"expected failures only", func(*sample) {}, loadResult{Expected: map[string]int64{"closed mid-body": 9}}, cleanStop, nil},
		{"serve exit 1", func(*sample) {}, loadResult{}, stopResult{ExitCode: 1, Stopped: true}, []string{`serve stopped on SIGTERM (exit 0, "stopped")`}},
		{"serve said nothing", func(*sample) {}, loadResult{}, stopResult{}, []string{`serve stopped on SIGTERM (exit 0, "stopped")`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end := start
			end.Label = "end"
			tt.end(&end)
			rep := &report{Load: []*loadResult{&tt.load}, Stop: tt.stop}
			rep.check(cfg, start, end)
			var failed []string
			for _, c := range rep.Checks {
				if !c.OK {
					failed = append(failed, c.Name)
				}
			}
			if !slices.Equal(failed, tt.failed) || rep.OK != (len(tt.failed) == 0) {
				t.Errorf("failed checks %q, ok %v; want %q", failed, rep.OK, tt.failed)
			}
		})
	}
	// A small heap may grow by 4 MiB.
	small := sample{HeapInuse: 2 * mb}
	grown := small
	grown.HeapInuse = 6 * mb
	rep := &report{Stop: cleanStop}
	rep.check(cfg, small, grown)
	if !rep.OK {
		t.Errorf("2 MiB to 6 MiB: %+v, want ok (4 MiB always allowed)", rep.Checks)
	}
}

// TestAdded: the open files at the end that were not open at the start.
func TestAdded(t *testing.T) {
	tests := []struct {
		name     string
		from, to []string
		want     []string
	}{
		{"same", []string{"a", "socket", "socket"}, []string{"a", "socket", "socket"}, nil},
		{"one more socket", []string{"a", "socket"}, []string{"a", "socket", "socket"}, []string{"socket"}},
		{"a new file", []string{"b"}, []string{"a", "b"}, []string{"a"}},
		{"fewer", []string{"a", "b"}, []string{"b"}, nil},
	}
	for _, tt := range tests {
		if got := added(tt.from, tt.to); !slices.Equal(got, tt.want) {
			t.Errorf("%s: added(%q, %q) = %q, want %q", tt.name, tt.from, tt.to, got, tt.want)
		}
	}
}
