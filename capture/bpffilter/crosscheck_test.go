package bpffilter

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"
)

var update = flag.Bool("update", false, "regenerate testdata/tcpdump_programs.txt by running tcpdump")

const (
	goldenPath = "testdata/tcpdump_programs.txt"
	snaplen    = 262144
)

// crossExprs are compiled both here and by tcpdump; the verdicts of the two
// programs must agree on every packet of the corpus.
var crossExprs = []string{
	// protocols
	"tcp", "udp", "sctp", "icmp", "icmp6", "ip", "ip6", "arp", "rarp",
	// hosts
	"host 127.0.0.1", "host 10.0.0.1", "src host 10.0.0.1", "dst host 10.0.0.2",
	"host ::1", "src host 2001:db8::1", "dst host 2001:db8::2", "ip6 host ::1",
	"ip host 127.0.0.1", "arp host 10.0.0.1", "rarp host 10.0.0.1", "arp src host 10.0.0.2",
	"host ::ffff:10.0.0.1", "src and dst host 127.0.0.1", "src or dst host 10.0.0.2",
	"src 10.0.0.1", "dst 10.0.0.2 or 10.0.0.3", "ip src 10.0.0.1", "ip6 dst ::1",
	// networks
	"net 10.0.0.0/8", "net 10.0.0.0 mask 255.0.0.0", "net 192.168", "net 10", "net 172.16.0.0/12",
	"src net 10.0.0.0/24", "dst net 192.168.1.0/24", "net 2001:db8::/32", "net 2001:db8::/33",
	"ip6 src net fe80::/10", "net ::/0", "net 0.0.0.0/0", "net 10.0.0.0 mask 255.0", "ip net 127.0.0.0/8",
	"arp net 10.0.0.0/16",
	// ports
	"port 80", "port 50051", "tcp port 50051", "udp port 53", "sctp port 80", "src port 80",
	"dst port 443", "tcp dst port 50101", "port 0", "port 65535", "tcp port 0x50", "tcp src port 50105",
	"src or dst port 80", "src and dst port 50051", "udp src and dst port 50051",
	"portrange 50100-50120", "tcp portrange 80-443", "src portrange 1-1023",
	"udp dst portrange 50000-60000", "portrange 90-80", "portrange 53", "sctp portrange 22-80",
	"src and dst portrange 50000-60000",
	// lengths
	"less 100", "greater 1000", "less 60 and tcp", "greater 100 and not less 200",
	// combinations, precedence, qualifier carry-over
	"tcp and port 80", "tcp port 80 or 443", "tcp port 50101 or 50105 or 50109",
	"host 10.0.0.1 or 10.0.0.2", "host 10.0.0.1 and not 10.0.0.2",
	"host 10.0.0.1 or (10.0.0.2 and 192.168.1.5)", "port 80 or 443 or 50051",
	"not tcp", "!tcp", "not port 22", "tcp and not port 80", "tcp or udp and port 53",
	"(tcp or udp) and port 53", "tcp or (udp and port 53)", "not tcp or udp", "not (tcp or udp)",
	"host 127.0.0.1 and tcp port 50101", "ip and tcp", "ip6 and tcp", "ip and udp or ip6 and icmp6",
	"tcp && port 80 || udp && port 53", "! port 80 && ! port 443",
	"tcp port 50051 and (host 10.0.0.1 or host 10.0.0.2)",
	"host 10.0.0.1 and (tcp) and 10.0.0.2", "icmp or icmp6 or arp",
	"dst port 50051 or src port 50051 and tcp", "not not tcp", "host not 10.0.0.1",
	"port 80 and not (host 10.0.0.1 or 10.0.0.2)", "net 10.0.0.0/8 and not net 10.0.0.0/24 or host ::1",
	"ip6 and not ip6 net 2001:db8::/32", "(port 80 or port 443) and (src net 10.0.0.0/8 or dst net 2001:db8::/32)",
	"tcp port 80 and host 10.0.0.1 or udp port 53 and host 10.0.0.2",
	"not (src port 80 or dst portrange 400-500) and (tcp or sctp)",
	"host 10.0.0.1 or host 10.0.0.2 or port 80", "port 80 or host 10.0.0.1 or 10.0.0.2",
	"src host 10.0.0.1 or dst host 10.0.0.2", "host ::1 or 2001:db8::1", "host ::1 or 10.0.0.1",
	"net 10.0.0.0/8 or net 192.168.0.0/16", "src port 80 or dst port 80", "port 80 or portrange 440-450",
	"tcp port 80 or udp port 80", "host 10.0.0.1 and port 80 or host 10.0.0.2 and port 443",
	"tcp or icmp or arp", "port 80 or 443 and host 10.0.0.1", "not host 10.0.0.1 and not host 10.0.0.2",
	"ip6 or arp", "less 54 or greater 1000", "src and dst host 10.0.0.1 or 127.0.0.1",
	"portrange 1-100 or 50000-60000", "dst net 10.0.0.0/24 or dst net 2001:db8::/32 or dst net ::1/128",
	"udp and (port 53 or port 443) or tcp and portrange 50100-50110",
	"net 10.0.0.0/8 or net 11.0.0.0/8 or 192.168.0.0/16", "net 2001:db8::/32 or net 2001:db9::/32",
	"net 2001:db8::/32 or 2001:db8:1::/48 or ::1", "src net 10.0.0.0/24 or 10.0.1.0/24 or 10.0.0.0/8",
	"host 10.0.0.1 or net 10.0.0.0/8", "dst portrange 1-1000 or 50000-60000 or 50051",
	// byte offsets and arithmetic
	"tcp[13] & 2 != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn", "tcp[13] = 18", "ip[2:2] > 100",
	"ip[0] & 0xf > 5", "ip[6:2] & 0x1fff = 0", "udp[0:2] = 53 or udp[2:2] = 53", "icmp[icmptype] = icmp-echo",
	"icmp[0] != 8", "ip6[6] = 17", "ip6[4:2] < 100", "arp[6:2] = 1", "rarp[7] = 3", "len - 14 > 100",
	"len <= 60", "tcp[0:2] + tcp[2:2] > 50000", "tcp[12] >> 4 > 5", "(tcp[12] & 0xf0) >> 2 = 20",
	"ip[1:2] * ip[2] > len", "ip[8] % 3 = 1", "ip[9] / 2 = 3", "tcp[ip[0] & 0xf] = 0", "ip[ip[0]&0xf] = 1",
	"tcp[0:4] = 0x00500000", "sctp[0:2] = 80", "icmp6[0] = 128", "ip[0] ^ 0x45 = 0", "1500 < len",
	"tcp and 1500 < len", "tcp[13] & 2 != 0 and port 80", "not tcp[13] & 4 = 0 or udp[8] = 1",
	"tcp[0:2] == 80 || tcp[2:2] == 80", "ip[0] >= 0x45 and ip[0] <= 0x46", "tcp[20:4] = 0x14151617",
	"udp[8:2] != 0", "ip[2:2] - (ip[0] & 0xf) * 4 > 20", "ip[0] & 1 << 2 = 4", "tcp[0] + 1 * 2 = 3",
	"(ip[0] + 1) > 2", "ip[2:2] < tcp[14:2]", "udp[0:2] > udp[2:2] or tcp[0:2] < tcp[2:2]",
	"host 10.0.0.1 and ip[8] = 64", "ip6[0:4] & 0xf0000000 = 0x60000000",
	"ip and (len > 100)", "(tcp[0] + 1) * 2 > 100 and not (udp)", "src host 10.0.0.1 and (dst port 80 or 443)",
	"ip6 src host ::1 or dst host ::1", "udp and not port 53 and not port 50051", "greater 54 and less 1000",
	"(tcp or udp) and (src net 10.0.0.0/8 or src net 2001:db8::/32) and not (port 22 or portrange 50100-50110)",
	// Long enough (> 255 instructions here) to need "ja" trampolines.
	longExpr,
}

