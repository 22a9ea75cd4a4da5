package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// terminal runs the command in a real terminal (a tmux session), to test
// what the interactive view shows and what the command does after it.
type terminal struct {
	t       *testing.T
	session string
}

var terminals atomic.Int64

// newTerminal starts args (this test binary, run as main) in a w×h tmux
// session; its standard error and exit status go to files the test reads.
func newTerminal(t *testing.T, w, h int, args ...string) (term *terminal, stderr, status string) {
	t.Helper()
	if emulated() {
		t.Skip("GRPCSNIFF_EMULATED=1: the tests of the view in a terminal start this test binary from tmux, " +
			"and the host cannot run a binary of the emulated architecture by itself (no binfmt_misc)")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("GRPCSNIFF_NO_LIVE") == "1" {
			t.Skip("GRPCSNIFF_NO_LIVE=1 and no tmux: the tests of the view in a terminal are skipped")
		}
		t.Fatal("the tests of the view in a terminal need tmux (apt-get install tmux; .ci/run installs it), or GRPCSNIFF_NO_LIVE=1 to skip them")
	}
	dir := t.TempDir()
	stderr, status = filepath.Join(dir, "stderr"), filepath.Join(dir, "status")
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	cmdline := fmt.Sprintf("env GRPCSNIFF_RUN_MAIN=1 %s %s 2>%s; echo $? >%s", os.Args[0], strings.Join(quoted, " "), stderr, status)
	term = &terminal{t: t, session: fmt.Sprintf("grpcsniff-term-%d-%d", os.Getpid(), terminals.Add(1))}
	if out, err := exec.Command("tmux", "new-session", "-d", "-s", term.session, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), cmdline).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", term.session).Run() })
	return term, stderr, status
}

// screen is what the terminal shows now.
func (term *terminal) screen() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", term.session).Output()
	return string(out)
}

// wait returns the screen once ok accepts it, or fails the test after 20 s.
func (term *terminal) wait(what string, ok func(string) bool) string {
	term.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := term.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("the screen never showed %s:\n%s", what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// keys types keys (tmux key names) into the terminal.
func (term *terminal) keys(keys ...string) {
	exec.Command("tmux", append([]string{"send-keys", "-t", term.session}, keys...)...).Run()
}

// waitFile returns the contents of path once it has some, or fails the
// test after 10 s (the command has not ended).
func (term *terminal) waitFile(path string) string {
	term.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return string(b)
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("the command did not end:\n%s", term.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A capture whose connections could not be decoded says so in the view,
// with what would decode them; after the view, the summary is printed and
// the exit status is the one --text gives.
func TestViewExplainsNothingDecoded(t *testing.T) {
	term, stderr, status := newTerminal(t, 120, 30, "-r", "../../testdata/pcaps/tls/tls13.pcap")
	s := term.wait("the notes", func(s string) bool { return strings.Contains(s, "--keylog FILE") })
	for _, want := range []string{"no calls (gRPC, gRPC-Web, Connect, Twirp or HTTP) in this input", "TLS 1.3 TLS_AES_128_GCM_SHA256", "not decrypted: no key for client random", "notes (n)"} {
		if !strings.Contains(s, want) {
			t.Errorf("the view lacks %q:\n%s", want, s)
		}
	}
	term.keys("q", "q")
	if got := strings.TrimSpace(term.waitFile(status)); got != fmt.Sprint(exitNoCalls) {
		t.Errorf("exit status %s, want %d as with --text", got, exitNoCalls)
	}
	b, _ := os.ReadFile(stderr)
	if !strings.Contains(string(b), "grpcsniff: 0 calls; ") || !strings.Contains(string(b), "give the key log with --keylog FILE") {
		t.Errorf("no summary after the view:\n%s", b)
	}
}

// After the view closes, the summary line says what was read.
func TestViewSummaryAfterQuit(t *testing.T) {
	term, stderr, status := newTerminal(t, 120, 30, "-r", "../../testdata/pcaps/py_grpcdemo.pcap")
	term.wait("the calls", func(s string) bool { return strings.Contains(s, "4 calls") && strings.Contains(s, "done") })
	term.keys("q", "q")
	if got := strings.TrimSpace(term.waitFile(status)); got != "0" {
		t.Errorf("exit status %s", got)
	}
	if b, _ := os.ReadFile(stderr); !strings.Contains(string(b), "grpcsniff: 4 calls; 61 packets, 1 TCP connection (1 h2c)") {
		t.Errorf("summary after the view:\n%s", b)
	}
}
