package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// readBPFBuffer reads every record of buf as the backend does.
func readBPFBuffer(buf []byte, l bpfHdrLayout) ([]bpfRecord, error) {
	var recs []bpfRecord
	for off := 0; off < len(buf); {
		rec, n, err := nextBPFRecord(buf[off:], l)
		if err != nil {
			return recs, err
		}
		recs = append(recs, rec)
		off += n
	}
	return recs, nil
}

// TestBPFBufferDarwin reads a buffer laid out byte by byte as macOS writes
// it for lo0 (DLT_NULL): 18-byte headers (timeval32), bh_hdrlen 20 so that
// the IP header after the 4-byte family is 4-aligned, records 4-aligned,
// and no padding after the last one.
func TestBPFBufferDarwin(t *testing.T) {
	pkt1 := append([]byte{30, 0, 0, 0}, bytes.Repeat([]byte{0x60}, 41)...) // AF_INET6, 45 bytes
	pkt2 := []byte{2, 0, 0, 0, 0x45, 0, 0}                                 // AF_INET, cut to 7 of 60
	var buf []byte
	buf = append(buf,
		0x2c, 0x1b, 0x5a, 0x66, // tv_sec 0x665a1b2c
		0x40, 0xe2, 0x01, 0x00, // tv_usec 123456
		45, 0, 0, 0, // caplen
		45, 0, 0, 0, // datalen
		20, 0, // hdrlen
		0, 0) // padding to hdrlen
	buf = append(buf, pkt1...)
	buf = append(buf, 0, 0, 0) // 20+45 = 65, aligned to 68
	buf = append(buf,
		0x2d, 0x1b, 0x5a, 0x66,
		0x01, 0, 0, 0,
		7, 0, 0, 0,
		60, 0, 0, 0,
		20, 0,
		0, 0)
	buf = append(buf, pkt2...)
	recs, err := readBPFBuffer(buf, bpfLayoutDarwin)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	want := []struct {
		ts      time.Time
		data    []byte
		datalen int
	}{
		{time.Unix(0x665a1b2c, 123456000), pkt1, 45},
		{time.Unix(0x665a1b2d, 1000), pkt2, 60},
	}
	for i, w := range want {
		r := recs[i]
		if !r.ts.Equal(w.ts) || !bytes.Equal(r.data, w.data) || r.datalen != w.datalen {
			t.Errorf("record %d: %v %x %d, want %v %x %d", i, r.ts, r.data, r.datalen, w.ts, w.data, w.datalen)
		}
	}
}

// TestBPFBufferFreeBSD reads a buffer laid out as FreeBSD/amd64 writes it
// for an Ethernet interface: 26-byte headers (64-bit timeval), bh_hdrlen
// 26 (26+14 is 8-aligned), records 8-aligned.
func TestBPFBufferFreeBSD(t *testing.T) {
	frame := bytes.Repeat([]byte{0xee}, 60)
	var buf []byte
	for i := 0; i < 2; i++ {
		buf = binary.LittleEndian.AppendUint64(buf, 1700000000+uint64(i))
		buf = binary.LittleEndian.AppendUint64(buf, 999999)
		buf = binary.LittleEndian.AppendUint32(buf, 60)
		buf = binary.LittleEndian.AppendUint32(buf, 1514)
		buf = binary.LittleEndian.AppendUint16(buf, 26)
		buf = append(buf, frame...)
		buf = append(buf, make([]byte, 2)...) // 26+60 = 86, aligned to 88
	}
	recs, err := readBPFBuffer(buf, bpfLayoutLP64)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	for i, r := range recs {
		if want := time.Unix(1700000000+int64(i), 999999000); !r.ts.Equal(want) || !bytes.Equal(r.data, frame) || r.datalen != 1514 {
			t.Errorf("record %d: %v %d bytes of %d", i, r.ts, len(r.data), r.datalen)
		}
	}
}

