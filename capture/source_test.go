package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/gzip"
)

type testFrame struct {
	lt   layers.LinkType
	data []byte
	ts   time.Time
	wire int // 0: len(data)
}

// testFrames builds n frames of the given kind carrying payloads "pkt-0",
// "pkt-1", ... with nanosecond timestamps.
func testFrames(t testing.TB, kind string, n int) []testFrame {
	var out []testFrame
	for i := range n {
		lt, b := frame(t, kind, tcpSpec{src: cli, dst: srv, seq: uint32(1 + 10*i), flags: "PA", payload: fmt.Appendf(nil, "pkt-%d", i)})
		out = append(out, testFrame{lt: lt, data: b, ts: t0.Add(time.Duration(i)*time.Second + 123456789)})
	}
	return out
}

func ci(f testFrame) gopacket.CaptureInfo {
	wire := f.wire
	if wire == 0 {
		wire = len(f.data)
	}
	return gopacket.CaptureInfo{Timestamp: f.ts, CaptureLength: len(f.data), Length: wire}
}

func writePcap(t testing.TB, nanos bool, frames []testFrame) []byte {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if nanos {
		w = pcapgo.NewWriterNanos(&buf)
	}
	if err := w.WriteFileHeader(65535, frames[0].lt); err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := w.WritePacket(ci(f), f.data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// writePcapBigEndian writes a microsecond pcap in big-endian byte order.
func writePcapBigEndian(frames []testFrame) []byte {
	be := binary.BigEndian
	b := be.AppendUint32(nil, 0xA1B2C3D4)
	b = be.AppendUint16(b, 2)
	b = be.AppendUint16(b, 4)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, 65535)
	b = be.AppendUint32(b, uint32(frames[0].lt))
	for _, f := range frames {
		b = be.AppendUint32(b, uint32(f.ts.Unix()))
		b = be.AppendUint32(b, uint32(f.ts.Nanosecond()/1000))
		b = be.AppendUint32(b, uint32(len(f.data)))
		b = be.AppendUint32(b, uint32(len(f.data)))
		b = append(b, f.data...)
	}
	return b
}

// writePcapng writes one section with an interface per distinct link type.
func writePcapng(t testing.TB, w io.Writer, frames []testFrame) {
	var ifaces []layers.LinkType
	index := func(lt layers.LinkType) int {
		for i, l := range ifaces {
			if l == lt {
				return i
			}
		}
		return -1
	}
	for _, f := range frames {
		if index(f.lt) < 0 {
			ifaces = append(ifaces, f.lt)
		}
	}
	ng, err := pcapgo.NewNgWriterInterface(w, pcapgo.NgInterface{LinkType: ifaces[0], SnapLength: 65535}, pcapgo.NgWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, lt := range ifaces[1:] {
		if _, err := ng.AddInterface(pcapgo.NgInterface{LinkType: lt, SnapLength: 65535}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range frames {
		c := ci(f)
		c.InterfaceIndex = index(f.lt)
		if err := ng.WritePacket(c, f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := ng.Flush(); err != nil {
		t.Fatal(err)
	}
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll reads every packet, copying them, and returns the final error
// (nil at a clean end).
func readAll(t testing.TB, s *FileSource) ([]Packet, error) {
	var out []Packet
	for {
		p, err := s.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if len(p.Data) != p.CaptureLength {
			t.Fatalf("CaptureLength %d for %d bytes", p.CaptureLength, len(p.Data))
		}
		p.Data = append([]byte(nil), p.Data...)
		out = append(out, p)
	}
}

func checkPackets(t *testing.T, got []Packet, want []testFrame, resolution time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].LinkType != want[i].lt || !bytes.Equal(got[i].Data, want[i].data) || !got[i].Time.Equal(want[i].ts.Truncate(resolution)) {
			t.Fatalf("packet %d: link %v time %v, want link %v time %v", i, got[i].LinkType, got[i].Time, want[i].lt, want[i].ts.Truncate(resolution))
		}
	}
}

func openBytes(t testing.TB, b []byte, name string) (*FileSource, error) {
	return OpenReader(bytes.NewReader(b), name)
}

func TestReadPcap(t *testing.T) {
	frames := testFrames(t, "eth", 5)
	for _, tc := range []struct {
		name  string
		data  []byte
		res   time.Duration
		fmt   string
		links layers.LinkType
	}{
		{"micro", writePcap(t, false, frames), time.Microsecond, "pcap", layers.LinkTypeEthernet},
		{"nano", writePcap(t, true, frames), time.Nanosecond, "pcap", layers.LinkTypeEthernet},
		{"bigendian", writePcapBigEndian(frames), time.Microsecond, "pcap", layers.LinkTypeEthernet},
		{"gzip", gzipBytes(t, writePcap(t, true, frames)), time.Nanosecond, "pcap.gz", layers.LinkTypeEthernet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := openBytes(t, tc.data, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := readAll(t, s)
			if err != nil {
				t.Fatal(err)
			}
			checkPackets(t, got, frames, tc.res)
			if s.Format() != tc.fmt || s.Packets() != 5 || s.Offset() != int64(len(tc.data)) || s.Size() != -1 {
				t.Fatalf("format %q packets %d offset %d size %d", s.Format(), s.Packets(), s.Offset(), s.Size())
			}
			// EOF repeats.
			if _, err := s.Next(); err != io.EOF {
				t.Fatal(err)
			}
		})
	}
}

func TestReadPcapngMixedLinkTypes(t *testing.T) {
	eth := testFrames(t, "eth", 3)
	sll := testFrames(t, "sll2", 3)
	var frames []testFrame
	for i := range eth {
		frames = append(frames, eth[i], sll[i])
	}
	var buf bytes.Buffer
	writePcapng(t, &buf, frames)
	s, err := openBytes(t, buf.Bytes(), "mixed.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, s)
	if err != nil {
		t.Fatal(err)
	}
	checkPackets(t, got, frames, time.Nanosecond)
	if s.Format() != "pcapng" {
		t.Fatal(s.Format())
	}
}

func TestReadPcapngTwoSections(t *testing.T) {
	first := testFrames(t, "null", 2)
	second := testFrames(t, "raw", 3)
	var buf bytes.Buffer
	writePcapng(t, &buf, first)
	writePcapng(t, &buf, second)
	for _, data := range [][]byte{buf.Bytes(), gzipBytes(t, buf.Bytes())} {
		s, err := openBytes(t, data, "sections.pcapng")
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, s)
		if err != nil {
			t.Fatal(err)
		}
		checkPackets(t, got, append(append([]testFrame{}, first...), second...), time.Nanosecond)
	}
}

func TestOpenFileAndAssemble(t *testing.T) {
	// A whole exchange through file, source, decoder and assembler.
	var frames []testFrame
	add := func(kind string, s tcpSpec) {
		lt, b := frame(t, kind, s)
		frames = append(frames, testFrame{lt: lt, data: b, ts: t0.Add(time.Duration(len(frames)) * time.Millisecond)})
	}
	add("eth", tcpSpec{src: cli, dst: srv, seq: 100, flags: "S"})
	add("eth", tcpSpec{src: srv, dst: cli, seq: 900, ack: 101, flags: "SA"})
	add("eth", tcpSpec{src: cli, dst: srv, seq: 101, ack: 901, flags: "PA", payload: []byte("ping")})
	add("eth", tcpSpec{src: srv, dst: cli, seq: 901, ack: 105, flags: "PA", payload: []byte("pong")})
	add("eth", tcpSpec{src: cli, dst: srv, seq: 105, ack: 905, flags: "FA"})
	add("eth", tcpSpec{src: srv, dst: cli, seq: 905, ack: 106, flags: "FA"})
	dir := t.TempDir()
	plain := filepath.Join(dir, "x.bin") // the name says nothing
	if err := os.WriteFile(plain, writePcap(t, false, frames), 0o644); err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(dir, "y.pcap")
	var ng bytes.Buffer
	writePcapng(t, &ng, frames)
	if err := os.WriteFile(gz, gzipBytes(t, ng.Bytes()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{plain, gz} {
		s, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(path)
		if s.Size() != fi.Size() || s.Name() != path {
			t.Fatalf("size %d, want %d", s.Size(), fi.Size())
		}
		r := &recorder{}
		a := NewAssembler(r, Options{})
		for {
			p, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := a.AddPacket(p); err != nil {
				t.Fatal(err)
			}
		}
		if s.Offset() != fi.Size() {
			t.Fatalf("offset %d, size %d", s.Offset(), fi.Size())
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		a.Close(t0.Add(time.Second))
		expectEvents(t, r.events, `1 A data "ping"`, `1 B data "pong"`, `1 end fin`)
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenFile(filepath.Join(dir, "nope.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if _, err := OpenFile(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "x.txt")
	os.WriteFile(text, []byte("HTTP/1.1 200 OK\r\n\r\n"), 0o644)
	_, err := OpenFile(text)
	want := text + " is not a pcap or pcapng capture (starts with 48 54 54 50), text; grpcsniff reads .pcap, .pcapng and their .gz"
	if !errors.Is(err, ErrNotCapture) || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

func TestBadInputs(t *testing.T) {
	frames := testFrames(t, "eth", 3)
	pcap := writePcap(t, false, frames)
	var ngBuf bytes.Buffer
	writePcapng(t, &ngBuf, frames)
	ng := ngBuf.Bytes()
	rec2 := 24 + 2*(16+len(frames[0].data)) // offset of the third pcap record

	shortBlock := append([]byte{}, ng...)
	shortBlock = binary.LittleEndian.AppendUint32(shortBlock, 6)
	shortBlock = binary.LittleEndian.AppendUint32(shortBlock, 4)
	shortBlock = append(shortBlock, make([]byte, 64)...)

	kuz := append([]byte{0xA1, 0xB2, 0xCD, 0x34}, pcap[4:]...)
	badVersion := append([]byte{}, pcap...)
	badVersion[4] = 9
	longer := append([]byte{}, pcap...)
	binary.LittleEndian.PutUint32(longer[rec2+8:], uint32(len(frames[2].data)+1)) // caplen > len

	for _, tc := range []struct {
		name    string
		data    []byte
		openErr error  // error from OpenReader
		packets int    // packets before the error from Next
		readErr error  // error from Next after them
		msg     string // part of the message
	}{
		{name: "empty", data: nil, openErr: ErrEmpty, msg: "is empty"},
		{name: "empty gzip", data: gzipBytes(t, nil), openErr: ErrEmpty, msg: "empty gzip stream"},
		{name: "tiny", data: []byte{0xD4, 0xC3}, openErr: ErrNotCapture, msg: "only 2 bytes"},
		{name: "text", data: []byte("hello world"), openErr: ErrNotCapture, msg: "starts with 68 65 6c 6c"},
		{name: "zip", data: []byte("PK\x03\x04rest"), openErr: ErrNotCapture, msg: "zip archive"},
		{name: "kuznetzov", data: kuz, openErr: ErrNotCapture, msg: "editcap"},
		{name: "gzip text", data: gzipBytes(t, []byte("not a capture")), openErr: ErrNotCapture, msg: "inside the gzip stream"},
		{name: "pcap header cut", data: pcap[:10], openErr: ErrTruncated, msg: "file header is incomplete"},
		{name: "pcap bad version", data: badVersion, openErr: ErrCorrupt, msg: "header is invalid"},
		{name: "pcapng header cut", data: ng[:20], openErr: ErrTruncated, msg: "incomplete"},
		{name: "gzip cut in header", data: gzipBytes(t, pcap)[:5], openErr: ErrTruncated, msg: "gzip header"},
		{name: "pcap record data cut", data: pcap[:rec2+16+5], packets: 2, readErr: ErrTruncated, msg: "truncated after 2 packets"},
		{name: "pcap record header cut", data: pcap[:rec2+7], packets: 2, readErr: ErrTruncated, msg: "truncated after 2 packets"},
		{name: "pcap record longer than packet", data: longer, packets: 2, readErr: ErrCorrupt, msg: "corrupt after 2 packets"},
		{name: "pcapng block too short", data: shortBlock, packets: 3, readErr: ErrCorrupt, msg: "less than its own header"},
		{name: "pcapng cut", data: ng[:len(ng)-10], packets: 2, readErr: ErrTruncated, msg: "truncated after 2 packets"},
		{name: "gzip cut", data: gzipBytes(t, pcap)[:len(gzipBytes(t, pcap))-12], packets: 2, readErr: ErrTruncated, msg: "truncated after 2 packets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := openBytes(t, tc.data, "in.cap")
			if tc.openErr != nil {
				if !errors.Is(err, tc.openErr) || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "in.cap") {
					t.Fatalf("open error %v, want %v with %q", err, tc.openErr, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, s)
			if len(got) != tc.packets || !errors.Is(err, tc.readErr) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("%d packets, error %v; want %d, %v with %q", len(got), err, tc.packets, tc.readErr, tc.msg)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Packets != int64(tc.packets) {
				t.Fatalf("FileError %+v", fe)
			}
			// The error sticks.
			if _, err2 := s.Next(); err2 != err {
				t.Fatalf("second error %v", err2)
			}
		})
	}
}

// allocatedDuring reports the bytes allocated while f runs.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestGiantRecords(t *testing.T) {
	frames := testFrames(t, "eth", 2)
	// A pcap whose snap length allows anything and whose third record
	// claims 4 GiB.
	pcap := writePcap(t, false, frames)
	binary.LittleEndian.PutUint32(pcap[16:], 0xFFFFFFFF)
	giant := binary.LittleEndian.AppendUint32(nil, 0)
	giant = binary.LittleEndian.AppendUint32(giant, 0)
	giant = binary.LittleEndian.AppendUint32(giant, 0xFFFFFFF0)
	giant = binary.LittleEndian.AppendUint32(giant, 0xFFFFFFF0)
	withGiant := append(append(append([]byte{}, pcap...), giant...), make([]byte, 1000)...)

	// The same in gzip, with 20 MiB of real zeros behind the claim (a
	// 20 KiB file).
	bomb := append(append([]byte{}, pcap...), giant...)
	bomb = append(bomb, make([]byte, 20<<20)...)
	gzBomb := gzipBytes(t, bomb)

	// A pcapng packet block claiming 4 GiB.
	var ng bytes.Buffer
	writePcapng(t, &ng, frames)
	ngGiant := append([]byte{}, ng.Bytes()...)
	ngGiant = binary.LittleEndian.AppendUint32(ngGiant, 6)
	ngGiant = binary.LittleEndian.AppendUint32(ngGiant, 0xFFFFFF00)
	ngGiant = append(ngGiant, make([]byte, 1000)...)

	for _, tc := range []struct {
		name string
		data []byte
	}{{"pcap", withGiant}, {"pcap.gz", gzBomb}, {"pcapng", ngGiant}} {
		t.Run(tc.name, func(t *testing.T) {
			var got []Packet
			var err error
			alloc := allocatedDuring(func() {
				var s *FileSource
				s, err = openBytes(t, tc.data, "giant")
				if err != nil {
					return
				}
				got, err = readAll(t, s)
			})
			if len(got) != 2 || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "claims") {
				t.Fatalf("%d packets, %v", len(got), err)
			}
			if alloc > 8<<20 {
				t.Fatalf("allocated %d bytes", alloc)
			}
			t.Logf("%v (allocated %d KiB)", err, alloc>>10)
		})
	}
}

func TestOpenReaderStdinLike(t *testing.T) {
	frames := testFrames(t, "sll", 4)
	r, w := io.Pipe()
	go func() {
		data := gzipBytes(t, writePcap(t, true, frames))
		// Dribble the bytes to exercise short reads.
		for len(data) > 0 {
			n := min(7, len(data))
			w.Write(data[:n])
			data = data[n:]
		}
		w.Close()
	}()
	s, err := OpenReader(r, "stdin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, s)
	if err != nil {
		t.Fatal(err)
	}
	checkPackets(t, got, frames, time.Nanosecond)
	if s.Size() != -1 {
		t.Fatal(s.Size())
	}
}

func TestNextNoAlloc(t *testing.T) {
	frames := testFrames(t, "eth", 3000)
	var ng bytes.Buffer
	writePcapng(t, &ng, frames)
	for _, data := range [][]byte{writePcap(t, true, frames), ng.Bytes(), gzipBytes(t, ng.Bytes())} {
		s, err := openBytes(t, data, "x")
		if err != nil {
			t.Fatal(err)
		}
		s.Next()
		n := testing.AllocsPerRun(2000, func() {
			if _, err := s.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Fatalf("%s: %v allocs per packet", s.Format(), n)
		}
	}
}
