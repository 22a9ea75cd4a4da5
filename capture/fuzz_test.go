package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

func FuzzOpenReader(f *testing.F) {
	frames := testFrames(f, "eth", 3)
	pcap := writePcap(f, false, frames)
	f.Add(pcap)
	f.Add(writePcap(f, true, testFrames(f, "sll2", 2)))
	f.Add(writePcapBigEndian(testFrames(f, "raw", 2)))
	var ng bytes.Buffer
	writePcapng(f, &ng, append(testFrames(f, "null", 2), testFrames(f, "sll", 2)...))
	f.Add(ng.Bytes())
	f.Add(gzipBytes(f, pcap))
	f.Add(gzipBytes(f, ng.Bytes()))
	f.Add(pcap[:50])
	f.Add([]byte("HTTP/1.1 200 OK"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := OpenReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			if _, ok := err.(*FileError); !ok {
				t.Fatalf("open error of type %T: %v", err, err)
			}
			return
		}
		a := NewAssembler(nopFactory{}, Options{MaxConnections: 16})
		for range 100000 {
			p, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if _, ok := err.(*FileError); !ok {
					t.Fatalf("read error of type %T: %v", err, err)
				}
				break
			}
			if len(p.Data) > maxRecordLen {
				t.Fatalf("a %d-byte packet", len(p.Data))
			}
			a.AddPacket(p)
		}
		a.Close(time.Time{})
		s.Close()
	})
}

func FuzzDecodePacket(f *testing.F) {
	for _, kind := range allKinds {
		for _, src := range [][2]int{{0, 0}, {1, 1}} {
			s, d := cli, srv
			if src[0] == 1 {
				s, d = cli6, srv6
			}
			if kind == "ipv4" {
				s, d = cli, srv
			}
			if kind == "ipv6" {
				s, d = cli6, srv6
			}
			lt, b := frame(f, kind, tcpSpec{src: s, dst: d, seq: 1, flags: "PA", payload: []byte("abc")})
			f.Add(uint16(lt), b, 0)
			f.Add(uint16(lt), b[:len(b)-2], len(b))
		}
	}
	f.Fuzz(func(t *testing.T, lt uint16, data []byte, wire int) {
		var seg Segment
		p := Packet{Data: data, LinkType: layers.LinkType(lt), CaptureLength: len(data), Length: wire}
		res, reason := DecodePacket(p, &seg)
		switch res {
		case DecodedTCP:
			if seg.Missing < 0 || seg.Missing > maxMissing || len(seg.Payload) > len(data) {
				t.Fatalf("segment %+v from %d bytes", seg, len(data))
			}
			if len(seg.Payload) > 0 {
				// The payload is a slice of the packet.
				end := &seg.Payload[len(seg.Payload)-1]
				inside := false
				for i := range data {
					if &data[i] == end {
						inside = true
					}
				}
				if !inside {
					t.Fatal("payload outside the packet")
				}
			}
		case DecodedMalformed:
			if reason == "" {
				t.Fatal("malformed without a reason")
			}
		case DecodedOther, DecodedFragment, DecodedUnsupported:
		default:
			t.Fatalf("result %v", res)
		}
	})
}

// streamByte is the content of the fuzzed stream at offset i.
func streamByte(i int) byte { return byte(i*7 + i>>8 + 1) }

// fuzzChecker is a ConnHandler that checks one connection's client stream
// against streamByte.
type fuzzChecker struct {
	t     *testing.T
	off   [2]int64 // bytes accounted for, Data plus Gap
	data  int64
	ended int
	conns int
}

func (c *fuzzChecker) NewConn(*ConnInfo) ConnHandler {
	c.conns++
	if c.conns > 1 {
		c.t.Fatalf("a second connection")
	}
	return c
}

func (c *fuzzChecker) Data(s Side, d []byte, _ time.Time) {
	if c.ended > 0 {
		c.t.Fatal("Data after End")
	}
	if len(d) == 0 {
		c.t.Fatal("empty Data")
	}
	if s == SideA {
		for i, b := range d {
			if want := streamByte(int(c.off[s]) + i); b != want {
				c.t.Fatalf("byte at offset %d is %d, want %d", int(c.off[s])+i, b, want)
			}
		}
	}
	c.off[s] += int64(len(d))
	c.data += int64(len(d))
}

func (c *fuzzChecker) Gap(s Side, n int64, _ time.Time) {
	if c.ended > 0 {
		c.t.Fatal("Gap after End")
	}
	if n <= 0 {
		c.t.Fatalf("Gap(%d)", n)
	}
	c.off[s] += n
}

