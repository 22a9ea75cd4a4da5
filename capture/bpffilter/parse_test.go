package bpffilter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// TestParse checks the parse tree, in particular tcpdump's precedence
// (pcap-filter(7): "not" binds tightest; "and" and "or" have the same
// precedence and associate left to right, so "a or b and c" is
// "(a or b) and c") and the carry-over of qualifiers to bare values. The
// precedence cases are also cross-checked against tcpdump's programs in
// crosscheck_test.go ("tcp or udp and port 53", "not tcp or udp", ...).
func TestParse(t *testing.T) {
	tests := []struct{ in, want string }{
		{"tcp", "[tcp]"},
		{"host 10.0.0.1", "[host 10.0.0.1]"},
		{"src host 10.0.0.1", "[src host 10.0.0.1]"},
		{"ip6 dst host ::1", "[ip6 dst host ::1]"},
		{"src 10.0.0.1", "[src host 10.0.0.1]"},
		{"net 10.0.0.0/8", "[net 10.0.0.0/8]"},
		{"net 10.0.0.0 mask 255.0.0.0", "[net 10.0.0.0/8]"},
		{"net 10.1", "[net 10.1.0.0/16]"},
		{"net 10", "[net 10.0.0.0/8]"},
		{"net 10.0.0.0 mask 255.0.255.0", "[net 10.0.0.0 mask 0xff00ff00]"},
		{"net 2001:db8::/32", "[net 2001:db8::/32]"},
		{"tcp port 50051", "[tcp port 50051]"},
		{"port 0x50", "[port 80]"},
		{"port 010", "[port 8]"}, // octal, like libpcap
		{"udp src portrange 90-80", "[udp src portrange 80-90]"},
		{"portrange 53", "[portrange 53-53]"},
		{"src or dst port 1", "[src or dst port 1]"},
		{"src and dst host 127.0.0.1", "[src and dst host 127.0.0.1]"},
		{"less 100", "[less 100]"},
		{"greater 100", "[greater 100]"},
		// and/or: equal precedence, left associative.
		{"tcp or udp and port 53", "(([tcp] or [udp]) and [port 53])"},
		{"tcp and udp or port 53", "(([tcp] and [udp]) or [port 53])"},
		{"tcp or (udp and port 53)", "([tcp] or ([udp] and [port 53]))"},
		{"tcp && port 80 || udp", "(([tcp] and [port 80]) or [udp])"},
		// not binds tighter than and/or.
		{"not tcp or udp", "(not [tcp] or [udp])"},
		{"! tcp and udp", "(not [tcp] and [udp])"},
		{"not (tcp or udp)", "not ([tcp] or [udp])"},
		{"not not tcp", "not not [tcp]"},
		// Qualifier carry-over.
		{"host 10.0.0.1 or 10.0.0.2", "([host 10.0.0.1] or [host 10.0.0.2])"},
		{"tcp port 80 or 443", "([tcp port 80] or [tcp port 443])"},
		{"port 80 or 443 or 50051", "(([port 80] or [port 443]) or [port 50051])"},
		{"src net 10.0.0.0/8 and not 10.1.0.0/16", "([src net 10.0.0.0/8] and not [src net 10.1.0.0/16])"},
		{"host 10.0.0.1 or (10.0.0.2 and 10.0.0.3)", "([host 10.0.0.1] or ([host 10.0.0.2] and [host 10.0.0.3]))"},
		{"host 10.0.0.1 and (tcp) and 10.0.0.2", "(([host 10.0.0.1] and [tcp]) and [host 10.0.0.2])"},
		{"host not 10.0.0.1", "not [host 10.0.0.1]"},
		{"not host 10.0.0.1 or 10.0.0.2", "(not [host 10.0.0.1] or [host 10.0.0.2])"},
		{"tcp port 80 and host 10.0.0.1 or 10.0.0.2", "(([tcp port 80] and [host 10.0.0.1]) or [host 10.0.0.2])"},
		{"dst 10.0.0.2 or 10.0.0.3", "([dst host 10.0.0.2] or [dst host 10.0.0.3])"},
		// Byte offsets and arithmetic: | < & < shifts < + - < * / %.
		{"tcp[13] & 2 != 0", "[(tcp[13:1] & 2) != 0]"},
		{"ip[2:2] > 576", "[ip[2:2] > 576]"},
		{"tcp[tcpflags] & tcp-syn != 0", "[(tcp[13:1] & 2) != 0]"},
		{"icmp[icmptype] == icmp-echo", "[icmp[0:1] = 8]"},
		{"len - 14 < 100", "[(len - 14) < 100]"},
		{"ip[0] | 2 & 3 = 3", "[(ip[0:1] | (2 & 3)) = 3]"},
		{"ip[0] & 1 << 2 = 4", "[(ip[0:1] & (1 << 2)) = 4]"},
		{"ip[0] >> 1 + 1 = 3", "[(ip[0:1] >> (1 + 1)) = 3]"},
		{"ip[0] + 1 * 2 - 3 = 3", "[((ip[0:1] + (1 * 2)) - 3) = 3]"},
		{"ip[0] - 1 - 1 = 3", "[((ip[0:1] - 1) - 1) = 3]"},
		{"(ip[0] + 1) * 2 = 3", "[((ip[0:1] + 1) * 2) = 3]"},
		{"ip[0] ^ 0x45 = 0", "[(ip[0:1] ^ 69) = 0]"},
		{"(tcp[0] > 1)", "[tcp[0:1] > 1]"},
		{"tcp[ip[0] & 0xf:2] = 0", "[tcp[(ip[0:1] & 15):2] = 0]"},
		{"tcp and 1500 < len", "([tcp] and [1500 < len])"},
		{"not tcp[13] & 4 = 0 or udp", "(not [(tcp[13:1] & 4) = 0] or [udp])"},
		{"host 10.0.0.1 and ip[8] = 64 or host 10.0.0.2", "(([host 10.0.0.1] and [ip[8:1] = 64]) or [host 10.0.0.2])"},
		// Whitespace is optional around punctuation.
		{"(tcp)&&!port 22", "([tcp] and not [port 22])"},
	}
	for _, tt := range tests {
		n, err := parse(tt.in)
		if err != nil {
			t.Errorf("parse(%q): %v", tt.in, err)
			continue
		}
		if got := n.String(); got != tt.want {
			t.Errorf("parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestRefused checks that what is not implemented is refused with an error
// naming the word and its column, rather than compiled into something else.
func TestRefused(t *testing.T) {
	tests := []struct {
		in   string
		pos  int
		want string // substring of the message
	}{
		{"vlan", 1, `unknown primitive "vlan"`},
		{"tcp and vlan 100", 9, `unknown primitive "vlan"`},
		{"ether host 00:11:22:33:44:55", 1, `unknown primitive "ether"`},
		{"gateway 10.0.0.1", 1, `unknown primitive "gateway"`},
		{"ip proto 6", 4, `unknown primitive "proto"`},
		{"broadcast", 1, `unknown primitive "broadcast"`},
		{"tcp and multicast", 9, `unknown primitive "multicast"`},
		{"inbound", 1, `unknown primitive "inbound"`},
		{"igmp", 1, `unknown primitive "igmp"`},
		{"foo", 1, `unknown primitive "foo"`},
		{"ether[0] = 1", 1, `byte offsets into "ether" are not supported`},
		{"igmp[0] = 1", 1, `byte offsets into "igmp" are not supported`},
		{"tcp[1:3] = 1", 7, "data size must be 1, 2, or 4"},
		{"ip[4294967295] > 1", 1, "byte offset 4294967295 out of range"},
		{"ip[0] / 0 = 1", 7, "division by zero"},
		{"ip[0] % 0 = 1", 7, "division by zero"},
		{"ip[0] << 32 = 1", 7, "shift by more than 31 bits"},
		{"-ip[0] = 1", 1, "unary minus"},
		{"ip[0] | 2 ^ 1 = 3", 11, `"^" mixed with other operators`},
		{"ip[0]", 6, "expected a comparison"},
		{"tcp[13] & 2", 12, "expected a comparison"},
		{"ip[0] = host", 9, `"host" cannot be used in an arithmetic expression`},
		{"ip[0] = foo", 9, `"foo" is not a number`},
		{"tcp[0 = 1", 7, `expected "]"`},
		{"1 < len and 10.0.0.1", 13, "needs a qualifier"},
		{"host 10.0.0.1 and ip[8] = 64 or 10.0.0.2", 33, "needs a qualifier"}, // as in tcpdump
		{"host 10.0.0.1 # x", 15, "unexpected character"},
		{"host localhost", 6, "does not resolve host names"},
		{"host example.com or 10.0.0.1", 6, "does not resolve host names"},
		{"src www.example.com", 5, "does not resolve host names"},
		{"port http", 6, "port names are not supported"},
		{"portrange http-https", 11, "port names are not supported"},
		{"port 70000", 6, "port number 70000 > 65535"},
		{"portrange 1-70000", 11, "> 65535"},
		{"port 080", 6, "non-octal"},
		{"host 10.1", 6, "not a complete IPv4 address"},
		{"host 80", 6, "not an IPv4 address"},
		{"host 300.1.2.3", 6, "byte 300 > 255"},
		{"host 10.0.0.1/32", 14, "networks only"},
		{"src 10.0.0.0/8", 13, "networks only"},
		{"net 10.1.2.3/8", 5, "non-network bits"},
		{"net 10.0.0.0/33", 14, "<= 32"},
		{"net 2001:db8::1/32", 5, "non-network bits"},
		{"net ::/129", 8, "<= 128"},
		{"net 10/8", 5, "dotted"},
		{"host fe80::1%eth0", 13, `unexpected "%"`},
		{"host 1:2:3", 6, "not a valid IPv6 address"},
		{"ip host ::1", 9, `"ip" cannot qualify the IPv6 address`},
		{"ip6 host 10.0.0.1", 10, `"ip6" cannot qualify the IPv4 address`},
		{"tcp host 10.0.0.1", 10, `"tcp" cannot qualify an address`},
		{"ip port 80", 9, `"ip" cannot qualify "port"`},
		{"icmp portrange 1-2", 16, `"icmp" cannot qualify "portrange"`},
		{"10.0.0.1", 1, "needs a qualifier"},
		{"80", 1, "needs a qualifier"},
		{"tcp or 80", 8, "needs a qualifier"},
		{"less 10 or 20", 12, "needs a qualifier"},
		{"(tcp) and 10.0.0.1", 11, "needs a qualifier"},
		{"tcp and", 8, "unexpected end of filter"},
		{"not", 4, "unexpected end of filter"},
		{"host", 5, "unexpected end of filter"},
		{"(tcp", 5, `expected ")"`},
		{"tcp)", 4, `unbalanced ")"`},
		{"tcp udp", 5, "must be joined with and/or"},
		{"and tcp", 1, "expected a primitive"},
		{"less", 5, "needs a number"},
		{"greater x", 9, "needs a number"},
		{"host (10.0.0.1 tcp)", 16, "expected and, or"},
		{"host (10.0.0.1 or tcp)", 19, "expected a value"},
		{"tcp port 80 or host", 20, "unexpected end of filter"},
		{"net 10.0.0.0 mask 255", 19, "dotted IPv4 netmask"},
		{"HOST 10.0.0.1", 1, `unknown primitive "HOST"`},
	}
	for _, tt := range tests {
		_, err := Compile(tt.in, Ethernet, 262144)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("Compile(%q): got %v, want a *Error", tt.in, err)
			continue
		}
		if fe.Pos != tt.pos || !strings.Contains(fe.Msg, tt.want) {
			t.Errorf("Compile(%q): got %q (pos %d), want %q at column %d", tt.in, err, fe.Pos, tt.want, tt.pos)
		}
	}
	// The full message names the word and column, then what is supported.
	_, err := Compile("vlan", Ethernet, 262144)
	want := `filter: unknown primitive "vlan" at column 1; supported: host, net, port, portrange, tcp, udp, sctp, icmp, icmp6, ip, ip6, arp, rarp, less, greater, src, dst, and, or, not, ( ), comparisons of proto[offset] and len`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	_, err = Compile("host db.internal", Ethernet, 262144)
	want = `filter: grpcsniff does not resolve host names in filters at column 6; use an address instead of "db.internal"`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestEmptyAcceptsAll(t *testing.T) {
	for _, e := range []string{"", "  \t"} {
		p, err := Compile(e, Ethernet, 1234)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 1 || p[0] != (bpf.RawInstruction{Op: 0x06, K: 1234}) {
			t.Errorf("Compile(%q) = %v, want [ret #1234]", e, p)
		}
	}
	if Default != "tcp" {
		t.Errorf("Default = %q", Default)
	}
}

func TestBadArguments(t *testing.T) {
	if _, err := Compile("tcp", Ethernet, 0); err == nil {
		t.Error("snaplen 0 accepted")
	}
	if _, err := Compile("tcp", LinkType(7), 100); err == nil {
		t.Error("unknown link type accepted")
	}
}

// TestRawIPUsesProtocolExtension checks that RawIP programs take the
// network protocol from SKF_AD_PROTOCOL and never read a link header.
func TestRawIPUsesProtocolExtension(t *testing.T) {
	p, err := Compile("tcp port 80 or arp", RawIP, 262144)
	if err != nil {
		t.Fatal(err)
	}
	ins, ok := bpf.Disassemble(p)
	if !ok {
		t.Fatal("cannot disassemble")
	}
	sawExt := false
	for _, in := range ins {
		switch in := in.(type) {
		case bpf.LoadExtension:
			if in.Num != bpf.ExtProto {
				t.Errorf("unexpected extension %v", in.Num)
			}
			sawExt = true
		case bpf.LoadAbsolute:
			if in.Off == 12 && in.Size == 2 {
				t.Errorf("RawIP program reads an Ethernet type field: %v", in)
			}
		}
	}
	if !sawExt {
		t.Error("RawIP program does not use bpf.ExtProto")
	}
	// ret #snaplen on accept.
	if got, _ := run(p, ipv4("10.0.0.1", "10.0.0.2", ipprotoTCP, 0, 0, ports(80, 1, 0)), etherIP); got != 262144 {
		t.Errorf("accept returned %d", got)
	}
}

// TestSizeLimit checks the 4096-instruction limit and that long programs
// (with jumps beyond 255 instructions) are valid.
func TestSizeLimit(t *testing.T) {
	var parts []string
	for i := 0; i < 60; i++ {
		parts = append(parts, fmt.Sprintf("portrange %d-%d", i*100, i*100+10))
	}
	p, err := Compile(strings.Join(parts, " or "), Ethernet, 262144)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) <= 256 {
		t.Fatalf("expected a long program, got %d instructions", len(p))
	}
	if err := validate(p); err != nil {
		t.Fatal(err)
	}
	// A udp packet to port 5905 matches the 60th range.
	pkt := ethFrame(etherIP, ipv4("10.0.0.1", "10.0.0.2", ipprotoUDP, 0, 0, ports(1, 5905, 0)))
	if got, _ := run(p, pkt, 0); got == 0 {
		t.Error("last range does not match")
	}
	for i := 60; i < 400; i++ {
		parts = append(parts, fmt.Sprintf("portrange %d-%d", i*100, i*100+10))
	}
	_, err = Compile(strings.Join(parts, " or "), Ethernet, 262144)
	if err == nil || !strings.Contains(err.Error(), "program too large") {
		t.Errorf("got %v, want a size error", err)
	}
}

// TestBSDLinkTypesReadOnlyPacketBytes checks that the programs for the
// link types of the BSDs never use Linux's ancillary loads, which their
// kernels do not have (BIOCSETF would refuse the program), and that Null
// and Loop start with the address family word.
func TestBSDLinkTypesReadOnlyPacketBytes(t *testing.T) {
	for _, lt := range []LinkType{Null, Loop, RawIPVersion} {
		for _, e := range allExprs() {
			p, err := Compile(e, lt, 262144)
			if err != nil {
				if !strings.Contains(err.Error(), "rejects all packets") {
					t.Errorf("Compile(%q, %v): %v", e, lt, err)
				}
				continue
			}
			for i, in := range p {
				cls, mode := in.Op&0x07, in.Op&0xe0
				if (cls == clsLD || cls == clsLDX) && mode == modeABS && in.K >= skfAdOff {
					t.Fatalf("Compile(%q, %v): ancillary load at pc %d: %+v", e, lt, i, in)
				}
			}
		}
	}
}

// TestNullFamilyByteOrder checks the address family constants: Null
// compares in the byte order it is compiled for (the capturing host's for
// Compile), Loop always in network order.
func TestNullFamilyByteOrder(t *testing.T) {
	wantK := func(order binary.ByteOrder, af uint32) uint32 {
		var b [4]byte
		order.PutUint32(b[:], af)
		return binary.BigEndian.Uint32(b[:])
	}
	for _, c := range []struct {
		lt    LinkType
		order binary.ByteOrder
		want  binary.ByteOrder
	}{
		{Null, binary.LittleEndian, binary.LittleEndian},
		{Null, binary.BigEndian, binary.BigEndian},
		{Null, binary.NativeEndian, binary.NativeEndian},
		{Loop, binary.LittleEndian, binary.BigEndian},
	} {
		p, err := compile("ip or ip6", c.lt, 100, c.order)
		if err != nil {
			t.Fatal(err)
		}
		var ks []uint32
		for _, in := range p {
			if in.Op&0x07 == clsJMP && in.Op&0xf0 == jEQ {
				ks = append(ks, in.K)
			}
		}
		want := []uint32{wantK(c.want, 2), wantK(c.want, 30), wantK(c.want, 24), wantK(c.want, 28)}
		if !slices.Equal(ks, want) {
			t.Errorf("%v in %v: compares %#x, want %#x", c.lt, c.order, ks, want)
		}
	}
	// Compile is compile in the host's order.
	a, _ := Compile("tcp", Null, 100)
	b, _ := compile("tcp", Null, 100, binary.NativeEndian)
	if !slices.Equal(a, b) {
		t.Error("Compile(Null) does not use the host's byte order")
	}
}

// TestIPOnlyLinkTypesRefuseOtherProtocols checks that a filter that can
// match nothing on a link type carrying only IP is refused, as tcpdump
// refuses it, while one that can still match compiles.
func TestIPOnlyLinkTypesRefuseOtherProtocols(t *testing.T) {
	for _, lt := range []LinkType{Null, Loop, RawIPVersion} {
		for _, e := range []string{"arp", "rarp host 10.0.0.1", "arp[6:2] = 1", "arp and tcp"} {
			if _, err := Compile(e, lt, 100); err == nil || !strings.Contains(err.Error(), "rejects all packets") {
				t.Errorf("Compile(%q, %v) = %v, want a refusal", e, lt, err)
			}
		}
		for _, e := range []string{"arp or tcp", "not arp", "host 10.0.0.1"} {
			if _, err := Compile(e, lt, 100); err != nil {
				t.Errorf("Compile(%q, %v): %v", e, lt, err)
			}
		}
	}
	// Ethernet and RawIP carry ARP: no refusal there.
	for _, lt := range []LinkType{Ethernet, RawIP} {
		if _, err := Compile("arp", lt, 100); err != nil {
			t.Errorf("Compile(arp, %v): %v", lt, err)
		}
	}
}

func TestForLinkType(t *testing.T) {
	raw := RawIPVersion
	if runtime.GOOS == "linux" {
		raw = RawIP
	}
	for _, c := range []struct {
		in   layers.LinkType
		want LinkType
	}{
		{layers.LinkTypeEthernet, Ethernet},
		{layers.LinkTypeNull, Null},
		{layers.LinkTypeLoop, Loop},
		{layers.LinkTypeRaw, raw},
		{layers.LinkTypeIPv4, raw},
		{layers.LinkTypeIPv6, raw},
	} {
		got, err := ForLinkType(c.in)
		if err != nil || got != c.want {
			t.Errorf("ForLinkType(%v) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	_, err := ForLinkType(layers.LinkTypeIEEE802_11)
	var fe *Error
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "link type") {
		t.Errorf("ForLinkType(802.11) = %v, want an *Error naming the link type", err)
	}
}
