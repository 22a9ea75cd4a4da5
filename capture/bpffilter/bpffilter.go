// Package bpffilter compiles tcpdump-syntax capture filters ("tcp port
// 50051 and host 10.0.0.1") into classic BPF programs, in pure Go.
//
// Why it exists: live capture attaches the filter in the kernel with
// setsockopt(SO_ATTACH_FILTER) on an AF_PACKET socket on Linux, and with
// ioctl(BIOCSETF) on a /dev/bpf device on macOS and the BSDs, so that
// packets the user did not ask for are dropped before they are copied to
// user space.
// The usual way to obtain such a program is libpcap's pcap_compile, but that
// needs cgo, and grpcsniff is a pure-Go, statically linked binary. This
// package implements the commonly used part of pcap-filter(7) and refuses
// everything else with an error that names the offending word and its
// column: a filter is never silently widened or narrowed.
//
// The verdicts of the generated programs are cross-checked against Debian's
// tcpdump (libpcap 1.10) on a corpus of real and synthetic packets; see
// crosscheck_test.go. The instruction sequences differ (there is no
// libpcap-style optimizer), only the accept/reject decisions must match.
//
// Supported grammar (a subset of pcap-filter(7)):
//
//	[proto] [dir] host ADDR         proto: ip, ip6, arp, rarp
//	[proto] [dir] net NET[/LEN]     NET: dotted IPv4 (may be short: 10.1) or IPv6
//	[proto] [dir] net NET mask M
//	[proto] [dir] port N            proto: tcp, udp, sctp
//	[proto] [dir] portrange A-B
//	[proto] dir ADDR                same as host (e.g. "src 10.0.0.1")
//	tcp, udp, sctp, icmp, icmp6, ip, ip6, arp, rarp
//	less N, greater N
//	EXPR RELOP EXPR                 byte offsets: "tcp[13] & 2 != 0", "ip[2:2] > 576"
//	not, !, and, &&, or, ||, ( )
//
// dir is src, dst, "src or dst" or "src and dst". As in tcpdump, "and" and
// "or" have equal precedence and associate to the left, "not" binds tighter,
// and a bare value after "and"/"or" reuses the qualifiers of the previous
// primitive: "host a or b" is "host a or host b", "tcp port 80 or 443" is
// "tcp port 80 or tcp port 443". In comparisons, EXPR is built from numbers,
// len, proto[offset] and proto[offset:size] (proto: ip, ip6, arp, rarp,
// tcp, udp, sctp, icmp, icmp6), libpcap's named constants (tcpflags,
// tcp-syn, icmptype, icmp-echo, ...) and + - * / % & | ^ << >>; RELOP is
// one of > >= < <= = == !=.
//
// Deliberate differences from tcpdump, all of them refusals: host names and
// port names are never resolved (grpcsniff does no DNS lookups and does not
// read /etc/services); "host" requires a complete address (tcpdump treats
// "host 10.1" as a network); unary minus is refused (libpcap 1.10
// miscompiles it) and so is "^" mixed with other operators without
// parentheses (libpcap gives it no precedence). 802.1Q VLAN tags are not
// followed, exactly like tcpdump without the "vlan" keyword, which is
// itself refused along with ether, gateway, proto, broadcast and the other
// primitives not listed above.
//
// Known difference in verdicts: on a packet cut short inside its headers
// (a malformed runt, since the kernel runs socket filters on the whole
// packet), a load past its end rejects the packet. libpcap's optimizer
// sometimes proves a load irrelevant and drops it ("port 80 or udp" never
// reads the ports of a UDP packet), so tcpdump may accept such a packet
// where this package's program rejects it. On Null and Loop frames,
// libpcap also leaves the IPv6 alternatives of "port 80 or 443" unmerged
// while this package merges them, which changes the order of loads and so,
// again, only the verdicts on truncated packets. On complete packets the
// verdicts are the same.
//
// Link types (see LinkType and ForLinkType): Ethernet; RawIP, for packets
// that start at the IP header under a Linux socket filter; and for the
// BPF devices of macOS and the BSDs, Null and Loop (loopback, utun) and
// RawIPVersion (tun), whose programs read packet bytes only.
package bpffilter

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Default is the filter grpcsniff uses when the user gives none: gRPC runs
// over TCP (HTTP/2), so everything else is noise.
const Default = "tcp"

// MaxInstructions is the classic BPF program size limit enforced by the
// Linux kernel (BPF_MAXINSNS).
const MaxInstructions = 4096

// LinkType is the kind of frame the program is compiled for: it decides
// where the network-layer header starts and how its protocol is found.
type LinkType int

