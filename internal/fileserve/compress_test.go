package fileserve

import (
	"strings"
	"testing"
)

func TestAcceptedCodings(t *testing.T) {
	tests := []struct {
		in   string
		want [3]int // br, zstd, gzip
	}{
		{"", [3]int{0, 0, 0}},
		{"gzip", [3]int{0, 0, 1000}},
		{"gzip, deflate, br, zstd", [3]int{1000, 1000, 1000}},
		{"br;q=0.5, gzip;q=0.9", [3]int{500, 0, 900}},
		{"*", [3]int{1000, 1000, 1000}},
		{"*;q=0.2, gzip;q=0", [3]int{200, 200, 0}},
		{"GZIP;Q=0.3", [3]int{0, 0, 300}},
		{"x-gzip", [3]int{0, 0, 1000}},
		{"gzip;q=1.0", [3]int{0, 0, 1000}},
		{"gzip;q=1.001", [3]int{0, 0, 0}},
		{"gzip;q=0.1234", [3]int{0, 0, 0}},
		{"gzip;q=-1", [3]int{0, 0, 0}},
		{"gzip;q=.5", [3]int{0, 0, 0}},
		{"gzip;level=9", [3]int{0, 0, 0}},
		{"gzip ; q = 0.5 ", [3]int{0, 0, 500}},
		{",,, ;, =;q", [3]int{0, 0, 0}},
		{strings.Repeat("a,", maxAcceptEntries) + "gzip", [3]int{0, 0, 0}},
	}
	for _, tt := range tests {
		if got := acceptedCodings([]string{tt.in}); got != tt.want {
			t.Errorf("acceptedCodings(%.40q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzAcceptedCodings(f *testing.F) {
	for _, s := range []string{"gzip", "br;q=0.5, *;q=0", "x-gzip;q=1.000", ",;=", "zstd;q=0.001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, q := range acceptedCodings([]string{s}) {
			if q < 0 || q > 1000 {
				t.Errorf("acceptedCodings(%q)[%d] = %d, out of 0..1000", s, i, q)
			}
		}
	})
}

func TestCompressible(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/html; charset=utf-8": true, "text/javascript; charset=utf-8": true, "application/json": true,
		"image/svg+xml": true, "application/wasm": true, "image/png": false, "font/woff2": false,
		"application/gzip": false, "application/octet-stream": false, "video/mp4": false,
	} {
		if got := compressible(ct); got != want {
			t.Errorf("compressible(%q) = %v, want %v", ct, got, want)
		}
	}
}
