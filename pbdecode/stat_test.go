package pbdecode

import (
	"math/rand/v2"
	"testing"
)

// TestRandomPayloads guards the rates at which the heuristics misread random
// bytes, and read real packed values, over seeded random samples.
func TestRandomPayloads(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const trials = 4000
	rate := func(gen func() []byte, want Reading) float64 {
		n := 0
		for range trials {
			if Decode(lenf(1, gen()), Options{}).Fields[0].As == want {
				n++
			}
		}
		return float64(n) / trials
	}
	randomBytes := func(n int) func() []byte {
		return func() []byte {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(r.UintN(256))
			}
			return p
		}
	}
	for _, tt := range []struct {
		n   int
		min float64
	}{{8, 0.75}, {16, 0.90}, {32, 0.97}, {256, 0.999}} {
		if got := rate(randomBytes(tt.n), ReadingBytes); got < tt.min {
			t.Errorf("random %d-byte payloads read as bytes %.1f%% of the time, want ≥ %.1f%%", tt.n, 100*got, 100*tt.min)
		}
	}
	packed := func(maxv uint64) func() []byte {
		return func() []byte {
			var vs []uint64
			for range 1 + r.IntN(10) {
				vs = append(vs, r.Uint64N(maxv))
			}
			return packedVarints(vs...)
		}
	}
	if got := rate(packed(16), ReadingPacked); got < 0.9 {
		t.Errorf("packed values < 16 read as packed %.1f%% of the time", 100*got)
	}
	floats := func(k int, double bool) func() []byte {
		return func() []byte {
			var fs []float32
			var ds []float64
			for range k {
				x := (r.Float64() - 0.5) * 1000
				fs, ds = append(fs, float32(x)), append(ds, x)
			}
			if double {
				return packedDoubles(ds...)
			}
			return packedFloats(fs...)
		}
	}
	if got := rate(floats(3, false), ReadingPackedFixed32); got < 0.99 {
		t.Errorf("3 random floats read as floats %.1f%% of the time", 100*got)
	}
	if got := rate(floats(3, true), ReadingPackedFixed64); got < 0.95 {
		t.Errorf("3 random doubles read as doubles %.1f%% of the time", 100*got)
	}
}
