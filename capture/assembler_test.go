package capture

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// handshake feeds SYN, SYN-ACK, ACK with client ISN 1000, server ISN 5000.
func handshake(a *Assembler) {
	a.Add(c2s(1000, 0, "S", "", 0))
	a.Add(s2c(5000, 1001, "SA", "", 1))
	a.Add(c2s(1001, 5001, "A", "", 2))
}

func TestInOrder(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1001, 5001, "PA", "hello", 3))
	a.Add(s2c(5001, 1006, "PA", "world!", 4))
	a.Add(c2s(1006, 5007, "A", "", 5))
	a.Add(c2s(1006, 5007, "FA", "", 6))
	a.Add(s2c(5007, 1007, "FA", "", 7))
	a.Add(c2s(1007, 5008, "A", "", 8)) // last ACK: absorbed
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "hello"`,
		`1 B data "world!"`,
		`1 end fin`)
	if len(r.infos) != 1 {
		t.Fatalf("got %d connections", len(r.infos))
	}
	info := r.infos[0]
	if info.ID != 1 || !info.SYNSeen || info.Addr[SideA] != cli || info.Addr[SideB] != srv || !info.Start.Equal(t0) {
		t.Fatalf("info = %+v", info)
	}
	if !r.times[0].Equal(t0.Add(3*time.Millisecond)) || !r.times[2].Equal(t0.Add(7*time.Millisecond)) {
		t.Fatalf("times = %v", r.times)
	}
	st := a.Stats()
	if st.TCPSegments != 9 || st.Connections != 1 || st.Gaps != 0 || st.Stray != 1 || st.Open != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestOutOfOrderPermutations(t *testing.T) {
	chunks := []string{"aaaa", "bbbbbb", "cc", "ddddddd"}
	perms := permutations(len(chunks))
	if len(perms) != 24 {
		t.Fatalf("%d permutations", len(perms))
	}
	for _, perm := range perms {
		r := &recorder{}
		a := NewAssembler(r, Options{})
		handshake(a)
		seqs := make([]uint32, len(chunks))
		seq := uint32(1001)
		for i, c := range chunks {
			seqs[i] = seq
			seq += uint32(len(c))
		}
		for k, i := range perm {
			a.Add(c2s(seqs[i], 5001, "PA", chunks[i], 10+i*10+k))
		}
		a.Close(t0.Add(time.Second))
		var got strings.Builder
		for j, ev := range r.events {
			if strings.Contains(ev, "end") {
				continue
			}
			var chunk string
			if _, err := fmt.Sscanf(ev, "1 A data %q", &chunk); err != nil {
				t.Fatalf("perm %v: unexpected event %q", perm, ev)
			}
			// Each chunk keeps the timestamp of its own packet.
			i := int(chunk[0] - 'a')
			if chunk != chunks[i] || (r.times[j].Sub(t0).Milliseconds()-10)/10 != int64(i) {
				t.Fatalf("perm %v: chunk %q has time %v", perm, chunk, r.times[j].Sub(t0))
			}
			got.WriteString(chunk)
		}
		if got.String() != strings.Join(chunks, "") {
			t.Fatalf("perm %v: got %q", perm, got.String())
		}
		if r.events[len(r.events)-1] != "1 end capture_end" {
			t.Fatalf("perm %v: last event %q", perm, r.events[len(r.events)-1])
		}
		st := a.Stats()
		if st.Gaps != 0 || st.RetransmittedBytes != 0 {
			t.Fatalf("perm %v: stats %+v", perm, st)
		}
	}
}

func TestRetransmission(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1001, 5001, "PA", "hello", 3))
	a.Add(c2s(1001, 5001, "PA", "hello", 4))
	a.Add(c2s(1006, 5001, "PA", "world", 5))
	a.Add(c2s(1001, 5001, "PA", "helloworld", 6))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "hello"`,
		`1 A data "world"`,
		`1 end capture_end`)
	st := a.Stats()
	if st.RetransmittedSegments != 2 || st.RetransmittedBytes != 15 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestOverlapInOrder(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1001, 5001, "PA", "0123456789", 3))
	a.Add(c2s(1006, 5001, "PA", "56789abcde", 4)) // partial overlap
	a.Add(c2s(1003, 5001, "PA", "2345", 5))       // fully inside
	a.Add(c2s(1016, 5001, "PA", "f", 6))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "0123456789"`,
		`1 A data "abcde"`,
		`1 A data "f"`,
		`1 end capture_end`)
	if st := a.Stats(); st.RetransmittedBytes != 9 {
		t.Fatalf("retransmitted = %d", st.RetransmittedBytes)
	}
}

func TestOverlapOutOfOrder(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	// Stream "0123456789abcdefghijklmno" from 1001.
	a.Add(c2s(1011, 5001, "PA", "abcdefghij", 3)) // [10,20)
	a.Add(c2s(1016, 5001, "PA", "fghijklmno", 4)) // [15,25): overlap with held
	a.Add(c2s(1010, 5001, "PA", "9abcdefghijklmn", 5))
	a.Add(c2s(1001, 5001, "PA", "012345", 6)) // [0,6)
	a.Add(c2s(1004, 5001, "PA", "345678", 7)) // [3,9) overlaps delivered, reaches 9 held
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "012345"`,
		`1 A data "678"`,
		`1 A data "9"`,
		`1 A data "abcdefghij"`,
		`1 A data "klmno"`,
		`1 end capture_end`)
	if st := a.Stats(); st.Gaps != 0 {
		t.Fatalf("gaps = %d", st.Gaps)
	}
}

func TestSequenceWraparound(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	isn := uint32(0xFFFFFFF8)
	a.Add(c2s(isn, 0, "S", "", 0))
	a.Add(s2c(7, isn+1, "SA", "", 1))
	// Stream starts at 0xFFFFFFF9: "abcdefg" ends at 0, "hijk" at 4.
	a.Add(c2s(isn+1+7+4, 8, "PA", "lmno", 2)) // beyond the wrap, out of order
	a.Add(c2s(isn+1, 8, "PA", "abcdefg", 3))
	a.Add(c2s(isn+1+5, 8, "PA", "fghijk", 4)) // overlap across the wrap
	a.Add(c2s(isn+1+15, 8, "FA", "", 5))
	a.Add(s2c(8, isn+1+16, "FA", "", 6))
	expectEvents(t, r.events,
		`1 A data "abcdefg"`,
		`1 A data "hijk"`,
		`1 A data "lmno"`,
		`1 end fin`)
}

