package capture_test

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// decodeCalls runs the capture at path through the call pipeline and
// returns one line per call: what a user would compare.
func decodeCalls(t *testing.T, path string) (lines []string, packets int) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sink := grpcframe.SinkFunc(func(c *grpcframe.Call) {
		st := "-"
		if c.Status != nil {
			st = c.Status.Name
		}
		var req, resp [][]byte
		for _, m := range c.Requests {
			req = append(req, m.Data)
		}
		for _, m := range c.Responses {
			resp = append(resp, m.Data)
		}
		lines = append(lines, fmt.Sprintf("%s %s %s %s %s %q %q", c.Client, c.Server, c.Method, st, c.Start.Format(time.RFC3339Nano), req, resp))
	})
	asm := grpcframe.NewAssembler(sink, grpcframe.Options{})
	tcp := capture.NewAssembler(h2decode.NewFactory(asm, h2decode.Options{}), capture.Options{})
	var last time.Time
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		packets++
		last = p.Time
		tcp.AddPacket(p)
	}
	tcp.Close(last)
	asm.Close()
	return lines, packets
}

// TestExtractConnections writes the one connection of a capture to a
// pcapng and reads it back: every packet is there, and the calls decoded
// from the copy are the calls of the original.
func TestExtractConnections(t *testing.T) {
	in := filepath.Join("..", "testdata", "pcaps", "py_helloworld.pcap")
	want, total := decodeCalls(t, in)
	cli := netip.MustParseAddrPort("127.0.0.1:51894")
	srv := netip.MustParseAddrPort("127.0.0.1:50103")
	out := filepath.Join(t.TempDir(), "conn.pcapng")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	// The pair in the other order matches too.
	n, err := capture.ExtractConnections(in, []capture.ConnTuple{{A: srv, B: cli}}, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if n != total || n != 45 {
		t.Errorf("wrote %d packets, the capture has %d (want 45)", n, total)
	}
	got, packets := decodeCalls(t, out)
	if packets != n {
		t.Errorf("the copy holds %d packets, %d were written", packets, n)
	}
	src, err := capture.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if src.Format() == "" || !bytes.HasPrefix([]byte(src.Format()), []byte("pcapng")) {
		t.Errorf("the copy reads as %q, want pcapng", src.Format())
	}
	src.Close()
	if len(got) != len(want) || len(got) != 8 {
		t.Fatalf("the copy gives %d calls, the original %d (want 8)", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

// TestExtractNothing: no matching connection still gives a readable, empty
// pcapng; standard input cannot be read twice.
func TestExtractNothing(t *testing.T) {
	in := filepath.Join("..", "testdata", "pcaps", "py_helloworld.pcap")
	var buf bytes.Buffer
	other := capture.ConnTuple{A: netip.MustParseAddrPort("10.0.0.1:1"), B: netip.MustParseAddrPort("10.0.0.2:2")}
	n, err := capture.ExtractConnections(in, []capture.ConnTuple{other}, &buf)
	if err != nil || n != 0 {
		t.Fatalf("n %d, err %v", n, err)
	}
	src, err := capture.OpenReader(&buf, "empty")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(); err != io.EOF {
		t.Errorf("empty copy: %v, want EOF", err)
	}
	if _, err := capture.ExtractConnections("-", nil, io.Discard); err == nil {
		t.Error("standard input: no error")
	}
}
