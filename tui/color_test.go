package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// TestNoColor runs the program with and without NO_COLOR on what claims to
// be a 256-colour terminal (TTY_FORCE makes colorprofile treat the test's
// buffer as one): with NO_COLOR, Bubble Tea must drop the colours (the
// green OK) but keep reverse video, which marks the selected row.
func TestNoColor(t *testing.T) {
	calls := loadCalls(t, "py_helloworld.pcap")
	run := func(env ...string) []byte {
		m, _ := New(feed(calls), Options{Location: time.UTC})
		tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30),
			teatest.WithProgramOptions(tea.WithEnvironment(append(env, "TERM=xterm-256color", "TTY_FORCE=1"))))
		var out bytes.Buffer
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			out.Write(b)
			return bytes.Contains(out.Bytes(), []byte("FileController/Write"))
		}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
		tm.Send(keyMsg("q"))
		tm.Send(keyMsg("y"))
		tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
		return out.Bytes()
	}
	green, reverse := []byte("32m"), []byte("\x1b[7m")
	colour := run()
	if !bytes.Contains(colour, green) {
		t.Errorf("no green OK with colours on:\n%q", colour)
	}
	plain := run("NO_COLOR=1")
	if bytes.Contains(plain, green) {
		t.Errorf("green with NO_COLOR:\n%q", plain)
	}
	if !bytes.Contains(plain, reverse) {
		t.Errorf("no reverse video with NO_COLOR:\n%q", plain)
	}
}

// TestRun starts the UI the way the command does and quits it with q,
// and q again to confirm.
func TestRun(t *testing.T) {
	ch := feed(loadCalls(t, "py_grpcdemo.pcap"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := Run(ctx, ch, Options{Title: "py_grpcdemo.pcap", Input: strings.NewReader("qq"), Output: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("q did not quit")
	}
}

// TestRunCancelled: ending the context ends the UI without an error, so
// that the command can stop it when the capture ends in some other way.
func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	defer pw.Close()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, make(chan Update), Options{Input: pr, Output: io.Discard}) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the context ended")
	}
}
