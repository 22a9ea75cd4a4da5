package lossy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

const capture = "../../../testdata/pcaps/py_routeguide.pcap"

func readAll(t *testing.T, b []byte) (data [][]byte, ts []int64) {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for {
		d, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return data, ts
		}
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, d)
		ts = append(ts, ci.Timestamp.UnixNano())
	}
}

// The copy holds the input's packets but the dropped ones, each once, with
// the timestamps in order; the dropped ones are described as they were;
// one seed always gives the same copy.
func TestCopy(t *testing.T) {
	raw, err := os.ReadFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	in, inTS := readAll(t, raw)
	for seed := uint64(1); seed <= 5; seed++ {
		var out, again bytes.Buffer
		o := Options{Drop: 5, Reorder: 20, Seed: seed}
		st, err := Copy(bytes.NewReader(raw), &out, o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Copy(bytes.NewReader(raw), &again, o); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), again.Bytes()) {
			t.Fatalf("seed %d: two runs differ", seed)
		}
		got, ts := readAll(t, out.Bytes())
		if st.Packets != len(in) || len(got) != len(in)-st.Dropped || len(st.DroppedPackets) != st.Dropped {
			t.Fatalf("seed %d: %d in, %d out, stats %+v", seed, len(in), len(got), st)
		}
		if !slices.IsSorted(ts) {
			t.Fatalf("seed %d: timestamps out of order", seed)
		}
		var kept [][]byte
		for i, d := range in {
			if !slices.ContainsFunc(st.DroppedPackets, func(p DroppedPacket) bool { return p.Index == i }) {
				kept = append(kept, d)
			}
		}
		sorted := func(ps [][]byte) [][]byte {
			ps = slices.Clone(ps)
			slices.SortFunc(ps, bytes.Compare)
			return ps
		}
		if !slices.EqualFunc(sorted(kept), sorted(got), bytes.Equal) {
			t.Fatalf("seed %d: the copy does not hold the packets kept", seed)
		}
		for _, d := range st.DroppedPackets {
			want := describe(d.Index, time.Unix(0, inTS[d.Index]).UTC(), in[d.Index], layers.LinkTypeEthernet)
			if d != want || !d.TCP {
				t.Fatalf("seed %d: %v, want %v", seed, d, want)
			}
		}
	}
}

// A dropped packet is described by its TCP header: the loopback capture's
// 15th packet carries 57 bytes from the client.
func TestDescribe(t *testing.T) {
	raw, err := os.ReadFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := readAll(t, raw)
	d := describe(14, time.Time{}, in[14], layers.LinkTypeEthernet)
	if got := d.String(); got != "#14 127.0.0.1:57350 > 127.0.0.1:50105 seq 2143425552+57" || !d.Payload() {
		t.Fatalf("got %q", got)
	}
	if d := describe(0, time.Time{}, in[0], layers.LinkTypeEthernet); !d.SYN || d.Payload() || d.Conn() != describe(1, time.Time{}, in[1], layers.LinkTypeEthernet).Conn() {
		t.Fatalf("SYN: %v", d)
	}
	if d := describe(3, time.Time{}, []byte{1, 2, 3}, layers.LinkTypeEthernet); d.TCP || d.String() != "#3 (not TCP)" {
		t.Fatalf("garbage: %v", d)
	}
}

// A pcapng copies to a pcap with its packets, in order, and nanosecond
// timestamps.
func TestCopyPcapng(t *testing.T) {
	in, err := os.ReadFile("../../../testdata/pcaps/grpcgo_interop_gzip.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	st, err := Copy(bytes.NewReader(in), &out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, ts := readAll(t, out.Bytes())
	if len(data) != st.Packets || st.Packets < 200 || st.Dropped != 0 || st.Swapped != 0 {
		t.Fatalf("%d packets written, stats %+v", len(data), st)
	}
	if !slices.IsSorted(ts) {
		t.Fatal("timestamps out of order")
	}
	r, _ := pcapgo.NewReader(bytes.NewReader(out.Bytes()))
	if r.LinkType() != layers.LinkTypeEthernet || r.Resolution().ToDuration() != time.Nanosecond {
		t.Fatalf("link type %v, resolution %v", r.LinkType(), r.Resolution())
	}
}