func TestMissingSYN(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(s2c(9000, 2000, "PA", "from server", 0))
	a.Add(c2s(2000, 9011, "PA", "from client", 1))
	a.Add(s2c(9011, 2011, "PA", "more", 2))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "from server"`,
		`1 B data "from client"`,
		`1 A data "more"`,
		`1 end capture_end`)
	info := r.infos[0]
	if info.SYNSeen || info.Addr[SideA] != srv || info.Addr[SideB] != cli {
		t.Fatalf("info = %+v", info)
	}
}

func TestSYNACKFirst(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(s2c(5000, 1001, "SA", "", 1))
	a.Add(c2s(1001, 5001, "A", "", 2))
	a.Add(c2s(1001, 5001, "PA", "req", 3))
	a.Add(s2c(5001, 1004, "PA", "resp", 4))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "req"`,
		`1 B data "resp"`,
		`1 end capture_end`)
	info := r.infos[0]
	if !info.SYNSeen || info.Addr[SideA] != cli {
		t.Fatalf("info = %+v", info)
	}
}

func TestSYNRetransmittedAfterSYNACK(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(s2c(5000, 1001, "SA", "", 1))
	a.Add(c2s(1000, 0, "S", "", 2)) // the client's SYN, captured late
	a.Add(c2s(1001, 5001, "PA", "req", 3))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A data "req"`, `1 end capture_end`)
	if len(r.infos) != 1 {
		t.Fatalf("%d connections", len(r.infos))
	}
}

func TestHoleFilledLate(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1004, 5001, "PA", "def", 3))
	a.Add(c2s(1007, 5001, "PA", "ghi", 4))
	a.Add(s2c(5001, 1001, "A", "", 5)) // duplicate ACK: not beyond the hole
	a.Add(c2s(1001, 5001, "PA", "abc", 6))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "abc"`,
		`1 A data "def"`,
		`1 A data "ghi"`,
		`1 end capture_end`)
	ms := func(i int) int64 { return r.times[i].Sub(t0).Milliseconds() }
	if ms(0) != 6 || ms(1) != 3 || ms(2) != 4 {
		t.Fatalf("times %d %d %d", ms(0), ms(1), ms(2))
	}
	if st := a.Stats(); st.OutOfOrder != 2 || st.Gaps != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestHoleAckedBeyond(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1001, 5001, "PA", "abc", 3))
	// "defg" (1004..1008) is never captured.
	a.Add(c2s(1008, 5001, "PA", "hij", 4))
	a.Add(s2c(5001, 1004, "A", "", 5))
	a.Add(s2c(5001, 1011, "A", "", 6)) // the receiver has it all
	a.Add(c2s(1011, 5001, "PA", "k", 7))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "abc"`,
		`1 A gap 4`,
		`1 A data "hij"`,
		`1 A data "k"`,
		`1 end capture_end`)
	if ms := r.times[1].Sub(t0).Milliseconds(); ms != 6 {
		t.Fatalf("gap time %dms", ms)
	}
	st := a.Stats()
	if st.Gaps != 1 || st.GapBytes != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestHoleAckedBeforeData(t *testing.T) {
	// The receiver's ACK for the lost bytes is captured before the data
	// that follows them: the gap is given up when that data arrives.
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(s2c(5001, 1006, "A", "", 3))
	a.Add(c2s(1006, 5001, "PA", "fgh", 4))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A gap 5`,
		`1 A data "fgh"`,
		`1 end capture_end`)
}

func TestHolePartlyAcked(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1011, 5001, "PA", "klm", 3))    // hole [1001,1011)
	a.Add(s2c(5001, 1005, "A", "", 4))        // receiver got 4 of the 10
	a.Add(c2s(1005, 5001, "PA", "efghij", 5)) // the rest comes
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A gap 4`,
		`1 A data "efghij"`,
		`1 A data "klm"`,
		`1 end capture_end`)
}

func TestHoleBufferOverflow(t *testing.T) {
	r := &recorder{}
	// A 5-byte segment takes a 512-byte buffer plus 64: two fit.
	a := NewAssembler(r, Options{MaxBufferedPerDirection: 2 * 576})
	handshake(a)
	a.Add(c2s(1006, 5001, "PA", "fghij", 3)) // hole [1001,1006)
	a.Add(c2s(1011, 5001, "PA", "klmno", 4)) // two held: at the limit
	a.Add(c2s(1021, 5001, "PA", "uvwxy", 5)) // three held: over
	a.Add(c2s(1016, 5001, "PA", "pqrst", 6))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A gap 5`,
		`1 A data "fghij"`,
		`1 A data "klmno"`,
		`1 A data "pqrst"`,
		`1 A data "uvwxy"`,
		`1 end capture_end`)
	if ms := r.times[0].Sub(t0).Milliseconds(); ms != 5 {
		t.Fatalf("gap time %dms", ms)
	}
	if st := a.Stats(); st.PeakBuffered != 3*576 {
		t.Fatalf("peak buffered %d", st.PeakBuffered)
	}
}

func TestSnaplenTruncation(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	s := c2s(1001, 5001, "PA", "abc", 3)
	s.Missing = 7
	a.Add(s)
	a.Add(c2s(1011, 5001, "PA", "klm", 4))
	// Out of order and truncated.
	s = c2s(1020, 5001, "PA", "t", 5)
	s.Missing = 4
	a.Add(s)
	s = c2s(1014, 5001, "PA", "nopq", 6)
	s.Missing = 2
	a.Add(s)
	a.Add(c2s(1025, 5001, "PA", "yz", 7))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "abc"`,
		`1 A gap 7`,
		`1 A data "klm"`,
		`1 A data "nopq"`,
		`1 A gap 2`,
		`1 A data "t"`,
		`1 A gap 4`,
		`1 A data "yz"`,
		`1 end capture_end`)
	if st := a.Stats(); st.TruncatedBytes != 13 || st.GapBytes != 13 || st.Gaps != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFINBothSidesOnce(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1001, 5001, "FPA", "bye", 3))
	a.Add(c2s(1001, 5001, "FPA", "bye", 4)) // retransmitted FIN
	a.Add(s2c(5001, 1005, "PA", "ok", 5))
	a.Add(s2c(5003, 1005, "FA", "", 6))
	a.Add(s2c(5003, 1005, "FA", "", 7)) // retransmitted after the end
	a.Add(c2s(1005, 5004, "A", "", 8))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "bye"`,
		`1 B data "ok"`,
		`1 end fin`)
	if len(r.infos) != 1 {
		t.Fatalf("%d connections", len(r.infos))
	}
}

