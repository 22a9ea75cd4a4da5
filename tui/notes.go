package tui

import (
	"strings"

	"github.com/grpcsniff/grpcsniff/export"
)

// The notes screen lists what the reading noticed beyond the calls
// (Progress.Notes): why connections were not decoded, bytes lost, limits
// hit. An empty list says the same, so that a capture of TLS without keys
// explains itself instead of looking empty.

// openNotes shows the notes screen.
func (m *Model) openNotes() {
	m.screen, m.notesTop = screenNotes, 0
}

// notesLines are the notes wrapped at the width.
func (m *Model) notesLines() []string {
	var out []string
	for _, n := range m.progress.Notes {
		for i, l := range wrapStatus(export.Printable(n), m.w-4) {
			prefix := "  • "
			if i > 0 {
				prefix = "    "
			}
			out = append(out, prefix+l)
		}
	}
	if len(out) == 0 {
		out = append(out, "  nothing to note")
	}
	return out
}

func (m *Model) notesKey(s string) {
	body := m.h - 2
	switch s {
	case "esc", "n", "backspace":
		m.screen = screenList
	case "j", "down":
		m.notesTop++
	case "k", "up":
		m.notesTop--
	}
	m.notesTop = min(max(m.notesTop, 0), max(len(m.notesLines())-body, 0))
}

func (m *Model) renderNotes() string {
	title := " Notes on the capture"
	right := export.Count(len(m.progress.Notes), "note") + " "
	lines := []string{styleTitle.Render(spread(title, right, m.w))}
	notes := m.notesLines()
	for i := m.notesTop; i < len(notes) && len(lines) < m.h-1; i++ {
		lines = append(lines, notes[i])
	}
	for len(lines) < m.h-1 {
		lines = append(lines, "")
	}
	lines = append(lines, hints(m.w, "j/k", "scroll", "esc/q", "back"))
	return fit(lines, m.w)
}

// emptyNotes is what an empty list shows under its first line: the notes,
// which say why nothing was decoded.
func (m *Model) emptyNotes() []string {
	var out []string
	for _, n := range m.progress.Notes {
		out = append(out, "  "+export.Printable(strings.TrimSpace(n)))
	}
	return out
}
