package live

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/grpcsniff/grpcsniff/capture/bpffilter"
)

// testPacket is a raw IP packet and its Ethernet framing.
type testPacket struct {
	name string
	ip   []byte
	v6   bool
}

func (p testPacket) ethernet() []byte {
	et := uint16(etherTypeIPv4)
	if p.v6 {
		et = etherTypeIPv6
	}
	hdr := make([]byte, 14, 14+len(p.ip))
	binary.BigEndian.PutUint16(hdr[12:], et)
	return append(hdr, p.ip...)
}

func (p testPacket) null(family uint32) []byte {
	return append(binary.LittleEndian.AppendUint32(nil, family), p.ip...)
}

func ipPacket(t *testing.T, v6 bool, src, dst string, transport gopacket.SerializableLayer, tl interface {
	SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
}) []byte {
	var ip gopacket.SerializableLayer
	var nl gopacket.NetworkLayer
	if v6 {
		l := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
		l.NextHeader = layers.IPProtocolTCP
		if _, ok := transport.(*layers.UDP); ok {
			l.NextHeader = layers.IPProtocolUDP
		}
		ip, nl = l, l
	} else {
		l := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
		l.Protocol = layers.IPProtocolTCP
		if _, ok := transport.(*layers.UDP); ok {
			l.Protocol = layers.IPProtocolUDP
		}
		ip, nl = l, l
	}
	if err := tl.SetNetworkLayerForChecksum(nl); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, transport, gopacket.Payload("hello"))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func testPackets(t *testing.T) []testPacket {
	tcp := func(sp, dp int, syn bool) *layers.TCP {
		return &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), SYN: syn, Window: 1000, DataOffset: 5}
	}
	udp := func(sp, dp int) *layers.UDP {
		return &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}
	}
	t4 := tcp(40000, 50051, true)
	u4 := udp(40000, 53)
	t6 := tcp(40001, 443, false)
	u6 := udp(40001, 50051)
	s4 := tcp(22, 40002, false)
	return []testPacket{
		{"v4 tcp syn 10.0.0.1>10.0.0.2:50051", ipPacket(t, false, "10.0.0.1", "10.0.0.2", t4, t4), false},
		{"v4 udp 10.0.0.1>10.0.0.2:53", ipPacket(t, false, "10.0.0.1", "10.0.0.2", u4, u4), false},
		{"v6 tcp ::1>::1:443", ipPacket(t, true, "::1", "::1", t6, t6), true},
		{"v6 udp fe80::1>fe80::2:50051", ipPacket(t, true, "fe80::1", "fe80::2", u6, u6), true},
		{"v4 tcp 127.0.0.1:22>127.0.0.1", ipPacket(t, false, "127.0.0.1", "127.0.0.1", s4, s4), false},
	}
}

// verdict runs a program in x/net/bpf's machine: whether it accepts pkt.
func verdict(t *testing.T, prog []bpf.RawInstruction, pkt []byte) bool {
	t.Helper()
	ins, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatalf("program does not disassemble: %v", prog)
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatalf("program rejected by the VM: %v", err)
	}
	n, err := vm.Run(pkt)
	if err != nil {
		t.Fatalf("running the program: %v", err)
	}
	return n > 0
}

var npfFilters = []string{
	"tcp", "udp", "ip", "ip6", "tcp port 50051", "port 50051", "host 10.0.0.1", "host ::1",
	"tcp[13] & 2 != 0", "tcp and not port 22", "ip6 and tcp port 443", "portrange 50000-50100",
	"src net 127.0.0.0/8", "icmp or icmp6",
}

// TestNpfProgramVerdicts checks the raw IP programs made for Npcap's
// loopback (DLT_NULL) and raw IP devices accept exactly the packets the
// Ethernet program of the same filter accepts on the same packets framed
// as Ethernet, which needs no Linux extension and runs in x/net/bpf's VM.
func TestNpfProgramVerdicts(t *testing.T) {
	for _, lt := range []bpffilter.LinkType{bpffilter.RawIP, bpffilter.RawIPVersion} {
		t.Run(lt.String(), func(t *testing.T) { testNpfProgramVerdicts(t, lt) })
	}
}

