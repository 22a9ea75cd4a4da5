package tui

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// TestTeatestSchema drives the program with the schemas loaded and the
// capture file known: a call opens with its type names, y copies a
// grpcurl command with JSON field names, and w writes a pcapng.
func TestTeatestSchema(t *testing.T) {
	calls := loadCalls(t, "py_helloworld.pcap")
	dir := t.TempDir()
	m, err := New(feed(calls), Options{Title: "py_helloworld.pcap", Location: time.UTC, ExportDir: dir,
		Registry: registry(t, "helloworld.proto", "muxs.proto"), CapturePath: helloPcap})
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, probe{m}, teatest.WithInitialTermSize(120, 30))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("FileController/Write"))
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	screen := func(keys ...tea.Msg) string {
		t.Helper()
		for _, k := range keys {
			tm.Send(k)
		}
		ch := make(chan string, 1)
		tm.Send(snapshotMsg(ch))
		select {
		case s := <-ch:
			return s
		case <-time.After(5 * time.Second):
			t.Fatal("no screen")
		}
		return ""
	}
	s := screen(keyMsg("g"), keyMsg("enter"))
	if !strings.Contains(s, `HelloRequest {"name":"you"}`) {
		t.Fatalf("the call does not show its request type:\n%s", s)
	}
	want := `grpcurl -plaintext -d '{"name":"you"}' 127.0.0.1:50103 helloworld.Greeter/SayHello`
	s = screen(keyMsg("y"))
	if !strings.Contains(strings.ReplaceAll(s, "\n", ""), "Y saves it to a file): "+want) {
		t.Errorf("status line lacks the command:\n%s", s)
	}
	// w runs as a command; its result arrives as a message of its own.
	tm.Send(keyMsg("w"))
	tm.Send(keyMsg("enter")) // the name offered
	var out bytes.Buffer     // what the terminal got, the clipboard sequence among it
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		out.Write(b)
		return bytes.Contains(b, []byte("wrote 45 packets"))
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	tm.Send(keyMsg("q")) // back to the list
	tm.Send(keyMsg("q"))
	tm.Send(keyMsg("y"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(probe)
	if fm.lastCopy != want {
		t.Errorf("copied %q\nwant   %q", fm.lastCopy, want)
	}
	// OSC 52: the command went to the terminal's clipboard.
	rest, _ := io.ReadAll(tm.FinalOutput(t))
	out.Write(rest)
	if osc := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(want)); !bytes.Contains(out.Bytes(), []byte(osc)) {
		t.Error("no OSC 52 clipboard sequence with the command in the output")
	}
	if !strings.HasPrefix(fm.status, "wrote 45 packets of 1 connection to "+dir) {
		t.Errorf("status %q", fm.status)
	}
	if n := countPackets(t, strings.TrimPrefix(fm.status, "wrote 45 packets of 1 connection to ")); n != 45 {
		t.Errorf("the pcapng holds %d packets", n)
	}
}