// longExpr is 24 port ranges that are neither merged by libpcap nor here.
var longExpr = func() string {
	var parts []string
	for i := 0; i < 24; i++ {
		parts = append(parts, fmt.Sprintf("portrange %d-%d", 2000*i+400, 2000*i+450))
	}
	return strings.Join(parts, " or ") + " or host ::1"
}()

// truncationSensitiveExprs are expressions for which libpcap's optimizer
// proves some loads irrelevant and drops them: in "port 80 or udp", a UDP
// packet is accepted whatever its ports, so tcpdump's program never loads
// them, while ours does. On a packet cut short inside its headers the load
// fails and rejects the packet, so the verdicts differ there, and only
// there: on complete packets both programs compute the same boolean
// function. (In live capture the kernel runs the filter on the whole
// packet, so only malformed runts are affected.) These expressions are
// checked strictly on complete packets; differences on truncated packets
// are counted and logged.
var truncationSensitiveExprs = []string{
	longExpr + " or udp",
	"port 80 or udp",
	"tcp port 80 or tcp",
	"host 10.0.0.1 and port 80 or ip",
}

func allExprs() []string {
	return append(append([]string(nil), crossExprs...), truncationSensitiveExprs...)
}

// goldenLinks are the link types programs are recorded for: EN10MB is what
// Ethernet is checked against; LINUX_SLL (after libpcap's own rewrite for
// cooked sockets, see fixSLL) and RAW are what RawIP is checked against;
// RAW, NULL and LOOP are what RawIPVersion, Null and Loop are checked
// against.
var goldenLinks = []struct {
	name string
	lt   layers.LinkType
}{
	{"EN10MB", layers.LinkTypeEthernet},
	{"LINUX_SLL", layers.LinkTypeLinuxSLL},
	{"RAW", layers.LinkTypeRaw},
	{"NULL", layers.LinkTypeNull},
	{"LOOP", layers.LinkTypeLoop},
}