func TestFINWithHoleResolvedByAck(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1001, 5001, "PA", "ab", 3))
	a.Add(c2s(1006, 5001, "FA", "", 4)) // "cde" lost, then FIN
	a.Add(s2c(5001, 1007, "FA", "", 5)) // server got everything and closes
	a.Add(c2s(1007, 5002, "A", "", 6))
	// "cde" could still show up late, within the reorder window.
	expectEvents(t, r.events, `1 A data "ab"`)
	// Segments of another connection, past the window and the count.
	other := netip.AddrPortFrom(cli.Addr(), 1)
	for i := range DefaultReorderSegments + 1 {
		a.Add(mkseg(other, srv, uint32(100+i), 1, "A", "", 300+i))
	}
	expectEvents(t, r.events,
		`1 A data "ab"`,
		`1 A gap 3`,
		`1 end fin`)
	// The gap has the time of the ACK that showed the bytes lost; the
	// connection ends when that was found out.
	if ms := r.times[1].Sub(t0).Milliseconds(); ms != 5 {
		t.Fatalf("gap time %dms", ms)
	}
	// 32 segments after the ACK (one at 6 ms, then from 300 ms), the next
	// one finds the hole lost.
	if ms := r.times[2].Sub(t0).Milliseconds(); ms != 300+DefaultReorderSegments-1 {
		t.Fatalf("end time %dms", ms)
	}
}

// A live capture's Tick, when the network is quiet, gives up a hole
// acknowledged longer than the reorder window ago without the segment
// count (no late segment is on its way); within the window it waits.
func TestTickResolvesQuietHole(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1001, 5001, "PA", "ab", 3))
	a.Add(c2s(1006, 5001, "FA", "", 4)) // "cde" lost, then FIN
	a.Add(s2c(5001, 1007, "FA", "", 5))
	a.Add(c2s(1007, 5002, "A", "", 6))
	a.Tick(t0.Add(100 * time.Millisecond))
	expectEvents(t, r.events, `1 A data "ab"`)
	a.Tick(t0.Add(DefaultReorderWindow + 10*time.Millisecond))
	expectEvents(t, r.events,
		`1 A data "ab"`,
		`1 A gap 3`,
		`1 end fin`)
}

func TestFINWithHoleClosed(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1001, 5001, "PA", "ab", 3))
	a.Add(c2s(1006, 5001, "FA", "", 4)) // "cde" lost, then FIN
	a.Add(s2c(5001, 1007, "FA", "", 5))
	a.Add(c2s(1007, 5002, "A", "", 6))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "ab"`,
		`1 A gap 3`,
		`1 end fin`)
	if ms := r.times[1].Sub(t0).Milliseconds(); ms != 5 {
		t.Fatalf("gap time %dms", ms)
	}
}

// A segment captured after the ACK that covers it (reordered in the
// capture, not lost) fills its hole: no gap.
func TestLateSegmentAfterAck(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1004, 5001, "PA", "def", 3))
	a.Add(s2c(5001, 1007, "A", "", 4)) // acknowledges "abc" and "def"
	a.Add(c2s(1007, 5001, "PA", "ghi", 5))
	a.Add(s2c(5001, 1010, "PA", "ok", 6))
	a.Add(c2s(1001, 5001, "PA", "abc", 7)) // late
	a.Add(c2s(1010, 5003, "FA", "", 8))
	a.Add(s2c(5003, 1011, "FA", "", 9))
	// "ok" acknowledges "ghi": it waits for it.
	expectEvents(t, r.events,
		`1 A data "abc"`,
		`1 A data "def"`,
		`1 A data "ghi"`,
		`1 B data "ok"`,
		`1 end fin`)
	ms := func(i int) int64 { return r.times[i].Sub(t0).Milliseconds() }
	if ms(0) != 7 || ms(1) != 3 || ms(2) != 5 || ms(3) != 6 {
		t.Fatalf("times %d %d %d %d", ms(0), ms(1), ms(2), ms(3))
	}
	if st := a.Stats(); st.Gaps != 0 || st.LateFilled != 1 || st.RetransmittedBytes != 0 || st.OutOfOrder != 3 || st.HeldForOtherSide != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// The whole exchange after a lost-looking segment, FINs and the last ACK
// included, comes before it: it still fills the hole.
func TestLateSegmentAfterFINs(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1004, 5001, "FPA", "def", 3))
	a.Add(s2c(5001, 1008, "FA", "", 4))
	a.Add(c2s(1008, 5002, "A", "", 5))
	a.Add(c2s(1001, 5001, "PA", "abc", 6)) // late
	expectEvents(t, r.events,
		`1 A data "abc"`,
		`1 A data "def"`,
		`1 end fin`)
}

// A hole acknowledged by the receiver waits for both the reorder window
// and the segment count, counted over all connections.
func TestReorderWindowBothConditions(t *testing.T) {
	other := netip.AddrPortFrom(cli.Addr(), 1)
	for _, tc := range []struct {
		name     string
		opt      Options
		segs, ms int // segments of another connection, ms apart
		given    bool
	}{
		{"defaults: count not reached", Options{}, DefaultReorderSegments - 1, 100, false},
		{"defaults: window not reached", Options{}, 1000, 0, false},
		{"defaults: both reached", Options{}, DefaultReorderSegments + 1, 10, true},
		{"window only", Options{ReorderSegments: -1, ReorderWindow: 50 * time.Millisecond}, 2, 30, true},
		{"window only: not reached", Options{ReorderSegments: -1, ReorderWindow: 50 * time.Millisecond}, 1, 30, false},
		{"count only", Options{ReorderSegments: 3, ReorderWindow: -1}, 4, 0, true},
		{"count only: not reached", Options{ReorderSegments: 3, ReorderWindow: -1}, 2, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{ignore: map[uint64]bool{2: true}}
			a := NewAssembler(r, tc.opt)
			handshake(a)
			a.Add(c2s(1004, 5001, "PA", "def", 3))
			a.Add(s2c(5001, 1007, "A", "", 4))
			for i := range tc.segs {
				a.Add(mkseg(other, srv, uint32(100+i), 1, "A", "", 4+(i+1)*tc.ms))
			}
			a.Add(c2s(1001, 5001, "PA", "abc", 5+tc.segs*tc.ms)) // late, or a retransmission
			a.Close(t0.Add(time.Hour))
			want := []string{`1 A data "abc"`, `1 A data "def"`, `1 end capture_end`}
			if tc.given {
				want = []string{`1 A gap 3`, `1 A data "def"`, `1 end capture_end`}
			}
			expectEvents(t, r.events, want...)
			st := a.Stats()
			if tc.given && (st.Gaps != 1 || st.GapBytes != 3 || st.RetransmittedBytes != 3 || r.times[0].Sub(t0) != 4*time.Millisecond) {
				t.Fatalf("stats %+v, gap at %v", st, r.times[0].Sub(t0))
			}
			if !tc.given && (st.Gaps != 0 || st.LateFilled != 1) {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// With both conditions off, a hole is given up the moment an ACK covers
// it and something was captured after it.
func TestReorderWindowOff(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{ReorderWindow: -1, ReorderSegments: -1})
	handshake(a)
	a.Add(c2s(1004, 5001, "PA", "def", 3))
	a.Add(s2c(5001, 1007, "A", "", 4))
	expectEvents(t, r.events, `1 A gap 3`, `1 A data "def"`)
	a.Add(c2s(1001, 5001, "PA", "abc", 5))
	a.Add(s2c(5001, 1010, "A", "", 6)) // ahead of nothing held: waits
	a.Add(c2s(1010, 5001, "PA", "jkl", 7))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A gap 3`, `1 A data "def"`, `1 A gap 3`, `1 A data "jkl"`, `1 end capture_end`)
	if st := a.Stats(); st.RetransmittedSegments != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// A lost segment followed by a reordered one: the first hole is given up