// encodeBPF writes records as the kernel of layout l would: the header,
// padding to hdrlen (which aligns the network header after a link header
// of linkLen bytes), the packet, and padding to BPF_WORDALIGN except after
// the last record.
func encodeBPF(l bpfHdrLayout, linkLen int, recs []bpfRecord) []byte {
	hdrlen := l.wordAlign(linkLen+l.minHeader()) - linkLen
	var buf []byte
	for i, r := range recs {
		start := len(buf)
		putInt := func(v int64, n int) {
			if n == 8 {
				buf = l.order.AppendUint64(buf, uint64(v))
			} else {
				buf = l.order.AppendUint32(buf, uint32(v))
			}
		}
		putInt(r.ts.Unix(), l.secBytes)
		putInt(int64(r.ts.Nanosecond()/1000), l.usecBytes)
		buf = append(buf, make([]byte, l.caplenOff-l.secBytes-l.usecBytes)...)
		buf = l.order.AppendUint32(buf, uint32(len(r.data)))
		buf = l.order.AppendUint32(buf, uint32(r.datalen))
		buf = l.order.AppendUint16(buf, uint16(hdrlen))
		buf = append(buf, make([]byte, start+hdrlen-len(buf))...)
		buf = append(buf, r.data...)
		if i < len(recs)-1 {
			buf = append(buf, make([]byte, start+l.wordAlign(hdrlen+len(r.data))-len(buf))...)
		}
	}
	return buf
}

// TestBPFBufferEveryLayout writes and reads back records of every length
// from 0 to 17 bytes (every alignment) with every layout, and checks that
// every cut of such a buffer reads the whole records before the cut and
// then fails with errBPFBuffer, never panicking.
func TestBPFBufferEveryLayout(t *testing.T) {
	layouts := map[string]bpfHdrLayout{
		"darwin": bpfLayoutDarwin, "lp64": bpfLayoutLP64, "ilp32": bpfLayoutILP32,
		"freebsd/arm": bpfLayoutFreeBSDARM, "openbsd": bpfLayoutOpenBSD,
	}
	be := bpfLayoutOpenBSD
	be.order = binary.BigEndian
	layouts["openbsd/ppc64"] = be
	var recs []bpfRecord
	for n := 0; n < 18; n++ {
		data := bytes.Repeat([]byte{byte(n)}, n)
		recs = append(recs, bpfRecord{ts: time.Unix(int64(1e9+n), int64(n)*1000), data: data, datalen: n + 100})
	}
	for name, l := range layouts {
		for _, linkLen := range []int{0, 4, 14} {
			buf := encodeBPF(l, linkLen, recs)
			got, err := readBPFBuffer(buf, l)
			if err != nil || len(got) != len(recs) {
				t.Fatalf("%s link %d: %d records, %v", name, linkLen, len(got), err)
			}
			for i, r := range got {
				w := recs[i]
				if !r.ts.Equal(w.ts) || !bytes.Equal(r.data, w.data) || r.datalen != w.datalen {
					t.Fatalf("%s link %d record %d: %v %x %d", name, linkLen, i, r.ts, r.data, r.datalen)
				}
			}
			for cut := 0; cut < len(buf); cut++ {
				got, err := readBPFBuffer(buf[:cut], l)
				if err != nil && !errors.Is(err, errBPFBuffer) {
					t.Fatalf("%s cut %d: %v", name, cut, err)
				}
				for i, r := range got {
					if !bytes.Equal(r.data, recs[i].data) {
						t.Fatalf("%s cut %d: record %d is %x", name, cut, i, r.data)
					}
				}
			}
		}
	}
}

func TestBPFBufferMalformed(t *testing.T) {
	l := bpfLayoutDarwin
	hdr := func(caplen uint32, hdrlen int) []byte {
		b := make([]byte, 8)
		b = l.order.AppendUint32(b, caplen)
		b = l.order.AppendUint32(b, caplen)
		b = l.order.AppendUint16(b, uint16(hdrlen))
		return append(b, 0, 0)
	}
	for name, buf := range map[string][]byte{
		"short header":       make([]byte, 17),
		"hdrlen too small":   hdr(0, 10),
		"packet past end":    append(hdr(10, 20), 1, 2, 3),
		"hdrlen past end":    hdr(0, 200),
		"huge caplen":        append(hdr(0xffffffff, 20), 1),
		"hdrlen zero, empty": hdr(0, 0),
	} {
		_, _, err := nextBPFRecord(buf, l)
		if !errors.Is(err, errBPFBuffer) {
			t.Errorf("%s: %v, want errBPFBuffer", name, err)
		}
	}
}

