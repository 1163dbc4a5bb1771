package main

import (
	"fmt"
	"math"
	"sort"
)

// summary is the median with the range of a set of values.
type summary struct {
	N                int
	Median, Min, Max float64
}

// summarize ignores NaN and infinite values; N counts the values kept.
func summarize(vs []float64) summary {
	var kept []float64
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			kept = append(kept, v)
		}
	}
	if len(kept) == 0 {
		return summary{}
	}
	sort.Float64s(kept)
	n := len(kept)
	med := kept[n/2]
	if n%2 == 0 {
		med = (kept[n/2-1] + kept[n/2]) / 2
	}
	return summary{N: n, Median: med, Min: kept[0], Max: kept[n-1]}
}

// pairRatios divides a[i] by b[i] for each index both have (interleaved reps pair up by rep
// number); a zero or missing denominator gives no ratio.
func pairRatios(a, b map[int]float64) []float64 {
	var reps []int
	for r := range a {
		if _, ok := b[r]; ok {
			reps = append(reps, r)
		}
	}
	sort.Ints(reps)
	var out []float64
	for _, r := range reps {
		if b[r] != 0 {
			out = append(out, a[r]/b[r])
		}
	}
	return out
}

// fmtNum prints a figure with about three significant digits and thin-space-free grouping.
func fmtNum(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a >= 10000:
		return groupThousands(int64(math.Round(v)))
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

func groupThousands(n int64) string {
	s := fmt.Sprintf("%d", n)
	neg := false
	if n < 0 {
		neg, s = true, s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ' ')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// String is "median [min..max]", or "median" for one value, or "–" for none.
func (s summary) String() string { return s.format(fmtNum) }

func (s summary) format(f func(float64) string) string {
	switch {
	case s.N == 0:
		return "–"
	case s.N == 1 || s.Min == s.Max:
		return f(s.Median)
	default:
		return fmt.Sprintf("%s [%s..%s]", f(s.Median), f(s.Min), f(s.Max))
	}
}

// ratioString prints a ratio summary as "0.82× [0.75..0.90]".
func (s summary) ratioString() string {
	f := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	switch {
	case s.N == 0:
		return "–"
	case s.N == 1 || s.Min == s.Max:
		return f(s.Median) + "×"
	default:
		return fmt.Sprintf("%s× [%s..%s]", f(s.Median), f(s.Min), f(s.Max))
	}
}
