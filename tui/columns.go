package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// columns are the widths of one rendering of the list, sized to the rows
// on screen so that short captures do not waste the width.
type columns struct {
	time, client, server, method, status, dur int
	stream                                    int // 0: not shown
	up, down, bup, bdown, bytes, flags        int
	full                                      bool // full method names
	wide                                      bool // bytes each way
}

func (m *Model) layout(rows []row) columns {
	// The least widths are the headings', with room for the sort marker.
	c := columns{time: 5, status: 7, dur: 4, up: 2, down: 2, bytes: 5, bup: 6, bdown: 6, wide: m.w >= 120}
	full, short, cl, sv, st := 7, 7, 6, 6, len("STREAM")
	for _, r := range rows {
		st = max(st, len(r.stream))
		c.time = max(c.time, len(r.time))
		c.status = max(c.status, ansi.StringWidth(r.status))
		c.dur = max(c.dur, ansi.StringWidth(r.dur))
		c.up = max(c.up, ansi.StringWidth(r.up))
		c.down = max(c.down, ansi.StringWidth(r.down))
		c.bup = max(c.bup, ansi.StringWidth(r.bup))
		c.bdown = max(c.bdown, ansi.StringWidth(r.bdown))
		c.bytes = max(c.bytes, ansi.StringWidth(r.bytes))
		c.flags = max(c.flags, ansi.StringWidth(r.flags))
		full = max(full, ansi.StringWidth(r.method))
		short = max(short, ansi.StringWidth(r.short))
		cl = max(cl, len(r.client))
		sv = max(sv, len(r.server))
	}
	// 2 for the cursor marker, then one space before each later column.
	fixed := 2 + c.time + 1 + 1 + c.status + 1 + c.dur + 1 + c.up + 1 + c.down + 1
	if c.wide {
		c.bytes = 0
		fixed += c.bup + 1 + c.bdown
	} else {
		fixed += c.bytes
	}
	if c.flags > 0 {
		fixed += 1 + c.flags
	}
	rest := m.w - fixed
	// The method comes first; then the server and the connection and
	// stream (which tell apart concurrent calls of one method): the server
	// first, unless every row on screen has the same one; then the client.
	want := short
	if rest >= full+1+st+1+2+sv+1+cl+3 {
		want, c.full = full, true
	}
	streamFirst := oneServer(rows)
	if streamFirst && rest >= want+1+st {
		c.stream = st
		rest -= st + 1
	}
	if rest >= want+1+2+sv {
		c.server = sv
		rest -= 2 + sv + 1
	}
	if !streamFirst && rest >= want+1+st {
		c.stream = st
		rest -= st + 1
	}
	if c.server > 0 && rest >= want+1+cl+1 {
		c.client = cl
		rest -= cl + 1
	}
	c.method = max(min(rest, want), 8)
	return c
}

// oneServer reports whether the rows all went to one server (a column of
// it would say nothing).
func oneServer(rows []row) bool {
	for _, r := range rows {
		if r.server != rows[0].server {
			return false
		}
	}
	return len(rows) > 1
}

// fitMethod shortens a method name to w cells from the left, so that what
// tells methods apart stays: the method whole, and as much of its service
// as fits ("…Service/StreamingInputCall"), or the end of the method alone.
func fitMethod(s string, w int) string {
	if ansi.StringWidth(s) <= w || w < 2 {
		return s
	}
	return "…" + ansi.TruncateLeft(s, ansi.StringWidth(s)-(w-1), "")
}

// pad cuts or pads s to exactly w cells.
func pad(s string, w int) string {
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", max(w-ansi.StringWidth(s), 0))
}

// padLeft right-aligns s in w cells.
func padLeft(s string, w int) string {
	if ansi.StringWidth(s) > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-ansi.StringWidth(s)) + s
}

// line renders one row (or the heading) in the columns. Styles are applied
// to cells after padding so that widths are counted on plain text.
func (c columns) line(r row, heading bool) string {
	var b strings.Builder
	b.WriteString(padLeft(r.time, c.time))
	b.WriteByte(' ')
	if c.stream > 0 {
		b.WriteString(pad(r.stream, c.stream) + " ")
	}
	switch {
	case c.client > 0:
		b.WriteString(pad(r.client, c.client) + " → " + pad(r.server, c.server) + " ")
	case c.server > 0:
		if heading {
			b.WriteString(pad(r.server, c.server+2) + " ")
		} else {
			b.WriteString("→ " + pad(r.server, c.server) + " ")
		}
	}
	meth := r.short
	if c.full {
		meth = r.method
	}
	if !heading {
		meth = fitMethod(meth, c.method)
	}
	if !heading && strings.HasPrefix(meth, "~") {
		b.WriteString(styleInferred.Render(pad(meth, c.method)))
	} else {
		b.WriteString(pad(meth, c.method))
	}
	b.WriteByte(' ')
	st := pad(r.status, c.status)
	if !heading {
		st = statusCell(r.code, st)
	}
	b.WriteString(st)
	b.WriteString(" " + padLeft(r.dur, c.dur) + " ")
	if heading {
		// One heading over both message counts, which carry their arrows.
		b.WriteString(pad(r.up, c.up+1+c.down) + " ")
	} else {
		b.WriteString(pad(r.up, c.up) + " " + pad(r.down, c.down) + " ")
	}
	if c.wide {
		b.WriteString(padLeft(r.bup, c.bup) + " " + padLeft(r.bdown, c.bdown))
	} else {
		b.WriteString(padLeft(r.bytes, c.bytes))
	}
	if c.flags > 0 {
		b.WriteString(" " + pad(r.flags, c.flags))
	}
	return b.String()
}

func statusCell(code int, s string) string {
	if code < 0 {
		return styleDim.Render(s)
	}
	return statusStyle(code).Render(s)
}
