package bpffilter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// Byte-offset expressions: "tcp[13] & 2 != 0", "ip[2:2] > 576",
// "len - 14 < 100". libpcap semantics:
//
//   - proto[i:n] loads n (1, 2 or 4) bytes at offset i. For ip, ip6, arp
//     and rarp the offset is from the network header; for tcp, udp, sctp
//     and icmp from the transport header of an IPv4 packet (IPv6 is not
//     considered, as in libpcap), and only on the first fragment; for
//     icmp6 from 40 bytes after the IPv6 header when its next header is
//     ICMPv6.
//   - Each load carries a guard (the packet is of that protocol); the
//     guards of both sides are tested first, then the comparison. For <,
//     <= and != the comparison is negated but the guards are not: on a
//     non-TCP packet "tcp[0] != 1" is false.
//   - Operators, loosest first: |, &, << >>, + -, * / %. libpcap gives ^
//     no precedence at all (it groups to the right against anything), so
//     here ^ must be the only operator between its parentheses.

// maxOffset bounds a constant byte offset: no packet is longer.
const maxOffset = 262144

// arith is an arithmetic expression.
type arith interface{ String() string }

type aNum uint32
type aLen struct{}
type aLoad struct {
	proto protoQ
	idx   arith
	size  uint32
}
type aBin struct {
	op   string
	l, r arith
}

func (a aNum) String() string { return fmt.Sprint(uint32(a)) }
func (aLen) String() string   { return "len" }
func (a aLoad) String() string {
	return fmt.Sprintf("%s[%s:%d]", a.proto, a.idx, a.size)
}
func (a aBin) String() string { return "(" + a.l.String() + " " + a.op + " " + a.r.String() + ")" }

// relNode is "l op r" with op one of > >= < <= = !=.
type relNode struct {
	op   string
	l, r arith
}

func (n relNode) String() string { return "[" + n.l.String() + " " + n.op + " " + n.r.String() + "]" }

// namedConstants are libpcap's symbolic offsets and values.
var namedConstants = map[string]uint32{
	"icmptype": 0, "icmpcode": 1,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5,
	"icmp-echo": 8, "icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11,
	"icmp-paramprob": 12, "icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15,
	"icmp-ireqreply": 16, "icmp-maskreq": 17, "icmp-maskreply": 18,
	"tcpflags": 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
	"tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
}

// loadableProtos are the protocols whose bytes can be addressed.
var loadableProtos = map[protoQ]bool{
	protoIP: true, protoIP6: true, protoARP: true, protoRARP: true,
	protoTCP: true, protoUDP: true, protoSCTP: true, protoICMP: true, protoICMP6: true,
}

// binaryLevel is the binding strength of arithmetic operators.
var binaryLevel = map[string]int{"^": 0, "|": 1, "&": 2, "<<": 3, ">>": 3, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5}

// startsArith reports whether the term at the current token is a
// comparison rather than a primitive: it starts with a number, len, a
// named constant, or proto[.
func (p *parser) startsArith() bool {
	t := p.peek()
	if t.kind == tOp {
		return true
	}
	if t.kind != tWord {
		return false
	}
	if p.peekAt(1).kind == tLBrack {
		return true
	}
	_, named := namedConstants[t.text]
	if t.text == "len" || named {
		return true
	}
	if isNumber(t.text) {
		nt := p.peekAt(1)
		return nt.kind == tOp || nt.kind == tRel || nt.kind == tSlash
	}
	return false
}

// relation parses "arith relop arith".
func (p *parser) relation() (node, error) {
	l, err := p.arith()
	if err != nil {
		return nil, err
	}
	op := p.next()
	if op.kind != tRel {
		return nil, &Error{Pos: op.pos, Msg: fmt.Sprintf("expected a comparison (>, >=, <, <=, =, !=) after %s, found %s", l, op)}
	}
	r, err := p.arith()
	if err != nil {
		return nil, err
	}
	rel := op.text
	if rel == "==" {
		rel = "="
	}
	n := slotsNeeded(l) + slotsNeeded(r)
	if _, ok := r.(aNum); !ok {
		n++
	}
	if n > 16 {
		return nil, &Error{Pos: op.pos, Msg: "arithmetic expression too complex (classic BPF has 16 scratch registers)"}
	}
	return relNode{op: rel, l: l, r: r}, nil
}

// arith parses a binary expression by collecting operands and operators
// and then applying precedence.
func (p *parser) arith() (arith, error) {
	first, err := p.primary()
	if err != nil {
		return nil, err
	}
	operands := []arith{first}
	var ops []token
	for {
		t := p.peek()
		if t.kind != tOp && t.kind != tSlash {
			break
		}
		p.next()
		if t.kind == tSlash {
			t.text = "/"
		}
		r, err := p.primary()
		if err != nil {
			return nil, err
		}
		ops = append(ops, t)
		operands = append(operands, r)
	}
	if len(ops) > 1 {
		for _, o := range ops {
			if o.text == "^" {
				return nil, &Error{Pos: o.pos, Msg: `"^" mixed with other operators needs parentheses (tcpdump gives it no precedence)`}
			}
		}
	}
	pos := 0
	return climbFrom(operands, ops, &pos, 0)
}

