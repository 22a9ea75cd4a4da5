package bpffilter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// run interprets a classic BPF program over pkt the way the Linux kernel
// does for a socket filter, including the SKF_AD_PROTOCOL ancillary load
// (which x/net/bpf's VM does not implement): proto is the value of
// skb->protocol. A load outside the packet ends the program with verdict 0,
// as in the kernel and in libpcap's bpf_filter. It returns the value of the
// ret instruction (0 = drop).
func run(prog []bpf.RawInstruction, pkt []byte, proto uint32) (uint32, error) {
	m := &vm{pkt: pkt, proto: proto}
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		op := in.Op
		k := in.K
		var drop bool
		var err error
		switch op & 0x07 {
		case clsLD:
			drop, err = m.ld(in)
		case clsLDX:
			drop, err = m.ldx(in)
		case 0x02: // st
			m.mem[k&15] = m.a
		case 0x03: // stx
			m.mem[k&15] = m.x
		case clsALU:
			drop, err = m.alu(in)
		case clsJMP:
			var skip int
			skip, err = m.jmp(in)
			pc += skip
		case opRET:
			if op&0x18 == 0x10 {
				return m.a, nil
			}
			return k, nil
		case 0x07: // misc
			if op&0xf8 == 0 {
				m.x = m.a // tax
			} else {
				m.a = m.x // txa
			}
		}
		if err != nil {
			return 0, fmt.Errorf("pc %d: %v", pc, err)
		}
		if drop {
			return 0, nil
		}
	}
	return 0, fmt.Errorf("fell off the end of the program")
}

// vm is the state of a program that run interprets: the registers, the
// scratch memory, and what the program reads.
type vm struct {
	a, x  uint32
	mem   [16]uint32
	pkt   []byte
	proto uint32 // skb->protocol
}

// load reads size bytes at off of the packet, or ancillary data; ok is
// false for a load outside the packet.
func (m *vm) load(off uint32, size uint16) (v uint32, ok bool) {
	if off >= skfAdOff {
		switch off - skfAdOff {
		case skfAdProtocol:
			return m.proto, true
		case 4: // SKF_AD_PKTTYPE: PACKET_HOST
			return 0, true
		}
		panic(fmt.Sprintf("unsupported ancillary load %#x", off))
	}
	n := map[uint16]uint32{sizeW: 4, sizeH: 2, sizeB: 1}[size]
	if uint64(off)+uint64(n) > uint64(len(m.pkt)) {
		return 0, false
	}
	for i := uint32(0); i < n; i++ {
		v = v<<8 | uint32(m.pkt[off+i])
	}
	return v, true
}

// ld runs a load into A; drop says the program ends with verdict 0.
func (m *vm) ld(in bpf.RawInstruction) (drop bool, err error) {
	op, k := in.Op, in.K
	switch op & 0xe0 {
	case 0x00: // imm
		m.a = k
	case modeABS, modeIND:
		off := k
		if op&0xe0 == modeIND {
			off = m.x + k
			if int32(off) < 0 {
				// Linux reads a negative indirect offset
				// relative to a header (SKF_NET_OFF,
				// SKF_LL_OFF), never as ancillary data; -1
				// and the like land past the packet.
				return true, nil
			}
		}
		v, ok := m.load(off, op&0x18)
		if !ok {
			return true, nil
		}
		m.a = v
	case modeLEN:
		m.a = uint32(len(m.pkt))
	case 0x60: // mem
		m.a = m.mem[k&15]
	default:
		return false, fmt.Errorf("bad ld %#x", op)
	}
	return false, nil
}

// ldx runs a load into X; drop says the program ends with verdict 0.
func (m *vm) ldx(in bpf.RawInstruction) (drop bool, err error) {
	op, k := in.Op, in.K
	switch op & 0xe0 {
	case 0x00:
		m.x = k
	case modeLEN:
		m.x = uint32(len(m.pkt))
	case 0x60:
		m.x = m.mem[k&15]
	case modeMSH:
		v, ok := m.load(k, sizeB)
		if !ok {
			return true, nil
		}
		m.x = 4 * (v & 0xf)
	default:
		return false, fmt.Errorf("bad ldx %#x", op)
	}
	return false, nil
}

// alu runs an arithmetic instruction; drop says the program ends with
// verdict 0 (a division by zero).
func (m *vm) alu(in bpf.RawInstruction) (drop bool, err error) {
	op := in.Op
	v := in.K
	if op&0x08 != 0 {
		v = m.x
	}
	switch op & 0xf0 {
	case 0x00:
		m.a += v
	case 0x10:
		m.a -= v
	case 0x20:
		m.a *= v
	case 0x30:
		if v == 0 {
			return true, nil
		}
		m.a /= v
	case 0x40:
		m.a |= v
	case aluAND:
		m.a &= v
	case 0x60:
		m.a <<= v
	case 0x70:
		m.a >>= v
	case 0x80:
		m.a = -m.a
	case 0x90:
		if v == 0 {
			return true, nil
		}
		m.a %= v
	case 0xa0:
		m.a ^= v
	default:
		return false, fmt.Errorf("bad alu %#x", op)
	}
	return false, nil
}

// jmp runs a jump and returns how many instructions it skips.
func (m *vm) jmp(in bpf.RawInstruction) (skip int, err error) {
	op := in.Op
	v := in.K
	if op&0x08 != 0 {
		v = m.x
	}
	var t bool
	switch op & 0xf0 {
	case jA:
		return int(in.K), nil
	case jEQ:
		t = m.a == v
	case jGT:
		t = m.a > v
	case jGE:
		t = m.a >= v
	case jSET:
		t = m.a&v != 0
	default:
		return 0, fmt.Errorf("bad jmp %#x", op)
	}
	if t {
		return int(in.Jt), nil
	}
	return int(in.Jf), nil
}

// validate checks what the kernel's bpf_check_classic checks that matters
// here: known opcodes, jumps inside the program, and a final ret.
func validate(prog []bpf.RawInstruction) error {
	if len(prog) == 0 || len(prog) > MaxInstructions {
		return fmt.Errorf("bad program length %d", len(prog))
	}
	for pc, in := range prog {
		if _, ok := in.Disassemble().(bpf.RawInstruction); ok {
			return fmt.Errorf("pc %d: unknown instruction %+v", pc, in)
		}
		if in.Op&0x07 == clsJMP {
			if in.Op&0xf0 == jA {
				if uint64(pc)+1+uint64(in.K) >= uint64(len(prog)) {
					return fmt.Errorf("pc %d: ja out of range", pc)
				}
			} else if pc+1+int(max(in.Jt, in.Jf)) >= len(prog) {
				return fmt.Errorf("pc %d: jump out of range", pc)
			}
		}
	}
	if last := prog[len(prog)-1]; last.Op&0x07 != opRET {
		return fmt.Errorf("program does not end with ret")
	}
	return nil
}