type goldenEntry struct {
	prog []bpf.RawInstruction
	err  string // tcpdump refused the expression for this link type
}

// golden maps expression -> link type name -> tcpdump's program.
type golden struct {
	version string
	progs   map[string]map[string]goldenEntry
}

func tcpdumpVersion(t *testing.T) string {
	out, err := exec.Command("tcpdump", "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump --version: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 2 {
		lines = lines[:2]
	}
	return strings.Join(lines, " / ")
}

// runTcpdump compiles every crossExpr with tcpdump -ddd for every link
// type. The link type is chosen by reading an empty pcap file of that type,
// so no interface (and no root) is needed.
func runTcpdump(t *testing.T) *golden {
	dir := t.TempDir()
	g := &golden{version: tcpdumpVersion(t), progs: map[string]map[string]goldenEntry{}}
	for _, gl := range goldenLinks {
		path := filepath.Join(dir, gl.name+".pcap")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := pcapgo.NewWriter(f).WriteFileHeader(snaplen, gl.lt); err != nil {
			t.Fatal(err)
		}
		f.Close()
		for _, e := range allExprs() {
			cmd := exec.Command("tcpdump", "-ddd", "-r", path, e)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			var ent goldenEntry
			if err := cmd.Run(); err != nil {
				msg := strings.TrimSpace(stderr.String())
				if i := strings.LastIndex(msg, "tcpdump: "); i >= 0 {
					msg = msg[i+len("tcpdump: "):]
				}
				ent.err = strings.ReplaceAll(msg, "\n", " ")
			} else {
				p, err := parseDDD(stdout.String())
				if err != nil {
					t.Fatalf("tcpdump %s %q: %v", gl.name, e, err)
				}
				ent.prog = p
			}
			if g.progs[e] == nil {
				g.progs[e] = map[string]goldenEntry{}
			}
			g.progs[e][gl.name] = ent
		}
	}
	return g
}

// parseDDD parses tcpdump -ddd output: a count, then "code jt jf k" lines.
func parseDDD(s string) ([]bpf.RawInstruction, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, fmt.Errorf("empty program")
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || len(fields) != 1+4*n {
		return nil, fmt.Errorf("malformed -ddd output %q", s)
	}
	prog := make([]bpf.RawInstruction, n)
	for i := range prog {
		var v [4]uint64
		for j := range v {
			if v[j], err = strconv.ParseUint(fields[1+4*i+j], 10, 32); err != nil {
				return nil, err
			}
		}
		prog[i] = bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}
	}
	return prog, nil
}

func formatProg(p []bpf.RawInstruction) string {
	var parts []string
	for _, in := range p {
		parts = append(parts, fmt.Sprintf("%d %d %d %d", in.Op, in.Jt, in.Jf, in.K))
	}
	return strings.Join(parts, ",")
}

func (g *golden) format() string {
	var b strings.Builder
	b.WriteString("# tcpdump -ddd programs for the expressions of crosscheck_test.go.\n")
	b.WriteString("# Generated by: go test ./capture/bpffilter -run TestGolden -update\n")
	b.WriteString("# Format: expression<TAB>link type<TAB>program (code jt jf k, comma separated) or \"error: ...\"\n")
	fmt.Fprintf(&b, "version\t%s\n", g.version)
	exprs := make([]string, 0, len(g.progs))
	for e := range g.progs {
		exprs = append(exprs, e)
	}
	sort.Strings(exprs)
	for _, e := range exprs {
		for _, gl := range goldenLinks {
			ent, ok := g.progs[e][gl.name]
			if !ok {
				continue
			}
			if ent.err != "" {
				fmt.Fprintf(&b, "%s\t%s\terror: %s\n", e, gl.name, ent.err)
			} else {
				fmt.Fprintf(&b, "%s\t%s\t%s\n", e, gl.name, formatProg(ent.prog))
			}
		}
	}
	return b.String()
}

