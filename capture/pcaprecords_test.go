package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

// readAllPackets reads every packet of data, with the fast record path or
// with pcapgo alone, through a reader made by wrap.
func readAllPackets(t *testing.T, data []byte, fast bool, wrap func(io.Reader) io.Reader) ([]Packet, error) {
	t.Helper()
	s, err := OpenReader(wrap(bytes.NewReader(data)), "test")
	if err != nil {
		return nil, err
	}
	if !fast {
		s.rec.br = nil
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
	files, _ := filepath.Glob("../testdata/pcaps/*.pcap")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(f)] = b
	}
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