// testNpfProgramVerdicts is TestNpfProgramVerdicts for raw IP programs of
// link type lt: Linux's (the EtherType asked of the kernel), and the one
// grpcsniff compiles on Windows (the IP version read from the packet).
func testNpfProgramVerdicts(t *testing.T, lt bpffilter.LinkType) {
	pkts := testPackets(t)
	for _, expr := range npfFilters {
		eth, err := bpffilter.Compile(expr, bpffilter.Ethernet, 65535)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := bpffilter.Compile(expr, lt, 65535)
		if err != nil {
			t.Fatal(err)
		}
		if !usesExtensions(raw) {
			t.Logf("%q: the raw IP program reads no extension", expr)
		}
		null, _ := framingOf(layers.LinkTypeNull)
		nullProg, err := npfProgram(raw, null)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		rawF, _ := framingOf(12)
		rawProg, err := npfProgram(raw, rawF)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		for _, p := range pkts {
			want := verdict(t, eth, p.ethernet())
			fams := []uint32{nullAFInet}
			if p.v6 {
				fams = []uint32{nullAFInet6, nullAFInet6Win}
			}
			for _, fam := range fams {
				if got := verdict(t, nullProg, p.null(fam)); got != want {
					t.Errorf("%q on %s with DLT_NULL family %d: accepted %v, want %v", expr, p.name, fam, got, want)
				}
			}
			if got := verdict(t, rawProg, p.ip); got != want {
				t.Errorf("%q on raw %s: accepted %v, want %v", expr, p.name, got, want)
			}
			single := layers.LinkTypeIPv4
			if p.v6 {
				single = layers.LinkTypeIPv6
			}
			sf, _ := framingOf(single)
			sp, err := npfProgram(raw, sf)
			if err != nil {
				t.Fatal(err)
			}
			if got := verdict(t, sp, p.ip); got != want {
				t.Errorf("%q on %s as %s: accepted %v, want %v", expr, p.name, single, got, want)
			}
		}
	}
}

// TestNpfProgramRejectsOtherFamilies checks what the prologues let
// through: only IPv4 and IPv6.
func TestNpfProgramRejectsOtherFamilies(t *testing.T) {
	raw, err := bpffilter.Compile("not tcp port 1", bpffilter.RawIP, 65535) // accepts almost all IP
	if err != nil {
		t.Fatal(err)
	}
	p := testPackets(t)[0]
	null, _ := framingOf(layers.LinkTypeNull)
	nullProg, err := npfProgram(raw, null)
	if err != nil {
		t.Fatal(err)
	}
	if !verdict(t, nullProg, p.null(nullAFInet)) {
		t.Fatal("IPv4 loopback packet rejected")
	}
	for _, fam := range []uint32{0, 7, 30, 0x02000000} {
		if verdict(t, nullProg, p.null(fam)) {
			t.Errorf("DLT_NULL family %#x accepted", fam)
		}
	}
	rawF, _ := framingOf(layers.LinkTypeRaw)
	rawProg, err := npfProgram(raw, rawF)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte{0x55}, p.ip[1:]...) // IP version 5
	if verdict(t, rawProg, bad) {
		t.Error("raw packet of IP version 5 accepted")
	}
}

