package bpffilter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// node is a parsed filter expression.
type node interface {
	// String renders the node fully parenthesised, for tests and errors.
	String() string
	// cond lowers the node to a boolean tree of BPF tests for a link layout.
	cond(l layout) cond
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ x node }

func (n andNode) String() string { return "(" + n.l.String() + " and " + n.r.String() + ")" }
func (n orNode) String() string  { return "(" + n.l.String() + " or " + n.r.String() + ")" }
func (n notNode) String() string { return "not " + n.x.String() }

// Qualifiers, as in libpcap's "struct qual": protocol, direction and
// address kind. The *Default values mean the user did not give one.
type protoQ int

const (
	protoDefault protoQ = iota
	protoIP
	protoIP6
	protoARP
	protoRARP
	protoTCP
	protoUDP
	protoSCTP
	protoICMP
	protoICMP6
)

var protoNames = map[string]protoQ{
	"ip": protoIP, "ip6": protoIP6, "arp": protoARP, "rarp": protoRARP,
	"tcp": protoTCP, "udp": protoUDP, "sctp": protoSCTP,
	"icmp": protoICMP, "icmp6": protoICMP6,
}

func (p protoQ) String() string {
	for k, v := range protoNames {
		if v == p {
			return k
		}
	}
	return ""
}

type dirQ int

const (
	dirDefault dirQ = iota // src or dst, the tcpdump default
	dirSrc
	dirDst
	dirSrcOrDst
	dirSrcAndDst
)

func (d dirQ) String() string {
	return [...]string{"", "src", "dst", "src or dst", "src and dst"}[d]
}

type addrQ int

const (
	addrDefault addrQ = iota // "src 1.2.3.4": an address without host/net
	addrHost
	addrNet
	addrPort
	addrPortrange
)

// qual is the qualifier set carried from one primitive to a following bare
// value ("host a or b"). err marks qualifiers that cannot be carried (after
// "tcp" or "less 10", as libpcap's qerr): a bare value there is an error.
type qual struct {
	proto protoQ
	dir   dirQ
	addr  addrQ
	err   bool
}

var qerr = qual{err: true}

// unsupportedWords are pcap-filter(7) keywords that this package does not
// implement. They are listed so that they are reported as unsupported
// primitives rather than mistaken for host names.
var unsupportedWords = map[string]bool{
	"ether": true, "fddi": true, "tr": true, "wlan": true, "link": true, "ppp": true,
	"slip": true, "vlan": true, "mpls": true, "pppoed": true, "pppoes": true,
	"geneve": true, "vxlan": true, "gateway": true, "proto": true, "protochain": true,
	"broadcast": true, "multicast": true, "inbound": true, "outbound": true,
	"ifname": true, "on": true, "rnr": true, "rulenum": true, "reason": true,
	"rset": true, "ruleset": true, "srnr": true, "subrulenum": true, "action": true,
	"type": true, "subtype": true, "dir": true, "len": true, "atalk": true,
	"aarp": true, "decnet": true, "lat": true, "sca": true, "moprc": true,
	"mopdl": true, "iso": true, "esis": true, "es-is": true, "isis": true,
	"is-is": true, "clnp": true, "stp": true, "ipx": true, "netbeui": true,
	"igmp": true, "igrp": true, "pim": true, "vrrp": true, "carp": true,
	"ah": true, "esp": true, "radio": true, "llc": true, "addr1": true,
	"addr2": true, "addr3": true, "addr4": true, "ta": true, "ra": true,
	"bssid": true, "fisu": true, "lssu": true, "msu": true, "hfisu": true,
	"hlssu": true, "hmsu": true, "sio": true, "opc": true, "dpc": true,
	"sls": true, "hsio": true, "hopc": true, "hdpc": true, "hsls": true,
	"atmfield": true, "vpi": true, "vci": true, "lane": true, "oamf4": true,
	"oamf4s": true, "oamf4e": true, "oam": true, "metac": true, "bcc": true,
	"sc": true, "ilmic": true, "metaconnect": true, "connectmsg": true,
	"host6": true, "ip6net": true, "ipv6": true,
}