// climbFrom parses operands[*pos] and the operators after it that bind at
// least minLevel.
func climbFrom(operands []arith, ops []token, pos *int, minLevel int) (arith, error) {
	lhs := operands[*pos]
	for *pos < len(ops) && binaryLevel[ops[*pos].text] >= minLevel {
		op := ops[*pos]
		*pos++
		rhs, err := climbFrom(operands, ops, pos, binaryLevel[op.text]+1)
		if err != nil {
			return nil, err
		}
		lhs, err = makeBin(op, lhs, rhs)
		if err != nil {
			return nil, err
		}
	}
	return lhs, nil
}

// makeBin builds l op r, refusing what libpcap refuses at compile time.
func makeBin(op token, l, r arith) (arith, error) {
	if k, ok := r.(aNum); ok {
		switch {
		case (op.text == "/" || op.text == "%") && k == 0:
			return nil, &Error{Pos: op.pos, Msg: "division by zero"}
		case (op.text == "<<" || op.text == ">>") && k > 31:
			return nil, &Error{Pos: op.pos, Msg: "shift by more than 31 bits"}
		}
	}
	return aBin{op: op.text, l: l, r: r}, nil
}

// primary parses a number, a named constant, len, proto[i], proto[i:n] or
// a parenthesised expression.
func (p *parser) primary() (arith, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		a, err := p.arith()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, &Error{Pos: c.pos, Msg: fmt.Sprintf(`expected ")" to close "(" at column %d, found %s`, t.pos, c)}
		}
		return a, nil
	case tOp:
		if t.text == "-" {
			// libpcap 1.10 miscompiles unary minus ("-ip[0] = 1"
			// accepts every packet), so there is no verdict to match.
			return nil, &Error{Pos: t.pos, Msg: "unary minus is not supported"}
		}
	case tWord:
		if v, ok := namedConstants[t.text]; ok {
			return aNum(v), nil
		}
		if t.text == "len" {
			return aLen{}, nil
		}
		if isNumber(t.text) {
			v, err := parseNumber(t)
			return aNum(v), err
		}
		if p.peek().kind == tLBrack {
			return p.load(t)
		}
		if unsupportedWords[t.text] || isKeyword(t.text) {
			return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("%q cannot be used in an arithmetic expression", t.text)}
		}
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("%q is not a number", t.text)}
	}
	return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("unexpected %s in arithmetic expression", t)}
}

// load parses the "[offset]" or "[offset:size]" after t, the name of the
// protocol whose bytes are loaded.
func (p *parser) load(t token) (arith, error) {
	proto, ok := protoNames[t.text]
	if !ok || !loadableProtos[proto] {
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("byte offsets into %q are not supported; use ip, ip6, arp, rarp, tcp, udp, sctp, icmp or icmp6", t.text)}
	}
	p.next()
	idx, err := p.arith()
	if err != nil {
		return nil, err
	}
	size := uint32(1)
	if c := p.peek(); c.kind == tColon {
		p.next()
		st := p.next()
		if st.kind != tWord || !isNumber(st.text) {
			return nil, &Error{Pos: st.pos, Msg: fmt.Sprintf("expected a size after \":\", found %s", st)}
		}
		v, err := parseNumber(st)
		if err != nil {
			return nil, err
		}
		if v != 1 && v != 2 && v != 4 {
			return nil, &Error{Pos: st.pos, Msg: "data size must be 1, 2, or 4"}
		}
		size = v
	}
	if c := p.next(); c.kind != tRBrack {
		return nil, &Error{Pos: c.pos, Msg: fmt.Sprintf(`expected "]", found %s`, c)}
	}
	// A constant offset is added to the header's start in the
	// load itself: past maxOffset it could reach the range Linux
	// reads as ancillary data (offsets from -4096 up, as 32-bit
	// values), e.g. "ip[0-1]" folded to 0xffffffff.
	if k, ok := idx.(aNum); ok && uint32(k) > maxOffset {
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("byte offset %d out of range (at most %d)", uint32(k), maxOffset)}
	}
	return aLoad{proto: proto, idx: idx, size: size}, nil
}

// --- code generation ---

// arithGen emits straight-line code computing arithmetic expressions,
// using scratch memory M[0..15] for intermediate values like libpcap.
type arithGen struct {
	l      layout
	ins    []bpf.RawInstruction
	guards cond
	next   uint32 // next free scratch slot (the parser bounds their number)
}

var aluOps = map[string]uint16{"+": 0x00, "-": 0x10, "*": 0x20, "/": 0x30, "|": 0x40, "&": 0x50, "<<": 0x60, ">>": 0x70, "%": 0x90, "^": 0xa0}

