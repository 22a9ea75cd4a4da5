package tui

import (
	"strings"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/grpcsniff/grpcsniff/filter"
)

func (m *Model) listKey(s string) tea.Cmd {
	page := m.listHeight() - 1
	switch s {
	case "j", "down":
		m.moveCursor(1)
	case "k", "up":
		m.moveCursor(-1)
	case "ctrl+d", "pgdown", "space":
		m.moveCursor(page)
	case "ctrl+u", "pgup":
		m.moveCursor(-page)
	case "g", "home":
		m.moveCursor(-len(m.rows))
	case "G", "end":
		m.moveCursor(len(m.rows))
	case "enter", "l", "right", "tab":
		if i := m.selected(); i >= 0 {
			m.openDetail(i)
		}
	case "/":
		m.prompt, m.input, m.inputErr, m.before = true, m.expr.String(), "", m.expr
	case "s":
		m.cycleSort()
		m.status = "sorted by " + m.sortBy.String() + " " + m.sortMarker() + " (r reverses)"
	case "r":
		m.reverseSort()
		m.status = "sorted by " + m.sortBy.String() + " " + m.sortMarker()
	case "S":
		m.openStats()
	case "n":
		m.openNotes()
	case "c":
		if i := m.selected(); i >= 0 {
			m.openWaterfall(i)
		}
	case "y":
		if i := m.selected(); i >= 0 {
			return m.withCall(i, m.copyGrpcurl)
		}
	case "Y":
		if i := m.selected(); i >= 0 {
			return m.withCall(i, m.saveGrpcurl)
		}
	case "e":
		return m.export(m.callsOf(m.rows), len(m.rows))
	case "w":
		return m.writePcapng(m.connsOf(m.rows))
	case "esc":
		if !m.clearTime() {
			m.status = ""
		}
	}
	return nil
}

// promptKey edits the filter. Every edit is parsed at once: a valid filter
// is applied as typed, an invalid one is shown with its error while the
// list keeps the last valid filter.
func (m *Model) promptKey(k tea.KeyPressMsg) {
	switch k.String() {
	case "enter":
		m.prompt = false
		switch {
		case m.inputErr != "":
			m.status = "filter not applied: " + m.inputErr
		case m.inputWarn != "":
			m.status = m.inputWarn
		}
		m.inputErr, m.inputWarn = "", ""
		if m.needsReading(m.expr) {
			m.next = m.filterByReading(m.expr)
		}
		return
	case "esc":
		m.prompt, m.inputErr, m.inputWarn = false, "", ""
		m.setFilter(m.before)
		return
	default:
		if !editLine(&m.input, k) {
			return
		}
	}
	e, err := filter.ParseWith(m.input, filter.Options{Schema: m.opts.Schema})
	if err != nil {
		m.inputErr = err.Error()
		return
	}
	m.inputErr, m.inputWarn = "", strings.Join(e.Warnings(), "; ")
	m.applyFilter(e)
	if m.needsReading(e) {
		// Read the capture once, on enter, not at every key.
		m.status = "this filter reads headers or messages: enter runs it over the whole capture"
	}
}

// editLine applies a key to a line being typed: backspace, ctrl+u (clear),
// space, or text. It reports whether the line changed.
func editLine(line *string, k tea.KeyPressMsg) bool {
	switch k.String() {
	case "backspace":
		if *line == "" {
			return false
		}
		_, n := utf8.DecodeLastRuneInString(*line)
		*line = (*line)[:len(*line)-n]
	case "ctrl+u":
		*line = ""
	case "space":
		*line += " "
	default:
		if k.Text == "" {
			return false
		}
		*line += k.Text
	}
	return true
}
