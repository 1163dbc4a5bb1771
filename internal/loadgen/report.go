package loadgen

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// benchLine formats res as one line of Go benchmark output: the name, the
// iteration count (requests; Idle: connections held), then value-unit pairs.
func benchLine(name string, res *Result, elapsed, cpu time.Duration) string {
	var b strings.Builder
	n := res.Requests
	if res.Mode == string(Idle) {
		n = int64(res.IdleHeld)
	}
	fmt.Fprintf(&b, "BenchmarkBench/%s %d", name, n)
	perOp := func(d time.Duration) float64 {
		if n == 0 {
			return 0
		}
		return float64(d) / float64(n)
	}
	if res.Mode != string(Idle) {
		fmt.Fprintf(&b, " %.0f ns/op %.1f req/s", perOp(elapsed), res.RPS)
	}
	l := res.LatencyUS
	fmt.Fprintf(&b, " %.1f p50-µs %.1f p90-µs %.1f p99-µs %.1f p99.9-µs", l.P50, l.P90, l.P99, l.P999)
	fmt.Fprintf(&b, " %.2f cpu-µs/op", perOp(cpu)/1e3)
	if res.Handshakes > 0 {
		fmt.Fprintf(&b, " %d handshakes %d resumed", res.Handshakes, res.Resumed)
	}
	var errs int64
	for _, e := range res.Errors {
		errs += e
	}
	fmt.Fprintf(&b, " %d errors", errs)
	return b.String()
}

// WriteText writes res as a short human-readable report, ending with
// BenchLine.
func (res *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	if res.Mode == string(Idle) {
		fmt.Fprintf(&b, "idle %s: held %d of %d connections for %.3f s\n", res.URL, res.IdleHeld, res.Connections, res.DurationS)
		fmt.Fprintf(&b, "requests    %d (one per connection)\n", res.Requests)
	} else {
		fmt.Fprintf(&b, "%s %s: %d connections", res.Mode, res.URL, res.Connections)
		if res.Streams > 0 {
			fmt.Fprintf(&b, " x %d streams", res.Streams)
		}
		fmt.Fprintf(&b, ", %.3f s\n", res.DurationS)
		fmt.Fprintf(&b, "requests    %d, %.1f req/s\n", res.Requests, res.RPS)
	}
	l := res.LatencyUS
	fmt.Fprintf(&b, "latency µs  mean %.1f, p50 %.1f, p90 %.1f, p99 %.1f, p99.9 %.1f, max %.1f\n",
		l.Mean, l.P50, l.P90, l.P99, l.P999, l.Max)
	fmt.Fprintf(&b, "errors      %s\n", formatErrors(res.Errors))
	fmt.Fprintf(&b, "transfer    read %s, written %s (on the wire)\n", byteSize(res.BytesRead), byteSize(res.BytesWritten))
	if res.TLSVersion != "" {
		fmt.Fprintf(&b, "tls         %s, %s, %s, %s; %d handshakes, %d resumed\n",
			orDash(res.Proto), res.TLSVersion, res.Cipher, orDash(res.Curve), res.Handshakes, res.Resumed)
	} else if strings.HasPrefix(res.URL, "https:") {
		fmt.Fprintf(&b, "tls         no handshake completed\n")
	} else {
		fmt.Fprintf(&b, "protocol    %s, no TLS\n", orDash(res.Proto))
	}
	fmt.Fprintf(&b, "client cpu  %.3f s", res.ClientCPUS)
	if res.Requests > 0 {
		fmt.Fprintf(&b, ", %.1f µs per request", res.ClientCPUS*1e6/float64(res.Requests))
	}
	fmt.Fprintf(&b, "\n%s\n", res.BenchLine)
	_, err := io.WriteString(w, b.String())
	return err
}

// formatErrors lists error counts, most frequent first.
func formatErrors(errs map[string]int64) string {
	if len(errs) == 0 {
		return "none"
	}
	names := make([]string, 0, len(errs))
	for k := range errs {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(errs[b], errs[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, errs[k])
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// byteSize formats n bytes as B, KiB, MiB or GiB.
func byteSize(n int64) string {
	f := float64(n)
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}