func (g *arithGen) emit(op uint16, k uint32) {
	g.ins = append(g.ins, bpf.RawInstruction{Op: op, K: k})
}

func (g *arithGen) slot() uint32 {
	s := g.next
	g.next++
	return s
}

// slotsNeeded counts the scratch slots arithGen will allocate for a.
func slotsNeeded(a arith) int {
	switch a := a.(type) {
	case aBin:
		n := slotsNeeded(a.l) + slotsNeeded(a.r)
		if _, ok := a.r.(aNum); !ok {
			n++
		}
		return n
	case aLoad:
		n := slotsNeeded(a.idx)
		if _, ok := a.idx.(aNum); !ok && (a.proto == protoTCP || a.proto == protoUDP || a.proto == protoSCTP || a.proto == protoICMP) {
			n++
		}
		return n
	}
	return 0
}

// value emits code leaving a's value in A.
func (g *arithGen) value(a arith) {
	switch a := a.(type) {
	case aNum:
		g.emit(clsLD|modeIMM, uint32(a))
	case aLen:
		g.emit(clsLD|sizeW|modeLEN, 0)
	case aBin:
		g.value(a.l)
		if k, ok := a.r.(aNum); ok {
			g.emit(clsALU|aluOps[a.op]|srcK, uint32(k))
			return
		}
		s := g.slot()
		g.emit(stA, s)
		g.value(a.r)
		g.emit(miscTAX, 0)
		g.emit(clsLD|modeMEM, s)
		g.emit(clsALU|aluOps[a.op]|srcX, 0)
	case aLoad:
		g.load(a)
	}
}

// load emits proto[idx:size] and adds its guard.
func (g *arithGen) load(a aLoad) {
	size := map[uint32]uint16{1: sizeB, 2: sizeH, 4: sizeW}[a.size]
	l := g.l
	var guard cond
	switch a.proto {
	case protoIP, protoIP6, protoARP, protoRARP:
		guard = map[protoQ]cond{protoIP: l.ether(etherIP), protoIP6: l.ether(etherIP6),
			protoARP: l.ether(etherARP), protoRARP: l.ether(etherRARP)}[a.proto]
		g.indexed(a.idx, size, l.nl)
	case protoICMP6:
		guard = and(l.ether(etherIP6), l.field(sizeB, 6, ipprotoICMP6))
		g.indexed(a.idx, size, l.nl+ipv6HeaderLen)
	default: // transport protocols over IPv4
		p := map[protoQ]uint32{protoTCP: ipprotoTCP, protoUDP: ipprotoUDP, protoSCTP: ipprotoSCTP, protoICMP: ipprotoICMP}[a.proto]
		guard = and(l.ether(etherIP), and(l.field(sizeB, 9, p), not(atom{ld: ldAbs(sizeH, l.nl+6), op: jSET, k: 0x1fff})))
		if k, ok := a.idx.(aNum); ok {
			g.emit(clsLDX|sizeB|modeMSH, l.nl)
			g.emit(clsLD|size|modeIND, l.nl+uint32(k))
		} else {
			g.value(a.idx)
			s := g.slot()
			g.emit(stA, s)
			g.emit(clsLDX|sizeB|modeMSH, l.nl)
			g.emit(clsLD|modeMEM, s)
			g.emit(clsALU|0x00|srcX, 0) // A += X
			g.emit(miscTAX, 0)
			g.emit(clsLD|size|modeIND, l.nl)
		}
	}
	g.guards = and(g.guards, guard)
}

// indexed loads [base + idx]: an absolute load for a constant index,
// otherwise the index goes through X.
func (g *arithGen) indexed(idx arith, size uint16, base uint32) {
	if k, ok := idx.(aNum); ok {
		g.emit(clsLD|size|modeABS, base+uint32(k))
		return
	}
	g.value(idx)
	g.emit(miscTAX, 0)
	g.emit(clsLD|size|modeIND, base)
}

var relJump = map[string]struct {
	op  uint16
	neg bool
}{">": {jGT, false}, ">=": {jGE, false}, "=": {jEQ, false}, "<": {jGE, true}, "<=": {jGT, true}, "!=": {jEQ, true}}

func (n relNode) cond(l layout) cond {
	g := &arithGen{l: l}
	g.value(n.l)
	var op uint16
	var k uint32
	if c, ok := n.r.(aNum); ok {
		k = uint32(c)
		op = relJump[n.op].op | srcK
	} else {
		s := g.slot()
		g.emit(stA, s)
		g.value(n.r)
		g.emit(miscTAX, 0)
		g.emit(clsLD|modeMEM, s)
		op = relJump[n.op].op | srcX
	}
	var test cond = atom{ld: load{ins: g.ins, computed: true}, op: op, k: k}
	if relJump[n.op].neg {
		test = not(test)
	}
	return and(g.guards, test)
}
