package bpffilter

import (
	"encoding/binary"
	"fmt"
	"strings"
)

type primKind int

const (
	primProto     primKind = iota // tcp, udp, ip, ...
	primAddr4                     // host/net with an IPv4 address
	primAddr6                     // host/net with an IPv6 address
	primPort                      // port N
	primPortrange                 // portrange A-B
	primLess                      // less N
	primGreater                   // greater N
)

// prim is one filter primitive with its qualifiers resolved.
type prim struct {
	kind   primKind
	proto  protoQ
	dir    dirQ
	net    bool     // written as net (only affects String)
	addr4  uint32   // primAddr4
	mask4  uint32   // primAddr4
	addr6  [16]byte // primAddr6
	mask6  [16]byte // primAddr6
	lo, hi uint16   // primPort, primPortrange
	n      uint32   // primLess, primGreater
	text   string   // address as written, for String
}

func (p *prim) String() string {
	var parts []string
	if p.proto != protoDefault {
		parts = append(parts, p.proto.String())
	}
	if p.dir != dirDefault {
		parts = append(parts, p.dir.String())
	}
	switch p.kind {
	case primProto:
	case primAddr4, primAddr6:
		if p.net {
			parts = append(parts, "net", p.text)
		} else {
			parts = append(parts, "host", p.text)
		}
	case primPort:
		parts = append(parts, "port", fmt.Sprint(p.lo))
	case primPortrange:
		parts = append(parts, "portrange", fmt.Sprintf("%d-%d", p.lo, p.hi))
	case primLess:
		parts = append(parts, "less", fmt.Sprint(p.n))
	case primGreater:
		parts = append(parts, "greater", fmt.Sprint(p.n))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// EtherTypes and IP protocol numbers used by the primitives.
const (
	etherIP   = 0x0800
	etherARP  = 0x0806
	etherRARP = 0x8035
	etherIP6  = 0x86dd

	ipprotoICMP   = 1
	ipprotoTCP    = 6
	ipprotoUDP    = 17
	ipprotoFrag6  = 44 // IPv6 fragment extension header
	ipprotoICMP6  = 58
	ipprotoSCTP   = 132
	ipv6HeaderLen = 40
)

// Address families in the 4-byte header of Null and Loop frames. AF_INET
// is the same everywhere; the BSDs each picked their own AF_INET6.
const (
	afInet          = 2
	afInet6BSD      = 24 // NetBSD, OpenBSD, BSD/OS
	afInet6FreeBSD  = 28 // FreeBSD, DragonFly
	afInet6Darwin   = 30 // macOS, iOS
	nullHeaderBytes = 4
)

// protoSource is where a program finds the network protocol of a packet.
type protoSource int

const (
	fromEtherType protoSource = iota // the Ethernet header's EtherType
	fromSkb                          // Linux's SKF_AD_PROTOCOL (skb->protocol)
	fromFamily                       // a Null/Loop address family word
	fromVersion                      // the IP version nibble
)

// layout describes where the network layer starts for a link type and how
// its protocol is told.
type layout struct {
	proto protoSource
	nl    uint32 // offset of the network-layer header
	// order is the byte order of the address family of fromFamily.
	order binary.ByteOrder
}

func layoutFor(lt LinkType, order binary.ByteOrder) layout {
	switch lt {
	case RawIP:
		return layout{proto: fromSkb}
	case Null:
		return layout{proto: fromFamily, nl: nullHeaderBytes, order: order}
	case Loop:
		return layout{proto: fromFamily, nl: nullHeaderBytes, order: binary.BigEndian}
	case RawIPVersion:
		return layout{proto: fromVersion}
	}
	return layout{nl: 14}
}

// ether tests the network-layer protocol (an EtherType). Null, Loop and
// RawIPVersion frames can only say IPv4 or IPv6: any other protocol is
// known not to match without loading anything.
func (l layout) ether(t uint32) cond {
	switch l.proto {
	case fromSkb:
		return atom{ld: ldProto(), op: jEQ, k: t}
	case fromFamily:
		switch t {
		case etherIP:
			return l.family(afInet)
		case etherIP6:
			// libpcap's order: Darwin, then NetBSD/OpenBSD, then FreeBSD.
			return or(or(l.family(afInet6Darwin), l.family(afInet6BSD)), l.family(afInet6FreeBSD))
		}
		return cConst(false)
	case fromVersion:
		switch t {
		case etherIP:
			return atom{ld: ldByteMasked(0, 0xf0), op: jEQ, k: 0x40}
		case etherIP6:
			return atom{ld: ldByteMasked(0, 0xf0), op: jEQ, k: 0x60}
		}
		return cConst(false)
	}
	return atom{ld: ldAbs(sizeH, 12), op: jEQ, k: t}
}

// family tests the address family word of a Null or Loop frame. BPF loads
// words in network byte order, so a family stored in little-endian order
// reads as af<<24.
func (l layout) family(af uint32) cond {
	var b [4]byte
	l.order.PutUint32(b[:], af)
	return atom{ld: ldAbs(sizeW, 0), op: jEQ, k: binary.BigEndian.Uint32(b[:])}
}

// field compares a field of the network header (at l.nl+off) with k.
func (l layout) field(size uint16, off uint32, k uint32) cond {
	return atom{ld: ldAbs(size, l.nl+off), op: jEQ, k: k}
}

// masked compares a masked 32-bit word of the network header with k. With
// mask 0 the outcome is known without loading anything.
func (l layout) masked(off uint32, mask, k uint32) cond {
	if mask == 0 {
		return cConst(k == 0)
	}
	return atom{ld: ldMasked(l.nl+off, mask), op: jEQ, k: k}
}

// ipProto is libpcap's test for a transport protocol, for both IP
// versions. For IPv6 libpcap looks at the next-header field of the fixed
// header and, if it is a fragment header, at that header's next-header
// field; other extension headers are not walked.
func (l layout) ipProto(p uint32) cond {
	v4 := and(l.ether(etherIP), l.field(sizeB, 9, p))
	v6 := and(l.ether(etherIP6), or(l.field(sizeB, 6, p),
		and(l.field(sizeB, 6, ipprotoFrag6), l.field(sizeB, ipv6HeaderLen, p))))
	return or(v4, v6)
}

func (n andNode) cond(l layout) cond { return and(n.l.cond(l), n.r.cond(l)) }
func (n notNode) cond(l layout) cond { return not(n.x.cond(l)) }
func (p *prim) cond(l layout) cond   { return groupCond([]*prim{p}, l) }

// cond for "or" merges runs of adjacent primitives that differ only in
// their value ("host a or b or c", "port 80 or 443") into one test per
// header field: src in {a,b,c} or dst in {a,b,c}. That is the order in
// which libpcap's optimizer evaluates them, and the order matters on
// truncated packets, where the first load past the end rejects the packet.
func (n orNode) cond(l layout) cond {
	var operands []node
	var flatten func(node)
	flatten = func(x node) {
		if o, ok := x.(orNode); ok {
			flatten(o.l)
			flatten(o.r)
			return
		}
		operands = append(operands, x)
	}
	flatten(n)
	var c cond
	for i := 0; i < len(operands); {
		p, ok := operands[i].(*prim)
		if !ok {
			c = or(c, operands[i].cond(l))
			i++
			continue
		}
		group := []*prim{p}
		for i++; i < len(operands); i++ {
			q, ok := operands[i].(*prim)
			if !ok || !mergeable(p, q) {
				break
			}
			group = append(group, q)
		}
		c = or(c, groupCond(group, l))
	}
	return c
}

// mergeable reports whether "p or q" can be tested field by field, which
// is what libpcap's optimizer ends up doing exactly when every field test
// of both primitives is a single comparison of the same loaded value: same
// port field, same IPv4 mask, or a single IPv6 word under the same mask.
// Multi-instruction tests (port ranges, IPv6 addresses spanning several
// words, different masks) are left in order, as libpcap leaves them. Never
// for "src and dst": (s=a and d=a) or (s=b and d=b) is not (s,d in {a,b}).
func mergeable(p, q *prim) bool {
	if q.kind != p.kind || q.proto != p.proto || q.dir != p.dir || p.dir == dirSrcAndDst {
		return false
	}
	switch p.kind {
	case primPort:
		return true
	case primAddr4:
		return p.mask4 == q.mask4 && p.mask4 != 0
	case primAddr6:
		pi, pm, ok1 := singleWord(p)
		qi, qm, ok2 := singleWord(q)
		return ok1 && ok2 && pi == qi && pm == qm
	}
	return false
}

// singleWord reports whether an IPv6 address/prefix is tested with a single
// 32-bit word compare, and which word and mask.
func singleWord(p *prim) (idx int, mask uint32, ok bool) {
	n := 0
	for w := 0; w < 4; w++ {
		if m := be32(p.mask6[4*w:]); m != 0 {
			idx, mask = w, m
			n++
		}
	}
	return idx, mask, n == 1
}

// dirop combines the source and destination tests according to the
// direction qualifier. The source is always tested first, as libpcap does:
// on a truncated packet an out-of-range load rejects the packet, so the
// order of loads is part of the verdict.
func dirop(d dirQ, src, dst cond) cond {
	switch d {
	case dirSrc:
		return src
	case dirDst:
		return dst
	case dirSrcAndDst:
		return and(src, dst)
	}
	return or(src, dst)
}

// groupCond lowers the "or" of primitives that share kind, protocol and
// direction (a single primitive is a group of one).
func groupCond(ps []*prim, l layout) cond {
	p := ps[0]
	switch p.kind {
	case primProto:
		return protoCond(p, l)
	case primAddr4:
		return addr4Cond(ps, l)
	case primAddr6:
		return addr6Cond(ps, l)
	case primPort, primPortrange:
		return portCond(ps, l)
	case primLess:
		return not(atom{ld: ldLen(), op: jGT, k: p.n})
	case primGreater:
		return atom{ld: ldLen(), op: jGE, k: p.n}
	}
	panic(fmt.Sprintf("bpffilter: unhandled primitive %v", p))
}

// protoCond lowers a protocol name alone ("tcp", "ip6").
func protoCond(p *prim, l layout) cond {
	switch p.proto {
	case protoIP:
		return l.ether(etherIP)
	case protoIP6:
		return l.ether(etherIP6)
	case protoARP:
		return l.ether(etherARP)
	case protoRARP:
		return l.ether(etherRARP)
	case protoTCP:
		return l.ipProto(ipprotoTCP)
	case protoUDP:
		return l.ipProto(ipprotoUDP)
	case protoSCTP:
		return l.ipProto(ipprotoSCTP)
	case protoICMP:
		return and(l.ether(etherIP), l.field(sizeB, 9, ipprotoICMP))
	case protoICMP6:
		return and(l.ether(etherIP6), or(l.field(sizeB, 6, ipprotoICMP6),
			and(l.field(sizeB, 6, ipprotoFrag6), l.field(sizeB, ipv6HeaderLen, ipprotoICMP6))))
	}
	panic(fmt.Sprintf("bpffilter: unhandled primitive %v", p))
}

// addr4Cond lowers a group of IPv4 hosts or networks.
func addr4Cond(ps []*prim, l layout) cond {
	p := ps[0]
	// IPv4 source/destination at 12/16; ARP and RARP sender/target
	// protocol addresses at 14/24. Without a protocol qualifier all
	// three are tried, as in libpcap.
	field := func(off uint32) cond {
		var c cond
		for _, q := range ps {
			c = or(c, l.masked(off, q.mask4, q.addr4))
		}
		return c
	}
	ip := func() cond {
		return and(l.ether(etherIP), dirop(p.dir, field(12), field(16)))
	}
	arp := func(t uint32) cond {
		return and(l.ether(t), dirop(p.dir, field(14), field(24)))
	}
	switch p.proto {
	case protoIP:
		return ip()
	case protoARP:
		return arp(etherARP)
	case protoRARP:
		return arp(etherRARP)
	}
	return or(or(ip(), arp(etherARP)), arp(etherRARP))
}

// addr6Cond lowers a group of IPv6 hosts or networks.
func addr6Cond(ps []*prim, l layout) cond {
	p := ps[0]
	field := func(off uint32) cond {
		var c cond
		for _, q := range ps {
			var a cond = cConst(true)
			for w := uint32(0); w < 4; w++ {
				a = and(a, l.masked(off+4*w, be32(q.mask6[4*w:]), be32(q.addr6[4*w:])))
			}
			c = or(c, a)
		}
		return c
	}
	return and(l.ether(etherIP6), dirop(p.dir, field(8), field(24)))
}

// portCond lowers a group of ports and port ranges.
func portCond(ps []*prim, l layout) cond {
	p := ps[0]
	protos := []uint32{ipprotoSCTP, ipprotoTCP, ipprotoUDP}
	switch p.proto {
	case protoTCP:
		protos = []uint32{ipprotoTCP}
	case protoUDP:
		protos = []uint32{ipprotoUDP}
	case protoSCTP:
		protos = []uint32{ipprotoSCTP}
	}
	protoTest := func(off uint32) cond {
		var c cond
		for _, pr := range protos {
			c = or(c, l.field(sizeB, off, pr))
		}
		return c
	}
	portTest := func(ld load) cond {
		var c cond
		for _, q := range ps {
			if q.kind == primPort {
				c = or(c, atom{ld: ld, op: jEQ, k: uint32(q.lo)})
			} else {
				c = or(c, and(atom{ld: ld, op: jGE, k: uint32(q.lo)}, not(atom{ld: ld, op: jGT, k: uint32(q.hi)})))
			}
		}
		return c
	}
	// IPv6: the transport header is assumed to follow the fixed header.
	v6 := and(l.ether(etherIP6), and(protoTest(6),
		dirop(p.dir, portTest(ldAbs(sizeH, l.nl+ipv6HeaderLen)), portTest(ldAbs(sizeH, l.nl+ipv6HeaderLen+2)))))
	// IPv4: only the first fragment carries the ports (fragment
	// offset 0), and the header length comes from the IHL field.
	notFrag := not(atom{ld: ldAbs(sizeH, l.nl+6), op: jSET, k: 0x1fff})
	v4 := and(l.ether(etherIP), and(protoTest(9), and(notFrag,
		dirop(p.dir, portTest(ldInd(sizeH, l.nl, l.nl)), portTest(ldInd(sizeH, l.nl, l.nl+2))))))
	return or(v4, v6)
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
