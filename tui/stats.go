package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// methodStats aggregates the calls of one method.
type methodStats struct {
	name             string
	calls, errors    int
	byStatus         map[string]int
	durs             []time.Duration
	upMsgs, downMsgs int
	upB, downB       int64
}

// connStats aggregates the calls of one connection.
type connStats struct {
	id             uint64
	client, server string
	calls, errors  int
	upB, downB     int64
}

// statsView is the statistics screen over the calls the filter selects:
// computed when opened and again as calls arrive (see refreshStats).
type statsView struct {
	lines []string
	top   int
}

func isError(c *grpcframe.Call) bool { return c.Status == nil || c.Status.Code != 0 }

func (m *Model) openStats() {
	m.stats = nil
	m.computeStats()
	m.screen = screenStats
}

// statsEvery bounds how often the statistics are recomputed while calls
// arrive: each pass walks every listed call, and a live capture can bring
// thousands a second.
const statsEvery = 200 * time.Millisecond

// statsTickMsg asks for the recomputation that refreshStats scheduled.
type statsTickMsg struct{}

// refreshStats keeps the open statistics current as calls arrive: at once
// when the last pass is old enough, otherwise once at the end of the
// interval, so that a burst of batches costs one pass.
func (m *Model) refreshStats() tea.Cmd {
	if m.stats == nil || m.screen != screenStats && (m.screen != screenHelp || m.back != screenStats) {
		return nil
	}
	wait := statsEvery - m.now().Sub(m.statsAt)
	if wait <= 0 {
		m.computeStats()
		return nil
	}
	if m.statsPending {
		return nil
	}
	m.statsPending = true
	return tea.Tick(wait, func(time.Time) tea.Msg { return statsTickMsg{} })
}

// computeStats aggregates the listed calls, keeping the scroll position.
func (m *Model) computeStats() {
	methods := map[string]*methodStats{}
	conns := map[uint64]*connStats{}
	for _, i := range m.rows {
		c := m.calls[i]
		name := c.Method
		if c.MethodUnknown {
			name = "(method unknown)"
		}
		ms := methods[name]
		if ms == nil {
			ms = &methodStats{name: name, byStatus: map[string]int{}}
			methods[name] = ms
		}
		ms.calls++
		if !c.End.IsZero() && !c.Start.IsZero() {
			ms.durs = append(ms.durs, c.Duration())
		}
		up, down := grpcframe.WireBytes(c.Requests), grpcframe.WireBytes(c.Responses)
		ms.upMsgs += len(c.Requests)
		ms.downMsgs += len(c.Responses)
		ms.upB += up
		ms.downB += down
		cs := conns[c.ConnID]
		if cs == nil {
			cs = &connStats{id: c.ConnID, client: c.Client.String(), server: c.Server.String()}
			conns[c.ConnID] = cs
		}
		cs.calls++
		cs.upB += up
		cs.downB += down
		if isError(c) {
			ms.errors++
			cs.errors++
			st := "no status"
			if c.Status != nil {
				st = c.Status.Name
			}
			ms.byStatus[st]++
		}
	}
	top := 0
	if m.stats != nil {
		top = m.stats.top
	}
	m.stats = &statsView{lines: m.statsLines(methods, conns), top: top}
	m.statsAt = m.now()
}

// percentile is the nearest-rank percentile of sorted durations, "-" when
// no call of the method has both ends captured.
func percentile(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "-"
	}
	k := (p*len(d) + 99) / 100
	return export.FormatDuration(d[min(max(k-1, 0), len(d)-1)])
}