// when its ACK is old enough, exactly, and the second, acknowledged later,
// is still waiting and gets filled.
func TestLostThenReordered(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{ReorderWindow: 100 * time.Millisecond, ReorderSegments: -1})
	handshake(a)
	// "abc" at 1001 is lost; "def" at 1004 comes late; "ghi" at 1007 in time.
	a.Add(s2c(5001, 1004, "A", "", 10)) // acknowledges "abc"
	a.Add(c2s(1007, 5001, "PA", "ghi", 20))
	a.Add(s2c(5001, 1010, "A", "", 80))  // acknowledges "def" and "ghi"
	a.Add(s2c(5001, 1010, "A", "", 150)) // 140 ms after the first ACK
	expectEvents(t, r.events, `1 A gap 3`)
	a.Add(c2s(1004, 5001, "PA", "def", 170)) // 90 ms after its ACK
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A gap 3`, `1 A data "def"`, `1 A data "ghi"`, `1 end capture_end`)
	if st := a.Stats(); st.Gaps != 1 || st.GapBytes != 3 || st.LateFilled != 1 {
		t.Fatalf("stats %+v", st)
	}
	if ms := r.times[0].Sub(t0).Milliseconds(); ms != 10 {
		t.Fatalf("gap time %dms", ms)
	}
}

// When the first and the latest ACK are both old enough, one hole is one
// gap, not one per ACK.
func TestHoleAckedTwiceOneGap(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{ReorderWindow: 100 * time.Millisecond, ReorderSegments: -1})
	handshake(a)
	a.Add(s2c(5001, 1004, "A", "", 10))
	a.Add(s2c(5001, 1007, "A", "", 20))
	a.Add(c2s(1007, 5001, "PA", "ghi", 500)) // long after both
	expectEvents(t, r.events, `1 A gap 6`, `1 A data "ghi"`)
}

// The buffer bound still gives up a hole that waits for its window.
func TestReorderWindowBufferBound(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{MaxBufferedPerDirection: 2 * 576})
	handshake(a)
	a.Add(c2s(1006, 5001, "PA", "fghij", 3))
	a.Add(s2c(5001, 1016, "A", "", 4))
	a.Add(c2s(1011, 5001, "PA", "klmno", 5))
	a.Add(c2s(1021, 5001, "PA", "uvwxy", 6)) // over the bound
	expectEvents(t, r.events, `1 A gap 5`, `1 A data "fghij"`, `1 A data "klmno"`)
	if ms := r.times[0].Sub(t0).Milliseconds(); ms != 4 {
		t.Fatalf("gap time %dms", ms) // the ACK's
	}
	a.Add(c2s(1016, 5001, "PA", "pqrst", 7)) // late, fills the second hole
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A gap 5`, `1 A data "fghij"`, `1 A data "klmno"`, `1 A data "pqrst"`, `1 A data "uvwxy"`, `1 end capture_end`)
}

// A RST waits for the bytes its sender acknowledged before it, even when
// it carries no acknowledgement itself: they were sent before it, so a
// capture that shows them after it reordered them.
func TestReorderWindowRST(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1004, 5001, "PA", "def", 3))
	a.Add(s2c(5001, 1007, "A", "", 4))
	a.Add(s2c(5001, 1007, "R", "", 5))
	a.Add(c2s(1001, 5001, "PA", "abc", 6)) // late, not lost
	expectEvents(t, r.events, `1 A data "abc"`, `1 A data "def"`, `1 end rst`)
	a.Add(c2s(1007, 5001, "PA", "ghi", 7))
	if st := a.Stats(); st.Stray != 1 || st.Gaps != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A RST that waits for acknowledged bytes which never come ends the
// connection once the reorder window is over: the hole becomes a gap with
// the ACK's time.
func TestReorderWindowRSTLost(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{ReorderSegments: -1})
	handshake(a)
	a.Add(c2s(1004, 5001, "PA", "def", 3))
	a.Add(s2c(5001, 1007, "A", "", 4))
	a.Add(s2c(5001, 1007, "R", "", 5))
	a.Tick(t0.Add(100 * time.Millisecond))
	expectEvents(t, r.events)
	a.Tick(t0.Add(300 * time.Millisecond))
	expectEvents(t, r.events, `1 A gap 3`, `1 A data "def"`, `1 end rst`)
	if ms := r.times[0].Sub(t0).Milliseconds(); ms != 4 {
		t.Fatalf("gap time %dms", ms)
	}
}

// Many connections waiting at once: each is given up in its turn, and the
// list of waiting directions empties.
func TestReorderWindowManyConnections(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{ReorderWindow: 10 * time.Millisecond, ReorderSegments: 2})
	const n = 50
	p := func(i int) netip.AddrPort { return netip.AddrPortFrom(cli.Addr(), uint16(1000+i)) }
	for i := range n {
		a.Add(mkseg(p(i), srv, 1000, 0, "S", "", i))
		a.Add(mkseg(srv, p(i), 5000, 1001, "SA", "", i))
		a.Add(mkseg(p(i), srv, 1004, 5001, "PA", "def", i))
		a.Add(mkseg(srv, p(i), 5001, 1007, "A", "", i))
	}
	if a.waiting.n == 0 {
		t.Fatal("nothing waiting")
	}
	for i := range 3 {
		a.Add(mkseg(p(0), srv, 1007, 5001, "A", "", 1000+i))
	}
	if a.waiting.n != 0 {
		t.Fatalf("%d still waiting", a.waiting.n)
	}
	if st := a.Stats(); st.Gaps != n || st.GapBytes != 3*n || st.PeakBuffered == 0 {
		t.Fatalf("stats %+v", st)
	}
	if a.buffered != 0 {
		t.Fatalf("%d bytes still held", a.buffered)
	}
	a.Close(t0.Add(time.Hour))
}

