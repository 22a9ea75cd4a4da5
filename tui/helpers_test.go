package tui

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// updating reports -update, the flag that teatest's golden package
// registers (a second registration would panic).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// loadCalls runs the real pipeline (the wiring of cmd/grpcsniff) on a
// shipped capture.
func loadCalls(t testing.TB, name string) []*grpcframe.Call {
	t.Helper()
	src, err := capture.OpenFile(filepath.Join("..", "testdata", "pcaps", name))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var calls []*grpcframe.Call
	sink := grpcframe.SinkFunc(func(c *grpcframe.Call) { calls = append(calls, c) })
	asm := grpcframe.NewAssembler(sink, grpcframe.Options{MaxMessageSize: 16 << 20})
	tcp := capture.NewAssembler(h2decode.NewFactory(asm, h2decode.Options{}), capture.Options{})
	if err := tcp.ReadAll(src); err != nil {
		t.Fatal(err)
	}
	asm.Close()
	return calls
}

// feed returns a closed channel holding the calls and a final progress.
func feed(calls []*grpcframe.Call) chan Update {
	ch := make(chan Update, len(calls)+1)
	for _, c := range calls {
		ch <- Update{Call: c}
	}
	ch <- Update{Progress: &Progress{Calls: len(calls), Done: true}}
	close(ch)
	return ch
}

// loaded returns a model that has taken in all the calls, sized w×h,
// without a running program: Update is driven by hand.
func loaded(t testing.TB, calls []*grpcframe.Call, w, h int, title string) *Model {
	t.Helper()
	m, err := New(feed(calls), Options{Title: title, Location: time.UTC, ExportDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	for cmd := m.Init(); cmd != nil; {
		_, cmd = m.Update(cmd())
	}
	return m
}

// press sends keys to the model by hand: "j", "enter", or text for the
// prompt via typeText.
func press(m *Model, keys ...string) tea.Cmd {
	var last tea.Cmd
	for _, k := range keys {
		_, last = m.Update(keyMsg(k))
	}
	return last
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

func typeText(m *Model, s string) {
	for _, r := range s {
		if r == ' ' {
			press(m, "space")
			continue
		}
		press(m, string(r))
	}
}

// plain is the plain text of the current screen, trailing spaces removed.
func plain(m *Model) string {
	lines := strings.Split(ansi.Strip(m.Render()), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("screen %s differs from the golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}
