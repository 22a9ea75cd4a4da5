package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
)

// keyLogLines returns n NSS key log lines with distinct client randoms.
func keyLogLines(n, seed int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "CLIENT_RANDOM %064x %096x\n", seed*1000+i, i+1)
	}
	return b.Bytes()
}

// writeRecorder remembers the size of every Write.
type writeRecorder struct {
	buf    bytes.Buffer
	writes []int
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.writes = append(w.writes, len(p))
	return w.buf.Write(p)
}

// blockEnds returns the offsets at which the pcapng blocks of b end, and
// whether b ends exactly at one.
func blockEnds(t *testing.T, b []byte) map[int]bool {
	ends := map[int]bool{}
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			t.Fatalf("%d stray bytes at offset %d", len(b)-off, off)
		}
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		if n < 12 || n%4 != 0 || off+n > len(b) || binary.LittleEndian.Uint32(b[off+n-4:]) != uint32(n) {
			t.Fatalf("bad block of length %d at offset %d", n, off)
		}
		off += n
		ends[off] = true
	}
	return ends
}

func synthPacket(i int) capture.Packet {
	data := bytes.Repeat([]byte{byte(i)}, 20+i*37%1500)
	return capture.Packet{
		Data:          data,
		Time:          time.Unix(1700000000+int64(i), int64(i)*123457+1),
		LinkType:      layers.LinkTypeRaw,
		CaptureLength: len(data),
		Length:        len(data) + i%3, // some packets cut short
	}
}

// TestPcapngRoundTrip writes packets and key logs, and reads them back
// with the repository's own readers.
func TestPcapngRoundTrip(t *testing.T) {
	out, want, secrets := writeRoundTrip(t)

	// Every Write ends at a block boundary, so a process killed between
	// two leaves a file readers take as complete.
	ends := blockEnds(t, out.buf.Bytes())
	total := 0
	for _, n := range out.writes {
		total += n
		if !ends[total] {
			t.Fatalf("a Write ends at offset %d, inside a block", total)
		}
	}
	if len(out.writes) < 3 {
		t.Errorf("%d Writes: want the explicit Flush, automatic ones and Close's", len(out.writes))
	}

	checkReadBack(t, out.buf.Bytes(), want, secrets)

	var keys tlsdecrypt.KeyLog
	n, err := keys.KeysFromPcapng(bytes.NewReader(out.buf.Bytes()))
	if err != nil || n != 2 || keys.Len() != 4 || len(keys.Warnings()) != 0 {
		t.Errorf("KeysFromPcapng: %d blocks, %d keys, warnings %q, err %v; want 2 blocks, 4 keys", n, keys.Len(), keys.Warnings(), err)
	}

	// A copy cut at the last explicit Flush reads as a shorter capture.
	cut := out.buf.Bytes()[:out.writes[0]]
	src, err := capture.OpenReader(bytes.NewReader(cut), "cut.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := src.Next(); err != nil {
			if err != io.EOF {
				t.Errorf("file cut at a Flush: %v", err)
			}
			break
		}
	}
}

// writeRoundTrip writes 1000 packets with two key logs among them, flushes
// once explicitly after packet 100, and closes the writer. It returns what
// was written, the packets and the key logs.
func writeRoundTrip(t *testing.T) (out *writeRecorder, want []capture.Packet, secrets [][]byte) {
	out = &writeRecorder{}
	w, err := NewPcapngWriter(out, layers.LinkTypeRaw, 262144, "any")
	if err != nil {
		t.Fatal(err)
	}
	secrets = [][]byte{keyLogLines(3, 1), []byte("CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 48))}
	for i := range 1000 {
		switch i {
		case 0:
			if err := w.WriteDecryptionSecrets(secrets[0]); err != nil {
				t.Fatal(err)
			}
		case 250:
			// Unterminated last line: the writer adds the newline.
			if err := w.WriteDecryptionSecrets(secrets[1]); err != nil {
				t.Fatal(err)
			}
		}
		p := synthPacket(i)
		want = append(want, p)
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
		if i == 100 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(want[0]); err == nil {
		t.Error("WritePacket after Close succeeded")
	}
	return out, want, secrets
}

// checkReadBack reads the pcapng file b with capture's reader and checks
// that it holds the packets want and the key logs secrets.
func checkReadBack(t *testing.T, b []byte, want []capture.Packet, secrets [][]byte) {
	t.Helper()
	src, err := capture.OpenReader(bytes.NewReader(b), "test.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	src.OnSecrets(func(typ uint32, data []byte) {
		if typ == 0x544c534b {
			got = append(got, data)
		}
	})
	for i := 0; ; i++ {
		p, err := src.Next()
		if err == io.EOF {
			if i != len(want) {
				t.Fatalf("read %d packets back, wrote %d", i, len(want))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		w := want[i]
		if !bytes.Equal(p.Data, w.Data) || !p.Time.Equal(w.Time) || p.Length != w.Length || p.LinkType != layers.LinkTypeRaw {
			t.Fatalf("packet %d: got len %d time %v length %d lt %v; want len %d time %v length %d",
				i, len(p.Data), p.Time, p.Length, p.LinkType, len(w.Data), w.Time, w.Length)
		}
	}
	if len(got) != 2 || !bytes.Equal(got[0], secrets[0]) || string(got[1]) != string(secrets[1])+"\n" {
		t.Errorf("secrets read back %q", got)
	}
}

func TestPcapngWriteError(t *testing.T) {
	w, err := NewPcapngWriter(failWriter{}, layers.LinkTypeEthernet, 100, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err == nil {
		t.Fatal("Flush to a failing writer succeeded")
	}
	if err := w.WritePacket(synthPacket(1)); err == nil {
		t.Error("the write error is not sticky")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
