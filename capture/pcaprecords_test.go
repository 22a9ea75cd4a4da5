package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

// readAllPackets reads every packet of data, with the fast record path or
// with pcapgo alone, through a reader made by wrap.
func readAllPackets(t testing.TB, data []byte, fast bool, wrap func(io.Reader) io.Reader) ([]Packet, error) {
	t.Helper()
	s, err := OpenReader(wrap(bytes.NewReader(data)), "test")
	if err != nil {
		return nil, err
	}
	if !fast {
		s.rec.br = nil
		s.ngrec.br = nil
	}
	var out []Packet
	for {
		p, err := s.Next()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return out, err
		}
		p.Data = bytes.Clone(p.Data)
		out = append(out, p)
	}
}

// rawPcap builds a pcap file by hand, so that records can say anything.
type rawPcap struct {
	order binary.AppendByteOrder
	b     []byte
}

func newRawPcap(big, nano bool, snaplen uint32) *rawPcap {
	r := &rawPcap{order: binary.LittleEndian}
	if big {
		r.order = binary.BigEndian
	}
	magic := uint32(0xA1B2C3D4)
	if nano {
		magic = 0xA1B23C4D
	}
	r.b = r.order.AppendUint32(r.b, magic)
	r.b = r.order.AppendUint16(r.b, 2)
	r.b = r.order.AppendUint16(r.b, 4)
	r.b = r.order.AppendUint32(r.b, 0)
	r.b = r.order.AppendUint32(r.b, 0)
	r.b = r.order.AppendUint32(r.b, snaplen)
	r.b = r.order.AppendUint32(r.b, 1) // Ethernet
	return r
}

func (r *rawPcap) record(sec, sub, capLen, length uint32, data []byte) {
	r.b = r.order.AppendUint32(r.b, sec)
	r.b = r.order.AppendUint32(r.b, sub)
	r.b = r.order.AppendUint32(r.b, capLen)
	r.b = r.order.AppendUint32(r.b, length)
	r.b = append(r.b, data...)
}

// TestPcapRecordsMatchPcapgo checks that reading records straight from the
// buffer gives what pcapgo gives: the same packets, timestamps and lengths,
// and the same error at the same place, whether or not records straddle
// the buffered bytes.
func TestPcapRecordsMatchPcapgo(t *testing.T) {
	inputs := map[string][]byte{}
	readCaptures(t, "../testdata/pcaps/*.pcap", inputs)
	if len(inputs) == 0 {
		t.Fatal("no test captures")
	}
	pkt := bytes.Repeat([]byte{0xab}, 100)
	for _, big := range []bool{false, true} {
		for _, nano := range []bool{false, true} {
			r := newRawPcap(big, nano, 65535)
			r.record(1700000000, 999999, 100, 100, pkt)
			r.record(1700000001, 0xffffffff, 100, 1500, pkt) // sub-second field out of range
			r.record(1700000002, 5, 0, 60, nil)
			name := map[bool]string{false: "le", true: "be"}[big] + map[bool]string{false: "-us", true: "-ns"}[nano]
			inputs[name] = bytes.Clone(r.b)
			inputs[name+"-truncated"] = bytes.Clone(r.b[:len(r.b)-30])
			r.record(1700000003, 0, 300000, 300000, nil) // over the snap length
			inputs[name+"-oversnap"] = bytes.Clone(r.b)
		}
	}
	r := newRawPcap(false, false, 65535)
	r.record(1, 2, 100, 50, pkt) // captured more than was sent
	inputs["caplen-over-length"] = r.b
	r = newRawPcap(false, false, 1<<20)
	big := bytes.Repeat([]byte{1}, 300000)
	r.record(1, 2, uint32(len(big)), uint32(len(big)), big) // above pcapgo's eager limit, under the snap length
	r.record(1, 3, 100, 100, pkt)
	inputs["large-snaplen"] = r.b

	wraps := map[string]func(io.Reader) io.Reader{
		"whole":   func(r io.Reader) io.Reader { return r },
		"half":    iotest.HalfReader,
		"onebyte": iotest.OneByteReader,
	}
	for name, data := range inputs {
		for wname, wrap := range wraps {
			want, wantErr := readAllPackets(t, data, false, wrap)
			got, gotErr := readAllPackets(t, data, true, wrap)
			if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
				t.Errorf("%s/%s: error %v, pcapgo alone: %v", name, wname, gotErr, wantErr)
			}
			if wantErr != nil {
				var fe *FileError
				if errors.As(gotErr, &fe) && fe.Packets != int64(len(got)) {
					t.Errorf("%s/%s: error after %d packets, %d read", name, wname, fe.Packets, len(got))
				}
			}
			if len(got) != len(want) {
				t.Errorf("%s/%s: %d packets, pcapgo alone: %d", name, wname, len(got), len(want))
				continue
			}
			for i := range got {
				g, w := got[i], want[i]
				if !bytes.Equal(g.Data, w.Data) || !g.Time.Equal(w.Time) || g.Time.Location() != w.Time.Location() ||
					g.LinkType != w.LinkType || g.CaptureLength != w.CaptureLength || g.Length != w.Length {
					t.Errorf("%s/%s: packet %d: %+v, pcapgo alone: %+v", name, wname, i, g, w)
					break
				}
			}
		}
	}
}

