package tui

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/pbdecode"
)

// TestTeatest drives the UI as a program, headless, on a real capture:
// rows appear, a filter narrows them, a call opens and a field expands,
// statistics open, and a call is copied as grpcurl.
func TestTeatest(t *testing.T) {
	calls := loadCalls(t, "py_helloworld.pcap")
	m, err := New(feed(calls), Options{Title: "py_helloworld.pcap", Location: time.UTC, ExportDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, probe{m}, teatest.WithInitialTermSize(100, 30))
	var out bytes.Buffer
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		out.Write(b)
		return bytes.Contains(b, []byte("FileController/Write"))
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))

	// expect sends keys, then asks the program for its screen: the probe
	// message is handled after the keys, so no sleeping is needed.
	expect := func(want string, keys ...tea.Msg) string {
		t.Helper()
		for _, k := range keys {
			tm.Send(k)
		}
		ch := make(chan string, 1)
		tm.Send(snapshotMsg(ch))
		select {
		case s := <-ch:
			if !strings.Contains(s, want) {
				t.Fatalf("screen lacks %q:\n%s", want, s)
			}
			return s
		case <-time.After(5 * time.Second):
			t.Fatal("no screen")
		}
		return ""
	}
	expect("8 calls")
	s := expect("FileController/Write")
	// One server for all: the rows show the connection and stream instead.
	if n := strings.Count(s, " 1/"); n != 8 || strings.Contains(s, "127.0.0.1:50103") {
		t.Errorf("%d rows show their stream, want 8, and no server column:\n%s", n, s)
	}

	keys := func(s string) []tea.Msg {
		var ks []tea.Msg
		for _, r := range s {
			if r == ' ' {
				ks = append(ks, keyMsg("space"))
			} else {
				ks = append(ks, keyMsg(string(r)))
			}
		}
		return ks
	}
	expect(`col 10: expected a value after "!="`, append([]tea.Msg{keyMsg("/")}, keys("status !=")...)...)
	s = expect("2 of 8 calls", append(keys(" OK"), keyMsg("enter"))...)
	if !strings.Contains(s, "DEADLINE_EXCEEDED") || !strings.Contains(s, "NOT_FOUND") || strings.Contains(s, " OK ") {
		t.Errorf("status != OK shows the wrong rows:\n%s", s)
	}

	expect("Messages  ↑1 ↓0", keyMsg("g"), keyMsg("enter"))
	expect("field 1 is bytes 0-7", keyMsg("enter"), keyMsg("j"))
	expect(`1: "sleepy"  len string @0-7`)

	// Without a schema, grpcurl could not send the request (it takes no
	// field numbers): y refuses, and shows the request by number.
	s = expect("cannot build a grpcurl command", keyMsg("y"))
	want := `by field number the request is {"1":"sleepy"}`
	// The footer wraps the status at the width, character by character.
	if !strings.Contains(strings.ReplaceAll(s, "\n", ""), want) {
		t.Errorf("status line lacks %q:\n%s", want, s)
	}
	expect("    DEADLINE_EXCEEDED 1", keyMsg("esc"), keyMsg("S"))
	expect("quit grpcsniff?", keyMsg("q"), keyMsg("q")) // back from the statistics, then asked
	tm.Send(keyMsg("y"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(probe)
	if fm.lastCopy != "" {
		t.Errorf("copied %q, want nothing", fm.lastCopy)
	}
	rest, _ := io.ReadAll(tm.FinalOutput(t))
	out.Write(rest)
	// Nothing went to the terminal's clipboard (OSC 52).
	if bytes.Contains(out.Bytes(), []byte("\x1b]52;c;")) {
		t.Error("an OSC 52 clipboard sequence for a refused command")
	}
}

// snapshotMsg asks the probe for the plain text of the screen.
type snapshotMsg chan string

// probe wraps the model so that tests can read the screen in step with the
// program's own message loop, without racing it.
type probe struct{ *Model }

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if ch, ok := msg.(snapshotMsg); ok {
		ch <- plain(p.Model)
		return p, nil
	}
	_, cmd := p.Model.Update(msg)
	return p, cmd
}

