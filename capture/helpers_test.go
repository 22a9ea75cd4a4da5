package capture

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	cli  = netip.MustParseAddrPort("10.0.0.1:40000")
	srv  = netip.MustParseAddrPort("10.0.0.2:50051")
	cli6 = netip.MustParseAddrPort("[2001:db8::1]:40000")
	srv6 = netip.MustParseAddrPort("[2001:db8::2]:443")
	t0   = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

// tcpSpec describes a TCP segment to build into a frame.
type tcpSpec struct {
	src, dst netip.AddrPort
	seq, ack uint32
	flags    string // letters S A F R P
	payload  []byte
}

// ipTCPBytes serializes an IPv4 or IPv6 packet holding a TCP segment.
func ipTCPBytes(t testing.TB, s tcpSpec) []byte {
	t.Helper()
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(s.src.Port()),
		DstPort: layers.TCPPort(s.dst.Port()),
		Seq:     s.seq,
		Ack:     s.ack,
		SYN:     strings.Contains(s.flags, "S"),
		ACK:     strings.Contains(s.flags, "A"),
		FIN:     strings.Contains(s.flags, "F"),
		RST:     strings.Contains(s.flags, "R"),
		PSH:     strings.Contains(s.flags, "P"),
		Window:  65535,
	}
	var ip gopacket.SerializableLayer
	if s.src.Addr().Is4() {
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: net.IP(s.src.Addr().AsSlice()), DstIP: net.IP(s.dst.Addr().AsSlice())}
		if err := tcp.SetNetworkLayerForChecksum(ip4); err != nil {
			t.Fatal(err)
		}
		ip = ip4
	} else {
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.IP(s.src.Addr().AsSlice()), DstIP: net.IP(s.dst.Addr().AsSlice())}
		if err := tcp.SetNetworkLayerForChecksum(ip6); err != nil {
			t.Fatal(err)
		}
		ip = ip6
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ip, tcp, gopacket.Payload(s.payload)); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func etherTypeOf(s tcpSpec) layers.EthernetType {
	if s.src.Addr().Is4() {
		return layers.EthernetTypeIPv4
	}
	return layers.EthernetTypeIPv6
}

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

// frame builds s with the link layer named by kind: "eth", "vlan", "qinq",
// "sll", "sll2", "null", "null-be", "loop", "raw".
func frame(t testing.TB, kind string, s tcpSpec) (layers.LinkType, []byte) {
	t.Helper()
	ip := ipTCPBytes(t, s)
	et := etherTypeOf(s)
	serialize := func(ls ...gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		ls = append(ls, gopacket.Payload(ip))
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, ls...); err != nil {
			t.Fatal(err)
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	switch kind {
	case "eth":
		return layers.LinkTypeEthernet, serialize(&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et})
	case "vlan":
		return layers.LinkTypeEthernet, serialize(
			&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 42, Type: et})
	case "qinq":
		return layers.LinkTypeEthernet, serialize(
			&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeQinQ},
			&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 42, Type: et})
	case "sll":
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[0:], 0) // to us
		binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:], macA)
		binary.BigEndian.PutUint16(h[14:], uint16(et))
		return layers.LinkTypeLinuxSLL, append(h, ip...)
	case "sll2":
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], uint16(et))
		binary.BigEndian.PutUint32(h[4:], 3) // interface index
		binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
		h[10] = 4                            // outgoing
		h[11] = 6
		copy(h[12:], macA)
		return layers.LinkTypeLinuxSLL2, append(h, ip...)
	case "null":
		fam := layers.ProtocolFamilyIPv4
		if et == layers.EthernetTypeIPv6 {
			fam = layers.ProtocolFamilyIPv6BSD
		}
		return layers.LinkTypeNull, serialize(&layers.Loopback{Family: fam})
	case "null-win":
		// Npcap's loopback device before 1.x: little-endian, with
		// Windows' AF_INET6 (23).
		fam := uint32(2)
		if et == layers.EthernetTypeIPv6 {
			fam = 23
		}
		return layers.LinkTypeNull, append(binary.LittleEndian.AppendUint32(nil, fam), ip...)
	case "null-be", "loop":
		fam := uint32(2)
		if et == layers.EthernetTypeIPv6 {
			fam = 30
		}
		h := binary.BigEndian.AppendUint32(nil, fam)
		if kind == "loop" {
			return layers.LinkTypeLoop, append(h, ip...)
		}
		return layers.LinkTypeNull, append(h, ip...)
	case "raw":
		return layers.LinkTypeRaw, ip
	case "raw12":
		return linkTypeRaw12, ip
	case "raw14":
		return linkTypeRaw14, ip
	case "ipv4":
		return layers.LinkTypeIPv4, ip
	case "ipv6":
		return layers.LinkTypeIPv6, ip
	}
	t.Fatalf("unknown frame kind %q", kind)
	return 0, nil
}

// recorder is a HandlerFactory that logs every call as a line of text.
type recorder struct {
	infos  []ConnInfo
	events []string
	times  []time.Time // the t of each event
	// ignore, if set, makes NewConn return nil for the IDs it lists.
	ignore map[uint64]bool
}

func (r *recorder) NewConn(info *ConnInfo) ConnHandler {
	r.infos = append(r.infos, *info)
	if r.ignore[info.ID] {
		return nil
	}
	return &recConn{r: r, id: info.ID}
}

type recConn struct {
	r  *recorder
	id uint64
}

func sideName(s Side) string {
	if s == SideA {
		return "A"
	}
	return "B"
}

func (c *recConn) add(t time.Time, format string, args ...any) {
	c.r.events = append(c.r.events, fmt.Sprintf("%d ", c.id)+fmt.Sprintf(format, args...))
	c.r.times = append(c.r.times, t)
}

func (c *recConn) Data(s Side, data []byte, t time.Time) {
	c.add(t, "%s data %q", sideName(s), data)
}

func (c *recConn) Gap(s Side, n int64, t time.Time) {
	c.add(t, "%s gap %d", sideName(s), n)
}

func (c *recConn) End(reason EndReason, t time.Time) {
	c.add(t, "end %s", reason)
}

func expectEvents(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("handler calls:\n got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// mkseg builds a Segment from src to dst at t0+ms milliseconds.
func mkseg(src, dst netip.AddrPort, seq, ack uint32, flags, payload string, ms int) *Segment {
	return &Segment{
		Src: src, Dst: dst, Seq: seq, Ack: ack,
		SYN:     strings.Contains(flags, "S"),
		ACK:     strings.Contains(flags, "A"),
		FIN:     strings.Contains(flags, "F"),
		RST:     strings.Contains(flags, "R"),
		Payload: []byte(payload),
		Time:    t0.Add(time.Duration(ms) * time.Millisecond),
	}
}

// c2s and s2c build segments from the client and from the server.
func c2s(seq, ack uint32, flags, payload string, ms int) *Segment {
	return mkseg(cli, srv, seq, ack, flags, payload, ms)
}

func s2c(seq, ack uint32, flags, payload string, ms int) *Segment {
	return mkseg(srv, cli, seq, ack, flags, payload, ms)
}
