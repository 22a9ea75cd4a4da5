package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/export"
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
func (m *Model) timeLines(calls []int32) ([]string, timeAxis) {
	width := max(m.w-14, 10)
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, i := range calls {
		if r := &m.recs[i]; r.has(fStarted) {
			first, last = min(first, r.start), max(last, r.start)
		}
	}
	if first > last {
		return nil, timeAxis{}
	}
	total := time.Duration(last - first)
	all, errs := make([]uint64, width), make([]uint64, width)
	for _, i := range calls {
		r := &m.recs[i]
		if !r.has(fStarted) {
			continue
		}
		k := cellOf(time.Duration(r.start-first), total, width)
		all[k]++
		if isError(r) {
			errs[k]++
		}
	}
	step := total / time.Duration(width)
	out := []string{"", styleSection.Render(fmt.Sprintf("Over time (calls by start, %s a column)", export.FormatDuration(max(step, time.Microsecond))))}
	out = append(out, "calls   "+sparkline(all), "errors  "+styleErr.Render(sparkline(errs)))
	base := m.base.UnixNano()
	from, to := relTime(time.Duration(first-base)), relTime(time.Duration(last-base))+" s"
	out = append(out, "        "+from+strings.Repeat(" ", max(width-len(from)-len(to), 1))+to)
	return out, timeAxis{first: first, total: total, width: width}
}
