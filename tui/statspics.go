package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// latencyEdges cut latencies into decades for the statistics' histogram.
var latencyEdges = []time.Duration{10 * time.Microsecond, 100 * time.Microsecond, time.Millisecond,
	10 * time.Millisecond, 100 * time.Millisecond, time.Second, 10 * time.Second}

// latencyHeads are the ranges latencyEdges make, as column headings.
var latencyHeads = []string{"<10µs", "<100µs", "<1ms", "<10ms", "<100ms", "<1s", "<10s", "≥10s"}

// latencyLines draws, per method, how many calls took how long: a column
// per decade, each cell a bar scaled to the method's busiest decade, with
// its count.
func (m *Model) latencyLines(ms []*export.MethodStats, nameW int, wide bool) []string {
	const cell = 8
	head := pad("METHOD", nameW)
	for _, h := range latencyHeads {
		head += " " + padLeft(h, cell-1)
	}
	out := []string{"", styleSection.Render("Latency (calls by duration)"), styleHeader.Render(head)}
	for _, s := range ms {
		counts := s.Latency.Spread(latencyEdges)
		bars := []rune(sparkline(counts))
		l := pad(m.statsName(s, wide), nameW)
		for i, n := range counts {
			c := ""
			if n > 0 {
				c = string(bars[i]) + " " + fmt.Sprint(n)
			}
			l += " " + padLeft(c, cell-1)
		}
		out = append(out, l)
	}
	return out
}

// timeLines draws the listed calls over the capture's time, by start: how
// many started in each stretch, and how many of those failed.
func (m *Model) timeLines(calls []*grpcframe.Call) []string {
	width := max(m.w-14, 10)
	var first, last time.Time
	for _, c := range calls {
		if c.Start.IsZero() {
			continue
		}
		if first.IsZero() || c.Start.Before(first) {
			first = c.Start
		}
		if c.Start.After(last) {
			last = c.Start
		}
	}
	if first.IsZero() {
		return nil
	}
	total := last.Sub(first)
	all, errs := make([]uint64, width), make([]uint64, width)
	for _, c := range calls {
		if c.Start.IsZero() {
			continue
		}
		i := cellOf(c.Start.Sub(first), total, width)
		all[i]++
		if isError(c) {
			errs[i]++
		}
	}
	step := total / time.Duration(width)
	out := []string{"", styleSection.Render(fmt.Sprintf("Over time (calls by start, %s a column)", export.FormatDuration(max(step, time.Microsecond))))}
	out = append(out, "calls   "+sparkline(all), "errors  "+styleErr.Render(sparkline(errs)))
	from, to := relTime(first.Sub(m.base)), relTime(last.Sub(m.base))+" s"
	out = append(out, "        "+from+strings.Repeat(" ", max(width-len(from)-len(to), 1))+to)
	return out
}