// keywords are the words with a grammatical role in this package.
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "host": true, "net": true, "mask": true,
	"port": true, "portrange": true, "src": true, "dst": true, "less": true, "greater": true,
}

func isKeyword(w string) bool {
	_, proto := protoNames[w]
	return proto || keywords[w] || unsupportedWords[w]
}

type parser struct {
	toks []token
	i    int
}

// parse parses a whole filter expression.
func parse(s string) (node, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, _, err := p.expr(qerr)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tRParen {
			return nil, &Error{Pos: t.pos, Msg: `unbalanced ")"`}
		}
		if t.kind == tWord && unsupportedWords[t.text] {
			return nil, unknownPrimitive(t) // e.g. "proto" in "ip proto 6"
		}
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("unexpected %s (primitives must be joined with and/or)", t)}
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (t token) isWord(w string) bool { return t.kind == tWord && t.text == w }
func (t token) isAnd() bool          { return t.kind == tAnd || t.isWord("and") }
func (t token) isOr() bool           { return t.kind == tOr || t.isWord("or") }
func (t token) isNot() bool          { return t.kind == tNot || t.isWord("not") }

// isValue reports whether t is a bare value (address, number or name)
// rather than a keyword or punctuation.
func (t token) isValue() bool { return t.kind == tWord && !isKeyword(t.text) }

// expr parses: term { (and|or) (term | id) }, left-associative with equal
// precedence for "and" and "or", as in libpcap's grammar. q is the
// qualifier set in force before the expression (used by parenthesised
// sub-expressions); the returned qual is the one a following bare value
// inherits.
func (p *parser) expr(q qual) (node, qual, error) {
	n, q, err := p.term(q)
	if err != nil {
		return nil, q, err
	}
	for {
		t := p.peek()
		if !t.isAnd() && !t.isOr() {
			return n, q, nil
		}
		p.next()
		var m node
		if p.startsID() {
			// "host a or b": the bare value inherits q, and q stays.
			m, err = p.id(q)
		} else {
			m, q, err = p.term(q)
		}
		if err != nil {
			return nil, q, err
		}
		if t.isAnd() {
			n = andNode{n, m}
		} else {
			n = orNode{n, m}
		}
	}
}

// startsID reports whether the upcoming tokens form a bare value (possibly
// behind "not" and "("), i.e. libpcap's "id" rather than a "term".
func (p *parser) startsID() bool {
	for k := 0; ; k++ {
		t := p.peekAt(k)
		if t.isNot() || t.kind == tLParen {
			continue
		}
		// A number followed by an operator starts a comparison
		// ("tcp and 1500 < len"), not a bare value.
		if nt := p.peekAt(k + 1); nt.kind == tOp || nt.kind == tRel {
			return false
		}
		return t.isValue()
	}
}

// term parses: not term | ( expr ) | [qualifiers] id | protocol | less N |
// greater N.
func (p *parser) term(q qual) (node, qual, error) {
	t := p.peek()
	switch {
	case t.isNot():
		p.next()
		n, q2, err := p.term(q)
		if err != nil {
			return nil, q, err
		}
		return notNode{n}, q2, nil
	case t.kind == tLParen:
		return p.parenTerm(q)
	case t.kind == tEOF:
		return nil, q, &Error{Pos: t.pos, Msg: "unexpected end of filter, expected a primitive"}
	case t.kind == tOp:
		n, err := p.relation() // reports unary minus
		return n, qerr, err
	case t.kind != tWord:
		return nil, q, &Error{Pos: t.pos, Msg: fmt.Sprintf("unexpected %s, expected a primitive", t)}
	}
	if p.startsArith() {
		n, err := p.relation()
		return n, qerr, err
	}
	w := t.text
	switch {
	case w == "less" || w == "greater":
		n, err := p.lengthTerm()
		if err != nil {
			return nil, q, err
		}
		return n, qerr, nil
	case unsupportedWords[w]:
		return nil, q, unknownPrimitive(t)
	case t.isValue():
		if looksLikeAddress(w) {
			return nil, q, &Error{Pos: t.pos, Msg: fmt.Sprintf("%q needs a qualifier such as host, net or port", w)}
		}
		return nil, q, unknownPrimitive(t)
	}
	return p.qualifiedTerm(q)
}