func (c *fuzzChecker) End(EndReason, time.Time) { c.ended++ }

// FuzzReassembly feeds one connection a random sequence of segments cut
// from one client stream: out of order, overlapping, duplicated, lost,
// truncated, with acknowledgements, a FIN or a RST, the server's SYN-ACK
// late or missing (the top bit of maxBuf). Whatever the order,
// the client's Data must match the stream at the right offsets, and Data
// plus Gap must cover exactly the sequence space the segments spanned.
func FuzzReassembly(f *testing.F) {
	f.Add(uint32(0xFFFFFF00), uint16(0), uint16(300), []byte{0, 0, 0, 50, 0, 0, 100, 50, 0, 0, 50, 50})
	f.Add(uint32(1), uint16(40), uint16(500), []byte{0, 0, 100, 60, 5, 1, 0, 0, 0, 1, 144, 80, 6, 0, 0, 0})
	f.Add(uint32(0xFFFFFFFF), uint16(10), uint16(64), []byte{1, 0, 30, 20, 7, 0, 0, 0, 5, 0, 64, 0, 3, 0, 0, 40})
	f.Add(uint32(77), uint16(0), uint16(1000), []byte{2, 0, 200, 99, 9, 0, 0, 0, 4, 0, 0, 255, 5, 3, 232, 0})
	f.Add(uint32(9), uint16(0x8000), uint16(200), []byte{0, 0, 50, 40, 0x19, 0, 0, 0, 0, 0, 0, 49, 4, 0, 90, 0})
	f.Fuzz(func(t *testing.T, isn uint32, maxBuf uint16, length uint16, ops []byte) {
		L := int(length)%4096 + 1
		chk := &fuzzChecker{t: t}
		// The high bits of length choose the reorder window: the defaults,
		// none, or short ones that expire within the input.
		mode := length >> 12
		a := NewAssembler(chk, Options{
			MaxBufferedPerDirection: int(maxBuf) + 1,
			ReorderSegments:         []int{0, -1, 1, 3}[mode&3],
			ReorderWindow:           []time.Duration{0, -1, time.Millisecond, 5 * time.Millisecond}[mode>>2],
		})
		stream := fuzzStream{n: L, isn: isn, base: isn + 1}
		ms := 0
		at := func() time.Time { ms++; return t0.Add(time.Duration(ms) * time.Millisecond) }
		a.Add(&Segment{Src: cli, Dst: srv, Seq: isn, SYN: true, Time: at()})
		if maxBuf&0x8000 == 0 {
			// Otherwise the SYN-ACK comes late (op 9), or never.
			a.Add(&Segment{Src: srv, Dst: cli, Seq: 5000, Ack: stream.base, SYN: true, ACK: true, Time: at()})
		}
		var (
			span  int64 // the furthest point the sequence space reached
			ended bool
			last  *Segment
		)
		for len(ops) >= 4 && !ended {
			seg, n := stream.segment(ops[:4], last)
			ops = ops[4:]
			if seg == nil {
				continue
			}
			span = max(span, n)
			seg.Time = at()
			a.Add(seg)
			last = seg
			if chk.ended > 0 {
				ended = true
			}
		}
		a.Close(at())
		checkReassembled(t, a, chk, span)
	})
}

// fuzzStream is the connection FuzzReassembly plays: a client stream of n
// bytes from base, after a SYN at isn, and a server that sends none.
type fuzzStream struct {
	n         int
	isn, base uint32
}

// segment decodes b, 4 bytes of FuzzReassembly's input, into the segment
// they send, or nil; last is the segment sent before. reach is how far
// into the client stream the segment goes, or -1.
func (f fuzzStream) segment(b []byte, last *Segment) (seg *Segment, reach int64) {
	L, isn, base := f.n, f.isn, f.base
	op, x, y, z := b[0], int(binary.BigEndian.Uint16(b[1:3])), int(b[3]), b[3]
	switch op % 10 {
	case 0, 1, 2, 3: // a data segment, sometimes truncated by the snap length
		start := x % L
		n := min(y+1, L-start)
		keep := n
		if op&0x10 != 0 {
			keep = int(z) % n
		}
		payload := make([]byte, keep)
		for i := range payload {
			payload[i] = streamByte(start + i)
		}
		return &Segment{Src: cli, Dst: srv, Seq: base + uint32(start), Ack: 5001, ACK: true, Payload: payload, Missing: n - keep}, int64(start + n)
	case 4: // the server acknowledges
		ack := x % (L + 1)
		return &Segment{Src: srv, Dst: cli, Seq: 5001, Ack: base + uint32(ack), ACK: true}, int64(ack)
	case 5: // the client's FIN after the whole stream
		return &Segment{Src: cli, Dst: srv, Seq: base + uint32(L), Ack: 5001, ACK: true, FIN: true}, int64(L)
	case 6: // the same segment again
		if last == nil {
			return nil, -1
		}
		s := *last
		return &s, -1
	case 7: // the server closes
		return &Segment{Src: srv, Dst: cli, Seq: 5001, Ack: base, ACK: op&0x10 != 0, FIN: true}, -1
	case 8: // a reset ends everything
		if op&0x30 != 0 {
			return nil, -1
		}
		return &Segment{Src: srv, Dst: cli, Seq: 5001, RST: true}, -1
	}
	// 9: a segment before the stream: a retransmitted SYN, or the
	// server's SYN-ACK (late, or again)
	if op&0x10 != 0 {
		return &Segment{Src: srv, Dst: cli, Seq: 5000, Ack: base, SYN: true, ACK: true}, -1
	}
	return &Segment{Src: cli, Dst: srv, Seq: isn, SYN: true}, -1
}

