package live

// How the Windows backend runs a capture filter in Npcap's driver. Untagged
// so that its tests run everywhere; see npf.go.

import (
	"errors"
	"fmt"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Classic BPF encoding (linux/filter.h, net/bpf.h).
const (
	bpfClassMask = 0x07
	bpfClassLD   = 0x00
	bpfClassLDX  = 0x01
	bpfClassRET  = 0x06
	bpfModeMask  = 0xe0
	bpfModeIMM   = 0x00
	bpfModeABS   = 0x20
	bpfModeIND   = 0x40
	bpfModeMSH   = 0xa0
	bpfSizeMask  = 0x18
	bpfSizeW     = 0x00
	bpfRetSrcK   = 0x00
	bpfRetMask   = 0x18

	// skfAdOff is Linux's SKF_AD_OFF: absolute loads from here on read
	// socket metadata, not the packet. skfAdProtocol reads skb->protocol,
	// the packet's EtherType.
	skfAdOff      = 0xfffff000
	skfAdProtocol = skfAdOff + 0

	// npfMaxInstructions is the longest program handed to Npcap, the
	// limit gopacket's SetBPFInstructionFilter enforces.
	npfMaxInstructions = 4096
)

// ipSelector says how the program Npcap runs tells IPv4 from IPv6.
type ipSelector int

const (
	selEthernet   ipSelector = iota // the program reads the EtherType itself
	selNullFamily                   // DLT_NULL: the address family, first header byte
	selVersion                      // raw IP: the version nibble of the first byte
	selIPv4                         // every packet is IPv4
	selIPv6                         // every packet is IPv6
)

// npfFraming is what packets look like on an Npcap device and how the
// backend hands them on.
type npfFraming struct {
	out   layers.LinkType // Source.LinkType: what Next's packets start with
	strip int             // bytes of link header Next removes
	sel   ipSelector
}

// Address families in a DLT_NULL header from Npcap's loopback device: 2 for
// IPv4, 24 for IPv6 (the BSD value Npcap writes so that other tools read
// it), and 23 (Windows' own AF_INET6), which Npcap wrote before.
const (
	nullAFInet     = 2
	nullAFInet6    = 24
	nullAFInet6Win = 23
)

// EtherTypes the program's protocol load is replaced by.
const (
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86DD
)

// framingOf maps the data link type of an activated Npcap handle
// (pcap_datalink) to what the backend does with its packets. Loopback
// packets (DLT_NULL) are handed on as raw IP, so that a filter compiled for
// raw IP works on them and the decoder sees the same link type for
// loopback everywhere but Linux's lo.
func framingOf(dlt layers.LinkType) (npfFraming, error) {
	switch dlt {
	case layers.LinkTypeEthernet:
		return npfFraming{out: layers.LinkTypeEthernet, sel: selEthernet}, nil
	case layers.LinkTypeNull:
		return npfFraming{out: layers.LinkTypeRaw, strip: nullHeaderLen, sel: selNullFamily}, nil
	case 12, 14, layers.LinkTypeRaw: // DLT_RAW's values (12 on Windows)
		return npfFraming{out: layers.LinkTypeRaw, sel: selVersion}, nil
	case layers.LinkTypeIPv4:
		return npfFraming{out: layers.LinkTypeIPv4, sel: selIPv4}, nil
	case layers.LinkTypeIPv6:
		return npfFraming{out: layers.LinkTypeIPv6, sel: selIPv6}, nil
	}
	return npfFraming{}, fmt.Errorf("its link type %s (DLT %d) is not supported: grpcsniff captures on Ethernet, Wi-Fi, loopback and raw IP adapters", dlt, int(dlt))
}

// sameFilterLayout says whether a filter compiled for link type a reads
// packets of link type b correctly: Ethernet programs need Ethernet
// frames, and raw IP programs any of the IP link types.
func sameFilterLayout(a, b layers.LinkType) bool {
	return (a == layers.LinkTypeEthernet) == (b == layers.LinkTypeEthernet)
}

// npfProgram turns prog, compiled for f.out, into the program Npcap's
// driver runs on the device's own packets. An Ethernet program runs as it
// is. A raw IP program that reads the IP version from the packet
// (bpffilter.RawIPVersion, what grpcsniff compiles on Windows) runs as one
// copy. One compiled for Linux asks for the packet's EtherType
// (SKF_AD_PROTOCOL), which Npcap's BPF machine does not have; so it is
// made into two copies, one for IPv4 packets and one for IPv6, in which
// that load is the EtherType as a constant, behind a prologue that picks
// the copy from the packet's first byte. In both copies, packet loads and
// the snap length returned skip the link header Next strips (the 4-byte
// DLT_NULL header of loopback packets). "len" keeps counting that header,
// as it does in tcpdump on Npcap's loopback device.
func npfProgram(prog []bpf.RawInstruction, f npfFraming) ([]bpf.RawInstruction, error) {
	if len(prog) == 0 {
		return nil, nil
	}
	if f.sel == selEthernet {
		if usesExtensions(prog) {
			return nil, errors.New("the capture filter was compiled for raw IP packets but the device gives Ethernet frames")
		}
		return prog, nil
	}
	if !usesExtensions(prog) {
		// A program that tells IPv4 from IPv6 by the version nibble
		// (bpffilter.RawIPVersion, what bpffilter.ForLinkType compiles
		// off Linux) runs as one copy, past the header Next strips.
		if len(prog) > npfMaxInstructions {
			return nil, fmt.Errorf("the capture filter is too long for Npcap (%d instructions, at most %d)", len(prog), npfMaxInstructions)
		}
		return withEtherType(prog, 0, f.strip)
	}
	v4, err := withEtherType(prog, etherTypeIPv4, f.strip)
	if err != nil {
		return nil, err
	}
	v6, err := withEtherType(prog, etherTypeIPv6, f.strip)
	if err != nil {
		return nil, err
	}
	var out []bpf.RawInstruction
	switch f.sel {
	case selIPv4:
		out = v4
	case selIPv6:
		out = v6
	default:
		out = append(append(prologue(f.sel, len(v4)), v4...), v6...)
	}
	if len(out) > npfMaxInstructions {
		return nil, fmt.Errorf("the capture filter is too long for Npcap (%d instructions once made to tell IPv4 from IPv6, at most %d)", len(out), npfMaxInstructions)
	}
	return out, nil
}

// prologue selects the IPv4 copy of the program, which follows it and is
// n4 instructions long, or the IPv6 copy after that, by the first byte of
// the packet; any other packet is rejected.
func prologue(sel ipSelector, n4 int) []bpf.RawInstruction {
	// Both forms are seven instructions, so the jumps are the same:
	// instruction 3 jumps to the IPv4 copy at 7, instruction 5 to the IPv6
	// copy at 7+n4 (a jump's offset counts from the next instruction).
	var p []bpf.Instruction
	if sel == selNullFamily {
		p = []bpf.Instruction{
			bpf.LoadAbsolute{Off: 0, Size: 1}, // the family, little-endian
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: nullAFInet, SkipFalse: 1},
			bpf.Jump{Skip: 4}, // 2 → 7
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: nullAFInet6, SkipTrue: 1},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: nullAFInet6Win, SkipFalse: 1},
			bpf.Jump{Skip: uint32(1 + n4)}, // 5 → 7+n4
			bpf.RetConstant{Val: 0},
		}
	} else {
		p = []bpf.Instruction{
			bpf.LoadAbsolute{Off: 0, Size: 1},
			bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x40, SkipFalse: 1},
			bpf.Jump{Skip: 3}, // 3 → 7
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x60, SkipFalse: 1},
			bpf.Jump{Skip: uint32(1 + n4)}, // 5 → 7+n4
			bpf.RetConstant{Val: 0},
		}
	}
	raw, err := bpf.Assemble(p)
	if err != nil {
		panic(err) // the instructions above are fixed and valid
	}
	return raw
}

