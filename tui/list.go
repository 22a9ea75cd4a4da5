package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/grpcsniff/grpcsniff/export"
)

func (m *Model) renderList() string {
	h := m.listHeight()
	end := min(m.top+h, len(m.rows))
	rows := make([]row, 0, end-m.top)
	for _, i := range m.rows[m.top:end] {
		rows = append(rows, m.makeRow(i))
	}
	cols := m.layout(rows)
	heading := m.heading()
	lines := make([]string, 0, m.h)
	lines = append(lines, m.titleBar())
	lines = append(lines, styleHeader.Render(pad("  "+cols.line(heading, true), m.w)))
	for k, r := range rows {
		text := cols.line(r, false)
		if m.top+k == m.cursor {
			lines = append(lines, styleSelected.Render("> "+ansi.Strip(pad(text, m.w-2))))
		} else {
			lines = append(lines, "  "+text)
		}
	}
	if len(m.rows) == 0 {
		lines = append(lines, styleDim.Render(m.emptyText()))
		if len(m.calls) == 0 && m.progress.Done {
			for _, l := range m.emptyNotes() {
				lines = append(lines, wrapStatus(l, m.w)...)
			}
		}
	}
	foot := m.statusLines()
	for len(lines) < m.h-1-len(foot) {
		lines = append(lines, "")
	}
	lines = append(lines, m.filterLine())
	lines = append(lines, foot...)
	return fit(lines, m.w)
}

// heading is the row of column names, the sorted column marked with its
// direction.
func (m *Model) heading() row {
	h := row{time: "TIME", stream: "STREAM", client: "CLIENT", server: "SERVER", method: "METHOD", short: "METHOD",
		status: "STATUS", dur: "DUR", up: "MSGS", bytes: "BYTES", bup: "↑BYTES", bdown: "↓BYTES"}
	mark := m.sortMarker()
	switch m.sortBy {
	case sortTime:
		h.time += mark
	case sortDuration:
		h.dur += mark
	case sortMethod:
		h.method += mark
		h.short += mark
	case sortStatus:
		h.status += mark
	}
	return h
}

func (m *Model) emptyText() string {
	switch {
	case len(m.calls) == 0 && !m.progress.Done:
		return "  waiting for calls…"
	case len(m.calls) == 0:
		return "  no calls (gRPC, gRPC-Web, Connect, Twirp or HTTP) in this input"
	case m.expr.NeedsSchema():
		return "  no call matches: field names in req./resp. need a schema; use field numbers (req.1)"
	}
	return "  no call matches the filter"
}

// fit cuts every line to the width, so that nothing wraps.
func fit(lines []string, w int) string {
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "")
		}
	}
	return strings.Join(lines, "\n")
}

func (m *Model) titleBar() string {
	left := " grpcsniff"
	if m.opts.Title != "" {
		left += " · " + m.opts.Title
	}
	n := export.Count(len(m.calls), "call")
	if m.expr.String() != "" || m.window != nil {
		n = fmt.Sprintf("%d of %s", len(m.rows), n)
	}
	if m.window != nil {
		n += " in " + m.window.text(m.base.UnixNano())
	}
	if m.dropped > 0 {
		// Said where the count is, so that nobody takes the list for the
		// whole capture.
		n += " · " + export.Count(m.dropped, "older call") + " dropped"
	}
	if k := len(m.progress.Notes); k > 0 {
		n += " · " + export.Count(k, "note") + " (n)"
	}
	right := n + " · sort: " + m.sortBy.String() + " " + m.sortMarker()
	if m.follow && !m.progress.Done {
		right += " · following"
	}
	right += " · " + m.progressText() + " "
	return styleTitle.Render(spread(left, right, m.w))
}

// spread puts left and right at the two ends of a line of width w.
func spread(left, right string, w int) string {
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return pad(left+" "+right, w)
	}
	return left + strings.Repeat(" ", gap) + right
}

func (m *Model) progressText() string {
	p := m.progress
	switch {
	case p.Err != "":
		return "read error"
	case p.Live:
		state := "capturing"
		if p.Done {
			state = "stopped"
		}
		state += " " + strconv.FormatInt(p.Packets, 10) + " pkts"
		if n := p.KernelDrops + p.InterfaceDrops; n > 0 {
			// Short, in red: the summary at exit says by whom.
			return state + ", " + styleErr.Render(fmt.Sprintf("%d DROPPED", n))
		}
		return state + ", 0 dropped"
	case p.Done:
		return "done"
	case p.Total > 0:
		return fmt.Sprintf("loading %d%% ", min(p.Bytes*100/p.Total, 100)) + progressBar(p.Bytes, p.Total, 8)
	case p.Bytes > 0:
		return "loading " + export.FormatBytes(p.Bytes)
	}
	return "loading"
}

// progressBar draws done/total as width cells.
func progressBar(done, total int64, width int) string {
	n := int(min(done*int64(width)/max(total, 1), int64(width)))
	return strings.Repeat("█", n) + strings.Repeat("░", width-n)
}

func (m *Model) filterLine() string {
	if m.prompt {
		l := "/" + m.input + "█"
		if w := ansi.StringWidth(l); w > m.w {
			// Show the end, where the user is typing.
			l = "…" + ansi.TruncateLeft(l, w-m.w+1, "")
		}
		return l
	}
	if s := m.expr.String(); s != "" {
		return "filter: " + s
	}
	if m.progress.Err != "" {
		return styleErr.Render(m.progress.Err)
	}
	return styleDim.Render("/ filter")
}

// maxStatusLines bounds how far a long status (a copied command) may grow
// the footer: the whole command should be readable, the list still usable.
const maxStatusLines = 3

// statusLines is the footer: the status message, wrapped, or key hints.
func (m *Model) statusLines() []string {
	if m.prompt && m.inputErr != "" {
		ls := wrapStatus(m.inputErr+" (the list keeps the last valid filter)", m.w)
		for i := range ls {
			ls[i] = styleErr.Render(ls[i])
		}
		return ls
	}
	if m.prompt && m.inputWarn != "" {
		return wrapStatus(m.inputWarn, m.w)
	}
	if m.prompt {
		return []string{hints(m.w, "enter", "keep", "esc", "cancel", "ctrl+u", "clear", "?", "help after enter")}
	}
	if m.quitting {
		return []string{styleErr.Render("quit grpcsniff? q or y quits, any other key stays")}
	}
	if m.save != nil {
		return m.saveLines()
	}
	if m.status == "" {
		return []string{hints(m.w, "enter", "open", "/", "filter", "s", "sort", "S", "stats", "y", "replay", "e", "export", "?", "help", "q", "quit", "w", "pcapng")}
	}
	return wrapStatus(m.status, m.w)
}

func wrapStatus(s string, w int) []string {
	ls := strings.Split(ansi.Hardwrap(s, w, true), "\n")
	if len(ls) > maxStatusLines {
		ls = ls[:maxStatusLines]
	}
	return ls
}

// footerHeight is the number of lines statusLines takes.
func (m *Model) footerHeight() int { return len(m.statusLines()) }

// hints renders key hints, as many as fit.
func hints(w int, kv ...string) string {
	var b strings.Builder
	width := 0
	for i := 0; i+1 < len(kv); i += 2 {
		n := ansi.StringWidth(kv[i]) + 1 + ansi.StringWidth(kv[i+1]) + 2
		if width+n > w {
			break
		}
		width += n
		b.WriteString(styleKey.Render(kv[i]) + " " + styleDim.Render(kv[i+1]) + "  ")
	}
	return strings.TrimRight(b.String(), " ")
}
