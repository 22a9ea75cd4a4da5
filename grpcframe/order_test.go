package grpcframe

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// pendingCalls hands calls on in key order whatever order they come in:
// mostly rising, as in a capture, with some going back in time.
func TestPendingCallsOrder(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 1))
		var p pendingCalls
		var ref []heapEntry // the reference: a sorted slice
		at := t0
		var got, want []*Call
		for i := range 2000 {
			if r.IntN(3) > 0 {
				at = at.Add(time.Duration(r.IntN(1000)) * time.Microsecond)
				start := at
				if r.IntN(10) == 0 {
					start = at.Add(-time.Duration(r.IntN(50000)) * time.Microsecond) // back in time
				}
				c := &Call{Start: start, ConnID: uint64(r.IntN(4)), StreamID: uint32(i)}
				e := entryOf(c)
				p.push(e)
				j, _ := slices.BinarySearchFunc(ref, e, func(a, b heapEntry) int {
					if a.less(&b) {
						return -1
					}
					return 1
				})
				ref = slices.Insert(ref, j, e)
				continue
			}
			for n := r.IntN(4); n > 0 && len(ref) > 0; n-- {
				got = append(got, p.top())
				p.pop()
				want = append(want, ref[0].call)
				ref = ref[1:]
			}
		}
		for len(ref) > 0 {
			got = append(got, p.top())
			p.pop()
			want = append(want, ref[0].call)
			ref = ref[1:]
		}
		if p.top() != nil {
			t.Fatal("calls left over")
		}
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: order differs from the sorted one", seed)
		}
	}
}
