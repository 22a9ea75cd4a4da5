package tui

import (
	"testing"
	"time"
)

func TestSparkline(t *testing.T) {
	if got := sparkline([]uint64{0, 1, 4, 8, 2}); got != " ▁▄█▂" {
		t.Errorf("sparkline: %q", got)
	}
	if got := sparkline([]uint64{0, 0}); got != "  " {
		t.Errorf("no counts: %q", got)
	}
	// A count of one among thousands still shows.
	if got := sparkline([]uint64{1, 5000}); got != "▁█" {
		t.Errorf("small count: %q", got)
	}
}

func TestLane(t *testing.T) {
	ms := time.Millisecond
	got := lane([]time.Duration{0, 1 * ms, 5 * ms, 9 * ms, 10 * ms, 10 * ms}, 10*ms, 10)
	// Ten cells of 1 ms: 0 and 1 ms in the first two, 5 ms in the sixth,
	// 9 ms and the end (10 ms, twice) in the last.
	if got != "●●···●···3" {
		t.Errorf("lane: %q", got)
	}
	if got := lane(nil, 0, 3); got != "···" {
		t.Errorf("empty lane: %q", got)
	}
}
