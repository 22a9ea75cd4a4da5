package tui

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// bound returns the call as the UI keeps it: messages longer than
// MaxMessageBytes are replaced by copies holding their first bytes, so that
// the rest can be freed (a sub-slice would keep the whole array alive). The
// copies are marked Truncated with a reason, so that grpcurl leaves them
// out of -d and an NDJSON export says they are partial. The call itself is
// copied only when one of its messages is cut, since calls are shared and
// never modified once delivered.
func (m *Model) bound(c *grpcframe.Call) *grpcframe.Call {
	limit := m.opts.MaxMessageBytes
	if limit < 0 {
		return c
	}
	req, rcut := m.cutMessages(c.Requests, limit)
	resp, pcut := m.cutMessages(c.Responses, limit)
	if !rcut && !pcut {
		return c
	}
	cp := *c
	cp.Requests, cp.Responses = req, resp
	return &cp
}

func (m *Model) cutMessages(ms []*grpcframe.Message, limit int) ([]*grpcframe.Message, bool) {
	var out []*grpcframe.Message
	for i, msg := range ms {
		if len(msg.Data) <= limit {
			continue
		}
		if out == nil {
			out = slices.Clone(ms)
		}
		mc := *msg
		mc.Data = bytes.Clone(msg.Data[:limit])
		mc.Truncated = true
		if mc.Err == "" {
			mc.Err = cutReason(limit)
		}
		out[i] = &mc
		if m.cut == nil {
			m.cut = map[*grpcframe.Message]int{}
		}
		m.cut[&mc] = len(msg.Data)
	}
	if out == nil {
		return ms, false
	}
	return out, true
}

// shiftIndexes drops the indexes below k and lowers the others by k, in
// place: the calls before k were dropped.
func shiftIndexes(idx []int32, k int32) []int32 {
	out := idx[:0]
	for _, i := range idx {
		if i >= k {
			out = append(out, i-k)
		}
	}
	return out
}

// keptText says how much of a cut message the UI kept: "first 64 KiB".
func keptText(limit int) string {
	if limit%1024 == 0 {
		return fmt.Sprintf("first %d KiB", limit/1024)
	}
	return fmt.Sprintf("first %d bytes", limit)
}

// cutReason is the Err of a message the UI cut.
func cutReason(limit int) string { return "the UI kept only the " + keptText(limit) }

// dropOldest forgets the calls that arrived first beyond MaxCalls, so that
// a capture that runs for days keeps a bounded memory; the title bar counts
// them. The row indexes are shifted rather than rebuilt through the
// filter, which would decode every message again.
func (m *Model) dropOldest() {
	k := len(m.calls) - m.opts.MaxCalls
	if m.opts.MaxCalls <= 0 || k <= 0 {
		return
	}
	keep := m.selected()
	for _, c := range m.calls[:k] {
		if c == nil {
			m.released-- // it is gone for good now
			continue
		}
		if m.keepBudget() >= 0 {
			m.keptBytes = max(m.keptBytes-callSize(c), 0)
		}
		m.forgetCut(c)
	}
	m.reloadedIdx = shiftIndexes(m.reloadedIdx, int32(k))
	// Clearing the dropped pointers lets the calls be freed now, not when
	// the array is next reallocated.
	clear(m.calls[:k])
	m.calls = m.calls[k:]
	m.recs = m.recs[k:]
	m.rows = shiftIndexes(m.rows, int32(k))
	for key, i := range m.open {
		if i < int32(k) {
			delete(m.open, key)
		} else {
			m.open[key] = i - int32(k)
		}
	}
	m.dropped += k
	// An open call stays on screen: the detail holds the call itself.
	if m.follow {
		m.cursor = len(m.rows) - 1
	} else {
		m.reselect(keep - int32(k))
	}
	m.clampList()
}