// TestBPFTimestampSign checks the reading of bh_tstamp's seconds: signed
// where the system's time_t is, unsigned on OpenBSD (u_int32_t).
func TestBPFTimestampSign(t *testing.T) {
	b := []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}
	if got := bpfLayoutDarwin.timestamp(b); got.Unix() != -1 {
		t.Errorf("darwin: %v", got.Unix())
	}
	if got := bpfLayoutOpenBSD.timestamp(b); got.Unix() != 0xffffffff {
		t.Errorf("openbsd: %v", got.Unix())
	}
	arm := binary.LittleEndian.AppendUint64(nil, 1<<33)
	arm = binary.LittleEndian.AppendUint32(arm, 5)
	if got := bpfLayoutFreeBSDARM.timestamp(arm); got.Unix() != 1<<33 || got.Nanosecond() != 5000 {
		t.Errorf("freebsd/arm: %v", got)
	}
}

// TestBPFLayoutFor checks the layouts against golang.org/x/sys/unix
// v0.49's generated types: the offset of BpfHdr.Caplen, SizeofBpfHdr and
// BPF_ALIGNMENT of each system (a test on each system compares with its
// own unix package too).
func TestBPFLayoutFor(t *testing.T) {
	for _, c := range []struct {
		target        string
		caplenOff     int
		sizeofBpfHdr  int
		align         int
		bigEndian     bool
		unsignedSec   bool
		secBytes, usb int
	}{
		{"darwin/amd64", 8, 0x14, 4, false, false, 4, 4},
		{"darwin/arm64", 8, 0x14, 4, false, false, 4, 4},
		{"freebsd/amd64", 16, 0x20, 8, false, false, 8, 8},
		{"freebsd/arm64", 16, 0x20, 8, false, false, 8, 8},
		{"freebsd/riscv64", 16, 0x20, 8, false, false, 8, 8},
		{"freebsd/386", 8, 0x14, 4, false, false, 4, 4},
		{"freebsd/arm", 16, 0x20, 4, false, false, 8, 4},
		{"netbsd/amd64", 16, 0x20, 8, false, false, 8, 8},
		{"netbsd/arm64", 16, 0x20, 8, false, false, 8, 8},
		{"netbsd/386", 8, 0x14, 4, false, false, 4, 4},
		{"netbsd/arm", 8, 0x14, 4, false, false, 4, 4},
		{"openbsd/amd64", 8, 0x18, 4, false, true, 4, 4},
		{"openbsd/arm64", 8, 0x18, 4, false, true, 4, 4},
		{"openbsd/mips64", 8, 0x18, 4, true, true, 4, 4},
		{"openbsd/ppc64", 8, 0x18, 4, true, true, 4, 4},
		{"dragonfly/amd64", 16, 0x20, 8, false, false, 8, 8},
	} {
		goos, goarch, _ := strings.Cut(c.target, "/")
		l, err := bpfLayoutFor(goos, goarch)
		if err != nil {
			t.Errorf("%s: %v", c.target, err)
			continue
		}
		if l.caplenOff != c.caplenOff || l.align != c.align || l.unsignedSec != c.unsignedSec ||
			l.secBytes != c.secBytes || l.usecBytes != c.usb || (l.order == binary.BigEndian) != c.bigEndian {
			t.Errorf("%s: layout %+v", c.target, l)
		}
		// OpenBSD has four more fields after bh_hdrlen; elsewhere the
		// struct is the fields read, padded to its alignment.
		if goos != "openbsd" {
			structAlign := max(c.secBytes, 4)
			if got := (l.minHeader() + structAlign - 1) &^ (structAlign - 1); got != c.sizeofBpfHdr {
				t.Errorf("%s: header of %d bytes, sizeof is %d", c.target, got, c.sizeofBpfHdr)
			}
		}
	}
	if _, err := bpfLayoutFor("plan9", "amd64"); err == nil {
		t.Error("plan9 has a BPF layout")
	}
}