// parenTerm parses a term that starts with "(": an arithmetic operand or
// a parenthesised expression.
func (p *parser) parenTerm(q qual) (node, qual, error) {
	t := p.peek()
	// "(" opens either an arithmetic operand, as in
	// "(tcp[0] + 1) > 2", or a boolean sub-expression. Try the
	// former first and fall back, as the grammar is ambiguous
	// without unbounded lookahead.
	save := p.i
	if n, err := p.relation(); err == nil {
		return n, qerr, nil
	}
	p.i = save
	p.next()
	n, _, err := p.expr(q)
	if err != nil {
		return nil, q, err
	}
	if c := p.next(); c.kind != tRParen {
		return nil, q, &Error{Pos: c.pos, Msg: fmt.Sprintf(`expected ")" to close "(" at column %d, found %s`, t.pos, c)}
	}
	// As in libpcap, a parenthesised expression passes on the
	// qualifiers that were in force before it.
	return n, q, nil
}

// lengthTerm parses "less N" or "greater N".
func (p *parser) lengthTerm() (node, error) {
	w := p.next().text
	v := p.next()
	if v.kind != tWord || !isNumber(v.text) {
		return nil, &Error{Pos: v.pos, Msg: fmt.Sprintf("%q needs a number, found %s", w, v)}
	}
	n, err := parseNumber(v)
	if err != nil {
		return nil, err
	}
	k := primLess
	if w == "greater" {
		k = primGreater
	}
	return &prim{kind: k, n: n}, nil
}

// qualifiedTerm parses a primitive that starts with a qualifier word:
// [proto] [dir] [host|net|port|portrange] id, or a protocol name alone.
func (p *parser) qualifiedTerm(q qual) (node, qual, error) {
	t := p.peek()
	nq := qual{}
	proto, isProto := protoNames[t.text]
	if isProto {
		p.next()
		nt := p.peek()
		if !nt.isWord("src") && !nt.isWord("dst") && !nt.isWord("host") && !nt.isWord("net") &&
			!nt.isWord("port") && !nt.isWord("portrange") {
			// A bare protocol name such as "tcp".
			return &prim{kind: primProto, proto: proto}, qerr, nil
		}
		nq.proto = proto
	}
	nq.dir = p.direction()
	nq.addr = addrKind(p.peek())
	if nq.addr != addrDefault {
		p.next()
	} else if nq.dir == dirDefault {
		// Not a qualifier word at all (e.g. "mask" or "and" in the wrong place).
		return nil, q, &Error{Pos: t.pos, Msg: fmt.Sprintf("unexpected %s, expected a primitive", t)}
	}
	n, err := p.id(nq)
	if err != nil {
		return nil, q, err
	}
	return n, nq, nil
}

// addrKind returns the kind of address a qualifier word t names, or
// addrDefault when t is not one.
func addrKind(t token) addrQ {
	switch {
	case t.isWord("host"):
		return addrHost
	case t.isWord("net"):
		return addrNet
	case t.isWord("port"):
		return addrPort
	case t.isWord("portrange"):
		return addrPortrange
	}
	return addrDefault
}

// direction parses a direction qualifier, if one comes next: src, dst,
// "src or dst" or "src and dst".
func (p *parser) direction() dirQ {
	d := p.peek()
	if !d.isWord("src") && !d.isWord("dst") {
		return dirDefault
	}
	p.next()
	dir, other := dirSrc, "dst"
	if d.text == "dst" {
		dir, other = dirDst, "src"
	}
	if c := p.peek(); (c.isAnd() || c.isOr()) && p.peekAt(1).isWord(other) {
		p.next()
		p.next()
		dir = dirSrcOrDst
		if c.isAnd() {
			dir = dirSrcAndDst
		}
	}
	return dir
}

func unknownPrimitive(t token) error {
	return &Error{Pos: t.pos, Msg: fmt.Sprintf("unknown primitive %q; %s", t.text, supportedList)}
}

