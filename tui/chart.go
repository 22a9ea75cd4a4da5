package tui

import (
	"strings"
	"time"
)

// Small renderers of pictures in text: sparklines of counts, and lanes of
// moments on a time axis. They are written here rather than taken from a
// charting component because none fits Bubble Tea v2 and Lip Gloss v2 yet,
// and what the view needs is a few lines of cells.

// sparkLevels are the eight heights of a sparkline cell, lowest first.
var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// sparkline draws counts as one cell each, the highest count a full
// block; a zero count is a space, so that empty stretches show as such.
func sparkline(counts []uint64) string {
	var top uint64
	for _, n := range counts {
		top = max(top, n)
	}
	var b strings.Builder
	for _, n := range counts {
		switch {
		case n == 0:
			b.WriteByte(' ')
		default:
			// The level of n's share of the top, rounded up: any count
			// shows at least the lowest level.
			levels := uint64(len(sparkLevels))
			b.WriteRune(sparkLevels[(n*levels+top-1)/top-1])
		}
	}
	return b.String()
}

// lane is a line of width cells on which the moments at (offsets from the
// start, of a span total long) are marked: one mark per moment, a count
// when several fall in one cell (up to 9, then +).
func lane(at []time.Duration, total time.Duration, width int) string {
	cells := make([]int, width)
	for _, d := range at {
		cells[cellOf(d, total, width)]++
	}
	var b strings.Builder
	for _, n := range cells {
		switch {
		case n == 0:
			b.WriteRune('·')
		case n == 1:
			b.WriteRune('●')
		case n <= 9:
			b.WriteByte(byte('0' + n))
		default:
			b.WriteByte('+')
		}
	}
	return b.String()
}

// cellOf is the cell of width cells that the offset d of a span total long
// falls in.
func cellOf(d, total time.Duration, width int) int {
	if total <= 0 || d <= 0 {
		return 0
	}
	return min(int(int64(d)*int64(width)/int64(total)), width-1)
}