func TestRST(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1001, 5001, "PA", "abc", 3))
	a.Add(c2s(1007, 5001, "PA", "ghi", 4)) // held behind a hole
	a.Add(s2c(5001, 0, "R", "", 5))
	a.Add(c2s(1010, 5001, "PA", "late", 6))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "abc"`,
		`1 A gap 3`,
		`1 A data "ghi"`,
		`1 end rst`)
	if st := a.Stats(); st.Stray != 1 || st.Connections != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLoneRSTStartsNothing(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(s2c(5001, 0, "R", "", 0))
	a.Close(t0)
	if len(r.infos) != 0 || len(r.events) != 0 {
		t.Fatalf("infos %v events %v", r.infos, r.events)
	}
}

func TestPortReuse(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1001, 5001, "FPA", "one", 3))
	a.Add(s2c(5001, 1005, "FA", "", 4))
	a.Add(c2s(1005, 5002, "A", "", 5))
	// Same ports, new ISN after the end: connection 2.
	a.Add(c2s(7000, 0, "S", "", 10))
	a.Add(s2c(8000, 7001, "SA", "", 11))
	a.Add(c2s(7001, 8001, "PA", "two", 12))
	// A new SYN while connection 2 is open: it is replaced.
	a.Add(c2s(9000, 0, "S", "", 20))
	a.Add(c2s(9001, 0, "PA", "three", 21))
	a.Add(c2s(9000, 0, "S", "", 22)) // retransmitted SYN: same connection
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "one"`,
		`1 end fin`,
		`2 A data "two"`,
		`2 end evicted`,
		`3 A data "three"`,
		`3 end capture_end`)
	if st := a.Stats(); st.Connections != 3 || st.Replaced != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSYNAfterMidStream(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(c2s(100, 200, "PA", "old", 0))
	a.Add(c2s(1000, 0, "S", "", 1))
	a.Add(c2s(1001, 0, "PA", "new", 2))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "old"`,
		`1 end evicted`,
		`2 A data "new"`,
		`2 end capture_end`)
}

func TestEviction(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{MaxConnections: 2})
	p := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(cli.Addr(), port) }
	a.Add(mkseg(p(1), srv, 100, 1, "PA", "c1", 0))
	a.Add(mkseg(p(2), srv, 100, 1, "PA", "c2", 1))
	a.Add(mkseg(p(1), srv, 102, 1, "PA", "c1", 2)) // connection 1 is now the most recent
	a.Add(mkseg(p(3), srv, 100, 1, "PA", "c3", 3)) // evicts connection 2
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "c1"`,
		`2 A data "c2"`,
		`1 A data "c1"`,
		`2 end evicted`,
		`3 A data "c3"`,
		`1 end capture_end`,
		`3 end capture_end`)
	if st := a.Stats(); st.Evicted != 1 || st.Connections != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestEvictionPrefersEnded(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{MaxConnections: 2})
	p := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(cli.Addr(), port) }
	a.Add(mkseg(p(1), srv, 100, 1, "PA", "c1", 0))
	a.Add(mkseg(p(2), srv, 100, 1, "PA", "c2", 1))
	a.Add(mkseg(p(2), srv, 102, 1, "R", "", 2))
	a.Add(mkseg(p(3), srv, 100, 1, "PA", "c3", 3)) // room from the ended connection
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "c1"`,
		`2 A data "c2"`,
		`2 end rst`,
		`3 A data "c3"`,
		`1 end capture_end`,
		`3 end capture_end`)
	if st := a.Stats(); st.Evicted != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestIdleTimeout(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{IdleTimeout: time.Second})
	p := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(cli.Addr(), port) }
	a.Add(mkseg(p(1), srv, 100, 1, "PA", "c1", 0))
	a.Add(mkseg(p(2), srv, 100, 1, "FPA", "c2", 500))
	a.Add(mkseg(p(3), srv, 100, 1, "PA", "c3", 1200)) // ends 1
	a.Add(mkseg(p(3), srv, 102, 1, "PA", "c3", 2000)) // ends 2
	a.Add(mkseg(p(1), srv, 102, 1, "PA", "c1", 2100)) // a new connection 4
	a.Close(t0.Add(3 * time.Second))
	expectEvents(t, r.events,
		`1 A data "c1"`,
		`2 A data "c2"`,
		`1 end evicted`,
		`3 A data "c3"`,
		`2 end fin`,
		`3 A data "c3"`,
		`4 A data "c1"`,
		`3 end capture_end`,
		`4 end capture_end`)
	if st := a.Stats(); st.IdleEnded != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCloseFlushesInIDOrder(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	p := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(cli.Addr(), port) }
	a.Add(mkseg(p(1), srv, 100, 1, "PA", "a", 0))
	a.Add(mkseg(p(2), srv, 100, 1, "PA", "b", 1))
	a.Add(mkseg(p(1), srv, 105, 1, "PA", "held", 2))  // hole [101,105)
	a.Add(mkseg(srv, p(2), 1, 101, "PA", "reply", 3)) // makes 2 more recent
	a.Add(mkseg(p(1), srv, 120, 1, "FA", "", 4))      // FIN after another hole
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "a"`,
		`2 A data "b"`,
		`2 B data "reply"`,
		`1 A gap 4`,
		`1 A data "held"`,
		`1 A gap 11`,
		`1 end capture_end`,
		`2 end capture_end`)
}

func TestCloseTrailingAckedGap(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1001, 5001, "PA", "abc", 3))
	a.Add(s2c(5001, 1010, "A", "", 4)) // the server got 6 bytes more
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events,
		`1 A data "abc"`,
		`1 A gap 6`,
		`1 end capture_end`)
}