func TestLinkTypeOfDLT(t *testing.T) {
	for _, c := range []struct {
		goos string
		dlt  uint32
		want layers.LinkType
	}{
		{"darwin", 0, layers.LinkTypeNull},
		{"darwin", 1, layers.LinkTypeEthernet},
		{"darwin", 12, layers.LinkTypeRaw},
		{"darwin", 108, layers.LinkTypeLoop},
		{"freebsd", 12, layers.LinkTypeRaw},
		{"netbsd", 0, layers.LinkTypeNull},
		{"openbsd", 12, layers.LinkTypeLoop},
		{"openbsd", 14, layers.LinkTypeRaw},
		{"openbsd", 1, layers.LinkTypeEthernet},
	} {
		got, err := linkTypeOfDLT(c.dlt, c.goos)
		if err != nil || got != c.want {
			t.Errorf("%s DLT %d: %v, %v; want %v", c.goos, c.dlt, got, err, c.want)
		}
	}
	for _, c := range []struct {
		goos string
		dlt  uint32
	}{{"darwin", 105}, {"darwin", 14}, {"openbsd", 108}, {"freebsd", 127}} {
		if _, err := linkTypeOfDLT(c.dlt, c.goos); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("DLT %d", c.dlt)) {
			t.Errorf("%s DLT %d: %v, want an error naming it", c.goos, c.dlt, err)
		}
	}
}

func TestBPFBufferSizes(t *testing.T) {
	for _, c := range []struct {
		ring, min, max int
		want           []int
	}{
		{32 << 20, 1 << 20, 4 << 20, []int{4 << 20, 2 << 20, 1 << 20}},
		{3 << 20, 1 << 20, 16 << 20, []int{3 << 20, 3 << 19}},
		{1000, 1 << 20, 16 << 20, []int{1 << 20}},
	} {
		if got := bpfBufferSizes(c.ring, c.min, c.max); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("bpfBufferSizes(%d, %d, %d) = %v, want %v", c.ring, c.min, c.max, got, c.want)
		}
	}
}

func TestBPFReadTimeout(t *testing.T) {
	for poll, want := range map[time.Duration]time.Duration{
		-1: bpfWakeInterval, time.Second: bpfWakeInterval, 20 * time.Millisecond: 20 * time.Millisecond,
		time.Microsecond: time.Millisecond,
	} {
		if got := bpfReadTimeout(poll); got != want {
			t.Errorf("bpfReadTimeout(%v) = %v, want %v", poll, got, want)
		}
	}
}

func TestBPFProgram(t *testing.T) {
	p, err := bpfProgram(nil, 1500)
	if err != nil || len(p) != 1 || p[0] != (bpf.RawInstruction{Op: 0x06, K: 1500}) {
		t.Errorf("accept-all program: %v, %v", p, err)
	}
	user := []bpf.RawInstruction{{Op: 0x28, K: 12}, {Op: 0x06, K: 100}}
	if p, err := bpfProgram(user, 1500); err != nil || len(p) != 2 {
		t.Errorf("user program: %v, %v", p, err)
	}
	if _, err := bpfProgram(make([]bpf.RawInstruction, bpfMaxInstructions+1), 1500); err == nil {
		t.Error("a program longer than BPF_MAXINSNS accepted")
	}
}

func TestFirstUint32(t *testing.T) {
	// What an ioctl storing u_int 0x12345 into a zeroed int leaves there.
	le := int(binary.LittleEndian.Uint64([]byte{0x45, 0x23, 0x01, 0, 0, 0, 0, 0}))
	be := int(binary.BigEndian.Uint64([]byte{0, 0x01, 0x23, 0x45, 0, 0, 0, 0}))
	for _, c := range []struct {
		v     int
		order binary.ByteOrder
		size  int
	}{{le, binary.LittleEndian, 8}, {be, binary.BigEndian, 8}, {0x12345, binary.BigEndian, 4}} {
		if c.size*8 > strconv.IntSize {
			continue // an 8-byte int's halves do not fit this int
		}
		if got := firstUint32(c.v, c.order, c.size); got != 0x12345 {
			t.Errorf("firstUint32(%#x, %v, %d) = %#x", c.v, c.order, c.size, got)
		}
	}
}
