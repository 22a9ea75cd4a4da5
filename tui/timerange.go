package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/export"
)

// The statistics' chart of calls over time doubles as a way to pick a
// stretch of the capture: h/l move a cursor over its columns, H/L widen or
// narrow the stretch, enter lists the calls that started in it. The list
// then shows those calls alone (the title says which stretch, esc lets it
// go), and the statistics of it, their chart zoomed in on it.

// timeAxis is how the chart cut the time into columns: calls whose start
// is first+d fall in column cellOf(d, total, width).
type timeAxis struct {
	first int64 // Unix nanoseconds of the earliest start
	total time.Duration
	width int
}

func (a timeAxis) column(start int64) int {
	return cellOf(time.Duration(start-a.first), a.total, a.width)
}

// timeWindow is a stretch of the chart's columns, lo to hi.
type timeWindow struct {
	axis   timeAxis
	lo, hi int
}

// has reports whether the call of record r started in the stretch.
func (w *timeWindow) has(r *rec) bool {
	if !r.has(fStarted) {
		return false
	}
	c := w.axis.column(r.start)
	return c >= w.lo && c <= w.hi
}

// bounds returns the stretch's start and end, relative to base.
func (w *timeWindow) bounds(base int64) (from, to time.Duration) {
	a := w.axis
	at := func(col int) time.Duration {
		return time.Duration(a.first-base) + time.Duration(int64(a.total)*int64(col)/int64(a.width))
	}
	return at(w.lo), at(w.hi + 1)
}

// text names the stretch: "time 0.120000–0.240000 s".
func (w *timeWindow) text(base int64) string {
	from, to := w.bounds(base)
	return "time " + relTime(from) + "–" + relTime(to) + " s"
}

// timeKey moves the chart's cursor: it reports whether the key was one.
func (m *Model) timeKey(s string) bool {
	v := m.stats
	if v.axis.width == 0 {
		return false
	}
	c, last := &v.cursor, v.axis.width-1
	if s != "h" && s != "left" && s != "l" && s != "right" && s != "H" && s != "L" {
		return false
	}
	if !v.timeOn {
		// The first of these keys puts the cursor on the first column.
		v.timeOn, c.lo, c.hi = true, 0, 0
		c.axis = v.axis
		return true
	}
	switch {
	case (s == "h" || s == "left") && c.lo > 0:
		c.lo, c.hi = c.lo-1, c.hi-1
	case (s == "l" || s == "right") && c.hi < last:
		c.lo, c.hi = c.lo+1, c.hi+1
	case s == "H" && c.hi > c.lo:
		c.hi--
	case s == "L" && c.hi < last:
		c.hi++
	}
	c.axis = v.axis
	c.hi = min(c.hi, last) // the axis may have narrowed as calls arrived
	c.lo = min(c.lo, c.hi)
	return true
}

// listTime goes back to the list, showing the calls that started in the
// chosen stretch among those the filter showed.
func (m *Model) listTime() {
	w := m.stats.cursor
	m.window = &w
	m.stats.timeOn = false
	m.refilter()
	m.screen = screenList
	m.status = "showing the calls of " + w.text(m.base.UnixNano()) + "; esc shows them all again"
}

// clearTime lets the stretch go, if one is chosen.
func (m *Model) clearTime() bool {
	if m.window == nil {
		return false
	}
	m.window = nil
	m.refilter()
	m.status = "the calls of the whole capture again"
	return true
}

// timeCursorLine is the line under the chart that marks the stretch the
// cursor covers, and says what is in it.
func (m *Model) timeCursorLine() string {
	v := m.stats
	c := v.cursor
	marks := strings.Repeat(" ", c.lo) + strings.Repeat("▲", c.hi-c.lo+1)
	n, errs := 0, 0
	for _, i := range m.rows {
		if r := &m.recs[i]; r.state != 0 && c.has(r) {
			n++
			if isError(r) {
				errs++
			}
		}
	}
	return fmt.Sprintf("        %s %s: %s, %s", marks, c.text(m.base.UnixNano()),
		export.Count(n, "call"), export.Count(errs, "error"))
}