func TestIgnoredConnection(t *testing.T) {
	r := &recorder{ignore: map[uint64]bool{1: true}}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1005, 5001, "PA", "x", 3)) // out of order: not held
	a.Add(c2s(1001, 5001, "FA", "", 4))
	a.Add(s2c(5001, 1002, "FA", "", 5))
	a.Add(c2s(2000, 0, "S", "", 6)) // new connection after the end
	a.Add(c2s(2001, 0, "PA", "y", 7))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `2 A data "y"`, `2 end capture_end`)
	if st := a.Stats(); st.Ignored != 1 || st.PeakBuffered != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestIPv6AndAddPacket(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	add := func(kind string, s tcpSpec, ms int) {
		lt, b := frame(t, kind, s)
		if err := a.AddPacket(Packet{Data: b, LinkType: lt, Time: t0.Add(time.Duration(ms) * time.Millisecond), CaptureLength: len(b), Length: len(b)}); err != nil {
			t.Fatal(err)
		}
	}
	add("eth", tcpSpec{src: cli6, dst: srv6, seq: 1, flags: "S"}, 0)
	add("eth", tcpSpec{src: srv6, dst: cli6, seq: 10, ack: 2, flags: "SA"}, 1)
	add("vlan", tcpSpec{src: cli6, dst: srv6, seq: 2, ack: 11, flags: "PA", payload: []byte("GET")}, 2)
	add("sll", tcpSpec{src: srv6, dst: cli6, seq: 11, ack: 5, flags: "PA", payload: []byte("200")}, 3)
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A data "GET"`, `1 B data "200"`, `1 end capture_end`)
	if r.infos[0].Addr[SideA] != cli6 {
		t.Fatalf("info %+v", r.infos[0])
	}
	if st := a.Stats(); st.Packets != 4 || st.TCPSegments != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAddPacketCounts(t *testing.T) {
	a := NewAssembler(&recorder{}, Options{})
	_, good := frame(t, "eth", tcpSpec{src: cli, dst: srv, seq: 1, flags: "A"})
	arp := append(append([]byte{}, good[:12]...), 0x08, 0x06, 0, 1)
	frag := append([]byte{}, good...)
	frag[14+6] = 0x00
	frag[14+7] = 0x10 // fragment offset 16
	a.AddPacket(Packet{Data: good, LinkType: 1})
	a.AddPacket(Packet{Data: arp, LinkType: 1})
	a.AddPacket(Packet{Data: frag, LinkType: 1})
	a.AddPacket(Packet{Data: good[:20], LinkType: 1})
	a.AddPacket(Packet{Data: good[:20], LinkType: 1})
	a.AddPacket(Packet{Data: good, LinkType: 105})
	st := a.Stats()
	if st.Packets != 6 || st.TCPSegments != 1 || st.NonTCP != 1 || st.Fragments != 1 || st.Malformed != 2 || st.Unsupported != 1 {
		t.Fatalf("stats %+v", st)
	}
	if len(st.MalformedReasons) != 1 || st.MalformedReasons[0] != (ReasonCount{Reason: reasonIPv4Short, Count: 2, FirstPacket: 4}) {
		t.Fatalf("reasons %+v", st.MalformedReasons)
	}
	if len(st.UnsupportedLinkTypes) != 1 || st.UnsupportedLinkTypes[0] != 105 {
		t.Fatalf("link types %v", st.UnsupportedLinkTypes)
	}
}

func TestPureAckNoAlloc(t *testing.T) {
	a := NewAssembler(&recorder{}, Options{})
	handshake(a)
	s := c2s(1001, 5001, "A", "", 3)
	allocs := testing.AllocsPerRun(1000, func() { a.Add(s) })
	if allocs != 0 {
		t.Fatalf("%v allocs per pure ACK", allocs)
	}
}

type nopFactory struct{}
type nopHandler struct{}

func (nopFactory) NewConn(*ConnInfo) ConnHandler { return nopHandler{} }
func (nopHandler) Data(Side, []byte, time.Time)  {}
func (nopHandler) Gap(Side, int64, time.Time)    {}
func (nopHandler) End(EndReason, time.Time)      {}

// Holes acknowledged before they are filled, over and over: once the
// buffers are pooled, nothing is allocated.
func TestReorderedAckedNoAlloc(t *testing.T) {
	a := NewAssembler(nopFactory{}, Options{})
	handshake(a)
	seq := uint32(1001)
	s1, s2 := c2s(0, 5001, "PA", "0123456789", 3), c2s(0, 5001, "PA", "abcdefghij", 3)
	ack := s2c(5001, 0, "A", "", 3)
	allocs := testing.AllocsPerRun(1000, func() {
		s2.Seq, ack.Ack, s1.Seq = seq+10, seq+20, seq
		a.Add(s2)
		a.Add(ack)
		a.Add(s1)
		seq += 20
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per reordered pair", allocs)
	}
	if st := a.Stats(); st.Gaps != 0 || st.LateFilled == 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestInOrderNoAlloc(t *testing.T) {
	a := NewAssembler(nopFactory{}, Options{})
	handshake(a)
	s := c2s(1001, 5001, "PA", "0123456789", 3)
	allocs := testing.AllocsPerRun(1000, func() {
		a.Add(s)
		s.Seq += 10
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per in-order segment", allocs)
	}
}

// TestBufferBoundedAdversarial sends tiny segments in descending order
// behind a hole, the worst case for the out-of-order buffer: memory stays
// within the bound and every byte is accounted for.
func TestBufferBoundedAdversarial(t *testing.T) {
	for _, missingOnly := range []bool{false, true} {
		const n = 50000
		opt := Options{MaxBufferedPerDirection: 1 << 20}
		chk := &fuzzChecker{t: t}
		a := NewAssembler(chk, opt)
		a.Add(&Segment{Src: cli, Dst: srv, Seq: 0, SYN: true, Time: t0})
		start := time.Now()
		for i := n; i >= 2; i-- {
			s := &Segment{Src: cli, Dst: srv, Seq: uint32(i), Time: t0}
			if missingOnly {
				s.Missing = 1
			} else {
				s.Payload = []byte{streamByte(i - 1)}
			}
			a.Add(s)
		}
		a.Close(t0)
		st := a.Stats()
		if max := int64(opt.MaxBufferedPerDirection + 512 + pieceOverhead); st.PeakBuffered > max {
			t.Fatalf("peak %d > %d", st.PeakBuffered, max)
		}
		if chk.off[SideA] != n {
			t.Fatalf("accounted %d of %d bytes", chk.off[SideA], n)
		}
		t.Logf("missing only %v: %v, %d gaps, peak %d", missingOnly, time.Since(start), st.Gaps, st.PeakBuffered)
	}
}

// A response captured before the request it acknowledges is held until
// the request is delivered: the layer above sees them in causal order.
func TestResponseBeforeRequest(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(s2c(5001, 1004, "PA", "resp", 4)) // acknowledges "req"
	a.Add(c2s(1001, 5001, "PA", "req", 3))
	a.Add(c2s(1004, 5005, "A", "", 5))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A data "req"`, `1 B data "resp"`, `1 end capture_end`)
	if ms := r.times[1].Sub(t0).Milliseconds(); ms != 4 {
		t.Fatalf("response time %dms", ms)
	}
	if st := a.Stats(); st.Gaps != 0 || st.HeldForOtherSide != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// When the request never shows up, the response is delivered after a gap
