package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/filter"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

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
	// methods are the methods listed, and methodLine the line of each; sel
	// is the one selected (enter lists its calls).
	methods    []methodRow
	methodLine []int
	sel        int
	// axis is how the chart over time cut the time, axisLine the line of
	// its time labels; while timeOn, that line shows cursor, the stretch
	// of columns enter lists the calls of (timerange.go).
	axis     timeAxis
	axisLine int
	cursor   timeWindow
	timeOn   bool
}

// factsOf is what the statistics count of a record, as
// export.FactsOf reads them from a call.
func (m *Model) factsOf(r *rec) export.CallFacts {
	f := export.CallFacts{
		Method: m.in.strs[r.method], Protocol: r.proto, Latency: time.Duration(r.durKey()),
		Timed:   r.has(fRequestHeaders) && !r.has(fBeforeCapture),
		ReqMsgs: int(r.reqs), RespMsgs: int(r.resps),
	}
	f.ReqBytes, f.RespBytes = m.in.bytesOf(r)
	f.Method = export.StatsMethod(f.Method, r.has(fMethodUnknown), m.in.strs[r.inferred])
	if r.code >= 0 {
		f.Status = m.in.names[r.status]
	} else {
		f.Status = export.NoStatus(r.has(fStatusUnknown), r.state)
	}
	return f
}

// isError is what --stats counts as an error: a call without the status OK.
func isError(r *rec) bool { return r.code != 0 }

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
// The figures per method are export.Stats', the same as --stats gives.
func (m *Model) computeStats() {
	methods := export.NewStats()
	conns := map[uint64]*connStats{}
	var ended []int32
	for _, i := range m.rows {
		r := &m.recs[i]
		if r.state == 0 {
			continue // still open: no outcome to count yet
		}
		ended = append(ended, i)
		f := m.factsOf(r)
		methods.Add(&f)
		cs := conns[uint64(r.conn)]
		if cs == nil {
			cs = &connStats{id: uint64(r.conn), client: m.in.addrs[r.client].String(), server: m.in.addrs[r.server].String()}
			conns[uint64(r.conn)] = cs
		}
		cs.calls++
		up, down := m.in.bytesOf(r)
		cs.upB += up
		cs.downB += down
		if isError(r) {
			cs.errors++
		}
	}
	v := &statsView{}
	if old := m.stats; old != nil {
		v.top, v.sel, v.cursor, v.timeOn = old.top, old.sel, old.cursor, old.timeOn
	}
	ms := methods.Methods()
	v.lines, v.axis, v.axisLine = m.statsLines(ms, conns, ended)
	if v.axis.width == 0 {
		v.timeOn = false
	}
	v.cursor.axis = v.axis
	for _, s := range ms {
		v.methods = append(v.methods, methodRow{s.Method, s.Protocol})
	}
	v.methodLine = methodLineIndexes(v.lines, len(ms))
	v.sel = min(v.sel, max(len(ms)-1, 0))
	m.stats = v
	m.statsAt = m.now()
}

// methodRow is what a row of the methods table counts: a method's calls
// over one protocol.
type methodRow struct {
	method string
	proto  grpcframe.Protocol
}

// overSeveral reports whether the method has a row for more than one
// protocol, so that listing one row's calls must name its protocol.
func (v *statsView) overSeveral(method string) bool {
	n := 0
	for _, r := range v.methods {
		if r.method == method {
			n++
		}
	}
	return n > 1
}

// methodLineIndexes finds the table rows of the n methods: the lines after
// the Methods heading that are not status lines.
func methodLineIndexes(lines []string, n int) []int {
	var at []int
	for i := 2; i < len(lines) && len(at) < n; i++ {
		if !strings.HasPrefix(lines[i], "    ") {
			at = append(at, i)
		}
	}
	return at
}

// statsLines renders the methods (as --stats counts them), their traffic
// when the width has no room for it beside them, and the connections.
func (m *Model) statsLines(ms []*export.MethodStats, conns map[uint64]*connStats, calls []int32) ([]string, timeAxis, int) {
	wide := m.w >= 130
	nameW := len("METHOD")
	for _, s := range ms {
		nameW = max(nameW, len(m.statsName(s, wide)))
	}
	lat := 5 + 1 + 6 + 4*9
	traffic := 4*9 + 4
	avail := m.w - 2 - lat
	if wide {
		avail -= traffic
	}
	nameW = min(nameW, max(avail-1, 10))
	out := m.methodLines(ms, nameW, wide)
	out = append(out, m.latencyLines(ms, nameW, wide)...)
	chart, axis := m.timeLines(calls)
	axisLine := len(out) + len(chart) - 1
	out = append(out, chart...)
	if !wide {
		out = append(out, "", styleSection.Render("Traffic"))
		out = append(out, styleHeader.Render(pad("METHOD", nameW)+"   ↑MSGS  ↑BYTES   ↓MSGS  ↓BYTES"))
		for _, s := range ms {
			out = append(out, fmt.Sprintf("%s %7d %7s %7d %7s", pad(m.statsName(s, false), nameW), s.ReqMsgs, export.FormatBytes(s.ReqBytes), s.RespMsgs, export.FormatBytes(s.RespBytes)))
		}
	}
	return append(out, connLines(conns)...), axis, axisLine
}

// statsName is a method's name in the statistics: without its package
// unless the screen is wide.
func (m *Model) statsName(s *export.MethodStats, wide bool) string {
	name := s.Method
	if !wide {
		name = shortMethod(name)
	}
	if s.Protocol != grpcframe.ProtoGRPC {
		name += " [" + s.Protocol.String() + "]"
	}
	return export.Printable(name)
}

