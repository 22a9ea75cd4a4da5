package tui

import (
	"fmt"
	"slices"
	"strings"
)

// keyHelp lists every key, by screen. It is the single source for the help
// screen, so a key added without an entry here is a bug a reviewer sees.
var keyHelp = [][2]string{
	{"", "Everywhere"},
	{"?", "this help (again to close)"},
	{"q", "back to the list; in the list, quit (asks first)"},
	{"ctrl+c", "quit at once"},
	{"", "Call list"},
	{"j k, ↓ ↑, wheel", "move"},
	{"click", "select a call (click it again to open it)"},
	{"ctrl+d/u, pgdn/pgup", "page down, up"},
	{"g G, home end", "first, last call (the last call resumes following)"},
	{"enter, l, →, tab", "open the call"},
	{"/", "filter (enter keeps it, esc restores the previous one)"},
	{"s", "sort: time ▲, duration ▼, method ▲, status ▼ (errors first)"},
	{"r", "reverse the sort"},
	{"S", "statistics of the listed calls"},
	{"n", "notes on the capture: connections not decoded and why, bytes lost, limits hit"},
	{"c", "the call's connection: its calls on its time axis (a waterfall)"},
	{"y", "copy a command repeating the call (OSC 52): grpcurl, buf curl (Connect, gRPC-Web), curl (Twirp)"},
	{"Y", "save that command to a file"},
	{"e", "export the listed calls as NDJSON"},
	{"w", "write the packets of the listed calls' connections to a pcapng (needs -r FILE)"},
	{"esc", "show the whole capture again after a stretch of time was chosen; clear the status line"},
	{"", "Call detail"},
	{"j k, ↓ ↑, wheel", "move in the tree"},
	{"click", "select a line (again: expand or collapse it)"},
	{"enter, l, →", "expand a message or field"},
	{"h, ←", "collapse, or go to the enclosing field"},
	{"tab", "switch focus: tree ↔ hex pane (j k then scroll the hex)"},
	{"[ ], p n", "previous, next call"},
	{"y, Y", "copy the command that repeats the call, save it to a file"},
	{"e", "export this call as NDJSON"},
	{"w", "write the packets of this call's connection to a pcapng"},
	{"esc", "back to the list"},
	{"", "Statistics"},
	{"j k", "select a method (enter lists its calls)"},
	{"h l, ← →", "a stretch of the chart over time (enter lists the calls that started in it)"},
	{"H L", "narrow, widen that stretch"},
	{"pgdn pgup", "scroll (the figures follow arriving calls)"},
	{"esc, S", "back to the list"},
	{"", "Connection (waterfall)"},
	{"j k, enter", "move, open the call"},
	{"esc, c", "back to the list"},
	{"", "Notes"},
	{"j k", "scroll"},
	{"esc, n", "back to the list"},
	{"", "Filter prompt"},
	{"enter", "keep the filter (an invalid one is not applied)"},
	{"esc", "cancel"},
	{"backspace, ctrl+u", "delete a character, everything"},
	{"", "Filter examples"},
	{"", "  status != OK          method ~ greeter      duration > 100ms"},
	{"", "  server == 10.0.0.5:50051   state == reset   messages > 3   bytes > 1KB"},
	{"", "  metadata[x-user] == bob    req.1 == \"you\"   resp.1 ~ hello"},
	{"", "  status == none (no status) · and or not && || ! ( )"},
	{"", "  RouteChat  \"bearer x\"   a word or quoted text alone searches method and metadata"},
	{"", "Markers"},
	{"", "  [reset] [refused] [closed] [cut] [pre-capture] [incomplete]: how a call ended"},
	{"", "  [lost]: bytes of the call were not captured · status ?: trailers unreadable"},
	{"", "  status -: no grpc-status seen · TIME: seconds since the first call"},
	{"", "  with a schema: name (1) type value · ? unknown field · ! schema_error"},
}

// helpLines is keyHelp and the memory bounds in force, which depend on the
// options: a user who sees "N older calls dropped" or "(first 64 KiB
// kept)" finds here what they mean.
func (m *Model) helpLines() [][2]string {
	calls := "  calls kept: all of them (no MaxCalls bound)"
	if m.opts.MaxCalls > 0 {
		calls = fmt.Sprintf("  calls kept: the last %d (MaxCalls); older ones are dropped and the title", m.opts.MaxCalls)
	}
	msg := "  message bytes kept: all (no MaxMessageBytes bound)"
	if m.opts.MaxMessageBytes > 0 {
		msg = fmt.Sprintf("  message bytes kept: the %s of each message (MaxMessageBytes);", keptText(m.opts.MaxMessageBytes))
	}
	ls := append(slices.Clone(keyHelp), [2]string{"", "Memory"}, [2]string{"", calls})
	if m.opts.MaxCalls > 0 {
		ls = append(ls, [2]string{"", "  counts them: N older calls dropped"})
	}
	if b := m.keepBudget(); b >= 0 {
		ls = append(ls, [2]string{"", fmt.Sprintf("  in full: up to %d MiB of calls; the others are a record each,", b>>20)},
			[2]string{"", "  read from the capture again when opened, copied or exported"})
	}
	ls = append(ls, [2]string{"", msg})
	if m.opts.MaxMessageBytes > 0 {
		ls = append(ls, [2]string{"", "  a longer message's line says (" + keptText(m.opts.MaxMessageBytes) + " kept)"})
	}
	return ls
}

func (m *Model) helpKey(s string) {
	switch s {
	case "esc":
		m.screen = m.back
	case "j", "down":
		m.helpTop++
	case "k", "up":
		m.helpTop--
	case "g", "home":
		m.helpTop = 0
	case "G", "end":
		m.helpTop = len(m.helpLines())
	}
	m.helpTop = min(max(m.helpTop, 0), max(len(m.helpLines())-(m.h-2), 0))
}

func (m *Model) renderHelp() string {
	lines := []string{styleTitle.Render(spread(" Keys", "j/k g/G scroll · esc or ? to close ", m.w))}
	help := m.helpLines()
	for i := m.helpTop; i < len(help) && len(lines) < m.h-1; i++ {
		k, v := help[i][0], help[i][1]
		switch {
		case k == "" && !strings.HasPrefix(v, " "):
			lines = append(lines, styleSection.Render(v))
		case k == "":
			lines = append(lines, styleDim.Render(v))
		default:
			lines = append(lines, "  "+styleKey.Render(pad(k, 20))+" "+v)
		}
	}
	for len(lines) < m.h-1 {
		lines = append(lines, "")
	}
	lines = append(lines, hints(m.w, "j/k", "scroll", "esc", "back"))
	return fit(lines, m.w)
}