func loadGolden(t *testing.T) *golden {
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatalf("%v (regenerate with go test ./capture/bpffilter -run TestGolden -update)", err)
	}
	defer f.Close()
	g := &golden{progs: map[string]map[string]goldenEntry{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		if parts[0] == "version" && len(parts) == 2 {
			g.version = parts[1]
			continue
		}
		if len(parts) != 3 {
			t.Fatalf("%s: malformed line %q", goldenPath, line)
		}
		var ent goldenEntry
		if msg, ok := strings.CutPrefix(parts[2], "error: "); ok {
			ent.err = msg
		} else {
			ins := strings.Split(parts[2], ",")
			p, err := parseDDD(strconv.Itoa(len(ins)) + " " + strings.Join(ins, " "))
			if err != nil {
				t.Fatalf("%s: %v", goldenPath, err)
			}
			ent.prog = p
		}
		if g.progs[parts[0]] == nil {
			g.progs[parts[0]] = map[string]goldenEntry{}
		}
		g.progs[parts[0]][parts[1]] = ent
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGoldenUpdate rewrites the golden file when -update is given.
func TestGoldenUpdate(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate " + goldenPath)
	}
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Fatal("-update needs tcpdump in PATH")
	}
	g := runTcpdump(t)
	if err := os.WriteFile(goldenPath, []byte(g.format()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGoldenCurrent re-runs tcpdump and checks that the golden file is what
// it produces now. With a different tcpdump/libpcap version the programs
// may legitimately differ, so then the fresh programs are cross-checked for
// verdicts instead.
func TestGoldenCurrent(t *testing.T) {
	if *update {
		t.Skip("regenerating")
	}
	if testing.Short() {
		t.Skip("-short: whether " + goldenPath + " is what the installed tcpdump produces does not depend on the platform " +
			"the tests run on (the runs under emulation use -short); the full run checks it")
	}
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed: cannot check that " + goldenPath + " is current (the verdict cross-check still runs on the golden file)")
	}
	fresh := runTcpdump(t)
	g := loadGolden(t)
	if fresh.version != g.version {
		t.Logf("golden file is from %q, installed tcpdump is %q: cross-checking verdicts against the installed one", g.version, fresh.version)
		checkVerdicts(t, fresh)
		return
	}
	if got, want := fresh.format(), g.format(); got != want {
		t.Errorf("%s is stale: regenerate with go test ./capture/bpffilter -run TestGolden -update", goldenPath)
	}
}

// TestVerdictsAgainstTcpdump runs our programs and tcpdump's (from the
// golden file) over the packet corpus and requires identical verdicts.
func TestVerdictsAgainstTcpdump(t *testing.T) {
	checkVerdicts(t, loadGolden(t))
}

func checkVerdicts(t *testing.T, g *golden) {
	eth, raw := corpus(t)
	t.Logf("corpus: %d Ethernet frames, %d raw IP packets", len(eth), len(raw))
	bsd := newBSDPackets(raw)
	runs := 0
	sensitive := map[string]bool{}
	for _, e := range truncationSensitiveExprs {
		sensitive[e] = true
	}
	for _, e := range allExprs() {
		gp, ok := g.progs[e]
		if !ok {
			t.Errorf("%q: not in the golden file (regenerate with -update)", e)
			continue
		}
		mineEth, err := Compile(e, Ethernet, snaplen)
		if err != nil {
			t.Errorf("Compile(%q, Ethernet): %v", e, err)
			continue
		}
		mineRaw, err := Compile(e, RawIP, snaplen)
		if err != nil {
			t.Errorf("Compile(%q, RawIP): %v", e, err)
			continue
		}
		for _, p := range [][]bpf.RawInstruction{mineEth, mineRaw} {
			if err := validate(p); err != nil {
				t.Errorf("%q: invalid program: %v", e, err)
			}
		}
		en := gp["EN10MB"]
		if en.err != "" {
			t.Errorf("%q: tcpdump refused it for EN10MB: %s", e, en.err)
			continue
		}
		cmp := func(what string, mine, theirs []bpf.RawInstruction, pkts []rawPacket, keep func(rawPacket) bool) int {
			return compare(t, e, what, mine, theirs, pkts, keep, sensitive[e])
		}
		runs += cmp("Ethernet vs EN10MB", mineEth, en.prog, eth, nil)

		sll := gp["LINUX_SLL"]
		if sll.err != "" {
			t.Errorf("%q: tcpdump refused it for LINUX_SLL: %s", e, sll.err)
			continue
		}
		fixed, err := fixSLL(sll.prog)
		if err != nil {
			t.Errorf("%q: %v", e, err)
			continue
		}
		runs += cmp("RawIP vs LINUX_SLL (kernel form)", mineRaw, fixed, raw, nil)

		// DLT_RAW has no protocol field: libpcap reads the IP version
		// nibble, so only IP packets whose nibble matches their protocol
		// are comparable. tcpdump refuses e.g. "arp" there ("expression
		// rejects all packets").
		if rp := gp["RAW"]; rp.err == "" {
			runs += cmp("RawIP vs RAW", mineRaw, rp.prog, raw, func(p rawPacket) bool {
				if len(p.data) == 0 {
					return false
				}
				v := p.data[0] >> 4
				return p.proto == etherIP && v == 4 || p.proto == etherIP6 && v == 6
			})
		}
		runs += checkBSDVerdicts(t, e, gp, bsd, sensitive[e])
	}
	t.Logf("%d expressions, %d program runs compared", len(allExprs()), runs)
}

// checkBSDVerdicts compares the programs for the link types of the BSDs'
// capture devices with tcpdump's for e. Those kernels have no ancillary
// loads, so the programs read only packet bytes: RawIPVersion runs on
// every raw packet whatever its protocol, Null and Loop on the raw packets
// behind an address family header (nullCorpus). Where tcpdump refuses e
// ("arp" on NULL rejects all packets), Compile must refuse it too.
//
// On NULL and LOOP, libpcap's optimizer does not merge the IPv6 tests of
// "port 80 or 443" or "net A or net B" as it does elsewhere (each keeps
// its own three-way family test), while this package merges them the same
// way for every link type; the loads come in another order, which changes
// the verdict on packets cut short inside their headers only. So for those
// two, like for truncationSensitiveExprs, truncated packets are compared
// loosely and complete ones strictly.
func checkBSDVerdicts(t *testing.T, e string, gp map[string]goldenEntry, pk bsdPackets, tolerateTruncated bool) int {
	t.Helper()
	runs := 0
	for _, c := range []struct {
		lt       LinkType
		golden   string
		pkts     []rawPacket
		tolerant bool
	}{
		{RawIPVersion, "RAW", pk.raw, tolerateTruncated},
		{Null, "NULL", pk.null, true},
		{Loop, "LOOP", pk.loop, true},
	} {
		mine, err := compile(e, c.lt, snaplen, binary.LittleEndian)
		theirs, ok := gp[c.golden]
		if !ok {
			t.Errorf("%q: no %s program in the golden file (regenerate with -update)", e, c.golden)
			continue
		}
		if theirs.err != "" || err != nil {
			if theirs.err == "" || err == nil || !strings.Contains(err.Error(), theirs.err) {
				t.Errorf("%q %v: Compile says %v, tcpdump for %s says %q", e, c.lt, err, c.golden, theirs.err)
			}
			continue
		}
		if err := validate(mine); err != nil {
			t.Errorf("%q %v: invalid program: %v", e, c.lt, err)
		}
		runs += compare(t, e, fmt.Sprintf("%v vs %s", c.lt, c.golden), mine, theirs.prog, c.pkts, nil, c.tolerant)
	}
	return runs
}

// bsdPackets are the corpus for checkBSDVerdicts.
type bsdPackets struct{ raw, null, loop []rawPacket }

func newBSDPackets(raw []rawPacket) bsdPackets {
	// The golden programs come from a little-endian pcap file, so the
	// family of NULL is little-endian there, whatever this host is.
	// Every third packet each keeps the run time in check: what differs
	// from the other link types is the family test, which a third of the
	// corpus exercises fully.
	return bsdPackets{raw: raw, null: nullCorpus(raw, binary.LittleEndian, 0), loop: nullCorpus(raw, binary.BigEndian, 1)}
}

// nullCorpus puts the raw packets behind the 4-byte address family header
// of DLT_NULL (order: little-endian) or DLT_LOOP (big-endian). IPv6
// packets get each AF_INET6 in turn, Linux's 10 included (which no "ip6"
// matches), other protocols a family no filter knows; a few packets cut
// inside the header come first. Only the packets whose index is phase
// modulo 3 are taken.
func nullCorpus(raw []rawPacket, order binary.AppendByteOrder, phase int) []rawPacket {
	out := []rawPacket{{name: "null empty", truncated: true}}
	hdr := order.AppendUint32(nil, afInet)
	for n := 1; n < len(hdr); n++ {
		out = append(out, rawPacket{name: fmt.Sprintf("null cut%d", n), data: hdr[:n], truncated: true})
	}
	v6 := []uint32{afInet6Darwin, afInet6BSD, afInet6FreeBSD, 10}
	for i := phase; i < len(raw); i += 3 {
		p := raw[i]
		af := uint32(17) // AF_IMPLINK-ish: neither IPv4 nor IPv6
		switch p.proto {
		case etherIP:
			af = afInet
		case etherIP6:
			af = v6[i%len(v6)]
		}
		data := append(order.AppendUint32(nil, af), p.data...)
		out = append(out, rawPacket{name: fmt.Sprintf("%s af%d", p.name, af), data: data, truncated: p.truncated})
	}
	return out
}

type rawPacket struct {
	name      string
	data      []byte
	proto     uint32
	truncated bool // cut short inside its headers
}

// compare runs both programs over the packets and reports differences.
// With tolerateTruncated, differences on truncated packets are only
// logged (see truncationSensitiveExprs).
func compare(t *testing.T, expr, what string, mine, theirs []bpf.RawInstruction, pkts []rawPacket, keep func(rawPacket) bool, tolerateTruncated bool) int {
	t.Helper()
	n, bad, tolerated := 0, 0, 0
	for _, p := range pkts {
		if keep != nil && !keep(p) {
			continue
		}
		a, err := run(mine, p.data, p.proto)
		if err != nil {
			t.Fatalf("%q: our program: %v", expr, err)
		}
		b, err := run(theirs, p.data, p.proto)
		if err != nil {
			t.Fatalf("%q: tcpdump program: %v", expr, err)
		}
		n++
		if a != b && tolerateTruncated && p.truncated {
			tolerated++
			continue
		}
		if a != b {
			bad++
			if bad <= 5 {
				t.Errorf("%q %s: packet %s (len %d, proto %#x): ours returns %d, tcpdump %d", expr, what, p.name, len(p.data), p.proto, a, b)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%q %s: %d differing packets in all", expr, what, bad)
	}
	if tolerated > 0 {
		t.Logf("%.60q %s: %d of %d packets differ, all truncated (libpcap's optimizer skips loads it proved irrelevant)", expr, what, tolerated, n)
	}
	return n
}

// fixSLL applies libpcap's fix_offset (pcap-linux.c) to a LINUX_SLL
// program: the kernel hands a cooked (SOCK_DGRAM) socket's filter the
// packet without the 16-byte cooked header, so libpcap rewrites loads of
// the protocol field (offset 14) into SKF_AD_PROTOCOL, of the packet type
// (offset 0) into SKF_AD_PKTTYPE, and subtracts 16 from loads of the
// payload. The result is what tcpdump -i any runs in the kernel, i.e. the
// reference for RawIP.
func fixSLL(prog []bpf.RawInstruction) ([]bpf.RawInstruction, error) {
	out := append([]bpf.RawInstruction(nil), prog...)
	for i := range out {
		in := &out[i]
		cls := in.Op & 0x07
		mode := in.Op & 0xe0
		if cls != clsLD && cls != clsLDX || mode != modeABS && mode != modeIND && mode != modeMSH {
			continue
		}
		switch {
		case in.K >= skfAdOff:
		case in.K >= 16:
			in.K -= 16
		case in.K == 14:
			in.K = skfAdOff + skfAdProtocol
		case in.K == 0:
			in.K = skfAdOff + 4
		default:
			return nil, fmt.Errorf("pc %d: load from the cooked header at %d cannot run in the kernel", i, in.K)
		}
	}
	return out, nil
}

// corpus returns the Ethernet frames (as rawPacket with proto unused) and
// the raw-IP packets used for the cross-check.
func corpus(t *testing.T) (eth, raw []rawPacket) {
	for _, f := range synthetic() {
		eth = append(eth, f)
	}
	files, _ := filepath.Glob("../../testdata/pcaps/*.pcap*")
	if len(files) == 0 {
		t.Log("no captures in testdata/pcaps; using synthetic packets only")
	}
	for _, path := range files {
		data, lt := readCapture(t, path)
		for i, d := range data {
			name := fmt.Sprintf("%s#%d", filepath.Base(path), i+1)
			switch lt {
			case layers.LinkTypeEthernet:
				eth = append(eth, rawPacket{name: name, data: d})
			case layers.LinkTypeLinuxSLL2:
				if len(d) >= 20 {
					raw = append(raw, rawPacket{name: name, data: d[20:], proto: uint32(binary.BigEndian.Uint16(d))})
				}
			}
		}
	}
	// Under -short (.ci/run's runs under emulation, where the whole corpus
	// takes minutes) every 13th packet is checked: 13 is prime to the sizes of
	// the synthetic packets' grid, so every kind stays represented.
	if testing.Short() {
		eth, raw = everyNth(eth, 13), everyNth(raw, 13)
	}
	// Every Ethernet frame also yields a raw packet: its payload, with the
	// EtherType as skb->protocol.
	for _, p := range eth {
		if len(p.data) >= 14 {
			raw = append(raw, rawPacket{name: p.name + "/raw", data: p.data[14:], proto: uint32(binary.BigEndian.Uint16(p.data[12:])), truncated: p.truncated})
		}
	}
	return eth, raw
}

func everyNth(pkts []rawPacket, n int) []rawPacket {
	var out []rawPacket
	for i := 0; i < len(pkts); i += n {
		out = append(out, pkts[i])
	}
	return out
}

func readCapture(t *testing.T, path string) ([][]byte, layers.LinkType) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	// Some files named .pcap are pcapng (editcap's default output).
	if magic == [4]byte{0x0a, 0x0d, 0x0d, 0x0a} {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for {
			d, _, err := r.ReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			out = append(out, d)
		}
		return out, r.LinkType()
	}
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for {
		d, _, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, d)
	}
	return out, r.LinkType()
}

// --- synthetic packets ---

func ethFrame(etherType uint16, payload []byte) []byte {
	b := []byte{0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, byte(etherType >> 8), byte(etherType)}
	return append(b, payload...)
}

func addr4(s string) []byte { a := netip.MustParseAddr(s).As4(); return a[:] }
func addr6(s string) []byte { a := netip.MustParseAddr(s).As16(); return a[:] }

// ipv4 builds an IPv4 header (with optWords 32-bit words of options) and
// payload. frag is the flags+fragment-offset field.
func ipv4(src, dst string, proto byte, frag uint16, optWords int, payload []byte) []byte {
	h := make([]byte, 20+4*optWords)
	h[0] = 0x40 | byte(5+optWords)
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(payload)))
	binary.BigEndian.PutUint16(h[6:], frag)
	h[8] = 64
	h[9] = proto
	copy(h[12:], addr4(src))
	copy(h[16:], addr4(dst))
	for i := 20; i < len(h); i++ {
		h[i] = 1 // NOP options
	}
	return append(h, payload...)
}