// methodLines is the table of methods: calls, errors and latencies (and
// traffic when wide), each with its statuses below when not all were OK.
func (m *Model) methodLines(ms []*export.MethodStats, nameW int, wide bool) []string {
	out := []string{styleSection.Render("Methods")}
	head := pad("METHOD", nameW) + " CALLS ERRORS      P50      P90      P99      MAX"
	if wide {
		head += "   ↑MSGS  ↑BYTES   ↓MSGS  ↓BYTES"
	}
	out = append(out, styleHeader.Render(head))
	for _, s := range ms {
		l := fmt.Sprintf("%s %5d %6d %8s %8s %8s %8s", pad(m.statsName(s, wide), nameW), s.Calls, s.Errors,
			s.LatencyText(0.5), s.LatencyText(0.9), s.LatencyText(0.99), s.LatencyText(1))
		if wide {
			l += fmt.Sprintf(" %7d %7s %7d %7s", s.ReqMsgs, export.FormatBytes(s.ReqBytes), s.RespMsgs, export.FormatBytes(s.RespBytes))
		}
		out = append(out, l)
		if s.Errors > 0 || len(s.Statuses) > 1 {
			out = append(out, "    "+s.StatusText())
		}
	}
	return out
}

// connLines is the table of connections.
func connLines(conns map[uint64]*connStats) []string {
	cs := make([]*connStats, 0, len(conns))
	for _, c := range conns {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *connStats) int { return cmp.Compare(a.id, b.id) })
	out := []string{"", styleSection.Render("Connections")}
	out = append(out, styleHeader.Render("CONN CLIENT → SERVER                               CALLS ERRORS  ↑BYTES  ↓BYTES"))
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%4d %s %5d %6d %7s %7s", c.id, pad(c.client+" → "+c.server, 45),
			c.calls, c.errors, export.FormatBytes(c.upB), export.FormatBytes(c.downB)))
	}
	return out
}

func (m *Model) statsKey(s string) {
	v := m.stats
	body := m.h - 2
	if m.timeKey(s) {
		return
	}
	switch s {
	case "esc", "S", "backspace":
		if s == "esc" && v.timeOn {
			v.timeOn = false
			return
		}
		m.screen = screenList
	case "j", "down":
		m.selectMethod(v.sel + 1)
		return
	case "k", "up":
		m.selectMethod(v.sel - 1)
		return
	case "enter":
		if v.timeOn {
			m.listTime()
		} else {
			m.listMethod()
		}
		return
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
	scope := export.Count(len(m.rows)-m.openRows(), "call")
	if n := m.openRows(); n > 0 {
		scope += fmt.Sprintf(" (and %d open, counted when they end)", n)
	}
	if m.expr.String() != "" {
		scope += " matching " + m.expr.String()
	}
	if m.window != nil {
		scope += " in " + m.window.text(m.base.UnixNano())
	}
	lines := []string{styleTitle.Render(spread(" Statistics", scope+" ", m.w))}
	body := m.h - 2
	selLine := -1
	if v.sel < len(v.methodLine) {
		selLine = v.methodLine[v.sel]
	}
	for i := v.top; i < len(v.lines) && len(lines) <= body; i++ {
		if i == v.axisLine && v.timeOn {
			lines = append(lines, " "+m.timeCursorLine())
			continue
		}
		if i == selLine {
			lines = append(lines, styleSelected.Render(pad(">"+ansi.Strip(v.lines[i]), m.w)))
			continue
		}
		lines = append(lines, " "+v.lines[i])
	}
	for len(lines) < m.h-1 {
		lines = append(lines, "")
	}
	lines = append(lines, hints(m.w, "j/k", "method", "h/l", "time", "enter", "calls", "pgdn/pgup", "scroll", "esc/q", "back", "?", "help"))
	return fit(lines, m.w)
}

// openRows counts the listed calls still open.
func (m *Model) openRows() int {
	n := 0
	if len(m.open) == 0 {
		return 0
	}
	for _, i := range m.rows {
		if m.recs[i].state == 0 {
			n++
		}
	}
	return n
}

// selectMethod selects the i-th method, and scrolls to show it.
func (m *Model) selectMethod(i int) {
	v := m.stats
	if len(v.methods) == 0 {
		return
	}
	v.sel = min(max(i, 0), len(v.methods)-1)
	line, body := v.methodLine[v.sel], m.h-2
	if line < v.top {
		v.top = max(line-2, 0)
	}
	if line >= v.top+body {
		v.top = line - body + 1
	}
}

// listMethod goes back to the list, showing the selected method's calls
// among those the filter showed.
func (m *Model) listMethod() {
	v := m.stats
	if v.sel >= len(v.methods) {
		return
	}
	row := v.methods[v.sel]
	expr := fmt.Sprintf("method == %q", row.method)
	if inferred, ok := strings.CutSuffix(row.method, export.InferredSuffix); ok {
		expr = fmt.Sprintf("method_inferred == %q", inferred)
	}
	if v.overSeveral(row.method) {
		expr += fmt.Sprintf(" and protocol == %q", row.proto)
	}
	if cur := m.expr.String(); cur != "" {
		expr = "(" + cur + ") and " + expr
	}
	e, err := filter.ParseWith(expr, filter.Options{Schema: m.opts.Schema})
	if err != nil {
		m.status = "cannot list " + row.method + ": " + err.Error()
		return
	}
	m.setFilter(e)
	m.screen = screenList
}
