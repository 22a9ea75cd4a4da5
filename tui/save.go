package tui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	tea "charm.land/bubbletea/v2"
)

// saving is the prompt for a file name, for everything the view writes
// (e NDJSON, w pcapng, Y a grpcurl script): all under one scheme,
// grpcsniff-DATE-TIME.EXT in ExportDir, the first name not taken offered
// as the default, and a file never overwritten.
type saving struct {
	what  string // "NDJSON of 8 calls", said in the prompt
	input string
	err   string // why the last name was refused
	// write writes the file at path, which it must create with O_EXCL,
	// and returns the command that reports the result.
	write func(path string) tea.Cmd
}

// askSave opens the prompt for what, with the default name for ext.
func (m *Model) askSave(what, ext string, write func(path string) tea.Cmd) {
	m.save = &saving{what: what, input: m.defaultName(ext), write: write}
	m.status = ""
}

// defaultName is the first grpcsniff-DATE-TIME[-N].ext not taken in
// ExportDir.
func (m *Model) defaultName(ext string) string {
	base := "grpcsniff-" + m.now().In(m.opts.Location).Format("20060102-150405")
	for n := 1; n < 1000; n++ {
		name := base + "." + ext
		if n > 1 {
			name = fmt.Sprintf("%s-%d.%s", base, n, ext)
		}
		if _, err := os.Stat(m.savePath(name)); errors.Is(err, fs.ErrNotExist) {
			return name
		}
	}
	return base + "." + ext
}

// savePath is where a name typed in the prompt is written: in ExportDir
// unless it is absolute.
func (m *Model) savePath(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	dir := m.opts.ExportDir
	if dir == "" {
		dir = "."
	}
	return filepath.Join(dir, name)
}

// saveKey edits the file name; enter writes, esc gives up.
func (m *Model) saveKey(k tea.KeyPressMsg) tea.Cmd {
	s := m.save
	switch k.String() {
	case "esc":
		m.save, m.status = nil, "not saved"
	case "enter":
		if s.input == "" {
			s.err = "give a file name"
			return nil
		}
		path := m.savePath(s.input)
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			s.err = path + " exists: give another name (nothing is overwritten)"
			return nil
		}
		m.save = nil
		return s.write(path)
	default:
		if editLine(&s.input, k) {
			s.err = ""
		}
	}
	return nil
}

// saveLines is the footer while the prompt is open.
func (m *Model) saveLines() []string {
	s := m.save
	lines := []string{"save " + s.what + " as: " + s.input + "█"}
	if s.err != "" {
		return append(lines, styleErr.Render(s.err))
	}
	return append(lines, hints(m.w, "enter", "save", "esc", "cancel", "ctrl+u", "clear"))
}

// createNew creates path for writing, failing if it exists.
func createNew(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}
