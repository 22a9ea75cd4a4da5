package export

import (
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain":               "plain",
		"héllo, 世界":           "héllo, 世界",
		"a\x1b[2Jb":           `a\x1b[2Jb`,
		"bell\x07 tab\t nl\n": `bell\x07 tab\t nl\n`,
		"del\x7f":             `del\x7f`,
		"c1\u009b31m":         `c1\x9b31m`,
		"bad\xff\xfeutf8":     `bad\xff\xfeutf8`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// The text outputs write a method from a capture escaped: a terminal that
// shows --text or --stats obeys nothing in it.
func TestTextOutputsEscapeControls(t *testing.T) {
	c := &grpcframe.Call{Method: "/a.B/C\x1b[2J", Status: &grpcframe.Status{Name: "OK"}, State: grpcframe.StateComplete}
	line := FormatLine(c, time.UTC)
	s := NewStats()
	s.Call(c)
	var b strings.Builder
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{line, b.String()} {
		if strings.Contains(out, "\x1b") || !strings.Contains(out, `/a.B/C\x1b[2J`) {
			t.Errorf("not escaped: %q", out)
		}
	}
}
