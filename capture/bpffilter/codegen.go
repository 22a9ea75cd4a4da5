package bpffilter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// Classic BPF opcode fields (linux/filter.h). x/net/bpf does not export
// them, and the code generator needs to emit jumps to labels it resolves
// itself, so it works on bpf.RawInstruction directly.
const (
	clsLD   = 0x00
	clsLDX  = 0x01
	clsALU  = 0x04
	clsJMP  = 0x05
	opRET   = 0x06
	sizeW   = 0x00
	sizeH   = 0x08
	sizeB   = 0x10
	modeABS = 0x20
	modeIND = 0x40
	modeLEN = 0x80
	modeMSH = 0xa0
	aluAND  = 0x50
	modeIMM = 0x00
	modeMEM = 0x60
	stA     = 0x02 // st M[k]
	miscTAX = 0x07 // X = A
	srcX    = 0x08
	jA      = 0x00
	jEQ     = 0x10
	jGT     = 0x20
	jGE     = 0x30
	jSET    = 0x40
	srcK    = 0x00

	// skfAdOff is SKF_AD_OFF: absolute loads at this offset and above
	// read kernel metadata instead of packet bytes.
	skfAdOff      = 0xfffff000
	skfAdProtocol = 0
)

// cond is a boolean tree of tests: atom, cAnd, cOr, cNot, cConst.
type cond interface{}

type cAnd struct{ a, b cond }
type cOr struct{ a, b cond }
type cNot struct{ x cond }

// cConst is a test whose outcome is known at compile time, such as a
// masked compare with mask 0 ("net 0.0.0.0/0"). It is folded away rather
// than emitted: libpcap's optimizer removes such loads too, and since a
// load past the end of a short packet rejects it, keeping the load would
// change the verdict on truncated packets.
type cConst bool

// and and or build binary nodes, folding constants; a nil operand stands
// for "nothing yet" so that conditions can be accumulated in loops.
func and(a, b cond) cond {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a == cConst(false):
		return a
	case a == cConst(true):
		return b
	case b == cConst(true):
		return a
	}
	return cAnd{a, b}
}

func or(a, b cond) cond {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a == cConst(true):
		return a
	case a == cConst(false):
		return b
	case b == cConst(false):
		return a
	}
	return cOr{a, b}
}

func not(a cond) cond {
	if c, ok := a.(cConst); ok {
		return !c
	}
	return cNot{a}
}

// load is the instruction sequence that puts a value in A (and, for
// indirect loads, the IPv4 header length in X). key identifies the value
// so that a repeated load of a value A already holds can be skipped.
type load struct {
	x    *bpf.RawInstruction // optional X load (ldxb 4*([nl]&0xf))
	ins  []bpf.RawInstruction
	key  string
	xkey string
	// computed marks arithmetic code (byte-offset expressions): always
	// emitted, and it leaves X and A unknown.
	computed bool
}

// atom is one test: load a value into A, then jump on op with constant k.
type atom struct {
	ld load
	op uint16
	k  uint32
}

func ldAbs(size uint16, off uint32) load {
	return load{ins: []bpf.RawInstruction{{Op: clsLD | size | modeABS, K: off}}, key: fmt.Sprintf("abs%d@%d", size, off)}
}

// ldMasked loads the 32-bit word at off and ands it with mask (omitted
// when the mask is all ones).
func ldMasked(off uint32, mask uint32) load {
	l := ldAbs(sizeW, off)
	if mask != 0xffffffff {
		l.ins = append(l.ins, bpf.RawInstruction{Op: clsALU | aluAND | srcK, K: mask})
		l.key += fmt.Sprintf("&%#x", mask)
	}
	return l
}

// ldByteMasked loads the byte at off and ands it with mask (libpcap's
// test of the IP version nibble on raw packets).
func ldByteMasked(off uint32, mask uint32) load {
	l := ldAbs(sizeB, off)
	l.ins = append(l.ins, bpf.RawInstruction{Op: clsALU | aluAND | srcK, K: mask})
	l.key += fmt.Sprintf("&%#x", mask)
	return l
}

