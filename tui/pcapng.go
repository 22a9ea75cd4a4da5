package tui

import (
	"bufio"
	"errors"
	"fmt"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/export"
)

// writePcapng writes the packets of the calls' connections (whole
// connections: a call's packets cannot be told apart from its neighbours'
// on a multiplexed connection, and Wireshark needs the handshake and the
// HPACK history anyway) to a new pcapng in ExportDir. The UI holds calls,
// not packets, so the capture file is read again, in a command, so that
// the screen stays live meanwhile.
func (m *Model) writePcapng(conns []capture.ConnTuple) tea.Cmd {
	if m.opts.CapturePath == "" {
		m.status = "w is not available: the capture came from standard input, which cannot be read again (save it to a file and use -r FILE)"
		return nil
	}
	if len(conns) == 0 {
		m.status = "nothing to write"
		return nil
	}
	path := m.opts.CapturePath
	m.askSave("the packets of "+connWord(len(conns)), "pcapng", func(name string) tea.Cmd {
		m.status = fmt.Sprintf("writing the packets of %s…", connWord(len(conns)))
		return func() tea.Msg { return exportedMsg{writeConns(path, name, conns)} }
	})
	return nil
}

// connsOf returns the connections of rows, each once, in order.
func (m *Model) connsOf(rows []int32) []capture.ConnTuple {
	seen := map[[2]uint32]bool{}
	var conns []capture.ConnTuple
	for _, i := range rows {
		r := &m.recs[i]
		k := [2]uint32{r.client, r.server}
		if !seen[k] {
			seen[k] = true
			conns = append(conns, capture.ConnTuple{A: m.in.addrs[r.client], B: m.in.addrs[r.server]})
		}
	}
	return conns
}

func connWord(n int) string { return export.Count(n, "connection") }

// writeConns writes the packets of conns, read again from the capture at
// path, to the new file name, and returns the status line.
func writeConns(path, name string, conns []capture.ConnTuple) string {
	f, err := createNew(name)
	if err != nil {
		return "pcapng write failed: " + err.Error()
	}
	w := bufio.NewWriterSize(f, 256<<10)
	n, err := capture.ExtractConnections(path, conns, w)
	var fe *capture.FileError
	damaged := errors.As(err, &fe) && n > 0
	if err == nil || damaged {
		if ferr := w.Flush(); ferr != nil {
			err, damaged = ferr, false
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil && !damaged {
		os.Remove(name)
		return "pcapng write failed: " + err.Error()
	}
	s := fmt.Sprintf("wrote %d packets of %s to %s", n, connWord(len(conns)), name)
	if damaged {
		s += " (the capture is damaged after them: " + err.Error() + ")"
	}
	return s
}
