package grpcframe

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// streamSet behaves as a map, below and above the number it keeps without
// one.
func TestStreamSet(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 2))
		var set streamSet
		ref := map[uint32]*stream{}
		limit := 1 + r.IntN(3*smallStreams)
		for range 3000 {
			id := uint32(1 + 2*r.IntN(limit))
			switch r.IntN(3) {
			case 0:
				if ref[id] == nil {
					s := &stream{}
					set.put(id, s)
					ref[id] = s
				}
			case 1:
				set.del(id)
				delete(ref, id)
			}
			if set.get(id) != ref[id] || set.len() != len(ref) {
				t.Fatalf("seed %d: id %d: got %p (%d open), want %p (%d)", seed, id, set.get(id), set.len(), ref[id], len(ref))
			}
		}
		want := slices.Sorted(maps.Keys(ref))
		if len(want) == 0 {
			want = nil
		}
		if got := set.sortedIDs(); !slices.Equal(got, want) {
			t.Fatalf("seed %d: ids %v, want %v", seed, got, want)
		}
	}
	var none *streamSet
	if none.sortedIDs() != nil {
		t.Fatal("a nil set has ids")
	}
}
