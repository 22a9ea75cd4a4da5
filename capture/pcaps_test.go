package capture

import (
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

// streamCollector totals what each side of each connection delivered.
type streamCollector struct {
	conns []*collected
}

type collected struct {
	info     ConnInfo
	bytes    [2]int64
	gapBytes [2]int64
	end      EndReason
	ends     int
}

func (s *streamCollector) NewConn(info *ConnInfo) ConnHandler {
	c := &collected{info: *info}
	s.conns = append(s.conns, c)
	return c
}

func (c *collected) Data(side Side, d []byte, _ time.Time) { c.bytes[side] += int64(len(d)) }

func (c *collected) Gap(side Side, n int64, _ time.Time) { c.gapBytes[side] += n }

func (c *collected) End(r EndReason, _ time.Time) { c.end = r; c.ends++ }

// dirInfo is what a plain pass over the segments says about one direction
// of a connection, independently of the Assembler.
type dirInfo struct {
	syns        int
	isn, finEnd uint32
	fin         bool
}

// TestRealCaptures reads the captures in testdata/pcaps, made from real
// peers, and checks that every connection comes out whole: for each
// direction whose SYN and FIN were captured, the bytes delivered plus the
// gaps reported are exactly those between them.
func TestRealCaptures(t *testing.T) {
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz", "*.pcapng.gz"} {
		m, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("no captures in testdata/pcaps")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			col, st, dirs := assembleRealCapture(t, path)
			checkRealCaptureStats(t, st, col)
			checked := checkWholeDirections(t, col, dirs)
			t.Logf("%d directions checked against their SYN and FIN", checked)
		})
	}
}

// dirKey names a direction of a connection by its sender and receiver.
type dirKey struct{ src, dst netip.AddrPort }

// assembleRealCapture runs the capture at path through an Assembler, and
// notes what each direction's segments say of it on the way.
func assembleRealCapture(t *testing.T, path string) (*streamCollector, Stats, map[dirKey]*dirInfo) {
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	col := &streamCollector{}
	a := NewAssembler(col, Options{})
	dirs := map[dirKey]*dirInfo{}
	var last time.Time
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, ErrTruncated) {
			t.Log(err)
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Time.Before(last.Add(-time.Second)) {
			t.Errorf("packet %d goes back in time", src.Packets())
		}
		last = p.Time
		var seg Segment
		if res, _ := DecodePacket(p, &seg); res == DecodedTCP {
			k := dirKey{seg.Src, seg.Dst}
			d := dirs[k]
			if d == nil {
				d = &dirInfo{}
				dirs[k] = d
			}
			if seg.SYN {
				d.syns++
				d.isn = seg.Seq
			}
			if seg.FIN {
				d.fin = true
				d.finEnd = seg.Seq + uint32(len(seg.Payload)+seg.Missing)
			}
		}
		a.AddPacket(p)
	}
	a.Close(last)
	st := a.Stats()
	t.Logf("%s: %d packets, %d connections, %d gaps, %d retransmitted bytes, %d out of order, %d non-TCP",
		src.Format(), st.Packets, st.Connections, st.Gaps, st.RetransmittedBytes, st.OutOfOrder, st.NonTCP)
	return col, st, dirs
}

// checkRealCaptureStats checks that the counts of a real capture add up:
// mostly TCP, every packet counted once, and one handler per connection.
func checkRealCaptureStats(t *testing.T, st Stats, col *streamCollector) {
	t.Helper()
	if st.Packets < 10 || st.TCPSegments+st.NonTCP+st.Malformed+st.Fragments != st.Packets || st.Unsupported != 0 ||
		st.TCPSegments < st.Packets*9/10 {
		t.Fatalf("stats %+v", st)
	}
	if st.Malformed > 0 {
		t.Logf("malformed: %+v", st.MalformedReasons)
	}
	if st.Connections < 1 || st.Connections > 100 || int(st.Connections) != len(col.conns) {
		t.Fatalf("%d connections", st.Connections)
	}
}

// checkWholeDirections checks that every connection ended once with
// bytes, and that each direction whose SYN and FIN were captured got
// exactly the bytes between them, delivered or reported missing. It
// returns how many directions it could check.
func checkWholeDirections(t *testing.T, col *streamCollector, dirs map[dirKey]*dirInfo) (checked int) {
	t.Helper()
	for _, c := range col.conns {
		if c.ends != 1 {
			t.Errorf("connection %d: End called %d times", c.info.ID, c.ends)
		}
		if c.bytes[SideA]+c.bytes[SideB]+c.gapBytes[SideA]+c.gapBytes[SideB] == 0 {
			t.Errorf("connection %d: no bytes", c.info.ID)
		}
		if c.info.SYNSeen && c.end != EndFIN && c.end != EndRST {
			t.Logf("connection %d: ended with %v", c.info.ID, c.end)
		}
		for side := SideA; side <= SideB; side++ {
			d := dirs[dirKey{c.info.Addr[side], c.info.Addr[side.Other()]}]
			if d == nil || d.syns != 1 || !d.fin {
				continue
			}
			if want := int64(d.finEnd - d.isn - 1); c.bytes[side]+c.gapBytes[side] != want {
				t.Errorf("connection %d side %v: %d bytes delivered and %d missing, %d between SYN and FIN",
					c.info.ID, side, c.bytes[side], c.gapBytes[side], want)
			}
			checked++
		}
	}
	return checked
}