// id parses a value governed by the qualifiers q: a value, "not id", or a
// parenthesised list of ids joined by and/or ("host a and (b or c)").
func (p *parser) id(q qual) (node, error) {
	t := p.next()
	switch {
	case t.isNot():
		n, err := p.id(q)
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	case t.kind == tLParen:
		n, err := p.id(q)
		if err != nil {
			return nil, err
		}
		for {
			c := p.next()
			if c.kind == tRParen {
				return n, nil
			}
			if !c.isAnd() && !c.isOr() {
				return nil, &Error{Pos: c.pos, Msg: fmt.Sprintf(`expected and, or or ")" in the list of values opened at column %d, found %s`, t.pos, c)}
			}
			m, err := p.id(q)
			if err != nil {
				return nil, err
			}
			if c.isAnd() {
				n = andNode{n, m}
			} else {
				n = orNode{n, m}
			}
		}
	case t.kind == tEOF:
		return nil, &Error{Pos: t.pos, Msg: "unexpected end of filter, expected a value"}
	case t.kind == tWord && unsupportedWords[t.text]:
		return nil, unknownPrimitive(t)
	case !t.isValue():
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("unexpected %s, expected a value", t)}
	}
	if q.err {
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("%q needs a qualifier such as host, net or port (it cannot follow a protocol, less/greater or a comparison)", t.text)}
	}
	return p.value(q, t)
}

// value builds the primitive for qualifiers q applied to the value token t
// (which may be followed by "/LEN" or "mask M"), with libpcap's checks on
// which qualifier combinations make sense.
func (p *parser) value(q qual, t token) (node, error) {
	switch q.addr {
	case addrPort:
		return portValue(q, t)
	case addrPortrange:
		return portrangeValue(q, t)
	}

	// host, net, or an address after a bare direction ("src 1.2.3.4").
	switch q.proto {
	case protoDefault, protoIP, protoIP6, protoARP, protoRARP:
	default:
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("%q cannot qualify an address (use ip, ip6, arp or rarp)", q.proto)}
	}
	isNet := q.addr == addrNet
	pr := &prim{proto: q.proto, dir: q.dir, net: isNet}
	maskTok, maskLen, err := p.maskSuffix(isNet)
	if err != nil {
		return nil, err
	}
	if strings.Contains(t.text, ":") {
		return addr6Value(pr, t, maskTok, maskLen)
	}
	return addr4Value(pr, t, maskTok, maskLen)
}

// checkPortProto refuses a protocol qualifier that has no ports in front
// of what, "port" or "portrange".
func checkPortProto(q qual, t token, what string) error {
	switch q.proto {
	case protoDefault, protoTCP, protoUDP, protoSCTP:
		return nil
	}
	return &Error{Pos: t.pos, Msg: fmt.Sprintf("%q cannot qualify %q (use tcp, udp or sctp)", q.proto, what)}
}

// portValue builds "port N" for qualifiers q and the value token t.
func portValue(q qual, t token) (node, error) {
	w := t.text
	if err := checkPortProto(q, t, "port"); err != nil {
		return nil, err
	}
	pr := &prim{kind: primPort, proto: q.proto, dir: q.dir}
	if !isNumber(w) {
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("port %q is not a number; port names are not supported, use the number", w)}
	}
	v, err := parseNumber(t)
	if err != nil {
		return nil, err
	}
	if v > 65535 {
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("port number %d > 65535", v)}
	}
	pr.lo, pr.hi = uint16(v), uint16(v)
	return pr, nil
}

// portrangeValue builds "portrange A-B" (or "portrange A") for qualifiers
// q and the value token t.
func portrangeValue(q qual, t token) (node, error) {
	w := t.text
	if err := checkPortProto(q, t, "portrange"); err != nil {
		return nil, err
	}
	pr := &prim{kind: primPortrange, proto: q.proto, dir: q.dir}
	lo, hi, ok := strings.Cut(w, "-")
	if !ok {
		hi = lo
	}
	a, errA := strconv.ParseUint(lo, 10, 32)
	b, errB := strconv.ParseUint(hi, 10, 32)
	if errA != nil || errB != nil || lo == "" || hi == "" || lo[0] == '+' || hi[0] == '+' {
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("portrange %q must be two decimal port numbers like 8000-8080; port names are not supported", w)}
	}
	if a > 65535 || b > 65535 {
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("port number %d > 65535", max(a, b))}
	}
	if a > b {
		a, b = b, a
	}
	pr.lo, pr.hi = uint16(a), uint16(b)
	return pr, nil
}

