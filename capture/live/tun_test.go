//go:build linux

package live

import (
	"bytes"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/grpcsniff/grpcsniff/capture"
)

// TestTunDevice captures on a tun device, which has no link-layer header,
// in a network namespace of its own so that the machine's interfaces are
// left alone: the packets must come out as raw IP, a down interface must
// only idle the capture, and the removal of the device must end it.
func TestTunDevice(t *testing.T) {
	requireLive(t)
	if os.Getuid() != 0 {
		t.Skip("creating a network namespace takes root")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("no tun support: %v", err)
	}
	out := runHelper(t, "tun", &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET})
	if !strings.Contains(out, "TUN OK") {
		t.Errorf("helper output:\n%s", out)
	}
}

// tunHelper is the body of TestTunDevice's subprocess, in a new network
// namespace.
func tunHelper(t *testing.T) {
	const name = "gstun0"
	tun := createTun(t, name)
	setUp(t, name, true)

	lt, err := LinkTypeOf(name)
	if err != nil || lt != layers.LinkTypeRaw {
		t.Fatalf("LinkTypeOf(%s) = %v, %v; want Raw", name, lt, err)
	}
	s, err := Open(Config{Interface: name, PollTimeout: 100 * time.Millisecond, RingBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.LinkType() != layers.LinkTypeRaw {
		t.Fatalf("LinkType %v, want Raw", s.LinkType())
	}

	sendAndExpect(t, tun, s, newMarkers(1)[0])

	// Down: Next idles and a warning says why.
	setUp(t, name, false)
	expectIdle(t, s)
	if w := s.Warnings(); len(w) != 1 || !strings.Contains(w[0], "went down") {
		t.Fatalf("warnings %q", w)
	}
	// Up again: the capture resumes.
	setUp(t, name, true)
	sendAndExpect(t, tun, s, newMarkers(1)[0])

	// Closing the only file of a non-persistent tun device removes it.
	tun.Close()
	for {
		_, err := s.Next()
		if err == nil || errors.Is(err, ErrIdle) {
			continue
		}
		if !errors.Is(err, ErrInterfaceGone) {
			t.Fatalf("Next after the device was removed: %v, want ErrInterfaceGone", err)
		}
		os.Stdout.WriteString("Next: " + err.Error() + "\n")
		break
	}
	os.Stdout.WriteString("TUN OK\n")
}

// createTun creates the tun device name and returns its file; the device
// goes away when the file is closed.
func createTun(t *testing.T, name string) *os.File {
	tun, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	ifr, _ := unix.NewIfreq(name)
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(int(tun.Fd()), unix.TUNSETIFF, ifr); err != nil {
		t.Fatalf("TUNSETIFF: %v", err)
	}
	return tun
}

// sendAndExpect writes a packet carrying marker to the tun file and checks
// that s captures it as it was written, as raw IP.
func sendAndExpect(t *testing.T, tun *os.File, s *Source, marker []byte) {
	t.Helper()
	pkt := udpPacket(t, marker)
	if _, err := tun.Write(pkt); err != nil {
		t.Fatal(err)
	}
	for {
		p, err := s.Next()
		if err != nil {
			t.Fatalf("Next: %v (waiting for %q)", err, marker)
		}
		if !bytes.Contains(p.Data, marker) {
			continue
		}
		if !bytes.Equal(p.Data, pkt) || p.Length != len(pkt) || p.LinkType != layers.LinkTypeRaw {
			t.Fatalf("captured % x (length %d, %v), want % x", p.Data, p.Length, p.LinkType, pkt)
		}
		var seg capture.Segment
		if r, _ := capture.DecodePacket(p, &seg); r != capture.DecodedOther {
			t.Fatalf("DecodePacket of a raw UDP packet: %v", r)
		}
		return
	}
}

// expectIdle waits for s, on an interface that went down, to return
// ErrIdle three times.
func expectIdle(t *testing.T, s *Source) {
	t.Helper()
	// (IPv6 sends router solicitations on its own: packets queued before
	// the interface went down may still come.)
	for idle := 0; idle < 3; {
		_, err := s.Next()
		switch {
		case errors.Is(err, ErrIdle):
			idle++
		case err != nil:
			t.Fatalf("Next on the downed interface: %v, want ErrIdle", err)
		}
	}
}

// setUp brings the interface up or down.
func setUp(t *testing.T, name string, up bool) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ifr, _ := unix.NewIfreq(name)
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		t.Fatal(err)
	}
	flags := ifr.Uint16()
	if up {
		flags |= unix.IFF_UP
	} else {
		flags &^= unix.IFF_UP
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		t.Fatal(err)
	}
}

func udpPacket(t *testing.T, payload []byte) []byte {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IPv4(10, 99, 0, 2), DstIP: net.IPv4(10, 99, 0, 1)}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 50051}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, udp, gopacket.Payload(payload))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
