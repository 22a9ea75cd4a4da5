//go:build linux

package live

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/capture/bpffilter"
)

// requireLive fails the test when this process may not open packet
// sockets, unless GRPCSNIFF_NO_LIVE=1 asks to skip the live tests instead.
func requireLive(t testing.TB) {
	t.Helper()
	if os.Getenv("GRPCSNIFF_EMULATED") == "1" {
		t.Skip("GRPCSNIFF_EMULATED=1: live capture tests cannot run under qemu-user emulation " +
			"(it has no working packet ring, and the privilege tests start this foreign test binary again)")
	}
	if strconv.IntSize == 32 {
		t.Skip("live capture is refused on 32-bit platforms (see Open): gopacket's afpacket keeps 64-bit " +
			"atomic counters unaligned there and panics on the first packet")
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
		return
	}
	msg := fmt.Sprintf("live capture tests need to open AF_PACKET sockets, which takes root or CAP_NET_RAW (%v); "+
		"set GRPCSNIFF_NO_LIVE=1 to skip them", err)
	if os.Getenv("GRPCSNIFF_NO_LIVE") == "1" {
		t.Skip(msg)
	}
	t.Fatal(msg)
}

// newMarkers returns n payloads unique to this test run, so that traffic
// from elsewhere on the machine cannot be mistaken for ours.
func newMarkers(n int) [][]byte {
	var nonce [8]byte
	rand.Read(nonce[:])
	m := make([][]byte, n)
	for i := range m {
		m[i] = fmt.Appendf(nil, "grpcsniff-live-%s-%04d.", hex.EncodeToString(nonce[:]), i)
	}
	return m
}

// sendTCP sends each payload as a separate write over a loopback TCP
// connection on network ("tcp4" or "tcp6") and waits until the peer has
// read them all.
func sendTCP(t testing.TB, network string, payloads [][]byte) {
	t.Helper()
	sendTCPTo(t, listenLoopback(t, network), payloads)
}

