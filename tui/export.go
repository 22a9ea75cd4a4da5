package tui

import (
	"bufio"

	tea "charm.land/bubbletea/v2"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/pbdecode"
)

// exportedMsg reports the end of an export.
type exportedMsg struct{ text string }

// export asks where to write the given calls as NDJSON, then writes them
// in a command, so that a large export does not freeze the screen; the
// calls are immutable once delivered, so sharing them is safe.
func (m *Model) export(calls []*grpcframe.Call) tea.Cmd {
	if len(calls) == 0 {
		m.status = "nothing to export"
		return nil
	}
	opt := m.opts.Decode
	m.askSave("NDJSON of "+export.Count(len(calls), "call"), "ndjson", func(path string) tea.Cmd {
		m.status = "exporting " + export.Count(len(calls), "call") + "…"
		return func() tea.Msg { return exportedMsg{exportCalls(path, calls, opt)} }
	})
	return nil
}

// callsOf returns the calls of rows.
func (m *Model) callsOf(rows []int32) []*grpcframe.Call {
	calls := make([]*grpcframe.Call, len(rows))
	for k, i := range rows {
		calls[k] = m.calls[i]
	}
	return calls
}

// exportCalls writes calls to the new file name and returns the status
// line.
func exportCalls(name string, calls []*grpcframe.Call, opt pbdecode.Options) string {
	f, err := createNew(name)
	if err != nil {
		return "export failed: " + err.Error()
	}
	w := bufio.NewWriterSize(f, 256<<10)
	var buf []byte
	for _, c := range calls {
		buf = export.AppendCallJSON(buf[:0], c, opt)
		buf = append(buf, '\n')
		if _, err = w.Write(buf); err != nil {
			break
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "export failed: " + err.Error()
	}
	return "exported " + export.Count(len(calls), "call") + " to " + name
}