// ldInd loads [X+off] after setting X to the IPv4 header length of the
// header at ihlOff (libpcap's "ldxb 4*([14]&0xf)").
func ldInd(size uint16, ihlOff, off uint32) load {
	x := bpf.RawInstruction{Op: clsLDX | sizeB | modeMSH, K: ihlOff}
	xkey := fmt.Sprintf("msh@%d", ihlOff)
	return load{
		x:    &x,
		xkey: xkey,
		ins:  []bpf.RawInstruction{{Op: clsLD | size | modeIND, K: off}},
		key:  fmt.Sprintf("ind%d@%s+%d", size, xkey, off),
	}
}

func ldLen() load {
	return load{ins: []bpf.RawInstruction{{Op: clsLD | sizeW | modeLEN}}, key: "len"}
}

// ldProto is SKF_AD_PROTOCOL, i.e. bpf.LoadExtension{Num: bpf.ExtProto}.
func ldProto() load {
	return load{ins: []bpf.RawInstruction{{Op: clsLD | sizeW | modeABS, K: skfAdOff + skfAdProtocol}}, key: "proto"}
}

// regs is what the generator knows about A and X at a point of the
// program ("" = unknown).
type regs struct{ a, x string }

// insn is an instruction whose jump targets are labels, resolved once the
// program is complete.
type insn struct {
	raw    bpf.RawInstruction
	jt, jf int // labels for conditional jumps, -1 otherwise
	ja     int // label for an unconditional jump, -1 otherwise
}

type label struct {
	insn    int    // index (in gen.ins, before trampolines) of the instruction it marks; -1 until placed
	sources []regs // register state at each jump to it
}

// gen emits code for a cond tree with forward jumps only.
type gen struct {
	ins       []insn
	labels    []label
	pending   []int // labels placed but not yet bound to an instruction
	cur       regs
	reachable bool // whether control can fall through to the next instruction
}

func (g *gen) newLabel() int {
	g.labels = append(g.labels, label{insn: -1})
	return len(g.labels) - 1
}

// place marks the label at the next emitted instruction and computes the
// register state there: known only if every way in agrees.
func (g *gen) place(l int) {
	states := g.labels[l].sources
	if g.reachable {
		states = append(states, g.cur)
	}
	st := regs{}
	if len(states) > 0 {
		st = states[0]
		for _, s := range states[1:] {
			if s.a != st.a {
				st.a = ""
			}
			if s.x != st.x {
				st.x = ""
			}
		}
	}
	g.cur = st
	g.reachable = true
	g.pending = append(g.pending, l)
}

func (g *gen) emit(in insn) {
	for _, l := range g.pending {
		g.labels[l].insn = len(g.ins)
	}
	g.pending = g.pending[:0]
	g.ins = append(g.ins, in)
}

func (g *gen) emitRaw(r bpf.RawInstruction) { g.emit(insn{raw: r, jt: -1, jf: -1, ja: -1}) }