// listenLoopback listens on a free loopback port of network (tcp4 or
// tcp6), so that a capture can be filtered to it before anything is sent.
func listenLoopback(t testing.TB, network string) net.Listener {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "tcp6" {
		addr = "[::1]:0"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// portFilter is the kernel filter "tcp port N" for a source of link type
// lt: a live test looks only at its own traffic, whatever else the machine
// sends over the loopback meanwhile.
func portFilter(t testing.TB, lt layers.LinkType, snaplen int, lns ...net.Listener) []bpf.RawInstruction {
	t.Helper()
	flt, err := bpffilter.ForLinkType(lt)
	if err != nil {
		t.Fatal(err)
	}
	var ports []string
	for _, ln := range lns {
		ports = append(ports, fmt.Sprintf("tcp port %d", ln.Addr().(*net.TCPAddr).Port))
	}
	prog, err := bpffilter.Compile(strings.Join(ports, " or "), flt, snaplen)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// openLoopback opens lo with cfg, filtered to the ports of lns; the source
// is closed when the test ends.
func openLoopback(t testing.TB, cfg Config, lns ...net.Listener) *Source {
	t.Helper()
	cfg.Interface = "lo"
	cfg.Filter = portFilter(t, layers.LinkTypeEthernet, 262144, lns...)
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sendTCPTo connects to ln, which it closes, and sends payloads.
func sendTCPTo(t testing.TB, ln net.Listener, payloads [][]byte) {
	t.Helper()
	network := ln.Addr().Network()
	defer ln.Close()
	total := 0
	for _, p := range payloads {
		total += len(p)
	}
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = io.ReadFull(c, make([]byte, total))
		done <- err
	}()
	c, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range payloads {
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// countPayloads reads s until the last marker was seen and the ring is then
// drained (Next returned ErrIdle) or, beside other traffic that keeps the
// ring busy, half a second has passed since; and counts the TCP segments
// carrying each marker. It also checks every such segment's timestamp lies in
// [from, to].
func countPayloads(t testing.TB, s *Source, markers [][]byte, from, to time.Time) map[string]int {
	t.Helper()
	counts := map[string]int{}
	last := string(markers[len(markers)-1])
	var seg capture.Segment
	giveUp := time.Now().Add(20 * time.Second) // a safety net, not a measurement
	var lastAt time.Time
	for time.Now().Before(giveUp) {
		if counts[last] > 0 && time.Since(lastAt) > 500*time.Millisecond {
			return counts
		}
		p, err := s.Next()
		if errors.Is(err, ErrIdle) {
			if counts[last] > 0 {
				return counts
			}
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if p.LinkType != s.LinkType() || p.CaptureLength != len(p.Data) || p.Length < p.CaptureLength {
			t.Fatalf("packet header %+v inconsistent (link type of source %v)", p, s.LinkType())
		}
		if r, _ := capture.DecodePacket(p, &seg); r != capture.DecodedTCP {
			continue
		}
		for _, m := range markers {
			if n := bytes.Count(seg.Payload, m); n > 0 {
				counts[string(m)] += n
				if string(m) == last {
					lastAt = time.Now()
				}
				if p.Time.Before(from) || p.Time.After(to) {
					t.Errorf("packet time %v outside the sending window [%v, %v]", p.Time, from, to)
				}
			}
		}
	}
	t.Fatalf("gave up waiting for the packets; counts so far %v", counts)
	return nil
}

func TestLoopbackSeenOnce(t *testing.T) {
	requireLive(t)
	for _, tc := range []struct{ iface, network string }{
		{"lo", "tcp4"}, {"lo", "tcp6"}, {AnyInterface, "tcp4"}, {AnyInterface, "tcp6"},
	} {
		t.Run(tc.iface+"/"+tc.network, func(t *testing.T) {
			if tc.network == "tcp6" && !hasIPv6Loopback() {
				t.Skip("no ::1 on this machine")
			}
			lt, err := LinkTypeOf(tc.iface)
			if err != nil {
				t.Fatal(err)
			}
			ln := listenLoopback(t, tc.network)
			s, err := Open(Config{Interface: tc.iface, PollTimeout: 200 * time.Millisecond, RingBytes: 4 << 20,
				Filter: portFilter(t, lt, 262144, ln)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			want := layers.LinkTypeEthernet
			if tc.iface == AnyInterface {
				want = layers.LinkTypeRaw
			}
			if s.LinkType() != want {
				t.Errorf("LinkType = %v, want %v", s.LinkType(), want)
			}
			markers := newMarkers(50)
			from := time.Now()
			sendTCPTo(t, ln, markers)
			to := time.Now()
			counts := countPayloads(t, s, markers, from, to)
			for _, m := range markers {
				if counts[string(m)] != 1 {
					t.Errorf("payload %q seen %d times, want once", m, counts[string(m)])
				}
			}
			st := s.Stats()
			if st.Delivered == 0 || st.Received < st.Delivered || st.KernelDrops != 0 {
				t.Errorf("stats %+v: want Delivered > 0, Received >= Delivered, no kernel drops", st)
			}
		})
	}
}

func hasIPv6Loopback() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// TestNanosecondTimestamps checks the timestamps are not rounded to
// microseconds, as pcap's would be.
func TestNanosecondTimestamps(t *testing.T) {
	requireLive(t)
	first, again := listenLoopback(t, "tcp4"), listenLoopback(t, "tcp4")
	s := openLoopback(t, Config{PollTimeout: 200 * time.Millisecond, RingBytes: 4 << 20}, first, again)
	markers := newMarkers(20)
	from := time.Now()
	sendTCPTo(t, first, markers)
	countPayloads(t, s, markers, from, time.Now())
	// countPayloads drained the ring; send again and look at every packet.
	sendTCPTo(t, again, markers[:5])
	subMicro := 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		p, err := s.Next()
		if errors.Is(err, ErrIdle) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Time.Nanosecond()%1000 != 0 {
			subMicro++
		}
	}
	if subMicro == 0 {
		t.Error("every timestamp is a whole number of microseconds: the ring's nanoseconds are lost")
	}
}

// tcpOnlyFilter returns a classic BPF program accepting IPv4 TCP packets,
// for packets starting with an Ethernet header or with the IP header.
func tcpOnlyFilter(t *testing.T, lt layers.LinkType, snaplen int) []bpf.RawInstruction {
	off := uint32(0)
	var prog []bpf.Instruction
	if lt == layers.LinkTypeEthernet {
		off = 14
		prog = append(prog,
			bpf.LoadAbsolute{Off: 12, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x0800, SkipTrue: 3},
		)
	} else {
		prog = append(prog,
			bpf.LoadAbsolute{Off: 0, Size: 1},
			bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4},
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 4, SkipTrue: 3},
		)
	}
	prog = append(prog,
		bpf.LoadAbsolute{Off: off + 9, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 6, SkipTrue: 1},
		bpf.RetConstant{Val: uint32(snaplen)},
		bpf.RetConstant{Val: 0},
	)
	raw, err := bpf.Assemble(prog)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestUserFilter checks the user's filter runs behind the loopback prefix:
// UDP is dropped, TCP seen once, and the filter's return value cuts the
// packets short.
func TestUserFilter(t *testing.T) {
	requireLive(t)
	for _, iface := range []string{"lo", AnyInterface} {
		t.Run(iface, func(t *testing.T) {
			lt, err := LinkTypeOf(iface)
			if err != nil {
				t.Fatal(err)
			}
			const snap = 100
			s, err := Open(Config{Interface: iface, Filter: tcpOnlyFilter(t, lt, snap), Snaplen: snap,
				PollTimeout: 200 * time.Millisecond, RingBytes: 4 << 20})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// A UDP datagram first, then a TCP segment longer than the snap
			// length.
			udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer udp.Close()
			udpMarker := newMarkers(1)[0]
			if _, err := udp.WriteTo(udpMarker, udp.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			// The segment starts with a marker short enough to survive the
			// snap length (100 bytes hold 34 of lo's payload), so that other
			// traffic on the machine is not counted.
			tcpMarker := newMarkers(1)[0][:24]
			big := append(tcpMarker, bytes.Repeat([]byte("x"), 1000)...)
			sendTCP(t, "tcp4", [][]byte{big})
			// Read until the capture is quiet, or, beside other traffic
			// that never lets it be, until a while after the marked
			// segment (long enough for a second copy to show).
			n, short := 0, 0
			var after time.Time
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
				if short > 0 && time.Since(after) > 500*time.Millisecond {
					break
				}
				p, err := s.Next()
				if errors.Is(err, ErrIdle) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				n++
				if bytes.Contains(p.Data, udpMarker) {
					t.Error("the filter let a UDP datagram through")
				}
				if p.CaptureLength > snap {
					t.Errorf("captured %d bytes, snap length %d", p.CaptureLength, snap)
				}
				if p.Length > 1000 && bytes.Contains(p.Data, tcpMarker) {
					short++
					after = time.Now()
				}
			}
			if short != 1 {
				t.Errorf("the marked TCP segment captured %d times (of %d packets), want once", short, n)
			}
		})
	}
}

// requireInterfaces skips a test that lists interfaces where an emulator
// cannot list them.
func requireInterfaces(t testing.TB) {
	t.Helper()
	if os.Getenv("GRPCSNIFF_EMULATED") != "1" {
		return
	}
	if _, err := net.Interfaces(); err != nil {
		t.Skipf("GRPCSNIFF_EMULATED=1 and the emulator cannot list the network interfaces (%v): "+
			"qemu-user does not translate the netlink messages net.Interfaces reads for this architecture", err)
	}
}

// On 32-bit Linux, Open refuses before anything else, saying why.
func TestOpenRefusedOn32Bit(t *testing.T) {
	if strconv.IntSize != 32 {
		t.Skip("Open is refused on 32-bit platforms only; CI runs this package's tests for linux/386")
	}
	_, err := Open(Config{Interface: "lo"})
	if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "32-bit") {
		t.Fatalf("Open on 32-bit: %v, want ErrNotSupported saying 32-bit", err)
	}
}

func TestNoInterface(t *testing.T) {
	requireInterfaces(t)
	if strconv.IntSize == 32 {
		t.Skip("on 32-bit platforms Open is refused before the interface is looked up (TestOpenRefusedOn32Bit)")
	}
	_, err := Open(Config{Interface: "eth9nonexistent"})
	if !errors.Is(err, ErrNoInterface) {
		t.Fatalf("Open: %v, want ErrNoInterface", err)
	}
	msg := err.Error()
	for _, want := range []string{`no interface "eth9nonexistent" (this system has `, "lo", "any"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if _, err := LinkTypeOf("eth9nonexistent"); !errors.Is(err, ErrNoInterface) {
		t.Errorf("LinkTypeOf: %v, want ErrNoInterface", err)
	}
}

func TestSocketErrorMapping(t *testing.T) {
	for _, errno := range []error{unix.EPERM, unix.EACCES} {
		err := socketError("lo", errno)
		if !errors.Is(err, ErrPermission) || !errors.Is(err, errno) {
			t.Errorf("%v: got %v, want ErrPermission wrapping the errno", errno, err)
		}
		want := "capturing on lo needs the CAP_NET_RAW capability (and CAP_NET_ADMIN for promiscuous mode)"
		if err.Error() != want {
			t.Errorf("message\n%s\nwant\n%s", err, want)
		}
	}
	if err := socketError("lo", unix.ENOMEM); errors.Is(err, ErrPermission) || !errors.Is(err, unix.ENOMEM) {
		t.Errorf("ENOMEM: got %v", err)
	}
}

func TestInterfaces(t *testing.T) {
	requireInterfaces(t)
	ifs, err := Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var lo, any *Interface
	for i := range ifs {
		switch {
		case ifs[i].Name == AnyInterface:
			any = &ifs[i]
		case ifs[i].Loopback:
			lo = &ifs[i]
		}
	}
	if any == nil || any.Index != 0 || any.LinkType != layers.LinkTypeRaw || ifs[len(ifs)-1].Name != AnyInterface {
		t.Errorf("want an \"any\" entry last with index 0 and link type Raw: %+v", ifs)
	}
	if lo == nil {
		t.Fatalf("no loopback interface in %+v", ifs)
	}
	if !lo.Up || lo.Index == 0 || lo.MTU == 0 || lo.LinkType != layers.LinkTypeEthernet {
		t.Errorf("loopback entry %+v", lo)
	}
	found := false
	for _, a := range lo.Addrs {
		if a.String() == "127.0.0.1/8" {
			found = true
		}
	}
	if !found {
		t.Errorf("loopback has no 127.0.0.1/8 in %v", lo.Addrs)
	}
	if s := lo.String(); !strings.Contains(s, "[Up, Running, Loopback]") || !strings.Contains(s, "127.0.0.1/8") {
		t.Errorf("String() = %q", s)
	}
	t.Logf("interfaces:\n%s", func() string {
		var b strings.Builder
		for _, i := range ifs {
			fmt.Fprintf(&b, "  %d %s (%v)\n", i.Index, i, i.LinkType)
		}
		return b.String()
	}())
}

// TestCloseWakesNext checks Close from another goroutine ends a Next that
// waits with no poll timeout. The filter accepts nothing, so Next cannot
// return for any other reason.
func TestCloseWakesNext(t *testing.T) {
	requireLive(t)
	none, _ := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	s, err := Open(Config{Interface: "lo", Filter: none, PollTimeout: -1, RingBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() {
		_, err := s.Next()
		res <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-res:
		if err != io.EOF {
			t.Errorf("Next after Close: %v, want io.EOF", err)
		}
	case <-time.After(10 * time.Second): // a hang, not a slow machine
		t.Fatal("Next did not return after Close")
	}
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("second Next after Close: %v, want io.EOF", err)
	}
	s.Stats() // must not touch the closed socket
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestDownInterface opens a capture on an interface that is down, which
// must work (the capture starts when it comes up) with a warning.
func TestDownInterface(t *testing.T) {
	requireLive(t)
	ifs, err := Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var down string
	for _, i := range ifs {
		if !i.Up && i.Name != AnyInterface {
			down = i.Name
			break
		}
	}
	if down == "" {
		t.Skip("no interface is down on this machine")
	}
	s, err := Open(Config{Interface: down, PollTimeout: 50 * time.Millisecond, RingBytes: 1 << 20})
	if err != nil {
		t.Fatalf("Open(%s): %v", down, err)
	}
	defer s.Close()
	if w := s.Warnings(); len(w) != 1 || !strings.Contains(w[0], "is down") {
		t.Errorf("warnings %q, want one saying %s is down", w, down)
	}
	for range 3 {
		if _, err := s.Next(); !errors.Is(err, ErrIdle) {
			t.Fatalf("Next on a down interface: %v, want ErrIdle", err)
		}
	}
	if w := s.Warnings(); len(w) != 1 {
		t.Errorf("warnings %q, want just the one", w)
	}
}

func TestRingGeometry(t *testing.T) {
	for _, tc := range []struct{ snap, ring, block, n int }{
		{262144, 32 << 20, 512 << 10, 64},
		{65535, 32 << 20, 128 << 10, 256},
		{96, 1 << 20, 128 << 10, 8},
		{262144, 1 << 20, 512 << 10, 2},
		{262144, 1, 512 << 10, 2},
	} {
		b, n := ringGeometry(tc.snap, tc.ring)
		if b != tc.block || n != tc.n {
			t.Errorf("ringGeometry(%d, %d) = %d, %d; want %d, %d", tc.snap, tc.ring, b, n, tc.block, tc.n)
		}
	}
}