const (
	// Ethernet frames start with a 14-byte Ethernet II header whose
	// EtherType (offset 12) selects the network protocol. This is the
	// framing of eth* devices and of "lo" on Linux. 802.1Q VLAN tags are
	// not followed: a tagged frame has EtherType 0x8100 and matches none of
	// the ip/ip6/arp tests, the same as tcpdump without "vlan".
	Ethernet LinkType = iota
	// RawIP packets start directly at the network header, as delivered by
	// SOCK_DGRAM AF_PACKET sockets (used for "-i any") and tun devices.
	// There is no link header to read the protocol from, so the program
	// uses the Linux ancillary load SKF_AD_PROTOCOL (bpf.ExtProto), which
	// yields skb->protocol, the EtherType in host byte order. This is what
	// libpcap itself installs for cooked sockets (it rewrites its loads of
	// the cooked header's protocol field into SKF_AD_PROTOCOL), so the
	// verdicts are the same as tcpdump's on "-i any". Linux only: other
	// kernels have no ancillary loads; see RawIPVersion.
	RawIP
	// Null frames (DLT_NULL: BSD loopback, macOS utun) start with a 4-byte
	// address family in the byte order of the host that captured them,
	// followed by the network header. AF_INET is 2 everywhere, but the BSDs
	// numbered AF_INET6 independently (24 on NetBSD and OpenBSD, 28 on
	// FreeBSD and DragonFly, 30 on macOS), so "ip6" accepts all three, as
	// libpcap's gencode does. The program compares the word with the
	// family in the byte order of the host Compile runs on: compile on the
	// host that captures.
	Null
	// Loop frames (DLT_LOOP: OpenBSD's loopback) are Null frames whose
	// address family is in network byte order.
	Loop
	// RawIPVersion packets start at the network header, like RawIP, but
	// the protocol is read from the IP version nibble of the first byte,
	// as libpcap does for DLT_RAW: the kernel of the BSDs runs the filter
	// on the packet bytes alone (tun devices). Only IPv4 and IPv6 can be
	// told apart that way: "arp" matches nothing.
	RawIPVersion
)

func (lt LinkType) String() string {
	switch lt {
	case Ethernet:
		return "Ethernet"
	case RawIP:
		return "RawIP"
	case Null:
		return "Null"
	case Loop:
		return "Loop"
	case RawIPVersion:
		return "RawIPVersion"
	}
	return fmt.Sprintf("LinkType(%d)", int(lt))
}

// ForLinkType returns the link type to compile a filter for, to run in
// this host's kernel on packets of the capture link type lt (what a live
// capture reports): Ethernet for Ethernet, Null and Loop for the BSD
// loopback framings, and for packets that start at the IP header (raw),
// RawIP on Linux, whose socket filters read the protocol from the packet's
// metadata (that also tells ARP from IP), RawIPVersion elsewhere. Other
// link types have no filter here: the error names them.
func ForLinkType(lt layers.LinkType) (LinkType, error) {
	switch lt {
	case layers.LinkTypeEthernet:
		return Ethernet, nil
	case layers.LinkTypeNull:
		return Null, nil
	case layers.LinkTypeLoop:
		return Loop, nil
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		if runtime.GOOS == "linux" {
			return RawIP, nil
		}
		return RawIPVersion, nil
	}
	return 0, &Error{Msg: fmt.Sprintf("no capture filter for link type %v (%d)", lt, int(lt))}
}

// Error is a filter compilation error. Pos is the 1-based column (in bytes)
// of the offending token, or 0 when the error concerns the whole filter.
type Error struct {
	Pos int
	Msg string
}

// Error formats as "filter: MSG at column N"; when MSG has a "; " hint
// part, the column goes before it: `filter: unknown primitive "vlan" at
// column 1; supported: ...`.
func (e *Error) Error() string {
	if e.Pos <= 0 {
		return "filter: " + e.Msg
	}
	if head, hint, ok := strings.Cut(e.Msg, "; "); ok {
		return fmt.Sprintf("filter: %s at column %d; %s", head, e.Pos, hint)
	}
	return fmt.Sprintf("filter: %s at column %d", e.Msg, e.Pos)
}

// supportedList is appended to "unknown primitive" errors so that the user
// learns what can be used instead.
const supportedList = "supported: host, net, port, portrange, tcp, udp, sctp, icmp, icmp6, ip, ip6, arp, rarp, less, greater, src, dst, and, or, not, ( ), comparisons of proto[offset] and len"

// Compile compiles a tcpdump-syntax filter expression into a classic BPF
// program for frames of link type lt. Accepted packets are truncated to
// snaplen bytes (tcpdump uses 262144). An empty (or all-blank) expression
// yields a program that accepts every packet; pass Default to capture only
// TCP. Errors are of type *Error.
func Compile(expr string, lt LinkType, snaplen int) ([]bpf.RawInstruction, error) {
	return compile(expr, lt, snaplen, binary.NativeEndian)
}

// compile is Compile with the byte order of Null's address family given,
// so that tests can compile for the byte order of a recorded file.
func compile(expr string, lt LinkType, snaplen int, order binary.ByteOrder) ([]bpf.RawInstruction, error) {
	if lt < Ethernet || lt > RawIPVersion {
		return nil, &Error{Msg: fmt.Sprintf("unsupported link type %v", lt)}
	}
	if snaplen <= 0 {
		return nil, &Error{Msg: fmt.Sprintf("snaplen must be positive, got %d", snaplen)}
	}
	if strings.TrimSpace(expr) == "" {
		return []bpf.RawInstruction{{Op: opRET | srcK, K: uint32(snaplen)}}, nil
	}
	n, err := parse(expr)
	if err != nil {
		return nil, err
	}
	c := n.cond(layoutFor(lt, order))
	if c == cConst(false) {
		// Only link types that carry nothing but IP fold a whole filter to
		// false ("arp" on Null). tcpdump refuses such a filter too, rather
		// than capture nothing without a word.
		return nil, &Error{Msg: fmt.Sprintf("expression rejects all packets: link type %v carries only IPv4 and IPv6", lt)}
	}
	prog := generate(c, uint32(snaplen))
	if len(prog) > MaxInstructions {
		return nil, &Error{Msg: fmt.Sprintf("program too large: %d instructions, the kernel limit is %d", len(prog), MaxInstructions)}
	}
	return prog, nil
}