// checkReassembled checks what FuzzReassembly's assembler did once closed:
// one End, the client stream covered by Data and Gap exactly as far as its
// segments reached, nothing from the server, and nothing left held.
func checkReassembled(t *testing.T, a *Assembler, chk *fuzzChecker, span int64) {
	t.Helper()
	if chk.ended != 1 {
		t.Fatalf("End called %d times", chk.ended)
	}
	if chk.off[SideA] != span {
		t.Fatalf("Data+Gap cover %d bytes of the client stream, the segments spanned %d (stats %+v)", chk.off[SideA], span, a.Stats())
	}
	if chk.off[SideB] != 0 {
		t.Fatalf("server stream of %d bytes", chk.off[SideB])
	}
	st := a.Stats()
	if st.GapBytes+chk.data != chk.off[SideA] {
		t.Fatalf("stats gap bytes %d + data %d != %d", st.GapBytes, chk.data, chk.off[SideA])
	}
	if a.buffered != 0 || a.waiting.n != 0 {
		t.Fatalf("after Close: %d bytes held, %d directions waiting", a.buffered, a.waiting.n)
	}
}

// lifecycleChecker checks the calls every connection gets: NewConn, then
// Data and Gap with sensible arguments, then exactly one End.
type lifecycleChecker struct {
	t     *testing.T
	conns map[uint64]*lifecycleConn
	last  uint64
}

type lifecycleConn struct {
	t     *testing.T
	ended bool
}

func (l *lifecycleChecker) NewConn(info *ConnInfo) ConnHandler {
	if info.ID != l.last+1 {
		l.t.Fatalf("connection %d after %d", info.ID, l.last)
	}
	l.last = info.ID
	c := &lifecycleConn{t: l.t}
	l.conns[info.ID] = c
	if info.ID%5 == 4 {
		return nil // some connections are ignored
	}
	return c
}

func (c *lifecycleConn) Data(s Side, d []byte, _ time.Time) {
	if c.ended || len(d) == 0 || s > SideB {
		c.t.Fatalf("Data(%d, %d bytes) ended=%v", s, len(d), c.ended)
	}
}

func (c *lifecycleConn) Gap(s Side, n int64, _ time.Time) {
	if c.ended || n <= 0 || s > SideB {
		c.t.Fatalf("Gap(%d, %d) ended=%v", s, n, c.ended)
	}
}

func (c *lifecycleConn) End(r EndReason, _ time.Time) {
	if c.ended || r < EndFIN || r > EndCapture {
		c.t.Fatalf("End(%v) ended=%v", r, c.ended)
	}
	c.ended = true
}