// TestFilterPrompt checks live validation: an invalid expression shows its
// error and the list keeps the last valid filter; esc restores the filter
// from before the prompt.
func TestFilterPrompt(t *testing.T) {
	m := loaded(t, loadCalls(t, "py_helloworld.pcap"), 80, 24, "x")
	press(m, "/")
	typeText(m, "method ~ Square")
	if len(m.rows) != 1 {
		t.Fatalf("%d rows for method ~ Square", len(m.rows))
	}
	typeText(m, " and")
	if m.inputErr == "" || len(m.rows) != 1 {
		t.Fatalf("incomplete filter: err %q, %d rows (want an error and the last valid filter)", m.inputErr, len(m.rows))
	}
	if s := plain(m); !strings.Contains(s, "col 20: expected a field name") {
		t.Errorf("the error is not on screen:\n%s", s)
	}
	press(m, "esc")
	if len(m.rows) != 8 || m.prompt {
		t.Errorf("esc left %d rows, prompt %v", len(m.rows), m.prompt)
	}
	press(m, "/")
	typeText(m, "status == NOT_FOUND")
	press(m, "enter")
	if len(m.rows) != 1 || !strings.Contains(plain(m), "filter: status == NOT_FOUND") {
		t.Errorf("enter did not keep the filter:\n%s", plain(m))
	}
}

// TestGrpcurlStreaming: without a schema a client-streaming call gets no
// command (grpcurl takes no field numbers), and the note shows one JSON
// document per request message, by field number.
func TestGrpcurlStreaming(t *testing.T) {
	calls := loadCalls(t, "py_grpcdemo.pcap")
	cmd, note := Grpcurl(calls[1], pbdecodeDefault, nil)
	want := `by field number the request is {"1":1,"2":"called by Python client, message:0"} {"1":1,"2":"called by Python client, message:1"} {"1":1,"2":"called by Python client, message:2"}`
	if cmd != "" || !strings.Contains(note, "grpcurl needs the request's field names, and no schema of /demo.GRPCDemo/ClientStreamingMethod is loaded") || !strings.Contains(note, want) {
		t.Errorf("got %q (%s)", cmd, note)
	}
}

