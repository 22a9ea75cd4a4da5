package h2decode

import (
	"errors"
	"fmt"
	"testing"
)

// A Note reads as its text and matches its kind, and only its kind, with
// errors.Is, also when wrapped.
func TestNoteIsItsKind(t *testing.T) {
	n := Note{Kind: NoteLimit, Text: "header block on stream 1 larger than 10 bytes; skipped"}
	if n.Error() != n.Text || fmt.Sprint(n) != n.Text {
		t.Errorf("reads %q, %q", n.Error(), fmt.Sprint(n))
	}
	for k := NoteLostBytes; k <= NotePeer; k++ {
		if got := errors.Is(n, k); got != (k == NoteLimit) {
			t.Errorf("errors.Is(note, %v) = %v", k, got)
		}
		if k.Error() != k.String() || k.String() == "" {
			t.Errorf("kind %d reads %q", k, k)
		}
	}
	if !errors.Is(fmt.Errorf("stream 1: %w", n), NoteLimit) {
		t.Error("a wrapped note does not match its kind")
	}
	if errors.Is(n, errors.New("limit reached")) {
		t.Error("a note matches another error of its kind's text")
	}
}
