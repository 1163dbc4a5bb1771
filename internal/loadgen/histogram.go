package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// Histogram layout: values below 2*histSub are exact; above, every power of
// two is split into histSub buckets, so a bucket is at most 1/histSub (about
// 3 %) of its value wide. Values are nanoseconds, clamped to histMax.
const (
	histSubBits = 5
	histSub     = 1 << histSubBits
	histMaxBits = 40 // 2^40 ns is about 18 minutes
	histMax     = 1<<histMaxBits - 1
	histBuckets = (histMaxBits - histSubBits + 1) * histSub
)

// histogram counts durations in log-spaced buckets. Its size is fixed, so
// memory does not grow with the number of requests. The zero value is an
// empty histogram; it is not safe for concurrent use.
type histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum      float64 // ns, for the mean
	min, max int64   // exact, ns
}

func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	if v > histMax {
		v = histMax
	}
	shift := max(bits.Len64(uint64(v))-(histSubBits+1), 0)
	return shift*histSub + int(v>>shift)
}

// bucketMid returns the middle of bucket i, in ns.
func bucketMid(i int) float64 {
	if i < 2*histSub {
		return float64(i)
	}
	shift := i/histSub - 1
	low := int64(i%histSub+histSub) << shift
	return float64(low) + float64(int64(1)<<shift)/2
}

func (h *histogram) record(d time.Duration) {
	v := int64(d)
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the value at quantile q (0 < q <= 1) in ns: the middle of
// the bucket holding it, kept within the exact minimum and maximum.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(max(bucketMid(i), float64(h.min)), float64(h.max))
		}
	}
	return float64(h.max)
}

func (h *histogram) mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}
