package main

import (
	"reflect"
	"testing"
)

func TestParseSmapsFileRSS(t *testing.T) {
	const text = `00400000-008dd000 r-xp 00000000 fe:00 10005009                           /tmp/bin/httpskit-amd64
Size:               4980 kB
Rss:                4788 kB
008dd000-00dfd000 r--p 004dd000 fe:00 10005009                           /tmp/bin/httpskit-amd64
Size:               5120 kB
Rss:                4672 kB
2e7ca4c00000-2e7ca5400000 rw-p 00000000 00:00 0 
Size:               8192 kB
Rss:                2468 kB
7ffe39cdc000-7ffe39cfd000 rw-p 00000000 00:00 0                          [stack]
Rss:                  12 kB
`
	if got := parseSmapsFileRSS(text, "/tmp/bin/httpskit-amd64"); got != 4788+4672 {
		t.Errorf("parseSmapsFileRSS = %d, want %d", got, 4788+4672)
	}
	if got := parseSmapsFileRSS(text, "/other"); got != 0 {
		t.Errorf("parseSmapsFileRSS of another file = %d, want 0", got)
	}
}

func TestParseMemstats(t *testing.T) {
	tests := []struct {
		name, out string
		want      memstats
	}{
		{"line among others", "stopped\nhttpskit memstats: cmd=serve vm_hwm_kb=17000 go_stacks_kb=1152 gogc=-1\n", memstats{"vm_hwm_kb": 17000, "go_stacks_kb": 1152, "gogc": -1}},
		{"none", "httpskit: connection refused\n", nil},
	}
	for _, tt := range tests {
		if got := parseMemstats(tt.out); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: parseMemstats = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseBenchAndTime(t *testing.T) {
	out := "requests  1000\nBenchmarkBench/keepalive-c50 80863 61834 ns/op 16172.3 req/s 1622.0 p50-µs\n"
	if got := parseReqPerSec(out); got != 16172.3 {
		t.Errorf("parseReqPerSec = %v, want 16172.3", got)
	}
	if got := parseReqPerSec("no rate"); got != 0 {
		t.Errorf("parseReqPerSec without a rate = %v, want 0", got)
	}
	if got, err := parseTimeKB("Command exited with non-zero status 1\n11184\n"); err != nil || got != 11184 {
		t.Errorf("parseTimeKB = %d, %v; want 11184", got, err)
	}
}

func TestParseModes(t *testing.T) {
	got, err := parseModes("default=;frugal=--frugal; tight=GOMEMLIMIT=16MiB GOGC=50 --frugal=false")
	want := []mode{
		{Name: "default"},
		{Name: "frugal", Flags: []string{"--frugal"}},
		{Name: "tight", Env: []string{"GOMEMLIMIT=16MiB", "GOGC=50"}, Flags: []string{"--frugal=false"}},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseModes = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"", ";", "=--frugal", "frugal"} {
		if _, err := parseModes(bad); err == nil {
			t.Errorf("parseModes(%q): no error", bad)
		}
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		in   []float64
		want dist
		text string
	}{
		{[]float64{5, 1, 3}, dist{Median: 3, Min: 1, Max: 5, N: 3}, "3 [1..5]"},
		{[]float64{4, 2}, dist{Median: 3, Min: 2, Max: 4, N: 2}, "3 [2..4]"},
		{[]float64{7}, dist{Median: 7, Min: 7, Max: 7, N: 1}, "7"},
		{nil, dist{}, "–"},
	}
	for _, tt := range tests {
		got := summarize(tt.in)
		if got != tt.want || got.String() != tt.text {
			t.Errorf("summarize(%v) = %+v %q, want %+v %q", tt.in, got, got, tt.want, tt.text)
		}
	}
}
