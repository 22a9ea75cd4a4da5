package tui

import (
	"cmp"
	"fmt"
	"math"

	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// The waterfall shows the calls of one connection on its time axis, a row
// each, like a browser's network panel: when each started, how long it
// ran, which overlapped, where the connection was idle. c opens it on the
// selected call's connection; enter opens the call under the cursor.

// waterfall is the state of the waterfall screen.
type waterfall struct {
	conn   uint64
	calls  []int32 // indexes into Model.calls, by start
	cursor int
	top    int
}

// openWaterfall shows the connection of call i.
func (m *Model) openWaterfall(i int32) {
	conn := m.recs[i].conn
	w := &waterfall{conn: uint64(conn)}
	for j := range m.recs {
		if m.recs[j].conn == conn {
			w.calls = append(w.calls, int32(j))
		}
	}
	slices.SortStableFunc(w.calls, func(a, b int32) int { return cmp.Compare(m.recs[a].startKey(), m.recs[b].startKey()) })
	w.cursor = max(slices.Index(w.calls, i), 0)
	m.waterfall, m.screen = w, screenWaterfall
}

func (m *Model) waterfallKey(s string) tea.Cmd {
	w := m.waterfall
	switch s {
	case "esc", "c", "backspace":
		m.screen = screenList
	case "j", "down":
		w.cursor++
	case "k", "up":
		w.cursor--
	case "g", "home":
		w.cursor = 0
	case "G", "end":
		w.cursor = len(w.calls)
	case "enter", "l":
		m.openDetail(w.calls[w.cursor])
		return nil
	}
	w.cursor = min(max(w.cursor, 0), len(w.calls)-1)
	body := m.h - 4
	w.top = min(max(w.top, w.cursor-body+1), w.cursor)
	return nil
}

// span is the time the connection's calls cover: from the first start to
// the last end (or last sign of life of a call still open), in Unix
// nanoseconds.
func (m *Model) span(idx []int32) (first, last int64) {
	first, last = math.MaxInt64, math.MinInt64
	for _, i := range idx {
		r := &m.recs[i]
		if !r.has(fStarted) {
			continue
		}
		first, last = min(first, r.start), max(last, r.start+r.dur)
	}
	if first > last {
		return 0, 0
	}
	return first, last
}

func (m *Model) renderWaterfall() string {
	w := m.waterfall
	first, last := m.span(w.calls)
	total := time.Duration(last - first)
	c0 := &m.recs[w.calls[0]]
	title := fmt.Sprintf(" Connection %d · %s → %s", w.conn, m.in.addrs[c0.client], m.in.addrs[c0.server])
	lines := []string{styleTitle.Render(spread(title, export.Count(len(w.calls), "call")+" over "+export.FormatDuration(total)+" ", m.w))}
	nameW := min(30, max(m.w/4, 12))
	barW := max(m.w-nameW-12-10, 10) // and room for the duration
	lines = append(lines, styleHeader.Render(pad("  STREAM METHOD", nameW+9)+" "+pad("0", barW/2)+padLeft(export.FormatDuration(total), barW-barW/2)))
	body := m.h - 4
	for k := w.top; k < len(w.calls) && k < w.top+body; k++ {
		r := &m.recs[w.calls[k]]
		line := fmt.Sprintf("%6d %s %s", r.stream, pad(fitMethod(export.Printable(shortMethod(m.in.strs[r.method])), nameW), nameW), bar(r, first, total, barW))
		if k == w.cursor {
			lines = append(lines, styleSelected.Render(pad("> "+line, m.w)))
		} else {
			lines = append(lines, "  "+line)
		}
	}
	for len(lines) < m.h-1 {
		lines = append(lines, "")
	}
	lines = append(lines, hints(m.w, "j/k", "move", "enter", "open the call", "esc/c", "back"))
	return fit(lines, m.w)
}

// bar draws a call on the connection's time axis: blank before its start,
// then its run, marked open (▒) when it has not ended, its status at the
// end of the line.
func bar(r *rec, first int64, total time.Duration, width int) string {
	from := cellOf(time.Duration(r.start-first), total, width)
	fill := '█'
	if !r.has(fEnded) {
		fill = '▒'
	}
	to := max(cellOf(time.Duration(r.start+r.dur-first), total, width), from)
	run := strings.Repeat(string(fill), to-from+1)
	if r.code > 0 || r.code < 0 && r.state != grpcframe.StateComplete && r.state != 0 {
		run = styleErr.Render(run)
	}
	return strings.Repeat(" ", from) + run + strings.Repeat(" ", width-to-1) + " " + durationText(r)
}
