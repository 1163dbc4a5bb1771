package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 63, 64, 65, 127, 128, 1000, 123456, 1e9, 1e12, histMax} {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0,%d)", v, i, histBuckets)
		}
		mid := bucketMid(i)
		if rel := math.Abs(mid-float64(v)) / math.Max(float64(v), 1); rel > 1.0/histSub {
			t.Errorf("bucketMid(bucketOf(%d)) = %v, off by %.1f%%", v, mid, rel*100)
		}
	}
	if got := bucketOf(math.MaxInt64); got != bucketOf(histMax) {
		t.Errorf("bucketOf(MaxInt64) = %d, want the last bucket %d", got, bucketOf(histMax))
	}
	if got := bucketOf(-5); got != 0 {
		t.Errorf("bucketOf(-5) = %d, want 0", got)
	}
	for v := int64(1); v < 1<<20; v++ { // buckets are monotonic
		if bucketOf(v) < bucketOf(v-1) {
			t.Fatalf("bucketOf(%d) < bucketOf(%d)", v, v-1)
		}
	}
}

// TestQuantiles compares the histogram with exact percentiles of the same
// samples, recorded in two halves and merged.
func TestQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var a, b histogram
	var all []float64
	for i := range 100000 {
		// log-normal around 200 µs with a long tail
		v := time.Duration(math.Exp(rng.NormFloat64()*0.8) * 200e3)
		all = append(all, float64(v))
		if i%2 == 0 {
			a.record(v)
		} else {
			b.record(v)
		}
	}
	a.merge(&b)
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := all[int(math.Ceil(q*float64(len(all))))-1]
		got := a.quantile(q)
		if rel := math.Abs(got-exact) / exact; rel > 0.02 {
			t.Errorf("quantile(%v) = %.0f, exact %.0f (%.1f%% off)", q, got, exact, rel*100)
		}
	}
	if a.n != uint64(len(all)) || float64(a.max) != all[len(all)-1] || float64(a.min) != all[0] {
		t.Errorf("n, min, max = %d, %d, %d; want %d, %v, %v", a.n, a.min, a.max, len(all), all[0], all[len(all)-1])
	}
	var sum float64
	for _, v := range all {
		sum += v
	}
	if m := a.mean(); math.Abs(m-sum/float64(len(all))) > 1 {
		t.Errorf("mean = %v, want %v", m, sum/float64(len(all)))
	}
	var empty histogram
	if empty.quantile(0.5) != 0 || empty.mean() != 0 {
		t.Error("empty histogram: quantile or mean not 0")
	}
}
