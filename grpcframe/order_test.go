package grpcframe

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/h2decode"
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

// An OpLog reuses the chunks its operations' arguments are kept in once the
// log they were taken with comes back, and only then: the operations
// replayed read the arguments they were recorded with.
func TestOpLogArgsReused(t *testing.T) {
	var l OpLog
	var notes []h2decode.Note
	m := NewMerger(SinkFunc(func(*Call) {}), false)
	var held [][]Op // logs not yet handed back
	for round := range 40 {
		l.At(uint64(round + 1))
		for i := range 300 {
			l.note(h2decode.Note{Kind: h2decode.NoteKind(i%8 + 1), Text: fmt.Sprintf("r%d n%d", round, i)})
		}
		held = append(held, l.Take(nil))
		if len(held) < 3 {
			continue // the Merger holds up to three logs at once
		}
		ops := held[0]
		held = held[1:]
		m.Replay(ops)
		got, _ := m.Notes()
		notes = append(notes[:0], got...)
		l.Take(ops) // ops is handed back: its chunks are free
	}
	if len(l.free) == 0 {
		t.Fatal("no argument chunk was reused")
	}
	if len(notes) != maxConnNotes {
		t.Fatalf("%d notes", len(notes))
	}
	for i, n := range notes {
		if want := (h2decode.Note{Kind: h2decode.NoteKind(i%300%8 + 1), Text: fmt.Sprintf("r%d n%d", i/300, i%300)}); n != want {
			t.Fatalf("note %d reads %q, want %q", i, n, want)
		}
	}
}

// Logs that are never handed back (the large ones of a stream flood) do not
// keep their argument chunks from the collector.
func TestOpLogArgsBounded(t *testing.T) {
	var l OpLog
	for round := range 100 {
		l.At(uint64(round + 1))
		for range 20 * argsChunk {
			l.note(h2decode.Note{Text: "n"})
		}
		l.Take(nil)
		n := 0
		for _, o := range l.out {
			n += len(o.chunks)
		}
		if n != l.outChunks || n > maxArgChunks {
			t.Fatalf("round %d: %d chunks kept track of (counted %d), at most %d wanted", round, n, l.outChunks, maxArgChunks)
		}
	}
}