func ipv6(src, dst string, nh byte, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = nh
	h[7] = 64
	copy(h[8:], addr6(src))
	copy(h[24:], addr6(dst))
	return append(h, payload...)
}

// ports builds a transport header stub: ports followed by 16 bytes.
func ports(sport, dport uint16, extra int) []byte {
	b := make([]byte, 20+extra)
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	for i := 20; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}

func arpPacket(op uint16, spa, tpa string) []byte {
	b := []byte{0, 1, 8, 0, 6, 4, byte(op >> 8), byte(op)}
	b = append(b, 0x02, 0, 0, 0, 0, 1)
	b = append(b, addr4(spa)...)
	b = append(b, 0, 0, 0, 0, 0, 0)
	return append(b, addr4(tpa)...)
}

// synthetic builds frames that exercise every primitive, including the
// cases where a naive compiler would differ from libpcap: IPv4 fragments,
// IP options, IPv6 fragment and other extension headers, ARP/RARP, VLAN
// tags, and truncated frames (a load past the end rejects the packet, so
// the order of tests matters).
func synthetic() []rawPacket {
	var out []rawPacket
	add := func(name string, b []byte) { out = append(out, rawPacket{name: name, data: b}) }

	v4pairs := [][2]string{{"10.0.0.1", "10.0.0.2"}, {"10.0.0.2", "192.168.1.5"}, {"127.0.0.1", "127.0.0.1"},
		{"192.168.1.5", "10.0.0.3"}, {"172.16.0.1", "8.8.8.8"}, {"10.0.1.9", "10.0.0.1"}}
	v6pairs := [][2]string{{"2001:db8::1", "2001:db8::2"}, {"::1", "::1"}, {"fe80::1", "2001:db8:8000::1"},
		{"2001:db9::1", "::ffff:10.0.0.1"}, {"2001:db8::2", "fe80::2"}}
	portPairs := [][2]uint16{{80, 40000}, {40000, 443}, {50051, 50051}, {53, 1024}, {22, 80},
		{0, 65535}, {50105, 33000}, {8080, 80}, {450, 60000}, {50101, 50101}}
	protos := []byte{ipprotoTCP, ipprotoUDP, ipprotoSCTP, ipprotoICMP, 47}
	frags := []struct {
		name string
		val  uint16
	}{{"", 0}, {"DF", 0x4000}, {"MF", 0x2000}, {"off185", 185}, {"MF+off1", 0x2001}}
	extras := []int{0, 60, 1200}

	i := 0
	for _, ap := range v4pairs {
		for _, pp := range portPairs {
			for _, pr := range protos {
				for _, fr := range frags {
					opt := 0
					if i%4 == 3 {
						opt = 2 // IP options move the transport header
					}
					pl := ports(pp[0], pp[1], extras[i%len(extras)])
					name := fmt.Sprintf("v4 %s>%s p%d %d>%d %s opt%d", ap[0], ap[1], pr, pp[0], pp[1], fr.name, opt)
					add(name, ethFrame(etherIP, ipv4(ap[0], ap[1], pr, fr.val, opt, pl)))
					i++
				}
			}
		}
	}
	for _, ap := range v6pairs {
		for _, pp := range portPairs {
			for _, pr := range []byte{ipprotoTCP, ipprotoUDP, ipprotoSCTP, ipprotoICMP6, 47} {
				pl := ports(pp[0], pp[1], extras[i%len(extras)])
				name := fmt.Sprintf("v6 %s>%s nh%d %d>%d", ap[0], ap[1], pr, pp[0], pp[1])
				add(name, ethFrame(etherIP6, ipv6(ap[0], ap[1], pr, pl)))
				// Behind a fragment header (libpcap looks one header deep
				// for protocols, not for ports).
				fh := append([]byte{pr, 0, 0, 0, 0, 0, 0, 1}, pl...)
				add(name+" frag", ethFrame(etherIP6, ipv6(ap[0], ap[1], ipprotoFrag6, fh)))
				fh2 := append([]byte{pr, 0, 0x05, 0x28, 0, 0, 0, 1}, pl...) // offset 165
				add(name+" frag2", ethFrame(etherIP6, ipv6(ap[0], ap[1], ipprotoFrag6, fh2)))
				// Behind hop-by-hop options: invisible to libpcap.
				hbh := append([]byte{pr, 0, 1, 4, 0, 0, 0, 0}, pl...)
				add(name+" hbh", ethFrame(etherIP6, ipv6(ap[0], ap[1], 0, hbh)))
				i++
			}
		}
	}
	for _, ap := range v4pairs {
		add("arp req "+ap[0]+">"+ap[1], ethFrame(etherARP, arpPacket(1, ap[0], ap[1])))
		add("arp rep "+ap[1]+">"+ap[0], ethFrame(etherARP, arpPacket(2, ap[1], ap[0])))
		add("rarp "+ap[0]+">"+ap[1], ethFrame(etherRARP, arpPacket(3, ap[0], ap[1])))
	}
	// An IPv4 packet with a v6 EtherType and the reverse, VLAN tags, LLDP.
	add("v4 in 86dd", ethFrame(etherIP6, ipv4("10.0.0.1", "10.0.0.2", ipprotoTCP, 0, 0, ports(80, 80, 0))))
	add("v6 in 0800", ethFrame(etherIP, ipv6("::1", "::1", ipprotoTCP, ports(80, 80, 0))))
	vlan := append([]byte{0, 100, 0x08, 0x00}, ipv4("10.0.0.1", "10.0.0.2", ipprotoTCP, 0, 0, ports(80, 80, 0))...)
	add("vlan v4 tcp", ethFrame(0x8100, vlan))
	add("lldp", ethFrame(0x88cc, bytes.Repeat([]byte{0xaa}, 60)))
	add("empty", nil)
	add("short", []byte{1, 2, 3})

	// Odd IPv4 header lengths: IHL 0 makes libpcap read the "ports" from
	// the IP header itself; IHL 15 puts them past the end of a short packet.
	for _, ihl := range []byte{0, 1, 4, 15} {
		b := ipv4("10.0.0.1", "10.0.0.2", ipprotoTCP, 0, 0, ports(80, 443, 0))
		b[0] = 0x40 | ihl
		add(fmt.Sprintf("v4 ihl%d", ihl), ethFrame(etherIP, b))
		// With IHL 15 the header claims 60 bytes: the packet is truncated.
		out[len(out)-1].truncated = ihl == 15
	}

	// Every truncation (up to 80 bytes) of a sample of the above.
	base := len(out)
	for j := 0; j < base; j += 7 {
		p := out[j]
		for c := 0; c < len(p.data) && c <= 80; c++ {
			out = append(out, rawPacket{name: fmt.Sprintf("%s cut%d", p.name, c), data: p.data[:c], truncated: true})
		}
	}
	return out
}