// for it once the reorder window has passed, not at the end of the
// connection.
func TestResponseRequestLost(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{ReorderWindow: 100 * time.Millisecond, ReorderSegments: -1})
	handshake(a)
	a.Add(s2c(5001, 1004, "PA", "resp", 10))
	a.Add(s2c(5005, 1004, "PA", "more", 20))
	expectEvents(t, r.events)
	a.Add(c2s(1004, 5009, "A", "", 200))
	expectEvents(t, r.events, `1 A gap 3`, `1 B data "resp"`, `1 B data "more"`)
	if ms := r.times[0].Sub(t0).Milliseconds(); ms != 10 {
		t.Fatalf("gap time %dms", ms)
	}
}

// Each direction holding bytes that acknowledge the other's held bytes (a
// retransmission with a later acknowledgement can do that) is broken once
// the window has passed, with no bytes lost.
func TestHeldBothWays(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{ReorderWindow: 100 * time.Millisecond, ReorderSegments: -1})
	handshake(a)
	a.Add(s2c(5001, 1004, "PA", "xy", 10))
	a.Add(c2s(1001, 5003, "PA", "abc", 11))
	expectEvents(t, r.events)
	a.Add(c2s(1004, 5003, "A", "", 200))
	a.Close(t0.Add(time.Second))
	if st := a.Stats(); st.Gaps != 0 || len(r.events) != 3 || r.events[2] != "1 end capture_end" {
		t.Fatalf("events %q, stats %+v", r.events, st)
	}
}

// Held bytes count against the buffer bound like any others.
func TestHeldBufferBound(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{MaxBufferedPerDirection: 2 * 576})
	handshake(a)
	a.Add(s2c(5001, 1004, "PA", "aaaaa", 3))
	a.Add(s2c(5006, 1004, "PA", "bbbbb", 4))
	a.Add(s2c(5011, 1004, "PA", "ccccc", 5)) // over: delivered without waiting
	expectEvents(t, r.events, `1 B data "aaaaa"`, `1 B data "bbbbb"`, `1 B data "ccccc"`)
	a.Add(c2s(1001, 5016, "PA", "req", 6))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 B data "aaaaa"`, `1 B data "bbbbb"`, `1 B data "ccccc"`, `1 A data "req"`, `1 end capture_end`)
}

// A SYN-ACK captured after the server's first bytes belongs to the
// connection; it does not start a new one.
func TestSYNACKAfterData(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(c2s(1000, 0, "S", "", 0))
	a.Add(c2s(1001, 5001, "A", "", 1))
	a.Add(s2c(5001, 1001, "PA", "hello", 2))
	a.Add(s2c(5000, 1001, "SA", "", 3)) // late
	a.Add(c2s(1001, 5006, "PA", "req", 4))
	a.Add(s2c(5000, 1001, "SA", "", 5)) // retransmitted
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 B data "hello"`, `1 A data "req"`, `1 end capture_end`)
	if st := a.Stats(); st.Connections != 1 || st.Replaced != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// The same for a client's SYN captured after its first bytes.
func TestSYNAfterData(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(c2s(1001, 5001, "PA", "req", 0))
	a.Add(c2s(1000, 0, "S", "", 1)) // late
	a.Add(s2c(5001, 1004, "PA", "resp", 2))
	a.Add(c2s(7000, 0, "S", "", 3)) // a new connection
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A data "req"`, `1 B data "resp"`, `1 end evicted`, `2 end capture_end`)
}

// A RST captured before bytes sent ahead of it (and before the other
// side's bytes it acknowledges) ends the connection once they are in.
func TestRSTAheadOfData(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(c2s(1001, 5001, "PA", "abc", 3))
	a.Add(c2s(1007, 5004, "AR", "", 4)) // after "def" and the server's "xyz"
	a.Add(c2s(1004, 5001, "PA", "def", 5))
	expectEvents(t, r.events, `1 A data "abc"`, `1 A data "def"`)
	a.Add(s2c(5001, 1004, "PA", "xyz", 6))
	a.Add(c2s(1007, 5004, "A", "", 7)) // after the end: stray
	expectEvents(t, r.events, `1 A data "abc"`, `1 A data "def"`, `1 B data "xyz"`, `1 end rst`)
	if st := a.Stats(); st.Gaps != 0 || st.Stray != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// An early RST whose bytes never come ends the connection once it is old
// enough, with a gap for them, or at the end of the capture.
func TestRSTAheadOfLostData(t *testing.T) {
	for _, closeEarly := range []bool{false, true} {
		r := &recorder{}
		a := NewAssembler(r, Options{ReorderWindow: 100 * time.Millisecond, ReorderSegments: -1})
		handshake(a)
		a.Add(c2s(1001, 5001, "PA", "abc", 3))
		a.Add(c2s(1007, 5001, "AR", "", 4)) // "def" is lost
		if closeEarly {
			a.Close(t0.Add(50 * time.Millisecond))
		} else {
			a.Add(s2c(5001, 1004, "A", "", 200))
		}
		expectEvents(t, r.events, `1 A data "abc"`, `1 A gap 3`, `1 end rst`)
	}
}

// At the end, holes are given up in both directions before held bytes are
// forced out, so that a response still follows its request.
func TestCloseKeepsCausalOrder(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(s2c(5001, 1010, "PA", "resp", 3)) // acknowledges the whole request
	a.Add(c2s(1004, 5001, "PA", "def", 4))  // "abc" lost
	a.Add(c2s(1007, 5001, "PA", "ghi", 5))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A gap 3`, `1 A data "def"`, `1 A data "ghi"`, `1 B data "resp"`, `1 end capture_end`)
}