// FuzzPcapRecords reads arbitrary files with the fast record path and with
// pcapgo alone, whole and in short reads: packets and errors must match.
func FuzzPcapRecords(f *testing.F) {
	pkt := bytes.Repeat([]byte{0xab}, 40)
	for _, big := range []bool{false, true} {
		for _, nano := range []bool{false, true} {
			r := newRawPcap(big, nano, 65535)
			r.record(1700000000, 999999, 40, 40, pkt)
			r.record(1700000001, 0xffffffff, 40, 1500, pkt)
			r.record(1700000002, 5, 0, 60, nil)
			f.Add(r.b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, wrap := range []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, iotest.HalfReader} {
			want, wantErr := readAllPackets(t, data, false, wrap)
			got, gotErr := readAllPackets(t, data, true, wrap)
			if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
				t.Fatalf("error %v, pcapgo alone: %v", gotErr, wantErr)
			}
			if len(got) != len(want) {
				t.Fatalf("%d packets, pcapgo alone: %d", len(got), len(want))
			}
			for i := range got {
				g, w := got[i], want[i]
				if !bytes.Equal(g.Data, w.Data) || !g.Time.Equal(w.Time) || g.CaptureLength != w.CaptureLength || g.Length != w.Length {
					t.Fatalf("packet %d: %+v, pcapgo alone: %+v", i, g, w)
				}
			}
		}
	})
}

// rawPcapng builds a pcapng file by hand, so that blocks can say anything.
type rawPcapng struct {
	order interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}
	b []byte
}

func newRawPcapng(big bool) *rawPcapng {
	r := &rawPcapng{}
	r.section(big)
	return r
}

// block appends a block of type typ with the given body (padded to 32
// bits) and, unless total is not 0, its true length.
func (r *rawPcapng) block(typ uint32, body []byte, total uint32) {
	body = append(body, make([]byte, (4-len(body)&3)&3)...)
	if total == 0 {
		total = uint32(12 + len(body))
	}
	r.b = r.order.AppendUint32(r.b, typ)
	r.b = r.order.AppendUint32(r.b, total)
	r.b = append(r.b, body...)
	r.b = r.order.AppendUint32(r.b, total)
}

// section starts a section in the given byte order.
func (r *rawPcapng) section(big bool) {
	r.order = binary.LittleEndian
	if big {
		r.order = binary.BigEndian
	}
	var body []byte
	body = r.order.AppendUint32(body, 0x1A2B3C4D)
	body = r.order.AppendUint16(body, 1)
	body = r.order.AppendUint16(body, 0)
	body = r.order.AppendUint64(body, ^uint64(0))
	r.block(0x0A0D0D0A, body, 0)
}

// option appends an option to body.
func (r *rawPcapng) option(body []byte, code uint16, value []byte) []byte {
	body = r.order.AppendUint16(body, code)
	body = r.order.AppendUint16(body, uint16(len(value)))
	body = append(body, value...)
	return append(body, make([]byte, (4-len(value)&3)&3)...)
}

// iface appends an Interface Description Block; tsresol 0 leaves the
// option out, and so does a zero tsoffset.
func (r *rawPcapng) iface(link uint16, tsresol byte, tsoffset uint64) {
	var body []byte
	body = r.order.AppendUint16(body, link)
	body = r.order.AppendUint16(body, 0)
	body = r.order.AppendUint32(body, 65535)
	if tsresol != 0 {
		body = r.option(body, 9, []byte{tsresol})
	}
	if tsoffset != 0 {
		body = r.option(body, 14, r.order.AppendUint64(nil, tsoffset))
	}
	if tsresol != 0 || tsoffset != 0 {
		body = r.option(body, 0, nil)
	}
	r.block(1, body, 0)
}