// TestSortAndExport cycles the sort keys and exports the listed calls.
func TestSortAndExport(t *testing.T) {
	m := loaded(t, loadCalls(t, "py_helloworld.pcap"), 80, 24, "x")
	press(m, "s") // duration: slowest first
	if c := m.calls[m.rows[0]]; c.Duration() < 500*time.Millisecond {
		t.Errorf("sorted by duration, the first call took %v", c.Duration())
	}
	press(m, "s", "s") // status: errors first
	if c := m.calls[m.rows[0]]; c.Status == nil || c.Status.Code == 0 {
		t.Error("sorted by status, the first call is OK")
	}
	press(m, "s") // back to time
	if m.sortBy != sortTime {
		t.Errorf("sort cycled to %v", m.sortBy)
	}
	// r reverses the order, and the title and the column say which way.
	press(m, "r")
	if c := m.calls[m.rows[0]]; c.Start != m.calls[len(m.calls)-1].Start {
		t.Errorf("reversed time order starts at %v", c.Start)
	}
	if s := plain(m); !strings.Contains(s, "sort: time ▼") || !strings.Contains(s, "TIME▼") {
		t.Errorf("no ▼ marker:\n%s", s)
	}
	press(m, "s") // duration, slowest first again
	if s := plain(m); !strings.Contains(s, "DUR▼") || m.calls[m.rows[0]].Duration() < 500*time.Millisecond {
		t.Errorf("a new key starts in its first direction:\n%s", s)
	}
	press(m, "r")
	if c := m.calls[m.rows[0]]; c.Duration() > time.Millisecond || !strings.Contains(plain(m), "DUR▲") {
		t.Errorf("reversed duration order starts with a call of %v", c.Duration())
	}
	press(m, "s", "s", "s") // back to time
	m.now = func() time.Time { return time.Date(2026, 11, 21, 8, 30, 5, 0, time.UTC) }
	press(m, "e")
	cmd := press(m, "enter") // the name offered
	if cmd == nil {
		t.Fatal("e returned no command")
	}
	m.Update(cmd())
	if !strings.HasPrefix(m.status, "exported 8 calls to ") {
		t.Fatalf("status %q", m.status)
	}
	b, err := os.ReadFile(filepath.Join(m.opts.ExportDir, "grpcsniff-20261121-083005.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n != 8 {
		t.Errorf("export has %d lines, want 8", n)
	}
}

// TestFollow: the list follows arriving calls until the user moves up.
func TestFollow(t *testing.T) {
	calls := loadCalls(t, "py_helloworld.pcap")
	m, _ := New(nil, Options{Location: time.UTC, Live: true})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(batchMsg{calls: calls[:4]})
	if m.cursor != 3 {
		t.Fatalf("cursor %d, want the last row", m.cursor)
	}
	press(m, "k")
	m.Update(batchMsg{calls: calls[4:]})
	if m.cursor != 2 {
		t.Errorf("after scrolling up the cursor moved to %d", m.cursor)
	}
	press(m, "G")
	m.Update(batchMsg{calls: calls[:1]})
	if m.cursor != len(m.rows)-1 {
		t.Errorf("G did not resume following")
	}
}

// A capture file opens at its first call, as Wireshark and termshark do,
// and does not follow the calls that arrive while it loads; G moves to the
// last call and follows from there.
func TestFileOpensAtTop(t *testing.T) {
	calls := loadCalls(t, "py_helloworld.pcap")
	m, _ := New(nil, Options{Location: time.UTC})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(batchMsg{calls: calls[:4]})
	m.Update(batchMsg{calls: calls[4:]})
	if m.cursor != 0 || strings.Contains(plain(m), "following") {
		t.Fatalf("cursor %d, want the first call, not following:\n%s", m.cursor, plain(m))
	}
	press(m, "G")
	m.Update(batchMsg{calls: calls[:1]})
	if m.cursor != len(m.rows)-1 {
		t.Errorf("G did not follow: cursor %d of %d rows", m.cursor, len(m.rows))
	}
}

// q goes back from the detail, the statistics and the help; in the list it
// asks, and only q or y then quits.
func TestQuitKey(t *testing.T) {
	m := loaded(t, loadCalls(t, "py_helloworld.pcap"), 80, 24, "x")
	for _, open := range []string{"enter", "S", "?"} {
		press(m, open)
		if cmd := press(m, "q"); cmd != nil || m.screen != screenList {
			t.Errorf("q after %s: screen %d, quit %v; want back in the list", open, m.screen, cmd != nil)
		}
	}
	if cmd := press(m, "q"); cmd != nil || !strings.Contains(plain(m), "quit grpcsniff? q or y quits") {
		t.Fatalf("q in the list did not ask:\n%s", plain(m))
	}
	if cmd := press(m, "j"); cmd != nil || m.cursor != 0 || strings.Contains(plain(m), "quit grpcsniff?") {
		t.Errorf("another key after q: quit %v, cursor %d, still asking", cmd != nil, m.cursor)
	}
	press(m, "q")
	if cmd := press(m, "y"); cmd == nil {
		t.Error("q then y did not quit")
	}
}

// A call the capture shows only part of has a duration of at least what
// was seen, not a duration.
func TestCutDuration(t *testing.T) {
	m := loaded(t, loadCalls(t, "grpcgo_cut_midmessage.pcap"), 100, 48, "x")
	if s := plain(m); !strings.Contains(s, "≥8.1ms") {
		t.Errorf("list:\n%s", s)
	}
	press(m, "enter")
	if s := plain(m); !strings.Contains(s, "· ≥8.1ms") || !strings.Contains(s, "duration ≥8.1ms") {
		t.Errorf("detail:\n%s", s)
	}
}

// At 80 columns, concurrent calls of one method are told apart by their
// connection and stream, and a long method keeps its end ("…rvice/
// StreamingInputCall"), which tells it from the others.
func TestNarrowColumns(t *testing.T) {
	s := plain(loaded(t, loadCalls(t, "grpcgo_concurrent.pcap"), 80, 24, "x"))
	for _, want := range []string{"STREAM", " 1/3 ", " 1/5 ", " 1/7 "} {
		if !strings.Contains(s, want) {
			t.Errorf("lacks %q:\n%s", want, s)
		}
	}
	s = plain(loaded(t, loadCalls(t, "grpcgo_interop.pcap"), 80, 24, "x"))
	if !strings.Contains(s, "/StreamingInputCall ") || strings.Contains(s, "StreamingInp…") {
		t.Errorf("methods cut at their end:\n%s", s)
	}
	// Calls to several servers keep the server column before the stream.
	calls := loadCalls(t, "grpcgateway.pcap")
	s = plain(loaded(t, calls, 100, 24, "x"))
	if !strings.Contains(s, "→ 127.0.0.1:50161") || !strings.Contains(s, "→ 127.0.0.1:50160") {
		t.Errorf("no server column with two servers:\n%s", s)
	}
}

// Resizing the terminal keeps the detail's cursor, the hex pane's scroll
// and its focus.
func TestResizeKeepsDetail(t *testing.T) {
	m := loaded(t, loadCalls(t, "grpcgo_interop.pcap"), 100, 30, "x")
	press(m, "j", "enter") // UnaryCall, 271828 bytes each way
	press(m, "l", "j")     // the request, opened, its first field
	press(m, "tab", "j", "j", "j")
	d := m.detail
	field, hexTop := d.items[d.cursor].field, d.hexTop
	if field == nil || hexTop != 3 || d.focus != 1 {
		t.Fatalf("setup: cursor on %q, hex at %d, focus %d", d.items[d.cursor].text, hexTop, d.focus)
	}
	for _, size := range []tea.WindowSizeMsg{{Width: 80, Height: 24}, {Width: 160, Height: 48}} {
		m.Update(size)
		if d.items[d.cursor].field != field || d.hexTop != hexTop || d.focus != 1 {
			t.Errorf("after %dx%d: cursor on %q, hex at %d, focus %d", size.Width, size.Height, d.items[d.cursor].text, d.hexTop, d.focus)
		}
	}
}

// The statistics screen counts as --stats does: the same percentiles (within
// 2%, from one histogram) and the same statuses, a call without one named
// by how it ended.
func TestStatsAgreeWithExport(t *testing.T) {
	for _, name := range []string{"py_helloworld.pcap", "grpcgo_interop.pcap", "py_routeguide_lossy.pcap"} {
		calls := loadCalls(t, name)
		want := export.NewStats()
		for _, c := range calls {
			want.Call(c)
		}
		m := loaded(t, calls, 160, 60, "x")
		press(m, "S")
		s := plain(m)
		for _, ms := range want.Methods() {
			figures := fmt.Sprintf(" %5d %6d %8s %8s %8s %8s", ms.Calls, ms.Errors,
				ms.LatencyText(0.5), ms.LatencyText(0.9), ms.LatencyText(0.99), ms.LatencyText(1))
			found := false
			for _, l := range strings.Split(s, "\n") {
				l = strings.TrimPrefix(l, ">") // the selected method is marked
				found = found || strings.HasPrefix(strings.TrimSpace(l), ms.Label()+" ") && strings.Contains(l, figures)
			}
			if !found {
				t.Errorf("%s: no line for %s with %q:\n%s", name, ms.Method, figures, s)
			}
			if (ms.Errors > 0 || len(ms.Statuses) > 1) && !strings.Contains(s, ms.StatusText()) {
				t.Errorf("%s: no statuses %q:\n%s", name, ms.StatusText(), s)
			}
		}
	}
}

// In /, a bare word searches the method and metadata; a field named
// without a schema is said to match nothing, and why.
func TestPromptSearchAndWarning(t *testing.T) {
	m := loaded(t, loadCalls(t, "py_helloworld.pcap"), 100, 24, "x")
	press(m, "/")
	typeText(m, "Square")
	if len(m.rows) != 1 || m.inputErr != "" {
		t.Fatalf("Square: %d rows, error %q", len(m.rows), m.inputErr)
	}
	m.promptKey(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}) // clear
	typeText(m, `req.name == you`)
	if s := plain(m); !strings.Contains(s, "req.name names a field, which needs a schema") {
		t.Errorf("no warning while typing:\n%s", s)
	}
	press(m, "enter")
	if !strings.Contains(m.status, "needs a schema") {
		t.Errorf("status after enter: %q", m.status)
	}
}

