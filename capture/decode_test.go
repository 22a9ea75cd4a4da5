package capture

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var allKinds = []string{"eth", "vlan", "qinq", "sll", "sll2", "null", "null-win", "null-be", "loop", "raw", "raw12", "raw14", "ipv4", "ipv6"}

func TestDecodeLinkTypes(t *testing.T) {
	for _, kind := range allKinds {
		for _, v6 := range []bool{false, true} {
			if (kind == "ipv4" && v6) || (kind == "ipv6" && !v6) {
				continue
			}
			src, dst := cli, srv
			if v6 {
				src, dst = cli6, srv6
			}
			spec := tcpSpec{src: src, dst: dst, seq: 0xDEADBEEF, ack: 0x01020304, flags: "PA", payload: []byte("payload bytes")}
			lt, b := frame(t, kind, spec)
			var seg Segment
			res, reason := DecodePacket(Packet{Data: b, LinkType: lt, CaptureLength: len(b), Length: len(b), Time: t0}, &seg)
			if res != DecodedTCP {
				t.Fatalf("%s v6=%v: %v %s", kind, v6, res, reason)
			}
			if seg.Src != src || seg.Dst != dst || seg.Seq != spec.seq || seg.Ack != spec.ack ||
				!seg.ACK || seg.SYN || seg.FIN || seg.RST || string(seg.Payload) != "payload bytes" || seg.Missing != 0 || !seg.Time.Equal(t0) {
				t.Fatalf("%s v6=%v: %+v", kind, v6, seg)
			}
			checkAgainstGopacket(t, kind, lt, b, &seg)
		}
	}
}

// checkAgainstGopacket decodes b with gopacket's own decoders, where it has
// one for the link type, and compares.
func checkAgainstGopacket(t *testing.T, kind string, lt layers.LinkType, b []byte, seg *Segment) {
	t.Helper()
	switch lt {
	case linkTypeRaw12, linkTypeRaw14, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		return
	}
	if kind == "null-win" {
		return // gopacket does not know Windows' AF_INET6, 23
	}
	p := gopacket.NewPacket(b, lt, gopacket.Default)
	tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if tcp == nil {
		t.Fatalf("%s: gopacket found no TCP: %v", kind, p)
	}
	if uint16(tcp.SrcPort) != seg.Src.Port() || uint16(tcp.DstPort) != seg.Dst.Port() || tcp.Seq != seg.Seq || !bytes.Equal(tcp.Payload, seg.Payload) {
		t.Fatalf("%s: gopacket disagrees: %v vs %+v", kind, tcp, seg)
	}
	src, _ := netip.AddrFromSlice(p.NetworkLayer().NetworkFlow().Src().Raw())
	if src.Unmap() != seg.Src.Addr() {
		t.Fatalf("%s: source %v vs %v", kind, src, seg.Src.Addr())
	}
}

func TestDecodeFlags(t *testing.T) {
	for _, flags := range []string{"S", "SA", "F", "FA", "R", "RA", "A", ""} {
		_, b := frame(t, "eth", tcpSpec{src: cli, dst: srv, seq: 1, flags: flags})
		var seg Segment
		if res, _ := DecodePacket(Packet{Data: b, LinkType: layers.LinkTypeEthernet}, &seg); res != DecodedTCP {
			t.Fatal(res)
		}
		got := ""
		for _, f := range []struct {
			on bool
			c  string
		}{{seg.SYN, "S"}, {seg.FIN, "F"}, {seg.RST, "R"}, {seg.ACK, "A"}} {
			if f.on {
				got += f.c
			}
		}
		want := ""
		for _, c := range "SFRA" {
			if bytes.ContainsRune([]byte(flags), c) {
				want += string(c)
			}
		}
		if got != want {
			t.Fatalf("flags %q decoded as %q", flags, got)
		}
	}
}

