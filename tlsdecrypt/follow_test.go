package tlsdecrypt

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A key log written in pieces, as a client does: entries appear once their
// line is whole; a missing file is waited for; a truncated or replaced file
// is read again from its start.
func TestFollowKeyLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.log")
	line := func(label string, cr, secret byte, n int) string {
		return label + " " + strings.Repeat(string("0123456789abcdef"[cr>>4])+string("0123456789abcdef"[cr&15]), 32) +
			" " + strings.Repeat("5a", n) + "\n"
	}
	l1 := line(LabelClientRandom, 0x11, 0x5a, 48)
	l2 := line(LabelClientTraffic0, 0x22, 0x5a, 32)
	l3 := line(LabelServerTraffic0, 0x22, 0x5a, 32)
	var warnings []string
	k := &KeyLog{}
	f := FollowKeyLog(path, k, time.Hour, func(w string) { warnings = append(warnings, w) })
	defer f.Close()
	if len(warnings) != 1 || !strings.Contains(warnings[0], "does not exist yet") {
		t.Fatalf("missing file: %q", warnings)
	}
	if f.Poll() != 0 || len(warnings) != 1 {
		t.Fatalf("missing file said again: %q", warnings)
	}
	appendFile := func(s string) {
		t.Helper()
		w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.WriteString(s); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	steps := []struct {
		write string
		added int
	}{
		{"# SSL/TLS secrets log file\n" + l1[:10], 0},
		{l1[10:50], 0},
		{l1[50:], 1},
		{l2 + l3[:len(l3)-1], 1}, // the newline is missing: not yet
		{"\n", 1},
		{"", 0},
		{"BOGUS " + strings.Repeat("00", 32) + " 00\r\n", 0},
	}
	for i, s := range steps {
		appendFile(s.write)
		if n := f.Poll(); n != s.added {
			t.Fatalf("step %d: %d entries added, want %d", i, n, s.added)
		}
	}
	if k.Len() != 2 || k.Lookup(bytes.Repeat([]byte{0x22}, 32)).ServerTraffic0 == nil {
		t.Fatalf("%d client randoms", k.Len())
	}
	if len(warnings) != 2 || !strings.Contains(warnings[1], "line 5: unknown label \"BOGUS\"") {
		t.Fatalf("warnings %q", warnings)
	}

	// Truncated and written again: read from the start.
	if err := os.WriteFile(path, []byte(l3), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := f.Poll(); n != 1 {
		t.Fatalf("after truncation: %d added", n)
	}
	// Replaced by another file (rotation), even a longer one.
	other := filepath.Join(dir, "new.log")
	l4 := line(LabelClientRandom, 0x44, 0x5a, 48)
	if err := os.WriteFile(other, []byte(l1+l2+l3+l4), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	if n := f.Poll(); n != 4 || k.Len() != 3 {
		t.Fatalf("after rotation: %d added, %d client randoms", n, k.Len())
	}
	f.Close()
	f.Close()
	if len(warnings) != 2 {
		t.Errorf("warnings %q", warnings)
	}
}

// A line longer than any key log line is dropped up to its end, with a
// warning, and the lines after it are read.
func TestFollowKeyLogLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.log")
	long := strings.Repeat("x", maxKeyLogLine+10)
	good := LabelClientRandom + " " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 48) + "\n"
	if err := os.WriteFile(path, []byte(long[:maxKeyLogLine/2]), 0o600); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	k := &KeyLog{}
	f := FollowKeyLog(path, k, time.Hour, func(w string) { warnings = append(warnings, w) })
	defer f.Close()
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString(long[maxKeyLogLine/2:] + "\n" + good)
	w.Close()
	if n := f.Poll(); n != 1 || len(warnings) != 1 || !strings.Contains(warnings[0], "line 1: longer than") {
		t.Fatalf("%d added, warnings %q", n, warnings)
	}
}

// What is not a regular file is not followed (a named pipe would block), and
// said once.
func TestFollowKeyLogNotRegular(t *testing.T) {
	dir := t.TempDir()
	var warnings []string
	f := FollowKeyLog(dir, &KeyLog{}, time.Hour, func(w string) { warnings = append(warnings, w) })
	f.Poll()
	f.Close()
	if len(warnings) != 1 || !strings.Contains(warnings[0], "not a regular file") {
		t.Errorf("warnings %q", warnings)
	}
}