// maskSuffix parses the optional "/LEN" or "mask M" after an address,
// which only a network may have. maskTok is the length or the mask, of
// kind tEOF when there is none; maskLen is the length after "/", or -1.
func (p *parser) maskSuffix(isNet bool) (maskTok token, maskLen int, err error) {
	maskLen = -1
	if nt := p.peek(); nt.kind == tSlash || nt.isWord("mask") {
		if !isNet {
			return maskTok, maskLen, &Error{Pos: nt.pos, Msg: "mask syntax is for networks only (use net, not host)"}
		}
		p.next()
		maskTok = p.next()
		if nt.kind == tSlash {
			if maskTok.kind != tWord || !isNumber(maskTok.text) {
				return maskTok, maskLen, &Error{Pos: maskTok.pos, Msg: fmt.Sprintf("expected a prefix length after \"/\", found %s", maskTok)}
			}
			v, err := parseNumber(maskTok)
			if err != nil {
				return maskTok, maskLen, err
			}
			maskLen = int(min(v, 1000))
		} else if maskTok.kind != tWord || !isDotted(maskTok.text) {
			return maskTok, maskLen, &Error{Pos: maskTok.pos, Msg: fmt.Sprintf("expected a dotted IPv4 netmask after \"mask\", found %s", maskTok)}
		}
	}
	return maskTok, maskLen, nil
}

// addr6Value completes pr, a host or net, with the IPv6 address token t
// and the suffix maskSuffix found after it.
func addr6Value(pr *prim, t token, maskTok token, maskLen int) (node, error) {
	w := t.text
	a, err := netip.ParseAddr(w)
	if err != nil || a.Zone() != "" || !a.Is6() {
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("%q is not a valid IPv6 address", w)}
	}
	if pr.proto != protoDefault && pr.proto != protoIP6 {
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("%q cannot qualify the IPv6 address %q", pr.proto, w)}
	}
	if maskTok.kind != tEOF && maskLen < 0 {
		return nil, &Error{Pos: maskTok.pos, Msg: `"mask" is for IPv4 networks; use /LEN for IPv6`}
	}
	if maskLen < 0 {
		maskLen = 128
	}
	if maskLen > 128 {
		return nil, &Error{Pos: maskTok.pos, Msg: "IPv6 prefix length must be <= 128"}
	}
	pr.kind = primAddr6
	pr.addr6 = a.As16()
	for i := 0; i < maskLen; i++ {
		pr.mask6[i/8] |= 0x80 >> (i % 8)
	}
	for i := range pr.addr6 {
		if pr.addr6[i]&^pr.mask6[i] != 0 {
			return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("non-network bits set in %s/%d", w, maskLen)}
		}
	}
	pr.text = w
	if maskLen != 128 {
		pr.text = fmt.Sprintf("%s/%d", w, maskLen)
	}
	return pr, nil
}