// TestNpfProgramSnaplen checks the snap length a program returns makes
// room for the header Next strips, and that Ethernet programs are left
// alone.
func TestNpfProgramSnaplen(t *testing.T) {
	raw, err := bpffilter.Compile("tcp", bpffilter.RawIP, 100)
	if err != nil {
		t.Fatal(err)
	}
	null, _ := framingOf(layers.LinkTypeNull)
	prog, err := npfProgram(raw, null)
	if err != nil {
		t.Fatal(err)
	}
	var rets []uint32
	for _, ins := range prog {
		if ins.Op == bpfClassRET|bpfRetSrcK {
			rets = append(rets, ins.K)
		}
	}
	for _, k := range rets {
		if k != 0 && k != 104 {
			t.Errorf("program returns %d, want 0 or 104: %v", k, rets)
		}
	}
	p := testPackets(t)[0]
	ins, _ := bpf.Disassemble(prog)
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	big := append(p.null(nullAFInet), make([]byte, 200)...)
	if n, _ := vm.Run(big); n != 104 {
		t.Errorf("accepted %d bytes of a long loopback packet, want 104 (100 of IP)", n)
	}

	eth, err := bpffilter.Compile("tcp", bpffilter.Ethernet, 100)
	if err != nil {
		t.Fatal(err)
	}
	ef, _ := framingOf(layers.LinkTypeEthernet)
	same, err := npfProgram(eth, ef)
	if err != nil || fmt.Sprint(same) != fmt.Sprint(eth) {
		t.Errorf("Ethernet program changed: %v, %v", same, err)
	}
	if _, err := npfProgram(raw, ef); err == nil {
		t.Error("a raw IP program was accepted for an Ethernet device")
	}
	if p, err := npfProgram(nil, null); p != nil || err != nil {
		t.Errorf("no filter gave %v, %v", p, err)
	}
}

// TestNpfProgramLong checks a program longer than a conditional jump
// reaches still selects its IPv6 copy.
func TestNpfProgramLong(t *testing.T) {
	var ports []string
	for i := range 150 {
		ports = append(ports, fmt.Sprint(1000+i))
	}
	expr := "udp port 50051 or tcp port " + strings.Join(ports, " or ")
	raw, err := bpffilter.Compile(expr, bpffilter.RawIP, 65535)
	if err != nil {
		t.Fatal(err)
	}
	null, _ := framingOf(layers.LinkTypeNull)
	prog, err := npfProgram(raw, null)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 256 {
		t.Fatalf("program of %d instructions: too short to test long jumps", len(raw))
	}
	p := testPackets(t)[3] // v6 udp to 50051
	if !verdict(t, prog, p.null(nullAFInet6)) {
		t.Error("IPv6 packet behind a long IPv4 copy rejected")
	}
	huge := make([]bpf.RawInstruction, 2100)
	for i := range huge {
		huge[i] = bpf.RawInstruction{Op: bpfClassRET | bpfRetSrcK}
	}
	// Linux's form, which asks for the EtherType: the one made into two.
	huge[0] = bpf.RawInstruction{Op: bpfClassLD | bpfSizeW | bpfModeABS, K: skfAdProtocol}
	if _, err := npfProgram(huge, null); err == nil {
		t.Error("a program too long for Npcap once doubled was accepted")
	}
}

// TestFramingOf checks the data link types Npcap devices have map to what
// Next hands on.
func TestFramingOf(t *testing.T) {
	for _, c := range []struct {
		dlt   layers.LinkType
		out   layers.LinkType
		strip int
	}{
		{layers.LinkTypeEthernet, layers.LinkTypeEthernet, 0},
		{layers.LinkTypeNull, layers.LinkTypeRaw, 4},
		{12, layers.LinkTypeRaw, 0},
		{14, layers.LinkTypeRaw, 0},
		{layers.LinkTypeRaw, layers.LinkTypeRaw, 0},
		{layers.LinkTypeIPv4, layers.LinkTypeIPv4, 0},
		{layers.LinkTypeIPv6, layers.LinkTypeIPv6, 0},
	} {
		f, err := framingOf(c.dlt)
		if err != nil || f.out != c.out || f.strip != c.strip {
			t.Errorf("framingOf(%d) = %+v, %v; want out %s, strip %d", c.dlt, f, err, c.out, c.strip)
		}
	}
	for _, dlt := range []layers.LinkType{layers.LinkTypeIEEE80211Radio, layers.LinkTypePPP, 50} {
		if _, err := framingOf(dlt); err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("framingOf(%d): %v, want not supported", dlt, err)
		}
	}
	if !sameFilterLayout(layers.LinkTypeRaw, layers.LinkTypeIPv6) || sameFilterLayout(layers.LinkTypeEthernet, layers.LinkTypeRaw) {
		t.Error("sameFilterLayout")
	}
}