// The client's first bytes captured before the handshake: the SYN-ACK and
// the SYN that follow belong to the connection.
func TestHandshakeAfterData(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(c2s(1001, 5001, "PA", "req", 0))
	a.Add(s2c(5000, 1001, "SA", "", 1))
	a.Add(c2s(1000, 0, "S", "", 2))
	a.Add(s2c(5001, 1004, "PA", "resp", 3))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A data "req"`, `1 B data "resp"`, `1 end capture_end`)
	if st := a.Stats(); st.Connections != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// The server's first bytes captured before the client's SYN: the SYN they
// acknowledge belongs to the connection.
func TestSYNAfterServerData(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(s2c(5001, 1001, "PA", "hello", 0))
	a.Add(c2s(1000, 0, "S", "", 1))
	a.Add(c2s(1001, 5006, "PA", "req", 2))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A data "hello"`, `1 B data "req"`, `1 end capture_end`)
	if st := a.Stats(); st.Connections != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestConnLayout keeps what a segment reads of a conn in its first four
// cache lines (see conn).
func TestConnLayout(t *testing.T) {
	var c conn
	if end := unsafe.Offsetof(c.info) + unsafe.Offsetof(c.info.Addr) + unsafe.Sizeof(c.info.Addr); end > 4*64 {
		t.Errorf("info.Addr ends at byte %d", end)
	}
	if n := unsafe.Sizeof(c); n > 320 {
		t.Errorf("conn is %d bytes", n)
	}
}

// Holes on many connections at once hold at most MaxBufferedTotal between
// them: the direction that takes the total over gives up its holes, and
// the bytes after them are delivered.
func TestHoleBufferTotal(t *testing.T) {
	r := &recorder{}
	const perConn = 4 * 576 // four held segments, under the per-direction limit
	a := NewAssembler(r, Options{MaxBufferedPerDirection: 8 * 576, MaxBufferedTotal: 10 * perConn})
	var peak int64
	for i := range 40 {
		c := netip.AddrPortFrom(cli.Addr(), uint16(40000+i))
		a.Add(mkseg(c, srv, 1000, 0, "S", "", i))
		a.Add(mkseg(srv, c, 5000, 1001, "SA", "", i))
		for k := range 4 { // a hole at 1001, then four held segments
			a.Add(mkseg(c, srv, uint32(1006+5*k), 5001, "PA", "abcde", i))
		}
		peak = max(peak, a.buffered)
	}
	if limit := int64(10*perConn + 576); peak > limit {
		t.Errorf("%d bytes held at most, over the %d allowed", peak, limit)
	}
	st := a.Stats()
	if st.Gaps < 30 {
		t.Errorf("%d gaps: the connections beyond the total should have given up their holes", st.Gaps)
	}
	a.Close(t0.Add(time.Second))
	if got := strings.Count(strings.Join(r.events, "\n"), `data "abcde"`); got != 40*4 {
		t.Errorf("%d segments delivered, want %d", got, 40*4)
	}
}

// A SYN-ACK captured first says where the client's stream starts, so a
// response captured before its request waits for it rather than being
// delivered ahead of it (grpcweb_h1's first connection reordered so).
func TestSYNACKFirstResponseBeforeRequest(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(s2c(5000, 1001, "SA", "", 0))
	a.Add(s2c(5001, 1004, "PA", "resp", 1)) // after "req", captured first
	a.Add(c2s(1001, 5001, "PA", "req", 2))
	a.Add(c2s(1000, 0, "S", "", 3))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A data "req"`, `1 B data "resp"`, `1 end capture_end`)
	if st := a.Stats(); st.Connections != 1 || st.Gaps != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A SYN-ACK captured after a pure ACK of the server from further on (it
// had sent bytes by then) belongs to the connection, and those bytes,
// captured later still, are delivered rather than taken for a gap.
func TestSYNACKAfterServerAck(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(c2s(1000, 0, "S", "", 0))
	a.Add(s2c(5006, 1004, "A", "", 1)) // after the SYN-ACK and "hello"
	a.Add(s2c(5000, 1001, "SA", "", 2))
	a.Add(c2s(1001, 5006, "PA", "req", 3))
	a.Add(s2c(5001, 1001, "PA", "hello", 4))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 B data "hello"`, `1 A data "req"`, `1 end capture_end`)
	if st := a.Stats(); st.Connections != 1 || st.Gaps != 0 || st.Replaced != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Without a SYN, a stream taken to start at a pure ACK still takes the
// bytes right before it when they are captured after it, as long as
// nothing was delivered; once something was, earlier bytes are old.
func TestMidStreamStartBeforePureAck(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(c2s(2003, 9000, "A", "", 0))
	a.Add(c2s(2000, 9000, "PA", "abc", 1)) // sent before the ACK
	a.Add(c2s(2003, 9000, "PA", "def", 2))
	a.Add(c2s(1990, 9000, "PA", "0123456789", 3)) // before: old
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A data "abc"`, `1 A data "def"`, `1 end capture_end`)
	if st := a.Stats(); st.Gaps != 0 || st.RetransmittedSegments != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// Without the SYN-ACK, the client's first acknowledgement after its SYN
// says where the server's stream starts, so client bytes sent after the
// server's first ones wait for them (tls12_cbc_etm with its SYN-ACK
// dropped: the client's Finished overtook the ServerHello).
func TestSYNACKLostClientDataWaits(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	a.Add(c2s(1000, 0, "S", "", 0))
	a.Add(c2s(1001, 5001, "A", "", 1))
	a.Add(c2s(1001, 5001, "PA", "hello", 2))
	a.Add(c2s(1006, 5004, "PA", "fin", 3)) // after the server's "abc"
	a.Add(s2c(5001, 1006, "PA", "abc", 4))
	a.Close(t0.Add(time.Second))
	expectEvents(t, r.events, `1 A data "hello"`, `1 B data "abc"`, `1 A data "fin"`, `1 end capture_end`)
}

// Bytes held for the other direction that have waited out the window
// first give up that direction's hole before them, so the layer above
// learns of the loss before bytes sent after it.
func TestHeldWaitGivesUpOtherHoleFirst(t *testing.T) {
	r := &recorder{}
	a := NewAssembler(r, Options{})
	handshake(a)
	a.Add(s2c(5001, 1004, "A", "", 3))     // the server has "req"
	a.Add(s2c(5004, 1001, "PA", "def", 4)) // "abc" before it is lost
	a.Add(c2s(1001, 5007, "PA", "req", 5)) // sent after "def": held
	a.Tick(t0.Add(100 * time.Millisecond)) // within the window
	expectEvents(t, r.events)
	a.Tick(t0.Add(300 * time.Millisecond))
	expectEvents(t, r.events, `1 B gap 3`, `1 B data "def"`, `1 A data "req"`)
}
