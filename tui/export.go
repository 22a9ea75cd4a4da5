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

// export asks where to write n calls as NDJSON, then writes them in a
// command, so that a large export (and reading calls that were let go from
// the capture again) does not freeze the screen; calls gives them.
func (m *Model) export(calls func() ([]*grpcframe.Call, error), n int) tea.Cmd {
	if n == 0 {
		m.status = "nothing to export"
		return nil
	}
	opt := m.opts.Decode
	m.askSave("NDJSON of "+export.Count(n, "call"), "ndjson", func(path string) tea.Cmd {
		m.status = "exporting " + export.Count(n, "call") + "…"
		return func() tea.Msg {
			cs, err := calls()
			if err != nil {
				return exportedMsg{"export failed: " + err.Error()}
			}
			return exportedMsg{exportCalls(path, cs, opt)}
		}
	})
	return nil
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