// compile emits code that jumps to label t if c holds and to f otherwise.
func (g *gen) compile(c cond, t, f int) {
	switch c := c.(type) {
	case cAnd:
		mid := g.newLabel()
		g.compile(c.a, mid, f)
		g.place(mid)
		g.compile(c.b, t, f)
	case cOr:
		mid := g.newLabel()
		g.compile(c.a, t, mid)
		g.place(mid)
		g.compile(c.b, t, f)
	case cNot:
		g.compile(c.x, f, t)
	case cConst:
		target := f
		if c {
			target = t
		}
		g.emit(insn{raw: bpf.RawInstruction{Op: clsJMP | jA}, jt: -1, jf: -1, ja: target})
		g.labels[target].sources = append(g.labels[target].sources, g.cur)
		g.reachable = false
	case atom:
		if c.ld.x != nil && g.cur.x != c.ld.xkey {
			g.emitRaw(*c.ld.x)
			g.cur.x = c.ld.xkey
		}
		if c.ld.computed || g.cur.a != c.ld.key {
			for _, r := range c.ld.ins {
				g.emitRaw(r)
			}
			g.cur.a = c.ld.key
			if c.ld.computed {
				g.cur = regs{}
			}
		}
		// c.op may include srcX (compare A with X).
		g.emit(insn{raw: bpf.RawInstruction{Op: clsJMP | c.op, K: c.k}, jt: t, jf: f, ja: -1})
		g.labels[t].sources = append(g.labels[t].sources, g.cur)
		g.labels[f].sources = append(g.labels[f].sources, g.cur)
		g.reachable = false
	default:
		panic(fmt.Sprintf("bpffilter: unknown cond %T", c))
	}
}

// generate produces the final program: code for c, then "ret #snaplen"
// (accept) and "ret #0" (reject).
func generate(c cond, snaplen uint32) []bpf.RawInstruction {
	g := &gen{reachable: true}
	accept, reject := g.newLabel(), g.newLabel()
	g.compile(c, accept, reject)
	g.place(accept)
	g.emitRaw(bpf.RawInstruction{Op: opRET | srcK, K: snaplen})
	g.reachable = false
	g.place(reject)
	g.emitRaw(bpf.RawInstruction{Op: opRET | srcK, K: 0})
	if len(g.ins) > MaxInstructions {
		// Too large anyway (Compile reports it); skip jump resolution,
		// whose trampoline passes are quadratic in the worst case.
		raw := make([]bpf.RawInstruction, len(g.ins))
		for i, in := range g.ins {
			raw[i] = in.raw
		}
		return raw
	}
	return g.resolve()
}

// resolve turns label references into relative offsets. Conditional jumps
// can only skip 255 instructions; a farther target is reached through an
// unconditional "ja" (32-bit offset) inserted right after the jump. Each
// insertion can push other jumps out of range, so repeat until stable.
func (g *gen) resolve() []bpf.RawInstruction {
	// Work with instruction identities so insertions do not invalidate labels.
	type node struct {
		insn
		id int
	}
	target := make([]int, len(g.labels)) // label -> instruction id
	for i, l := range g.labels {
		target[i] = l.insn
	}
	prog := make([]node, len(g.ins))
	for i, in := range g.ins {
		prog[i] = node{in, i}
	}
	nextID := len(g.ins)
	for {
		pos := make(map[int]int, len(prog))
		for i, n := range prog {
			pos[n.id] = i
		}
		changed := false
		var out []node
		for i, n := range prog {
			out = append(out, n)
			if n.jt < 0 {
				continue
			}
			for _, lp := range []*int{&out[len(out)-1].jt, &out[len(out)-1].jf} {
				if pos[target[*lp]]-(i+1) <= 255 {
					continue
				}
				// Trampoline: jump to the next instruction, which is "ja".
				tramp := node{insn{raw: bpf.RawInstruction{Op: clsJMP | jA}, jt: -1, jf: -1, ja: *lp}, nextID}
				nextID++
				target = append(target, tramp.id)
				*lp = len(target) - 1
				out = append(out, tramp)
				changed = true
			}
		}
		prog = out
		if !changed {
			raw := make([]bpf.RawInstruction, len(prog))
			for i, n := range prog {
				raw[i] = n.raw
				if n.jt >= 0 {
					raw[i].Jt = uint8(pos[target[n.jt]] - (i + 1))
					raw[i].Jf = uint8(pos[target[n.jf]] - (i + 1))
				}
				if n.ja >= 0 {
					raw[i].K = uint32(pos[target[n.ja]] - (i + 1))
				}
			}
			return raw
		}
	}
}