// FuzzAssemblerTable drives several connections on a few shared ports with
// arbitrary flags and sequence numbers through a small table with an idle
// timeout: port reuse, eviction, expiry, resets. Every connection must get
// exactly one End, and nothing after it.
func FuzzAssemblerTable(f *testing.F) {
	f.Add([]byte{0, 2, 0, 0, 10, 5, 1, 0x12, 0, 0, 0, 0, 0, 0x10, 0, 1, 0, 4, 1, 0x11, 0, 0, 0, 0})
	f.Add([]byte{2, 2, 0, 0, 10, 5, 3, 0x02, 0, 9, 0, 0, 4, 0x04, 0, 0, 0, 0, 5, 0x01, 0, 50, 0, 9})
	f.Fuzz(func(t *testing.T, ops []byte) {
		chk := &lifecycleChecker{t: t, conns: map[uint64]*lifecycleConn{}}
		opt := Options{MaxConnections: 3, MaxBufferedPerDirection: 2000}
		if len(ops) > 0 && ops[0]&1 != 0 {
			opt.IdleTimeout = 50 * time.Millisecond
		}
		if len(ops) > 0 && ops[0]&2 != 0 {
			opt.ReorderWindow, opt.ReorderSegments = 5*time.Millisecond, 2
		}
		a := NewAssembler(chk, opt)
		now := feedTableOps(a, ops)
		a.Close(now)
		if st := a.Stats(); st.Open != 0 || st.Connections != int64(len(chk.conns)) {
			t.Fatalf("stats %+v", st)
		}
		if a.buffered != 0 || a.waiting.n != 0 {
			t.Fatalf("after Close: %d bytes held, %d directions waiting", a.buffered, a.waiting.n)
		}
		for id, c := range chk.conns {
			if !c.ended && id%5 != 4 {
				t.Fatalf("connection %d never ended", id)
			}
		}
	})
}

// feedTableOps adds the segments FuzzAssemblerTable's ops describe to a and
// returns the time of the last.
func feedTableOps(a *Assembler, ops []byte) time.Time {
	now := t0
	payload := bytes.Repeat([]byte{'p'}, 300)
	for len(ops) >= 6 {
		who, flags, seq, n := ops[0], ops[1], binary.BigEndian.Uint16(ops[2:4]), int(ops[4])
		now = now.Add(time.Duration(ops[5]) * time.Millisecond)
		ops = ops[6:]
		c := netip.AddrPortFrom(cli.Addr(), 40000+uint16(who%4))
		s := srv
		if who&0x10 != 0 {
			s = srv6
			c = netip.AddrPortFrom(cli6.Addr(), c.Port())
		}
		seg := &Segment{Src: c, Dst: s, Seq: uint32(seq) << (flags >> 6 * 8), Ack: uint32(seq), Time: now,
			FIN: flags&1 != 0, SYN: flags&2 != 0, RST: flags&4 != 0, ACK: flags&0x10 != 0}
		if who&0x80 != 0 {
			seg.Src, seg.Dst = seg.Dst, seg.Src
		}
		if flags&0x20 != 0 {
			seg.Missing = n
		} else {
			seg.Payload = payload[:min(n, len(payload))]
		}
		a.Add(seg)
	}
	return now
}

// FuzzConnHashCollisions feeds the ops of FuzzAssemblerTable to an
// Assembler whose connection hashes all collide (or fall into two chains),
// to one whose hashes do not, and to one that keeps its connections in
// order of activity (hooks.strictLRU) rather than finding the idlest with
// lruHeap: the hash only finds candidates, and both ways find the same
// connection to evict or expire, so every handler call must be the same.
func FuzzConnHashCollisions(f *testing.F) {
	f.Add([]byte{0, 2, 0, 0, 10, 5, 1, 0x12, 0, 0, 0, 0, 0, 0x10, 0, 1, 0, 4, 1, 0x11, 0, 0, 0, 0})
	f.Add([]byte{2, 2, 0, 0, 10, 5, 3, 0x02, 0, 9, 0, 0, 4, 0x04, 0, 0, 0, 0, 5, 0x01, 0, 50, 0, 9})
	f.Add([]byte{1, 2, 0, 0, 10, 5, 0x13, 0x02, 0, 9, 0, 0, 0x91, 0x12, 0, 0, 0, 0, 2, 0x10, 0, 50, 3, 9, 0x82, 0x11, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, ops []byte) {
		run := func(mask uint64, strict bool) []string {
			opt := Options{MaxConnections: 3, MaxBufferedPerDirection: 2000}
			if len(ops) > 0 && ops[0]&1 != 0 {
				opt.IdleTimeout = 50 * time.Millisecond
			}
			if len(ops) > 0 && ops[0]&2 != 0 {
				opt.ReorderWindow, opt.ReorderSegments = 5*time.Millisecond, 2
			}
			rec := &recorder{}
			a := NewAssembler(rec, opt)
			a.hooks.clearHashBits = ^mask
			a.hooks.strictLRU = strict
			a.Close(feedTableOps(a, ops))
			if a.nconns != 0 || len(a.conns) != 0 {
				t.Fatalf("after Close: %d connections in the table", a.nconns)
			}
			return append(rec.events, fmt.Sprintf("%+v", a.Stats()))
		}
		want := run(^uint64(0), true)
		for _, mask := range []uint64{^uint64(0), 0, 1} {
			if got := run(mask, false); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("hash mask %#x:\n%s\nwant (strict LRU):\n%s", mask, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	})
}