// The capture's notes are counted in the title and listed on the notes
// screen (n); an empty capture shows them under its empty list.
func TestNotes(t *testing.T) {
	notes := []string{"TLS 127.0.0.1:1 ↔ 127.0.0.1:2: TLS 1.3 not decrypted: no key", "give the key log with --keylog FILE"}
	m, _ := New(nil, Options{Location: time.UTC})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	m.Update(batchMsg{progress: &Progress{Done: true, Notes: notes}, closed: true})
	s := plain(m)
	for _, want := range []string{"no calls (gRPC, gRPC-Web, Connect, Twirp or HTTP) in this input", notes[0], notes[1], "2 notes (n)"} {
		if !strings.Contains(s, want) {
			t.Errorf("empty list lacks %q:\n%s", want, s)
		}
	}
	m = loaded(t, loadCalls(t, "py_grpcdemo.pcap"), 100, 24, "x")
	m.Update(batchMsg{progress: &Progress{Done: true, Notes: notes}})
	press(m, "n")
	if s := plain(m); m.screen != screenNotes || !strings.Contains(s, "• "+notes[0]) {
		t.Errorf("notes screen:\n%s", s)
	}
	press(m, "esc")
	if m.screen != screenList {
		t.Error("esc did not leave the notes")
	}
}