func TestDecodeSnaplen(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		src, dst := cli, srv
		if v6 {
			src, dst = cli6, srv6
		}
		payload := bytes.Repeat([]byte("x"), 1000)
		lt, b := frame(t, "eth", tcpSpec{src: src, dst: dst, seq: 7, flags: "PA", payload: payload})
		hdr := len(b) - len(payload)
		for _, keep := range []int{0, 1, 500, 999} {
			var seg Segment
			cut := b[:hdr+keep]
			res, reason := DecodePacket(Packet{Data: cut, LinkType: lt, CaptureLength: len(cut), Length: len(b)}, &seg)
			if res != DecodedTCP || len(seg.Payload) != keep || seg.Missing != 1000-keep {
				t.Fatalf("v6=%v keep %d: %v %s payload %d missing %d", v6, keep, res, reason, len(seg.Payload), seg.Missing)
			}
		}
		// Without a wire length, a short frame is malformed, not truncated.
		var seg Segment
		res, _ := DecodePacket(Packet{Data: b[:hdr+10], LinkType: lt}, &seg)
		if res != DecodedMalformed {
			t.Fatalf("v6=%v: %v", v6, res)
		}
	}
}

func TestDecodeSnaplenInsideOptions(t *testing.T) {
	ip := ipTCPBytes(t, tcpSpec{src: cli, dst: srv, seq: 7, flags: "PA", payload: []byte("0123456789")})
	// Give the TCP header 12 bytes of NOP options.
	tcp := append([]byte{}, ip[20:40]...)
	tcp[12] = 8 << 4
	tcp = append(tcp, bytes.Repeat([]byte{1}, 12)...)
	tcp = append(tcp, "0123456789"...)
	pkt := append(append([]byte{}, ip[:20]...), tcp...)
	binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
	var seg Segment
	res, reason := DecodePacket(Packet{Data: pkt[:20+24], LinkType: layers.LinkTypeRaw, Length: len(pkt)}, &seg)
	if res != DecodedTCP || len(seg.Payload) != 0 || seg.Missing != 10 || seg.Seq != 7 {
		t.Fatalf("%v %s %+v", res, reason, seg)
	}
	res, reason = DecodePacket(Packet{Data: pkt, LinkType: layers.LinkTypeRaw}, &seg)
	if res != DecodedTCP || string(seg.Payload) != "0123456789" || seg.Missing != 0 {
		t.Fatalf("%v %s %+v", res, reason, seg)
	}
}

func TestDecodeEthernetPadding(t *testing.T) {
	_, b := frame(t, "eth", tcpSpec{src: cli, dst: srv, seq: 1, flags: "A"})
	padded := append(b, make([]byte, 60-len(b))...)
	var seg Segment
	if res, _ := DecodePacket(Packet{Data: padded, LinkType: layers.LinkTypeEthernet}, &seg); res != DecodedTCP || len(seg.Payload) != 0 {
		t.Fatalf("%v payload %d", res, len(seg.Payload))
	}
}

func TestDecodeTSO(t *testing.T) {
	ip := ipTCPBytes(t, tcpSpec{src: cli, dst: srv, seq: 1, flags: "A", payload: []byte("big segment")})
	binary.BigEndian.PutUint16(ip[2:], 0)
	var seg Segment
	if res, _ := DecodePacket(Packet{Data: ip, LinkType: layers.LinkTypeRaw}, &seg); res != DecodedTCP || string(seg.Payload) != "big segment" {
		t.Fatalf("%v %q", res, seg.Payload)
	}
}

func TestDecodeIPv4Fragments(t *testing.T) {
	ip := ipTCPBytes(t, tcpSpec{src: cli, dst: srv, seq: 1, flags: "A", payload: []byte("frag")})
	first := append([]byte{}, ip...)
	binary.BigEndian.PutUint16(first[6:], 0x2000) // MF, offset 0
	var seg Segment
	if res, _ := DecodePacket(Packet{Data: first, LinkType: layers.LinkTypeRaw}, &seg); res != DecodedTCP {
		t.Fatal(res)
	}
	later := append([]byte{}, ip...)
	binary.BigEndian.PutUint16(later[6:], 0x0003)
	if res, _ := DecodePacket(Packet{Data: later, LinkType: layers.LinkTypeRaw}, &seg); res != DecodedFragment {
		t.Fatal(res)
	}
}

