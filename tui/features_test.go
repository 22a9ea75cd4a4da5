package tui

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

var helloPcap = filepath.Join("..", "testdata", "pcaps", "py_helloworld.pcap")

// countPackets reads a capture back and counts its packets.
func countPackets(t *testing.T, path string) int {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	n := 0
	for {
		if _, err := src.Next(); err == io.EOF {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// TestWritePcapng: w asks for a file name, offering one by the time, and
// writes the packets of the listed calls' connections there, in the list
// and in the detail; the second default does not take the first's name, a
// name that exists is refused (nothing is overwritten); without a capture
// file (stdin) the status line says why w is not available.
func TestWritePcapng(t *testing.T) {
	calls := loadCalls(t, "py_helloworld.pcap")
	m := loadedOpts(t, calls, 100, 30, Options{CapturePath: helloPcap})
	m.now = func() time.Time { return time.Date(2026, 11, 21, 8, 30, 5, 0, time.UTC) }
	press(m, "w")
	if s := plain(m); !strings.Contains(s, "save the packets of 1 connection as: grpcsniff-20261121-083005.pcapng█") {
		t.Fatalf("w did not ask for a name:\n%s", s)
	}
	cmd := press(m, "enter")
	if cmd == nil || m.status != "writing the packets of 1 connection…" {
		t.Fatalf("w: status %q, cmd %v", m.status, cmd)
	}
	m.Update(cmd())
	name := filepath.Join(m.opts.ExportDir, "grpcsniff-20261121-083005.pcapng")
	if want := "wrote 45 packets of 1 connection to " + name; m.status != want {
		t.Fatalf("status %q\nwant   %q", m.status, want)
	}
	if n := countPackets(t, name); n != 45 {
		t.Errorf("the pcapng holds %d packets, want 45", n)
	}
	press(m, "g", "enter", "w")
	if m.save == nil || m.save.input != "grpcsniff-20261121-083005-2.pcapng" {
		t.Fatalf("second default name: %+v", m.save)
	}
	m.saveKey(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
	typeText(m, "grpcsniff-20261121-083005.pcapng")
	if cmd := press(m, "enter"); cmd != nil || m.save == nil || !strings.Contains(plain(m), "exists: give another name") {
		t.Fatalf("an existing name was not refused:\n%s", plain(m))
	}
	m.saveKey(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
	typeText(m, "mine.pcapng")
	m.Update(press(m, "enter")())
	if !strings.HasSuffix(m.status, filepath.Join(m.opts.ExportDir, "mine.pcapng")) {
		t.Errorf("named write: %q", m.status)
	}

	m = loadedOpts(t, calls, 100, 30, Options{})
	if cmd := press(m, "w"); cmd != nil || !strings.Contains(m.status, "standard input") {
		t.Errorf("without a capture file: status %q", m.status)
	}
}

// TestMouseClick: a click selects the row under the pointer and a second
// click opens it; in the detail a click selects a tree line and a second
// click expands it.
func TestMouseClick(t *testing.T) {
	m := loaded(t, loadCalls(t, "py_helloworld.pcap"), 80, 24, "x")
	click := func(x, y int) { m.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft}) }
	click(10, 3) // title, headings, then row 0 at y=2: this is row 1
	if m.cursor != 1 || m.follow {
		t.Fatalf("click on row 1: cursor %d, follow %v", m.cursor, m.follow)
	}
	click(10, 0) // the title: nothing
	if m.cursor != 1 || m.screen != screenList {
		t.Fatalf("click on the title moved to %d", m.cursor)
	}
	click(10, 3)
	if m.screen != screenDetail || m.detail.call != m.calls[m.rows[1]] {
		t.Fatal("second click did not open the call")
	}
	d := m.detail
	msgLine := -1
	for i, it := range d.items {
		if it.kind == kindMessage {
			msgLine = i
			break
		}
	}
	plain(m)
	press(m, "k") // off the message line, which stays on screen
	plain(m)      // a click hits what was drawn last
	click(5, msgLine-d.top+1)
	if d.cursor != msgLine {
		t.Fatalf("click selected line %d, want %d", d.cursor, msgLine)
	}
	click(5, msgLine-d.top+1)
	if !d.items[d.cursor].open {
		t.Error("second click did not expand the message")
	}
}

// TestStatsLive: the open statistics follow arriving calls, at once when
// the last pass is old enough, otherwise once when the scheduled tick
// comes; the scroll position is kept.
func TestStatsLive(t *testing.T) {
	calls := loadCalls(t, "py_helloworld.pcap")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m, _ := New(nil, Options{Location: time.UTC})
	m.now = func() time.Time { return now }
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	m.Update(batchMsg{calls: calls[:2]})
	press(m, "S")
	if s := plain(m); !strings.Contains(s, "2 calls") || statsCalls(s, "Greeter/SayHello") != 1 {
		t.Fatalf("stats of 2 calls:\n%s", s)
	}
	// Soon after: the pass is scheduled, not done.
	now = now.Add(50 * time.Millisecond)
	_, cmd := m.Update(batchMsg{calls: calls[2:5]})
	if cmd == nil || !m.statsPending || strings.Contains(plain(m), "FileController/Write") {
		t.Fatalf("stats recomputed within the interval, or nothing scheduled:\n%s", plain(m))
	}
	m.Update(batchMsg{calls: calls[5:6]}) // a second batch adds no second tick
	m.Update(statsTickMsg{})
	if s := plain(m); !strings.Contains(s, "FileController/Write") || m.statsPending {
		t.Fatalf("tick did not recompute:\n%s", s)
	}
	// Later: at once.
	now = now.Add(time.Second)
	m.Update(batchMsg{calls: calls[6:]})
	if s := plain(m); statsCalls(s, "Greeter/SayHello") != 3 {
		t.Errorf("stats not recomputed at once:\n%s", s)
	}
}

// TestMaxCalls: beyond MaxCalls the oldest calls go, the title says how
// many, and the filter and cursor keep working on the rest.
func TestMaxCalls(t *testing.T) {
	calls := loadCalls(t, "py_helloworld.pcap")
	m := loadedOpts(t, calls, 100, 30, Options{MaxCalls: 5})
	if len(m.calls) != 5 || m.calls[0] != calls[3] {
		t.Fatalf("kept %d calls, first %v", len(m.calls), m.calls[0].Method)
	}
	if s := plain(m); !strings.Contains(s, "5 calls · 3 older calls dropped") {
		t.Errorf("no notice of the dropped calls:\n%s", s)
	}
	press(m, "/")
	typeText(m, "method ~ Read")
	press(m, "enter")
	if len(m.rows) != 2 || m.calls[m.rows[0]] != calls[4] || m.calls[m.rows[1]] != calls[6] {
		t.Errorf("filter over the kept calls: rows %v", m.rows)
	}
	m.Update(batchMsg{calls: calls[2:3]}) // a Read arrives: the oldest kept goes
	// It started before the others: first in time order.
	if len(m.calls) != 5 || m.dropped != 4 || len(m.rows) != 3 || m.calls[m.rows[0]] != calls[2] {
		t.Errorf("after one more: %d calls, %d dropped, rows %v", len(m.calls), m.dropped, m.rows)
	}
}

// TestMaxMessageBytes: a message longer than the bound keeps its first
// bytes in the UI, says so, and the delivered call is left untouched.
func TestMaxMessageBytes(t *testing.T) {
	c := synthetic(1)[0]
	big := bytes.Repeat([]byte{0x0a, 0x7f}, 40<<10) // 80 KiB
	c.Requests = []*grpcframe.Message{{Length: uint32(len(big)), Data: big, Time: c.Start}}
	m := loadedOpts(t, []*grpcframe.Call{c}, 120, 30, Options{})
	kept := m.calls[0]
	if len(kept.Requests[0].Data) != 64<<10 || len(c.Requests[0].Data) != len(big) || kept.Responses[0] != c.Responses[0] {
		t.Fatalf("kept %d bytes; the original has %d", len(kept.Requests[0].Data), len(c.Requests[0].Data))
	}
	if r := kept.Requests[0]; !r.Truncated || r.Err != "the UI kept only the first 64 KiB" {
		t.Errorf("the cut message is not marked: truncated %v, err %q", r.Truncated, r.Err)
	}
	press(m, "enter")
	if s := plain(m); !strings.Contains(s, "81920B (first 64 KiB kept)  1:") {
		t.Errorf("the message line does not say it was cut:\n%s", s)
	}
	cmd, note := Grpcurl(kept, pbdecodeDefault, nil)
	if cmd != "" || note != "cannot build a grpcurl command that repeats the call: request 1 is not whole (the UI kept only the first 64 KiB)" {
		t.Errorf("grpcurl of a cut request: %s (%s)", cmd, note)
	}
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 80})
	press(m, "?")
	if s := plain(m); !strings.Contains(s, "message bytes kept: the first 64 KiB") {
		t.Errorf("help does not give the bound:\n%s", s)
	}
	m = loadedOpts(t, []*grpcframe.Call{c}, 120, 30, Options{MaxMessageBytes: -1})
	if len(m.calls[0].Requests[0].Data) != len(big) {
		t.Error("MaxMessageBytes -1 cut the message")
	}
	if _, err := os.Stat(m.opts.ExportDir); err != nil {
		t.Fatal(err)
	}
}

// statsCalls reads the CALLS column of a method's line on the stats screen.
func statsCalls(screen, method string) int {
	for _, l := range strings.Split(screen, "\n") {
		f := strings.Fields(strings.TrimPrefix(l, ">")) // the selected method is marked
		if len(f) > 1 && f[0] == method {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return -1
}
