package tui

import (
	"context"
	"fmt"
	"net/netip"

	tea "charm.land/bubbletea/v2"

	"github.com/grpcsniff/grpcsniff/filter"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// A capture of millions of calls cannot keep them all: the list keeps a
// record of each (store.go), and the full calls only while their estimated
// size fits Options.KeepBytes. A call that was let go is decoded again
// from the capture file (Options.Reload) when it is opened, copied or
// exported, and a filter that reads what records do not hold (metadata,
// message fields, searches) runs over the capture again, as -Y would.

// Reloader decodes the capture again, with the settings of the first
// decoding, and calls found with each call want accepts, in the same order
// and with the same connection numbers, until found returns false or the
// capture ends. With a scope, it may decode only the packets of that
// connection: much faster, but the connections are then numbered anew, so
// want must tell the call otherwise (by stream and start).
type Reloader func(ctx context.Context, scope *Scope, want, found func(*grpcframe.Call) bool) error

// Scope names the connection a Reloader may narrow its reading to.
type Scope struct{ Client, Server netip.AddrPort }

// DefaultKeepBytes is the default of Options.KeepBytes.
const DefaultKeepBytes = 64 << 20

// reloadCache is how many calls read again stay kept, so that going back
// and forth between a few calls reads the capture once.
const reloadCache = 32

// callSize estimates the memory a call holds, for the keep budget.
func callSize(c *grpcframe.Call) int64 {
	n := int64(512)
	for _, ms := range [][]*grpcframe.Message{c.Requests, c.Responses} {
		for _, msg := range ms {
			n += 128 + int64(cap(msg.Data))
		}
	}
	for _, hs := range [][]h2decode.HeaderField{c.RequestHeaders, c.ResponseHeaders, c.Trailers} {
		for _, h := range hs {
			n += 48 + int64(len(h.Name)+len(h.Value))
		}
	}
	return n
}

// keepBudget is the bytes of calls kept in full; negative: no bound.
func (m *Model) keepBudget() int64 {
	switch {
	case m.opts.Reload == nil || m.opts.KeepBytes < 0:
		return -1
	case m.opts.KeepBytes == 0:
		return DefaultKeepBytes
	}
	return m.opts.KeepBytes
}

// keepOrRelease keeps call i in full if the budget allows, and otherwise
// lets it go: its record stays. Open calls are always kept (they are
// replaced as they grow). It reports whether it let the call go.
func (m *Model) keepOrRelease(i int32) bool {
	c, budget := m.calls[i], m.keepBudget()
	if c == nil || c.State == 0 || budget < 0 {
		return false
	}
	if size := callSize(c); m.keptBytes+size <= budget {
		m.keptBytes += size
		return false
	}
	m.release(i)
	return true
}

// release lets call i go, with what the UI kept about its messages.
func (m *Model) release(i int32) {
	c := m.calls[i]
	if c == nil {
		return
	}
	m.forgetCut(c)
	m.calls[i] = nil
	m.released++
}

// forgetCut forgets what the UI kept about c's cut messages.
func (m *Model) forgetCut(c *grpcframe.Call) {
	if len(m.cut) == 0 {
		return
	}
	for _, ms := range [][]*grpcframe.Message{c.Requests, c.Responses} {
		for _, msg := range ms {
			delete(m.cut, msg)
		}
	}
}

// reloadedMsg brings a call read again from the capture.
type reloadedMsg struct {
	i       int32 // the call's index when it was asked for
	dropped int   // Model.dropped then, to follow the index if it shifted
	call    *grpcframe.Call
	err     error
	then    func(*grpcframe.Call) tea.Cmd
}

// withCall runs then on call i, reading it from the capture again first
// if it was let go.
func (m *Model) withCall(i int32, then func(*grpcframe.Call) tea.Cmd) tea.Cmd {
	if c := m.calls[i]; c != nil {
		return then(c)
	}
	if m.opts.Reload == nil {
		m.status = "this call is no longer kept"
		return nil
	}
	r, reload, dropped := m.recs[i], m.opts.Reload, m.dropped
	scope := &Scope{Client: m.in.addrs[r.client], Server: m.in.addrs[r.server]}
	m.status = fmt.Sprintf("reading call %d/%d from the capture again…", r.conn, r.stream)
	return func() tea.Msg {
		msg := reloadedMsg{i: i, dropped: dropped, then: then}
		msg.call, msg.err = reloadOne(reload, scope, &r)
		return msg
	}
}

// reloadOne reads the call of record r again: from its connection's
// packets alone, and if it is not found so (the decoding of the whole
// capture can differ, when it hit its limits), from the whole capture.
func reloadOne(reload Reloader, scope *Scope, r *rec) (*grpcframe.Call, error) {
	var got *grpcframe.Call
	found := func(c *grpcframe.Call) bool { got = c; return false }
	sameStart := func(c *grpcframe.Call) bool {
		if !r.has(fStarted) {
			return c.Start.IsZero()
		}
		return c.Start.UnixNano() == r.start
	}
	err := reload(context.Background(), scope, func(c *grpcframe.Call) bool {
		return c.StreamID == r.stream && sameStart(c)
	}, found)
	if got != nil || err != nil {
		if got != nil {
			got.ConnID = uint64(r.conn) // numbered anew in the narrowed reading
		}
		return got, err
	}
	err = reload(context.Background(), nil, func(c *grpcframe.Call) bool {
		return c.ConnID == uint64(r.conn) && c.StreamID == r.stream
	}, found)
	return got, err
}

// reloaded puts a call read again in its place and runs what waited for it.
func (m *Model) reloaded(msg reloadedMsg) tea.Cmd {
	i := msg.i - int32(m.dropped-msg.dropped)
	switch {
	case msg.err != nil:
		m.status = "could not read the call from the capture again: " + msg.err.Error()
		return nil
	case msg.call == nil:
		m.status = "the call was not found in the capture file again: has the file changed? (a live capture writes -w when the network is quiet: try again in a moment)"
		return nil
	case i < 0 || int(i) >= len(m.calls):
		m.status = "the call was dropped meanwhile"
		return nil
	}
	c := m.bound(msg.call)
	if m.calls[i] == nil {
		m.calls[i] = c
		m.released--
		m.reloadedIdx = append(m.reloadedIdx, i)
		if len(m.reloadedIdx) > reloadCache {
			m.release(m.reloadedIdx[0])
			m.reloadedIdx = m.reloadedIdx[1:]
		}
	}
	m.status = ""
	return msg.then(m.calls[i])
}

// callsOf returns, for a command to run, a function giving the calls of
// rows in order, those let go read from the capture again.
func (m *Model) callsOf(rows []int32) func() ([]*grpcframe.Call, error) {
	calls := make([]*grpcframe.Call, len(rows))
	missing := map[callKey]int{}
	for k, i := range rows {
		if calls[k] = m.calls[i]; calls[k] == nil {
			r := &m.recs[i]
			missing[callKey{uint64(r.conn), r.stream}] = k
		}
	}
	reload := m.opts.Reload
	return func() ([]*grpcframe.Call, error) {
		if len(missing) == 0 {
			return calls, nil
		}
		if reload == nil {
			return nil, fmt.Errorf("%d of the calls are no longer kept", len(missing))
		}
		left := len(missing)
		err := reload(context.Background(), nil, func(c *grpcframe.Call) bool {
			_, ok := missing[keyOf(c)]
			return ok
		}, func(c *grpcframe.Call) bool {
			calls[missing[keyOf(c)]] = c
			left--
			return left > 0
		})
		if err == nil && left > 0 {
			err = fmt.Errorf("%d of the calls were not found in the capture file again: has the file changed? (a live capture writes -w when the network is quiet: try again in a moment)", left)
		}
		return calls, err
	}
}

// filteredMsg brings the calls a filter selects, found by reading the
// capture again.
type filteredMsg struct {
	expr *filter.Expr
	keys map[callKey]bool
	err  error
}

// filterByReading runs e over the whole capture again, for a filter that
// reads more than records hold while some calls were let go.
func (m *Model) filterByReading(e *filter.Expr) tea.Cmd {
	reload := m.opts.Reload
	m.status = "filtering: reading the capture again (" + e.String() + ")…"
	m.filtering = e
	return func() tea.Msg {
		msg := filteredMsg{expr: e, keys: map[callKey]bool{}}
		msg.err = reload(context.Background(), nil, e.Match, func(c *grpcframe.Call) bool {
			msg.keys[keyOf(c)] = true
			return true
		})
		return msg
	}
}

// filtered shows the rows a filter selected by reading the capture.
func (m *Model) filtered(msg filteredMsg) {
	if m.filtering != msg.expr {
		return // a newer filter replaced it
	}
	m.filtering = nil
	if msg.err != nil {
		m.status = "filtering failed: " + msg.err.Error()
		return
	}
	keep := m.selected()
	m.rows = m.rows[:0]
	for i := range m.recs {
		r := &m.recs[i]
		if c := m.calls[i]; c != nil && c.State == 0 && m.expr.Match(c) || msg.keys[callKey{uint64(r.conn), r.stream}] {
			m.rows = append(m.rows, int32(i))
		}
	}
	if m.sortBy != sortTime {
		m.sortRows()
	}
	m.reselect(keep)
	m.status = ""
}