// withIPv6Ext inserts extension headers between the IPv6 header and TCP.
func withIPv6Ext(ip []byte, exts ...[]byte) []byte {
	out := append([]byte{}, ip[:40]...)
	next := ip[6]
	var chain []byte
	for i, e := range exts {
		e = append([]byte{}, e...)
		if i == len(exts)-1 {
			e[0] = next
		}
		chain = append(chain, e...)
	}
	out = append(out, chain...)
	out = append(out, ip[40:]...)
	binary.BigEndian.PutUint16(out[4:], uint16(len(out)-40))
	return out
}

func TestDecodeIPv6Extensions(t *testing.T) {
	ip := ipTCPBytes(t, tcpSpec{src: cli6, dst: srv6, seq: 99, flags: "PA", payload: []byte("v6")})
	hop := []byte{60, 0, 1, 4, 0, 0, 0, 0} // next: destination options
	dstopt := []byte{44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	frag := []byte{0, 0, 0, 1, 0, 0, 0, 1} // offset 0, M set: first fragment
	pkt := withIPv6Ext(ip, hop, dstopt, frag)
	pkt[6] = 0 // hop-by-hop first
	var seg Segment
	res, reason := DecodePacket(Packet{Data: pkt, LinkType: layers.LinkTypeRaw}, &seg)
	if res != DecodedTCP || string(seg.Payload) != "v6" || seg.Seq != 99 {
		t.Fatalf("%v %s %+v", res, reason, seg)
	}
	later := withIPv6Ext(ip, []byte{0, 0, 0, 0x19, 0, 0, 0, 1}) // offset 3
	later[6] = 44
	if res, _ := DecodePacket(Packet{Data: later, LinkType: layers.LinkTypeRaw}, &seg); res != DecodedFragment {
		t.Fatal(res)
	}
	udp := append([]byte{}, ip...)
	udp[6] = 17
	if res, _ := DecodePacket(Packet{Data: udp, LinkType: layers.LinkTypeRaw}, &seg); res != DecodedOther {
		t.Fatal(res)
	}
	// Every cut of the extension chain is malformed, never a panic.
	for n := 40; n < len(pkt); n++ {
		DecodePacket(Packet{Data: pkt[:n], LinkType: layers.LinkTypeRaw}, &seg)
	}
}

func TestDecodeOtherAndUnsupported(t *testing.T) {
	_, b := frame(t, "eth", tcpSpec{src: cli, dst: srv, seq: 1, flags: "A"})
	var seg Segment
	arp := append(append([]byte{}, b[:12]...), 0x08, 0x06)
	if res, _ := DecodePacket(Packet{Data: arp, LinkType: layers.LinkTypeEthernet}, &seg); res != DecodedOther {
		t.Fatal(res)
	}
	udp := append([]byte{}, b...)
	udp[14+9] = 17
	if res, _ := DecodePacket(Packet{Data: udp, LinkType: layers.LinkTypeEthernet}, &seg); res != DecodedOther {
		t.Fatal(res)
	}
	if res, _ := DecodePacket(Packet{Data: b, LinkType: layers.LinkTypeIEEE802_11}, &seg); res != DecodedUnsupported {
		t.Fatal(res)
	}
	null := append([]byte{7, 0, 0, 0}, b[14:]...)
	if res, _ := DecodePacket(Packet{Data: null, LinkType: layers.LinkTypeNull}, &seg); res != DecodedOther {
		t.Fatal(res)
	}
}

// TestDecodeNullFamilies checks that Null and Loop frames are read with
// every AF_INET6 a BSD uses (and Linux's), in either byte order: a live
// capture gets them in the capturing host's order, and a file may come
// from a host of the other order.
func TestDecodeNullFamilies(t *testing.T) {
	ip4 := ipTCPBytes(t, tcpSpec{src: cli, dst: srv, seq: 1, flags: "A", payload: []byte("4")})
	ip6 := ipTCPBytes(t, tcpSpec{src: cli6, dst: srv6, seq: 1, flags: "A", payload: []byte("6")})
	cases := []struct {
		af uint32
		ip []byte
	}{{2, ip4}, {10, ip6}, {24, ip6}, {28, ip6}, {30, ip6}}
	for _, lt := range []layers.LinkType{layers.LinkTypeNull, layers.LinkTypeLoop} {
		for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			for _, c := range cases {
				var seg Segment
				data := append(order.AppendUint32(nil, c.af), c.ip...)
				res, reason := DecodePacket(Packet{Data: data, LinkType: lt}, &seg)
				if res != DecodedTCP || string(seg.Payload) != string(c.ip[len(c.ip)-1:]) {
					t.Errorf("%v family %d (%v): %v %s", lt, c.af, order, res, reason)
				}
			}
		}
	}
}