// A call still open is a row marked open, and grows: its later copies and
// the call itself when it ends take its place, in the list and in an open
// detail, whose cursor stays where it was.
func TestOpenCalls(t *testing.T) {
	calls := loadCalls(t, "py_grpcdemo.pcap")
	bidi := calls[3]
	snap := func(nreq, nresp int) *grpcframe.Call {
		c := *bidi
		c.State, c.Status, c.End, c.Trailers = 0, nil, time.Time{}, nil
		c.Requests, c.Responses = bidi.Requests[:nreq], bidi.Responses[:nresp]
		return &c
	}
	m, _ := New(nil, Options{Location: time.UTC, Live: true})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	m.Update(batchMsg{calls: append(calls[:3:3], snap(1, 0))})
	if s := plain(m); !strings.Contains(s, "BidirectionalStreamingMethod") || !strings.Contains(s, "↑1 ↓0") || !strings.Contains(s, "[open]") {
		t.Fatalf("open call:\n%s", s)
	}
	press(m, "enter")
	if m.detail == nil || len(m.detail.msgs) != 1 {
		t.Fatal("the open call's detail")
	}
	m.Update(batchMsg{calls: []*grpcframe.Call{snap(1, 1), snap(2, 2)}})
	if len(m.calls) != 4 || len(m.detail.msgs) != 4 || m.detail.items[m.detail.cursor].kind != kindMessage {
		t.Fatalf("after two copies: %d calls, %d messages in the detail", len(m.calls), len(m.detail.msgs))
	}
	m.Update(batchMsg{calls: []*grpcframe.Call{bidi}})
	press(m, "esc")
	if s := plain(m); len(m.calls) != 4 || len(m.open) != 0 || strings.Contains(s, "[open]") || !strings.Contains(s, "↑3 ↓3") {
		t.Errorf("the call ended: %d calls, %d open:\n%s", len(m.calls), len(m.open), s)
	}
}

