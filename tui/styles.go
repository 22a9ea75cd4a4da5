package tui

import (
	"charm.land/lipgloss/v2"
)

// Styles live in one place. Only ANSI 16 colours are used, so themes decide
// the shades, and meaning never rests on colour alone: status names are
// written out, the selected row has a ">" marker as well as reverse video,
// and Bubble Tea drops the colours (keeping bold and reverse) under NO_COLOR.
var (
	styleTitle    = lipgloss.NewStyle().Bold(true).Reverse(true)
	styleHeader   = lipgloss.NewStyle().Bold(true).Underline(true)
	styleSelected = lipgloss.NewStyle().Reverse(true)
	styleDim      = lipgloss.NewStyle().Faint(true)
	styleOK       = lipgloss.NewStyle().Foreground(lipgloss.Green)
	styleClient   = lipgloss.NewStyle().Foreground(lipgloss.Yellow)
	styleServer   = lipgloss.NewStyle().Foreground(lipgloss.Red)
	styleErr      = lipgloss.NewStyle().Foreground(lipgloss.Red).Bold(true)
	styleSection  = lipgloss.NewStyle().Bold(true)
	styleHiByte   = lipgloss.NewStyle().Reverse(true)
	styleKey      = lipgloss.NewStyle().Bold(true)
	// styleInferred sets apart a method named by inference ("~" marks it
	// too, for a terminal without italics).
	styleInferred = lipgloss.NewStyle().Italic(true)
)

// statusStyle colours a status by whose fault it usually is: green for OK,
// yellow for codes that point at the caller (bad argument, missing entity,
// no permission…), red for codes that point at the server or the network.
func statusStyle(code int) lipgloss.Style {
	switch code {
	case 0:
		return styleOK
	case 1, 3, 5, 6, 7, 9, 11, 16: // CANCELLED, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, FAILED_PRECONDITION, OUT_OF_RANGE, UNAUTHENTICATED
		return styleClient
	}
	// UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, UNIMPLEMENTED,
	// INTERNAL, UNAVAILABLE, DATA_LOSS and codes outside the canonical set.
	return styleServer
}