func TestDecodeMPLSAndPPPoE(t *testing.T) {
	ip := ipTCPBytes(t, tcpSpec{src: cli, dst: srv, seq: 5, flags: "A", payload: []byte("m")})
	eth := func(et uint16, rest ...byte) []byte {
		b := append(append([]byte{}, macB...), macA...)
		b = binary.BigEndian.AppendUint16(b, et)
		return append(append(b, rest...), ip...)
	}
	var seg Segment
	mpls := eth(0x8847, 0, 0x01, 0x00, 64, 0, 0x02, 0x01, 64) // two labels, bottom on the second
	if res, r := DecodePacket(Packet{Data: mpls, LinkType: layers.LinkTypeEthernet}, &seg); res != DecodedTCP || string(seg.Payload) != "m" {
		t.Fatal(res, r)
	}
	pppoe := eth(0x8864, 0x11, 0, 0, 1, 0, 0, 0x00, 0x21)
	if res, r := DecodePacket(Packet{Data: pppoe, LinkType: layers.LinkTypeEthernet}, &seg); res != DecodedTCP || string(seg.Payload) != "m" {
		t.Fatal(res, r)
	}
	ppp := append([]byte{0xFF, 0x03, 0x00, 0x21}, ip...)
	if res, r := DecodePacket(Packet{Data: ppp, LinkType: layers.LinkTypePPP}, &seg); res != DecodedTCP || string(seg.Payload) != "m" {
		t.Fatal(res, r)
	}
}

func TestDecodeEveryPrefix(t *testing.T) {
	for _, kind := range allKinds {
		for _, v6 := range []bool{false, true} {
			src, dst := cli, srv
			if v6 || kind == "ipv6" {
				src, dst = cli6, srv6
			}
			if kind == "ipv4" {
				src, dst = cli, srv
			}
			lt, b := frame(t, kind, tcpSpec{src: src, dst: dst, seq: 1, flags: "PA", payload: []byte("data")})
			for n := 0; n < len(b); n++ {
				var seg Segment
				// As captured with a short snap length: TCP once the TCP
				// header is there.
				res, reason := DecodePacket(Packet{Data: b[:n], LinkType: lt, Length: len(b)}, &seg)
				if res == DecodedTCP && (len(seg.Payload)+seg.Missing != 4 || !bytes.HasPrefix([]byte("data"), seg.Payload)) {
					t.Fatalf("%s %d bytes: %+v", kind, n, seg)
				}
				if res != DecodedTCP && res != DecodedMalformed {
					t.Fatalf("%s %d bytes: %v %s", kind, n, res, reason)
				}
				if res == DecodedMalformed && reason == "" {
					t.Fatalf("%s %d bytes: no reason", kind, n)
				}
			}
		}
	}
}

func TestDecodeNoAlloc(t *testing.T) {
	for _, kind := range []string{"eth", "sll2", "raw"} {
		for _, src := range []netip.AddrPort{cli, cli6} {
			dst := srv
			if src.Addr().Is6() {
				dst = srv6
			}
			lt, b := frame(t, kind, tcpSpec{src: src, dst: dst, seq: 1, flags: "PA", payload: []byte("data")})
			p := Packet{Data: b, LinkType: lt, CaptureLength: len(b), Length: len(b)}
			var seg Segment
			if n := testing.AllocsPerRun(100, func() { DecodePacket(p, &seg) }); n != 0 {
				t.Fatalf("%s: %v allocs", kind, n)
			}
		}
	}
}