// TestInterpreterMatchesXNetVM checks the test interpreter (run) against
// x/net/bpf's VM on programs without ancillary loads, so that the verdict
// comparison does not rest on an unchecked interpreter.
func TestInterpreterMatchesXNetVM(t *testing.T) {
	g := loadGolden(t)
	eth, _ := corpus(t)
	n := 0
	for i, e := range allExprs() {
		mine, err := Compile(e, Ethernet, snaplen)
		if err != nil {
			t.Fatal(err)
		}
		for _, prog := range [][]bpf.RawInstruction{mine, g.progs[e]["EN10MB"].prog} {
			ins, ok := bpf.Disassemble(prog)
			if !ok {
				t.Fatalf("%q: cannot disassemble", e)
			}
			vm, err := bpf.NewVM(ins)
			if err != nil {
				t.Fatalf("%q: %v", e, err)
			}
			for j := i % 13; j < len(eth); j += 13 {
				p := eth[j]
				want, err := vm.Run(p.data)
				if err != nil {
					t.Fatal(err)
				}
				got, err := run(prog, p.data, 0)
				if err != nil {
					t.Fatal(err)
				}
				if int(got) != want {
					t.Fatalf("%q on %s: interpreter %d, x/net/bpf %d", e, p.name, got, want)
				}
				n++
			}
		}
	}
	t.Logf("%d runs agree", n)
}