// The statistics draw each method's latencies by decade and the calls over
// time; j/k select a method and enter lists its calls.
func TestStatsPictures(t *testing.T) {
	m := loaded(t, loadCalls(t, "py_helloworld.pcap"), 160, 48, "x")
	press(m, "S")
	s := plain(m)
	for _, want := range []string{"Latency (calls by duration)", "<1ms   <10ms  <100ms", "Over time (calls by start", "calls   █"} {
		if !strings.Contains(s, want) {
			t.Errorf("statistics lack %q:\n%s", want, s)
		}
	}
	press(m, "j", "enter")
	if m.screen != screenList || len(m.rows) != 3 || m.expr.String() != `method == "/muxs.FileController/Read"` {
		t.Errorf("enter on the second method: screen %d, %d rows, filter %q", m.screen, len(m.rows), m.expr.String())
	}
}

// A streaming call's detail draws its messages on its time axis, a lane a
// direction: the bidirectional call's three requests and three replies,
// 100 ms apart, each at its place.
func TestTimeline(t *testing.T) {
	m := loaded(t, loadCalls(t, "py_grpcdemo.pcap"), 120, 48, "x")
	press(m, "G", "enter")
	s := plain(m)
	var req, resp string
	for _, l := range strings.Split(s, "\n") {
		// The lanes, not the message lines below them ("↑ req  1 …").
		if i := strings.Index(l, "↑ req  ●"); i >= 0 {
			req = l[i+len("↑ req  "):]
		}
		if i := strings.Index(l, "↓ resp ●"); i >= 0 {
			resp = l[i+len("↓ resp "):]
		}
	}
	if strings.Count(req, "●") != 3 || strings.Count(resp, "●") != 3 || !strings.HasPrefix(req, "●") || !strings.HasPrefix(resp, "●") {
		t.Fatalf("lanes:\n%s", s)
	}
	// The second messages are about halfway along (100 of 202 ms).
	if cells := []rune(req); cells[len(cells)/2-2] != '●' && cells[len(cells)/2-1] != '●' && cells[len(cells)/2] != '●' {
		t.Errorf("the second request is not halfway along: %q", req)
	}
	if !strings.Contains(s, "202") {
		t.Errorf("no time scale:\n%s", s)
	}
}

// c shows the selected call's connection as a waterfall: its calls on its
// time axis, the long one's bar reaching far right; enter opens a call.
func TestWaterfall(t *testing.T) {
	m := loaded(t, loadCalls(t, "py_helloworld.pcap"), 120, 30, "x")
	press(m, "c")
	s := plain(m)
	if m.screen != screenWaterfall || !strings.Contains(s, "Connection 1 · 127.0.0.1:51894 → 127.0.0.1:50103") || !strings.Contains(s, "8 calls over") {
		t.Fatalf("waterfall:\n%s", s)
	}
	// The DEADLINE_EXCEEDED SayHello runs half a second of the 507 ms:
	// its bar is the longest.
	var longest string
	for _, l := range strings.Split(s, "\n") {
		if strings.Count(l, "█") > strings.Count(longest, "█") {
			longest = l
		}
	}
	if !strings.Contains(longest, " 11 ") || strings.Count(longest, "█") < 40 {
		t.Errorf("the longest bar is not stream 11's:\n%s", s)
	}
	press(m, "j", "enter")
	if m.screen != screenDetail || m.detail.call.StreamID != 3 {
		t.Errorf("enter did not open stream 3")
	}
}

// Counts take the singular for one: "1 call", not "1 calls".
func TestOneCall(t *testing.T) {
	m := loaded(t, loadCalls(t, "py_helloworld.pcap")[:1], 80, 24, "x")
	if s := plain(m); !strings.Contains(s, " 1 call · ") {
		t.Errorf("title:\n%s", s)
	}
	press(m, "S")
	if s := plain(m); strings.Contains(s, "1 calls") {
		t.Errorf("statistics:\n%s", s)
	}
}

// TestWheelAndHelp: the mouse wheel moves the cursor; help lists the keys.
func TestWheelAndHelp(t *testing.T) {
	m := loaded(t, loadCalls(t, "py_helloworld.pcap"), 80, 24, "x")
	m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if m.cursor != 3 {
		t.Errorf("wheel down: cursor %d, want 3", m.cursor)
	}
	m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelUp})
	if m.cursor != 0 {
		t.Errorf("wheel up: cursor %d, want 0", m.cursor)
	}
	press(m, "?")
	if !strings.Contains(plain(m), "copy a command repeating the call") {
		t.Error("help does not list y")
	}
	press(m, "?")
	if m.screen != screenList {
		t.Error("? did not close help")
	}
}