// epb appends an Enhanced Packet Block; opts are appended after the data
// as they are.
func (r *rawPcapng) epb(iface uint32, ts uint64, capLen, length uint32, data, opts []byte) {
	var body []byte
	body = r.order.AppendUint32(body, iface)
	body = r.order.AppendUint32(body, uint32(ts>>32))
	body = r.order.AppendUint32(body, uint32(ts))
	body = r.order.AppendUint32(body, capLen)
	body = r.order.AppendUint32(body, length)
	body = append(body, data...)
	body = append(body, make([]byte, (4-len(data)&3)&3)...)
	body = append(body, opts...)
	r.block(6, body, 0)
}

// ngInputs returns pcapng files that exercise the packet block fast path
// and its refusals.
func ngInputs(t testing.TB) map[string][]byte {
	inputs := map[string][]byte{}
	pkt := bytes.Repeat([]byte{0xcd}, 61)
	for _, big := range []bool{false, true} {
		name := map[bool]string{false: "le", true: "be"}[big]
		r := newRawPcapng(big)
		r.iface(1, 0, 0)            // microseconds
		r.iface(113, 9, 0)          // nanoseconds, Linux cooked
		r.iface(101, 0x80|20, 1000) // 2^-20 seconds, an offset
		r.iface(1, 19, 0)           // 10^-19: scaled down
		r.iface(1, 63, 0)           // 10^-63: wraps in pcapgo
		r.epb(0, 1700000000123456, 61, 61, pkt, nil)
		r.epb(1, 1700000000123456789, 61, 1500, pkt, nil)
		r.epb(2, 1<<40|12345, 61, 61, pkt, nil)
		r.epb(3, ^uint64(0), 61, 61, pkt, nil)
		r.epb(4, 0xdeadbeefcafe, 61, 61, pkt, nil)
		r.epb(0, 5, 0, 60, nil, nil)
		var opts []byte
		opts = r.option(opts, 1, []byte("a comment"))
		opts = r.option(opts, 2, r.order.AppendUint32(nil, 1))
		opts = r.option(opts, 0, nil)
		r.epb(0, 6, 61, 61, pkt, opts)
		r.epb(0, 7, 61, 61, pkt, r.option(nil, 1, []byte("no end of options")))
		r.epb(0, 8, 61, 61, pkt, append(r.option(nil, 0, nil), 1, 2, 3, 4)) // bytes after the end of options
		r.block(3, r.order.AppendUint32(nil, 61), 0)                        // a Simple Packet Block
		r.epb(0, 9, 61, 61, pkt, nil)
		inputs[name] = bytes.Clone(r.b)
		inputs[name+"-truncated"] = bytes.Clone(r.b[:len(r.b)-30])

		bad := func(suffix string, f func(r *rawPcapng)) {
			r := newRawPcapng(big)
			r.iface(1, 0, 0)
			r.epb(0, 1, 61, 61, pkt, nil)
			f(r)
			r.epb(0, 2, 61, 61, pkt, nil)
			inputs[name+"-"+suffix] = r.b
		}
		bad("unknown-iface", func(r *rawPcapng) { r.epb(7, 1, 61, 61, pkt, nil) })
		bad("caplen-beyond", func(r *rawPcapng) { r.epb(0, 1, 200, 200, pkt, nil) })
		bad("caplen-over-length", func(r *rawPcapng) { r.epb(0, 1, 61, 20, pkt, nil) })
		bad("option-beyond", func(r *rawPcapng) {
			r.epb(0, 1, 61, 61, pkt, append(r.order.AppendUint16(r.order.AppendUint16(nil, 1), 40), 1, 2, 3, 4))
		})
		bad("end-of-options-with-length", func(r *rawPcapng) {
			r.epb(0, 1, 61, 61, pkt, append(r.order.AppendUint16(r.order.AppendUint16(nil, 0), 4), 1, 2, 3, 4))
		})
		bad("trailing-length-differs", func(r *rawPcapng) {
			r.epb(0, 1, 61, 61, pkt, nil)
			n := len(r.b)
			r.order.PutUint32(r.b[n-4:], r.order.Uint32(r.b[n-4:])+4)
			r.b = append(r.b, 0, 0, 0, 0)
		})
		bad("length-not-multiple-of-4", func(r *rawPcapng) {
			start := len(r.b)
			r.epb(0, 1, 61, 61, pkt, nil)
			n := uint32(len(r.b)-start) + 2
			r.b = append(r.b[:len(r.b)-4], 0, 0)
			r.b = r.order.AppendUint32(r.b, n)
			r.order.PutUint32(r.b[start+4:], n)
		})
		bad("short-block", func(r *rawPcapng) { r.block(6, []byte{0, 0, 0, 0}, 0) })
		bad("second-section", func(r *rawPcapng) {
			r.section(!big)
			r.iface(113, 9, 0)
			r.epb(0, 1, 61, 61, pkt, nil)
		})
		bad("new-interface", func(r *rawPcapng) {
			r.iface(101, 9, 0)
			r.epb(1, 1, 61, 61, pkt, nil)
		})
	}
	// Many packets, so that blocks straddle the end of the read buffer.
	r := newRawPcapng(false)
	r.iface(1, 0, 0)
	for i := range 6000 {
		r.epb(0, uint64(i)*1000, uint32(i%97), 100, pkt[:i%61], nil)
	}
	inputs["many"] = r.b
	readCaptures(t, "../testdata/pcaps/*.pcapng", inputs)
	return inputs
}

