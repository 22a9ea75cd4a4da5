package sniff

import (
	"fmt"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
)

// The stretches the capture is cut into depend on the packets alone.
func TestChunkRule(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	var r chunkRule
	ends := func(ps []capture.Packet) []int {
		var at []int
		for i, p := range ps {
			if r.add(p) {
				at = append(at, i)
			}
		}
		return at
	}
	var ps []capture.Packet
	for i := range 600 {
		ps = append(ps, capture.Packet{Time: t0.Add(time.Duration(i) * time.Microsecond), Data: make([]byte, 100)})
	}
	if got := fmt.Sprint(ends(ps)); got != "[255 511]" {
		t.Errorf("by count: %s", got)
	}
	r = chunkRule{}
	ps = ps[:0]
	for i := range 40 {
		ps = append(ps, capture.Packet{Time: t0.Add(time.Duration(i) * 10 * time.Millisecond), Data: make([]byte, 100)})
	}
	if got := fmt.Sprint(ends(ps)); got != "[10 21 32]" {
		t.Errorf("by time: %s", got)
	}
	r = chunkRule{}
	ps = ps[:0]
	for range 200 {
		ps = append(ps, capture.Packet{Time: t0, Data: make([]byte, 1000)})
	}
	if got := fmt.Sprint(ends(ps)); got != "[65 131 197]" {
		t.Errorf("by size: %s", got)
	}
}
