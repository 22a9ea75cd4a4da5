package tui

import (
	"cmp"
	"math"
	"slices"

	"github.com/grpcsniff/grpcsniff/filter"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// sortKey orders the list.
type sortKey uint8

const (
	sortTime sortKey = iota
	sortDuration
	sortMethod
	sortStatus
	nSortKeys
)

func (k sortKey) String() string {
	return [...]string{"time", "duration", "method", "status"}[k]
}

// descending is the key's first direction: the slowest calls and the
// errors first, times and methods in ascending order.
func (k sortKey) descending() bool { return k == sortDuration || k == sortStatus }

// sortMarker is the arrow shown beside the sorted column and in the title.
func (m *Model) sortMarker() string {
	if m.sortBy.descending() != m.sortRev {
		return "▼"
	}
	return "▲"
}

// sortEnt is a row with its sort keys computed once, so that sorting
// 100,000 rows compares integers rather than chasing calls and strings.
type sortEnt struct {
	k, t int64
	i    int32
}

// sortRows orders the rows by the sort key, then start time, then arrival,
// so that the order is total and deterministic.
func (m *Model) sortRows() {
	ents := slices.Grow(m.sortBuf[:0], len(m.rows))[:len(m.rows)]
	m.sortBuf = ents
	var rank []int64 // by interned method
	if m.sortBy == sortMethod {
		rank = m.methodRanks()
	}
	for j, i := range m.rows {
		ents[j] = m.sortEnt(i, rank)
	}
	slices.SortFunc(ents, func(a, b sortEnt) int {
		switch {
		case a.k != b.k:
			return cmp.Compare(a.k, b.k)
		case a.t != b.t:
			return cmp.Compare(a.t, b.t)
		}
		return cmp.Compare(a.i, b.i)
	})
	for j := range ents {
		m.rows[j] = ents[j].i
	}
}

// sortEnt returns the sort keys of call i; rank is methodRanks when
// sorting by method.
func (m *Model) sortEnt(i int32, rank []int64) sortEnt {
	r := &m.recs[i]
	e := sortEnt{t: r.startKey(), i: i}
	switch m.sortBy {
	case sortTime:
		e.k = e.t
	case sortDuration:
		e.k = -r.durKey() // slowest first
		if e.k == math.MinInt64 {
			e.k = math.MaxInt64 // -MinInt64 overflows: no end sorts last
		}
	case sortMethod:
		e.k = rank[r.method]
	case sortStatus:
		e.k = -int64(r.statusRank()) // errors first
	}
	if m.sortRev {
		e.k = -e.k
	}
	return e
}

// methodRanks returns the rank of each interned string as a method name in
// sorted order, for sorting by method.
func (m *Model) methodRanks() []int64 {
	idx := make([]int32, len(m.in.strs))
	for k := range idx {
		idx[k] = int32(k)
	}
	slices.SortFunc(idx, func(a, b int32) int { return cmp.Compare(m.in.strs[a], m.in.strs[b]) })
	rank := make([]int64, len(idx))
	for r, k := range idx {
		rank[k] = int64(r)
	}
	return rank
}

// follows reports whether call i, appended after call prev, keeps the rows
// in order without sorting: in ascending time order, when it did not
// start before prev (arrival breaks ties).
func (m *Model) follows(prev, i int32) bool {
	return m.sortBy == sortTime && !m.sortRev && m.recs[prev].startKey() <= m.recs[i].startKey()
}

// callKey names a call across the copies of it that arrive while it is
// open (grpcframe's OnProgress) and the call itself when it ends.
type callKey struct {
	conn   uint64
	stream uint32
}

func keyOf(c *grpcframe.Call) callKey { return callKey{c.ConnID, c.StreamID} }

// addCalls appends arriving calls and the rows of those the filter keeps.
// In time order, calls that arrive in order are appended without sorting.
// A call still open (State 0) is kept by its key; its later copies, and
// the call itself when it ends, take its place.
func (m *Model) addCalls(cs []*grpcframe.Call) {
	if len(cs) == 0 {
		return
	}
	keep := m.selected()
	sorted, replaced := true, false
	for _, given := range cs {
		c := m.bound(given)
		if m.replaceOpen(c) {
			replaced = true
			continue
		}
		if m.base.IsZero() || !c.Start.IsZero() && c.Start.Before(m.base) {
			m.base = c.Start
		}
		i := int32(len(m.calls))
		m.calls = append(m.calls, c)
		m.recs = append(m.recs, m.in.recOf(c))
		if c.State == 0 {
			if m.open == nil {
				m.open = map[callKey]int32{}
			}
			m.open[keyOf(c)] = i
		}
		matched := m.matches(i)
		if m.keepOrRelease(i) && c == given && m.opts.Recycle != nil {
			// Nothing but the list has seen it: its memory can serve the
			// calls still to come.
			m.opts.Recycle(c)
		}
		if !matched {
			continue
		}
		if n := len(m.rows); n > 0 && !m.follows(m.rows[n-1], i) {
			sorted = false
		}
		m.rows = append(m.rows, i)
	}
	if replaced && (m.expr.String() != "" || m.sortBy != sortTime) {
		// A call that grew may now match, or sort, otherwise.
		m.refilter()
	} else if !sorted {
		m.sortRows()
	}
	if m.follow {
		m.cursor = len(m.rows) - 1
	} else {
		m.reselect(keep)
	}
	m.clampList()
	m.dropOldest()
}

// replaceOpen puts c in the place of the open call it is a later copy of,
// and in the detail if that shows it; it reports whether there was one.
func (m *Model) replaceOpen(c *grpcframe.Call) bool {
	k := keyOf(c)
	i, ok := m.open[k]
	if !ok {
		return false
	}
	old := m.calls[i]
	m.calls[i] = c
	m.recs[i] = m.in.recOf(c)
	if c.State != 0 {
		delete(m.open, k)
		m.keepOrRelease(i)
	}
	if d := m.detail; d != nil && d.call == old {
		d.replaceCall(c)
	}
	return true
}

// matches reports whether the filter selects call i: on its record when
// the filter reads nothing else, which spares the call's memory.
func (m *Model) matches(i int32) bool {
	if m.window != nil && !m.window.has(&m.recs[i]) {
		return false
	}
	if m.expr.String() == "" {
		return true
	}
	if m.expr.Summarizable() {
		// One summary, filled in place: a million filled afresh would be
		// a million allocations.
		m.in.fillSummary(&m.scratch, &m.recs[i])
		return m.expr.MatchSummary(&m.scratch)
	}
	c := m.calls[i]
	return c != nil && m.expr.Match(c) // the others: filterByReading
}

// refilter selects and orders the rows again, keeping the cursor.
func (m *Model) refilter() { m.setFilter(m.expr) }

// selected returns the index of the call under the cursor, or -1.
func (m *Model) selected() int32 {
	if m.cursor >= 0 && m.cursor < len(m.rows) {
		return m.rows[m.cursor]
	}
	return -1
}

// reselect puts the cursor back on call i after the rows changed.
func (m *Model) reselect(i int32) {
	if i >= 0 {
		if j := slices.Index(m.rows, i); j >= 0 {
			m.cursor = j
		}
	}
	m.clampList()
}

// setFilter re-selects the rows for a new filter, keeping the cursor on the
// same call when it is still shown. When the filter reads what records do
// not hold and calls were let go, the rows are those of the kept calls
// until the capture has been read again (a command left in m.next).
func (m *Model) setFilter(e *filter.Expr) {
	m.applyFilter(e)
	if m.needsReading(e) {
		m.next = m.filterByReading(e)
	}
}

// needsReading reports whether e can only be decided by reading the
// capture again: it reads what records do not hold, and calls were let go.
func (m *Model) needsReading(e *filter.Expr) bool {
	return !e.Summarizable() && m.released > 0 && m.opts.Reload != nil
}

// applyFilter selects the rows of e among the records and the kept calls.
func (m *Model) applyFilter(e *filter.Expr) {
	keep := m.selected()
	m.expr = e
	m.rows = m.rows[:0]
	for i := range m.recs {
		if m.matches(int32(i)) {
			m.rows = append(m.rows, int32(i))
		}
	}
	if m.sortBy != sortTime {
		m.sortRows()
	}
	m.reselect(keep)
	if m.follow {
		m.cursor = len(m.rows) - 1
		m.clampList()
	}
	m.filtering = nil
}

// cycleSort moves to the next sort key, in its first direction.
func (m *Model) cycleSort() {
	keep := m.selected()
	m.sortBy, m.sortRev = (m.sortBy+1)%nSortKeys, false
	m.sortRows()
	m.reselect(keep)
}

// reverseSort turns the order round.
func (m *Model) reverseSort() {
	keep := m.selected()
	m.sortRev = !m.sortRev
	m.sortRows()
	m.reselect(keep)
}

// listHeight is the number of rows on screen: the title, the column
// headings, the filter line and the footer take the rest.
func (m *Model) listHeight() int { return max(m.h-3-m.footerHeight(), 1) }

// clampList keeps the cursor on a row and the cursor's row on screen.
func (m *Model) clampList() {
	n := len(m.rows)
	m.cursor = min(max(m.cursor, 0), max(n-1, 0))
	h := m.listHeight()
	if m.cursor < m.top {
		m.top = m.cursor
	}
	if m.cursor >= m.top+h {
		m.top = m.cursor - h + 1
	}
	m.top = min(max(m.top, 0), max(n-h, 0))
}

// moveCursor moves by d rows; following stops when the cursor leaves the
// last row and resumes when it comes back to it.
func (m *Model) moveCursor(d int) {
	m.cursor += d
	m.clampList()
	m.follow = m.cursor >= len(m.rows)-1
}
