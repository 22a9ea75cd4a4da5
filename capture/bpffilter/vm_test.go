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
	var a, x uint32
	var mem [16]uint32
	load := func(off uint32, size uint16) (uint32, bool) {
		if off >= skfAdOff {
			switch off - skfAdOff {
			case skfAdProtocol:
				return proto, true
			case 4: // SKF_AD_PKTTYPE: PACKET_HOST
				return 0, true
			}
			panic(fmt.Sprintf("unsupported ancillary load %#x", off))
		}
		n := map[uint16]uint32{sizeW: 4, sizeH: 2, sizeB: 1}[size]
		if uint64(off)+uint64(n) > uint64(len(pkt)) {
			return 0, false
		}
		var v uint32
		for i := uint32(0); i < n; i++ {
			v = v<<8 | uint32(pkt[off+i])
		}
		return v, true
	}
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		op := in.Op
		k := in.K
		switch op & 0x07 {
		case clsLD:
			switch op & 0xe0 {
			case 0x00: // imm
				a = k
			case modeABS, modeIND:
				off := k
				if op&0xe0 == modeIND {
					off = x + k
					if int32(off) < 0 {
						// Linux reads a negative indirect offset
						// relative to a header (SKF_NET_OFF,
						// SKF_LL_OFF), never as ancillary data; -1
						// and the like land past the packet.
						return 0, nil
					}
				}
				v, ok := load(off, op&0x18)
				if !ok {
					return 0, nil
				}
				a = v
			case modeLEN:
				a = uint32(len(pkt))
			case 0x60: // mem
				a = mem[k&15]
			default:
				return 0, fmt.Errorf("pc %d: bad ld %#x", pc, op)
			}
		case clsLDX:
			switch op & 0xe0 {
			case 0x00:
				x = k
			case modeLEN:
				x = uint32(len(pkt))
			case 0x60:
				x = mem[k&15]
			case modeMSH:
				v, ok := load(k, sizeB)
				if !ok {
					return 0, nil
				}
				x = 4 * (v & 0xf)
			default:
				return 0, fmt.Errorf("pc %d: bad ldx %#x", pc, op)
			}
		case 0x02: // st
			mem[k&15] = a
		case 0x03: // stx
			mem[k&15] = x
		case clsALU:
			v := k
			if op&0x08 != 0 {
				v = x
			}
			switch op & 0xf0 {
			case 0x00:
				a += v
			case 0x10:
				a -= v
			case 0x20:
				a *= v
			case 0x30:
				if v == 0 {
					return 0, nil
				}
				a /= v
			case 0x40:
				a |= v
			case aluAND:
				a &= v
			case 0x60:
				a <<= v
			case 0x70:
				a >>= v
			case 0x80:
				a = -a
			case 0x90:
				if v == 0 {
					return 0, nil
				}
				a %= v
			case 0xa0:
				a ^= v
			default:
				return 0, fmt.Errorf("pc %d: bad alu %#x", pc, op)
			}
		case clsJMP:
			v := k
			if op&0x08 != 0 {
				v = x
			}
			var t bool
			switch op & 0xf0 {
			case jA:
				pc += int(k)
				continue
			case jEQ:
				t = a == v
			case jGT:
				t = a > v
			case jGE:
				t = a >= v
			case jSET:
				t = a&v != 0
			default:
				return 0, fmt.Errorf("pc %d: bad jmp %#x", pc, op)
			}
			if t {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case opRET:
			if op&0x18 == 0x10 {
				return a, nil
			}
			return k, nil
		case 0x07: // misc
			if op&0xf8 == 0 {
				x = a // tax
			} else {
				a = x // txa
			}
		}
	}
	return 0, fmt.Errorf("fell off the end of the program")
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