func (m *Model) statsLines(methods map[string]*methodStats, conns map[uint64]*connStats) []string {
	ms := make([]*methodStats, 0, len(methods))
	nameW := 6
	for _, s := range methods {
		ms = append(ms, s)
		slices.Sort(s.durs)
	}
	slices.SortFunc(ms, func(a, b *methodStats) int { return cmp.Or(cmp.Compare(b.calls, a.calls), cmp.Compare(a.name, b.name)) })
	wide := m.w >= 130
	for _, s := range ms {
		n := s.name
		if !wide {
			n = shortMethod(n)
		}
		nameW = max(nameW, len(n))
	}
	lat := 5 + 1 + 6 + 4*9
	traffic := 4*9 + 4
	avail := m.w - 2 - lat
	if wide {
		avail -= traffic
	}
	nameW = min(nameW, max(avail-1, 10))

	var out []string
	out = append(out, styleSection.Render("Methods"))
	head := pad("METHOD", nameW) + " CALLS ERRORS      P50      P90      P99      MAX"
	if wide {
		head += "   ↑MSGS  ↑BYTES   ↓MSGS  ↓BYTES"
	}
	out = append(out, styleHeader.Render(head))
	for _, s := range ms {
		n := s.name
		if !wide {
			n = shortMethod(n)
		}
		l := fmt.Sprintf("%s %5d %6d %8s %8s %8s %8s", pad(n, nameW), s.calls, s.errors,
			percentile(s.durs, 50), percentile(s.durs, 90), percentile(s.durs, 99), percentile(s.durs, 100))
		if wide {
			l += fmt.Sprintf(" %7d %7s %7d %7s", s.upMsgs, export.FormatBytes(s.upB), s.downMsgs, export.FormatBytes(s.downB))
		}
		out = append(out, l)
		if len(s.byStatus) > 0 {
			out = append(out, "    errors: "+byStatus(s.byStatus))
		}
	}
	if !wide {
		out = append(out, "", styleSection.Render("Traffic"))
		out = append(out, styleHeader.Render(pad("METHOD", nameW)+"   ↑MSGS  ↑BYTES   ↓MSGS  ↓BYTES"))
		for _, s := range ms {
			out = append(out, fmt.Sprintf("%s %7d %7s %7d %7s", pad(shortMethod(s.name), nameW), s.upMsgs, export.FormatBytes(s.upB), s.downMsgs, export.FormatBytes(s.downB)))
		}
	}
	cs := make([]*connStats, 0, len(conns))
	for _, c := range conns {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *connStats) int { return cmp.Compare(a.id, b.id) })
	out = append(out, "", styleSection.Render("Connections"))
	out = append(out, styleHeader.Render("CONN CLIENT → SERVER                               CALLS ERRORS  ↑BYTES  ↓BYTES"))
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%4d %s %5d %6d %7s %7s", c.id, pad(c.client+" → "+c.server, 45),
			c.calls, c.errors, export.FormatBytes(c.upB), export.FormatBytes(c.downB)))
	}
	return out
}

// byStatus lists error counts, most frequent first: "NOT_FOUND 3, UNAVAILABLE 1".
func byStatus(m map[string]int) string {
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range m {
		l = append(l, kv{k, n})
	}
	slices.SortFunc(l, func(a, b kv) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.k, b.k)) })
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = fmt.Sprintf("%s %d", e.k, e.n)
	}
	return strings.Join(parts, ", ")
}

func (m *Model) statsKey(s string) {
	v := m.stats
	body := m.h - 2
	switch s {
	case "esc", "S", "backspace":
		m.screen = screenList
	case "j", "down":
		v.top++
	case "k", "up":
		v.top--
	case "ctrl+d", "pgdown", "space":
		v.top += body - 1
	case "ctrl+u", "pgup":
		v.top -= body - 1
	case "g", "home":
		v.top = 0
	case "G", "end":
		v.top = len(v.lines)
	}
	v.top = min(max(v.top, 0), max(len(v.lines)-body, 0))
}

func (m *Model) renderStats() string {
	v := m.stats
	scope := export.Count(len(m.rows), "call")
	if m.expr.String() != "" {
		scope += " matching " + m.expr.String()
	}
	lines := []string{styleTitle.Render(spread(" Statistics", scope+" ", m.w))}
	body := m.h - 2
	for i := v.top; i < len(v.lines) && len(lines) <= body; i++ {
		lines = append(lines, " "+v.lines[i])
	}
	for len(lines) < m.h-1 {
		lines = append(lines, "")
	}
	lines = append(lines, hints(m.w, "j/k", "scroll", "esc/q", "back", "?", "help"))
	return fit(lines, m.w)
}