// withEtherType returns a copy of prog in which the load of the EtherType
// (SKF_AD_PROTOCOL) loads et instead, and the packet is shift bytes
// further on: loads from the packet and the nonzero snap lengths returned
// grow by shift.
func withEtherType(prog []bpf.RawInstruction, et uint32, shift int) ([]bpf.RawInstruction, error) {
	out := make([]bpf.RawInstruction, len(prog))
	for i, ins := range prog {
		class, mode := ins.Op&bpfClassMask, ins.Op&bpfModeMask
		switch {
		case class == bpfClassLD && mode == bpfModeABS && ins.K >= skfAdOff:
			if ins.K != skfAdProtocol || ins.Op&bpfSizeMask != bpfSizeW {
				return nil, fmt.Errorf("the capture filter asks Linux for socket data (instruction %d) that Npcap does not have", i)
			}
			ins = bpf.RawInstruction{Op: bpfClassLD | bpfSizeW | bpfModeIMM, K: et}
		case class == bpfClassLD && (mode == bpfModeABS || mode == bpfModeIND),
			class == bpfClassLDX && mode == bpfModeMSH:
			ins.K += uint32(shift)
		case class == bpfClassRET && ins.Op&bpfRetMask == bpfRetSrcK && ins.K > 0:
			ins.K = uint32(min(uint64(ins.K)+uint64(shift), 1<<32-1))
		}
		out[i] = ins
	}
	return out, nil
}

// usesExtensions says whether prog reads Linux socket metadata.
func usesExtensions(prog []bpf.RawInstruction) bool {
	for _, ins := range prog {
		if ins.Op&bpfClassMask == bpfClassLD && ins.Op&bpfModeMask == bpfModeABS && ins.K >= skfAdOff {
			return true
		}
	}
	return false
}