var pbdecodeDefault = pbdecode.Options{}

// TestNestedField expands a sub-message (routeguide's Feature.location)
// and checks that a nested field's bytes are located within the whole
// message: the hex pane highlights absolute offsets.
func TestNestedField(t *testing.T) {
	m := loaded(t, loadCalls(t, "py_routeguide.pcap"), 80, 24, "x")
	press(m, "g", "enter") // GetFeature
	d := m.detail
	for d.items[d.cursor].kind != kindMessage || !d.msgs[d.items[d.cursor].msg].resp {
		press(m, "j")
	}
	press(m, "l") // open the response
	press(m, "j", "j")
	it := d.items[d.cursor]
	if it.field == nil || it.field.Number != 2 || !it.expandable() {
		t.Fatalf("expected field 2 (a message) under the cursor, got %q", it.text)
	}
	press(m, "l", "j", "j") // open location, go to its field 2 (longitude)
	it = d.items[d.cursor]
	if it.depth != 2 || it.field.Number != 2 {
		t.Fatalf("cursor on %q, want the nested field 2", it.text)
	}
	parent := d.items[d.cursor-2].field
	lo := parent.ValueOffset + it.field.Offset
	s := plain(m)
	last := parent.ValueOffset + it.field.End - 1
	if want := fmt.Sprintf("field 2 is bytes %d-%d", lo, last); !strings.Contains(s, want) {
		t.Errorf("hex pane title lacks %q:\n%s", want, s)
	}
	// The tree names the same bytes as the hex pane, and reads the
	// negative int32 longitude (a ten-byte varint) as signed.
	if want := fmt.Sprintf("2: -746188906  varint @%d-%d", lo, last); !strings.Contains(s, want) {
		t.Errorf("tree lacks %q:\n%s", want, s)
	}
	if !strings.Contains(s, "(uint 18446744072963362710, sint ") {
		t.Errorf("the unsigned reading is not among the others:\n%s", s)
	}
	press(m, "h") // back to the parent
	if d.items[d.cursor].field != parent {
		t.Errorf("h did not go to the enclosing field")
	}
	press(m, "h") // and close it
	if d.items[d.cursor].open {
		t.Errorf("h did not close the field")
	}
	if s := plain(m); !strings.Contains(s, "{1:409146138 2:-746188906}") {
		t.Errorf("the preview of the closed location does not read the longitude as signed:\n%s", s)
	}
}

// TestProgress: the title bar says how far loading has got, and a read
// error is shown in red on the filter line.
func TestProgress(t *testing.T) {
	m, _ := New(nil, Options{Title: "big.pcap", Location: time.UTC})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if s := plain(m); !strings.Contains(s, "waiting for calls") {
		t.Errorf("empty list does not say it is waiting:\n%s", s)
	}
	m.Update(batchMsg{calls: loadCalls(t, "py_grpcdemo.pcap"), progress: &Progress{Bytes: 450, Total: 1000, Calls: 4}})
	if s := plain(m); !strings.Contains(s, "loading 45% ███░░░░░") {
		t.Errorf("no progress in the title:\n%s", s)
	}
	m.Update(batchMsg{progress: &Progress{Bytes: 900, Total: 1000, Calls: 4, Done: true, Err: "capture truncated at byte 900"}, closed: true})
	if s := plain(m); !strings.Contains(s, "read error") || !strings.Contains(s, "capture truncated at byte 900") {
		t.Errorf("no read error:\n%s", s)
	}
}

