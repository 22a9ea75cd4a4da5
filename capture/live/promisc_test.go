//go:build linux

package live

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// devFlags reads the kernel's own flags of an interface; unlike those of
// ip link, they include IFF_PROMISC when a packet socket asked for it.
func devFlags(t *testing.T, name string) uint64 {
	b, err := os.ReadFile("/sys/class/net/" + name + "/flags")
	if err != nil {
		t.Skipf("no sysfs flags: %v", err)
	}
	f, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const iffPromisc = 0x100

// TestPromiscuous opens the first Ethernet interface that is up, checks
// it went promiscuous, and that closing the capture ends it.
func TestPromiscuous(t *testing.T) {
	requireLive(t)
	ifs, err := Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var name string
	for _, i := range ifs {
		if i.Up && !i.Loopback && i.LinkType == layers.LinkTypeEthernet && i.Name != AnyInterface {
			name = i.Name
			break
		}
	}
	if name == "" {
		t.Skip("no Ethernet interface is up")
	}
	if devFlags(t, name)&iffPromisc != 0 {
		t.Skipf("%s is promiscuous already", name)
	}
	for _, noPromisc := range []bool{true, false} {
		s, err := Open(Config{Interface: name, NoPromiscuous: noPromisc, RingBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if got := devFlags(t, name)&iffPromisc != 0; got == noPromisc {
			t.Errorf("NoPromiscuous %v: %s promiscuous = %v", noPromisc, name, got)
		}
		if s.LinkType() != layers.LinkTypeEthernet {
			t.Errorf("link type %v", s.LinkType())
		}
		if c := s.CapturedInterfaces(); len(c) != 1 || c[0] != name {
			t.Errorf("CapturedInterfaces = %q", c)
		}
		s.Close()
		if devFlags(t, name)&iffPromisc != 0 {
			t.Errorf("%s still promiscuous after Close", name)
		}
	}
}

// TestAnyCoversAllInterfaces checks the "any" capture adds up the drops of
// every interface.
func TestAnyCoversAllInterfaces(t *testing.T) {
	requireLive(t)
	s, err := Open(Config{Interface: AnyInterface, RingBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ifs, _ := net.Interfaces()
	if got := s.CapturedInterfaces(); len(got) != len(ifs) {
		t.Errorf("CapturedInterfaces = %q, want all of %v", got, ifs)
	}
	_ = s.Stats()
}
