package attendance

import (
	"math/bits"
	"slices"
)

// ChunkMinutes is how many minutes one stored mask word covers. Events of up
// to 24 hours are stored as up to 23 words of 64 minutes, so a one-hour event
// is one row per member.
const ChunkMinutes = 64

// Mask is a set of minute indexes of an occurrence.
type Mask []uint64

// Set adds minute m.
func (m *Mask) Set(minute int) {
	w := minute / ChunkMinutes
	for len(*m) <= w {
		*m = append(*m, 0)
	}
	(*m)[w] |= 1 << (minute % ChunkMinutes)
}

// Has reports whether minute is in the mask.
func (m Mask) Has(minute int) bool {
	w := minute / ChunkMinutes
	return minute >= 0 && w < len(m) && m[w]&(1<<(minute%ChunkMinutes)) != 0
}

// Count is the number of minutes in the mask.
func (m Mask) Count() int {
	n := 0
	for _, w := range m {
		n += bits.OnesCount64(w)
	}
	return n
}

// Or returns the union.
func (m Mask) Or(o Mask) Mask {
	out := make(Mask, max(len(m), len(o)))
	copy(out, m)
	for i, w := range o {
		out[i] |= w
	}
	return out
}

// AndNot returns the minutes of m that are not in o.
func (m Mask) AndNot(o Mask) Mask {
	out := make(Mask, len(m))
	copy(out, m)
	for i := range out {
		if i < len(o) {
			out[i] &^= o[i]
		}
	}
	return out
}

// First is the lowest minute in the mask, or -1.
func (m Mask) First() int {
	for i, w := range m {
		if w != 0 {
			return i*ChunkMinutes + bits.TrailingZeros64(w)
		}
	}
	return -1
}

// Last is the highest minute in the mask, or -1.
func (m Mask) Last() int {
	for i := len(m) - 1; i >= 0; i-- {
		if m[i] != 0 {
			return i*ChunkMinutes + 63 - bits.LeadingZeros64(m[i])
		}
	}
	return -1
}

// Bools expands the mask into n booleans, for charts.
func (m Mask) Bools(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = m.Has(i)
	}
	return out
}

// Median returns the median of xs (the mean of the two middle values for an
// even count), or 0 when empty.
func Median(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return float64(s[len(s)/2])
	}
	return float64(s[len(s)/2-1]+s[len(s)/2]) / 2
}