// TestProgressLive: a live capture's title bar counts packets and says, in
// red, when the kernel or the interface dropped some.
func TestProgressLive(t *testing.T) {
	m, _ := New(nil, Options{Title: "lo", Location: time.UTC, Live: true})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	m.Update(batchMsg{calls: loadCalls(t, "py_grpcdemo.pcap"), progress: &Progress{Live: true, Packets: 61, Calls: 4}})
	if s := plain(m); !strings.Contains(s, "capturing 61 pkts, 0 dropped") || !strings.Contains(s, "following") {
		t.Errorf("no live status in the title:\n%s", s)
	}
	m.Update(batchMsg{progress: &Progress{Live: true, Packets: 900, KernelDrops: 7, InterfaceDrops: 1, Calls: 4}})
	if s := plain(m); !strings.Contains(s, "capturing 900 pkts, 8 DROPPED") {
		t.Errorf("drops not shown:\n%s", s)
	}
	m.Update(batchMsg{progress: &Progress{Live: true, Packets: 950, Calls: 4, Done: true}, closed: true})
	if s := plain(m); !strings.Contains(s, "stopped 950 pkts") {
		t.Errorf("end of capture not shown:\n%s", s)
	}
}

// TestGrpcurlNegative: negative int32s (ten-byte varints) are written as
// negative numbers; a request with a nested message cannot be shown by
// field number.
func TestGrpcurlNegative(t *testing.T) {
	calls := loadCalls(t, "py_routeguide.pcap")
	var record, chat *grpcframe.Call
	for _, c := range calls {
		switch c.Method {
		case "/routeguide.RouteGuide/RecordRoute":
			record = c
		case "/routeguide.RouteGuide/RouteChat":
			chat = c
		}
	}
	_, note := Grpcurl(record, pbdecodeDefault, nil)
	if !strings.Contains(note, `{"1":407838351,"2":-746143763} {"1":408122808,"2":-743999179}`) {
		t.Errorf("negative varints not written as negative numbers: %s", note)
	}
	cmd, note := Grpcurl(chat, pbdecodeDefault, nil)
	if cmd != "" || strings.Contains(note, "by field number") || !strings.Contains(note, "needs the request's field names") {
		t.Errorf("nested request: %s (%s)", cmd, note)
	}
}

// TestDetailShowsTLS: a call inside TLS shows the connection's TLS summary.
func TestDetailShowsTLS(t *testing.T) {
	calls := loadCalls(t, "py_grpcdemo.pcap")
	calls[0].TLS = &capture.TLSInfo{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", SNI: "greeter.test", ALPN: "h2", Decrypted: true}
	m, _ := New(nil, Options{Location: time.UTC})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(batchMsg{calls: calls})
	press(m, "g")
	press(m, "enter")
	if s := plain(m); !strings.Contains(s, "TLS 1.3 TLS_AES_128_GCM_SHA256 sni=greeter.test alpn=h2 decrypted") {
		t.Fatalf("no TLS line in the detail:\n%s", s)
	}
}

// A stretch of the statistics' chart over time lists the calls that
// started in it, with their own statistics; esc in the list shows them
// all again.
func TestTimeRange(t *testing.T) {
	m := loaded(t, loadCalls(t, "py_helloworld.pcap"), 100, 40, "x")
	press(m, "S", "l")
	if s := plain(m); !strings.Contains(s, "▲ time 0.000000–") || !strings.Contains(s, "6 calls, 1 error") {
		t.Fatalf("no cursor on the chart's first column:\n%s", s)
	}
	press(m, "enter")
	if m.screen != screenList || len(m.rows) != 6 || !strings.Contains(plain(m), "6 of 8 calls in time 0.000000–") {
		t.Fatalf("the first stretch lists %d calls:\n%s", len(m.rows), plain(m))
	}
	press(m, "S")
	if s := plain(m); !strings.Contains(s, "6 calls in time 0.000000–") {
		t.Errorf("the statistics are not of the stretch:\n%s", s)
	}
	press(m, "esc", "esc")
	if len(m.rows) != 8 || strings.Contains(plain(m), " in time ") {
		t.Errorf("esc in the list left %d rows:\n%s", len(m.rows), plain(m))
	}
	press(m, "S", "l", "L")
	for range 200 {
		press(m, "L") // widened to the last column, and no further
	}
	press(m, "enter")
	if len(m.rows) != 8 {
		t.Errorf("the whole chart lists %d calls", len(m.rows))
	}
}
