package analytics

import (
	"math"
	"time"
)

// Latency buckets: upper bounds in milliseconds, roughly 12% apart from
// 0.1 ms to 60 s, so a percentile read from them is within ~6%.
var bounds = func() []float64 {
	var b []float64
	for v := 0.1; v < 60_000; v *= 1.12 {
		b = append(b, math.Round(v*1000)/1000)
	}
	return append(b, math.Inf(1))
}()

// Histogram counts latencies in fixed buckets; histograms of different
// seconds and instances add up exactly.
type Histogram []uint32

func newHistogram() Histogram { return make(Histogram, len(bounds)) }

func (h Histogram) observe(d time.Duration) {
	ms := float64(d) / float64(time.Millisecond)
	lo, hi := 0, len(bounds)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if ms <= bounds[mid] {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	h[lo]++
}

// Add adds o into h.
func (h Histogram) Add(o Histogram) {
	for i := range o {
		if i < len(h) {
			h[i] += o[i]
		}
	}
}

// Quantile returns the latency in milliseconds at quantile q (0..1): the
// upper bound of the bucket holding the ⌈q·n⌉-th observation, 0 when
// empty.
func (h Histogram) Quantile(q float64) float64 {
	var n uint64
	for _, c := range h {
		n += uint64(c)
	}
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h {
		seen += uint64(c)
		if seen >= rank {
			if math.IsInf(bounds[i], 1) {
				return bounds[i-1]
			}
			return bounds[i]
		}
	}
	return bounds[len(bounds)-2]
}