// addr4Value completes pr, a host or net, with the IPv4 address token t
// and the suffix maskSuffix found after it.
func addr4Value(pr *prim, t token, maskTok token, maskLen int) (node, error) {
	w := t.text
	isNet := pr.net
	if pr.proto == protoIP6 {
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf(`"ip6" cannot qualify the IPv4 address %q`, w)}
	}
	pr.kind = primAddr4
	switch {
	case isDotted(w):
		v, bits, err := parseDotted(t)
		if err != nil {
			return nil, err
		}
		if !isNet && bits != 32 {
			return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("%q is not a complete IPv4 address (use net for a network)", w)}
		}
		// libpcap promotes a short address: "net 10.1" is 10.1.0.0/16.
		pr.addr4 = v << (32 - bits)
		pr.mask4 = uint32(0xffffffff) << (32 - bits)
	case isNumber(w) && isNet:
		// libpcap's rule for "net N": shift the number left a byte at a
		// time until its top byte is non-zero ("net 10" is 10.0.0.0/8).
		if maskTok.kind != tEOF {
			return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("write the network as a dotted address (e.g. %s.0.0.0/8), as tcpdump requires", w)}
		}
		v, err := parseNumber(t)
		if err != nil {
			return nil, err
		}
		m := uint32(0xffffffff)
		for v != 0 && v&0xff000000 == 0 {
			v <<= 8
			m <<= 8
		}
		pr.addr4, pr.mask4 = v, m
	case isNumber(w):
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("%q is not an IPv4 address", w)}
	default:
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("grpcsniff does not resolve host names in filters; use an address instead of %q", w)}
	}
	if maskTok.kind != tEOF {
		if maskLen >= 0 {
			if maskLen > 32 {
				return nil, &Error{Pos: maskTok.pos, Msg: "IPv4 prefix length must be <= 32"}
			}
			pr.mask4 = 0
			if maskLen > 0 {
				pr.mask4 = uint32(0xffffffff) << (32 - maskLen)
			}
		} else {
			m, bits, err := parseDotted(maskTok)
			if err != nil {
				return nil, err
			}
			pr.mask4 = m << (32 - bits)
		}
		if pr.addr4&^pr.mask4 != 0 {
			return nil, &Error{Pos: t.pos, Msg: "non-network bits set in " + w}
		}
	}
	pr.text = addr4Text(pr.addr4, pr.mask4, isNet)
	return pr, nil
}

// addr4Text writes an IPv4 host or network for String: a network with
// its prefix length, or its mask when the mask is not a prefix.
func addr4Text(addr, mask uint32, isNet bool) string {
	text := fmt.Sprintf("%d.%d.%d.%d", byte(addr>>24), byte(addr>>16), byte(addr>>8), byte(addr))
	if mask != 0xffffffff || isNet {
		ones := 0
		for m := mask; m&0x80000000 != 0; m <<= 1 {
			ones++
		}
		if uint32(0xffffffff)<<(32-ones) == mask || (ones == 0 && mask == 0) {
			text += fmt.Sprintf("/%d", ones)
		} else {
			text += fmt.Sprintf(" mask %#x", mask)
		}
	}
	return text
}

// isNumber reports whether w looks like a libpcap number: decimal, 0x hex
// or 0-prefixed octal.
func isNumber(w string) bool {
	if w == "" {
		return false
	}
	if strings.HasPrefix(w, "0x") || strings.HasPrefix(w, "0X") {
		w = w[2:]
		if w == "" {
			return false
		}
		for _, c := range w {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
		return true
	}
	for _, c := range w {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseNumber converts a number token the way libpcap does (a leading 0
// means octal, so "port 080" is an error there as here).
func parseNumber(t token) (uint32, error) {
	w := t.text
	base := 10
	switch {
	case strings.HasPrefix(w, "0x") || strings.HasPrefix(w, "0X"):
		base, w = 16, w[2:]
	case len(w) > 1 && w[0] == '0':
		base, w = 8, w[1:]
	}
	v, err := strconv.ParseUint(w, base, 32)
	if err != nil {
		if base == 8 {
			return 0, &Error{Pos: t.pos, Msg: fmt.Sprintf("number %q has a leading 0 (octal, as in tcpdump) but contains non-octal digits", t.text)}
		}
		return 0, &Error{Pos: t.pos, Msg: fmt.Sprintf("number %q is out of range", t.text)}
	}
	return uint32(v), nil
}

// isDotted reports whether w is 2 to 4 dot-separated decimal numbers.
func isDotted(w string) bool {
	parts := strings.Split(w, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// parseDotted parses a (possibly short) dotted-decimal IPv4 address and
// returns its value right-aligned and its length in bits (8 per part), like
// libpcap's __pcap_atoin.
func parseDotted(t token) (v uint32, bits int, err error) {
	for _, p := range strings.Split(t.text, ".") {
		n, _ := strconv.Atoi(p)
		if n > 255 {
			return 0, 0, &Error{Pos: t.pos, Msg: fmt.Sprintf("%q: address byte %d > 255", t.text, n)}
		}
		v = v<<8 | uint32(n)
		bits += 8
	}
	return v, bits, nil
}

// looksLikeAddress is used only to word error messages.
func looksLikeAddress(w string) bool {
	return isNumber(w) || isDotted(w) || strings.Contains(w, ":")
}
