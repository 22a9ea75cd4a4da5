package sniff

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/scripts/lossy/lossy"
)

// Every note the decoding makes, on a call or a connection, says what kind
// of problem it reports: checked on the shipped captures and on copies
// with packets dropped, which make most kinds.
func TestNotesHaveKinds(t *testing.T) {
	dir := t.TempDir()
	for _, f := range captures(t) {
		checkNoteKinds(t, f)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		damaged := filepath.Join(dir, filepath.Base(f)+".lossy.pcap")
		var b bytes.Buffer
		if _, err := lossy.Copy(bytes.NewReader(raw), &b, lossy.Options{Drop: 5, Reorder: 5, Seed: 1}); err != nil {
			continue // a pcapng file named .pcap
		}
		if err := os.WriteFile(damaged, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		checkNoteKinds(t, damaged)
	}
}

func checkNoteKinds(t *testing.T, path string) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sum, err := NewDecoder(Options{}).Run(context.Background(), src, SinkFunc(func(c *Call) {
		for _, n := range c.Notes {
			if n.Kind == 0 {
				t.Errorf("%s: call %d/%d: note without a kind: %s", filepath.Base(path), c.ConnID, c.StreamID, n.Text)
			}
		}
		Release(c)
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range sum.Calls.ConnNotes {
		if n.Kind == 0 {
			t.Errorf("%s: connection note without a kind: %s", filepath.Base(path), n.Text)
		}
	}
}
