package tui

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	tea "charm.land/bubbletea/v2"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/pbdecode"
)

// exportedMsg reports the end of an export.
type exportedMsg struct{ text string }

// export writes the given calls as NDJSON to a new file in ExportDir. It
// runs as a command so that a large export does not freeze the screen; the
// calls are immutable once delivered, so sharing them is safe.
func (m *Model) export(calls []*grpcframe.Call) tea.Cmd {
	if len(calls) == 0 {
		m.status = "nothing to export"
		return nil
	}
	dir, opt := m.opts.ExportDir, m.opts.Decode
	m.status = "exporting " + export.Count(len(calls), "call") + "…"
	return func() tea.Msg { return exportedMsg{exportCalls(dir, calls, opt)} }
}

// callsOf returns the calls of rows.
func (m *Model) callsOf(rows []int32) []*grpcframe.Call {
	calls := make([]*grpcframe.Call, len(rows))
	for k, i := range rows {
		calls[k] = m.calls[i]
	}
	return calls
}

// exportCalls writes calls to the first free grpcsniff-export-N.ndjson in
// dir and returns the status line. Names are never reused, so an export
// never overwrites a file.
func exportCalls(dir string, calls []*grpcframe.Call, opt pbdecode.Options) string {
	if dir == "" {
		dir = "."
	}
	var f *os.File
	var err error
	var name string
	for n := 1; n < 10000; n++ {
		name = filepath.Join(dir, fmt.Sprintf("grpcsniff-export-%d.ndjson", n))
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
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
	noun := "calls"
	if len(calls) == 1 {
		noun = "call"
	}
	return fmt.Sprintf("exported %d %s to %s", len(calls), noun, name)
}