// readCaptures adds the files matching pattern to inputs, by base name.
func readCaptures(t testing.TB, pattern string, inputs map[string][]byte) {
	files, _ := filepath.Glob(pattern)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(f)] = b
	}
}

// comparePackets reports how got, read with the fast paths, differs from
// want, read by pcapgo alone.
func comparePackets(got, want []Packet, gotErr, wantErr error) string {
	if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
		return fmt.Sprintf("error %v, pcapgo alone: %v", gotErr, wantErr)
	}
	var fe *FileError
	if wantErr != nil && errors.As(gotErr, &fe) && fe.Packets != int64(len(got)) {
		return fmt.Sprintf("error after %d packets, %d read", fe.Packets, len(got))
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%d packets, pcapgo alone: %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !bytes.Equal(g.Data, w.Data) || !g.Time.Equal(w.Time) || g.Time.Location() != w.Time.Location() ||
			g.LinkType != w.LinkType || g.CaptureLength != w.CaptureLength || g.Length != w.Length {
			return fmt.Sprintf("packet %d: %+v, pcapgo alone: %+v", i, g, w)
		}
	}
	return ""
}

// TestNgRecordsMatchPcapgo checks that reading Enhanced Packet Blocks
// straight from the buffer gives what pcapgo gives: the same packets,
// timestamps, link types and lengths, and the same error at the same
// place, whether or not blocks straddle the buffered bytes.
func TestNgRecordsMatchPcapgo(t *testing.T) {
	wraps := map[string]func(io.Reader) io.Reader{
		"whole":   func(r io.Reader) io.Reader { return r },
		"half":    iotest.HalfReader,
		"onebyte": iotest.OneByteReader,
	}
	fastUsed := 0
	for name, data := range ngInputs(t) {
		for wname, wrap := range wraps {
			want, wantErr := readAllPackets(t, data, false, wrap)
			got, gotErr := readAllPackets(t, data, true, wrap)
			if d := comparePackets(got, want, gotErr, wantErr); d != "" {
				t.Errorf("%s/%s: %s", name, wname, d)
			}
		}
		// The first packet comes after the interfaces, through pcapgo.
		if s, err := OpenReader(bytes.NewReader(data), "test"); err == nil {
			if _, err := s.Next(); err == nil {
				if _, _, _, _, ok := s.ngrec.next(); ok {
					fastUsed++
				}
			}
		}
	}
	if fastUsed == 0 {
		t.Error("the fast path took no packet")
	}
}

// FuzzNgRecords reads arbitrary pcapng files with the fast packet block
// path and with pcapgo alone, whole and in short reads: packets and errors
// must match.
func FuzzNgRecords(f *testing.F) {
	for name, data := range ngInputs(f) {
		if name != "many" && len(data) < 4096 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, wrap := range []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, iotest.HalfReader} {
			want, wantErr := readAllPackets(t, data, false, wrap)
			got, gotErr := readAllPackets(t, data, true, wrap)
			if d := comparePackets(got, want, gotErr, wantErr); d != "" {
				t.Fatal(d)
			}
		}
	})
}
