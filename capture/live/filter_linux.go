package live

import (
	"fmt"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// pkttype values of skb->pkt_type (linux/if_packet.h).
const packetOutgoing = 4 // PACKET_OUTGOING: a copy of a packet this host sends

// maxInstructions is the kernel's limit on a classic BPF program
// (BPF_MAXINSNS).
const maxInstructions = 4096

// programSpec says what the kernel filter of a socket has to do besides the
// user's filter.
type programSpec struct {
	// dropOutgoingOn is the index of the loopback interface whose outgoing
	// copies are dropped, or 0 for none. On lo every packet passes the
	// packet taps twice, once leaving (PACKET_OUTGOING) and once arriving;
	// libpcap and tcpdump show it once, and so do we.
	dropOutgoingOn int
	// allInterfaces: the socket is bound to every interface, so the
	// outgoing copies are dropped only for packets on dropOutgoingOn
	// (SKF_AD_IFINDEX) rather than for all of them.
	allInterfaces bool
	// ipOnly drops packets that are neither IPv4 nor IPv6 (ARP, LLDP, ...):
	// a SOCK_DGRAM socket gives packets from the network header on, which
	// LINKTYPE_RAW can only describe for IP.
	ipOnly bool
	// snaplen is what the program returns when there is no user filter: the
	// return value of a socket filter is how many bytes the kernel keeps.
	snaplen int
}

// buildProgram returns the kernel filter: a prefix of checks that drop what
// spec asks for, followed by the user's program (or "accept snaplen bytes"
// when user is empty). Prepending is safe because classic BPF jumps are
// relative and only go forward: the user's jumps keep their targets. The
// prefix uses Linux's ancillary loads (SKF_AD_PKTTYPE, SKF_AD_IFINDEX,
// SKF_AD_PROTOCOL), which read skb fields and work whatever the data
// starts with.
func buildProgram(user []bpf.RawInstruction, spec programSpec) ([]bpf.RawInstruction, error) {
	var prog []bpf.Instruction
	var toDrop, toAccept []int // indexes of jumps to patch
	if spec.dropOutgoingOn > 0 {
		if spec.allInterfaces {
			// if ifindex != lo: skip the pkttype test (2 instructions).
			prog = append(prog,
				bpf.LoadExtension{Num: bpf.ExtInterfaceIndex},
				bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(spec.dropOutgoingOn), SkipTrue: 2},
			)
		}
		prog = append(prog, bpf.LoadExtension{Num: bpf.ExtType})
		toDrop = append(toDrop, len(prog))
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing})
	}
	if spec.ipOnly {
		prog = append(prog, bpf.LoadExtension{Num: bpf.ExtProto}) // host byte order
		toAccept = append(toAccept, len(prog))
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.ETH_P_IP})
		toDrop = append(toDrop, len(prog))
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: unix.ETH_P_IPV6})
	}
	if len(toDrop) > 0 {
		// Fall-through skips the drop; the accept label follows it.
		prog = append(prog, bpf.Jump{Skip: 1})
		drop := len(prog)
		prog = append(prog, bpf.RetConstant{Val: 0})
		accept := len(prog)
		// The user's program may rely on A starting at 0 as the kernel
		// promises at entry, and the prefix changed A.
		prog = append(prog, bpf.LoadConstant{Dst: bpf.RegA, Val: 0})
		for _, i := range toDrop {
			j := prog[i].(bpf.JumpIf)
			j.SkipTrue = uint8(drop - i - 1)
			prog[i] = j
		}
		for _, i := range toAccept {
			j := prog[i].(bpf.JumpIf)
			j.SkipTrue = uint8(accept - i - 1)
			prog[i] = j
		}
	}
	if len(user) == 0 {
		prog = append(prog, bpf.RetConstant{Val: uint32(spec.snaplen)})
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("assembling the capture filter prefix: %w", err)
	}
	raw = append(raw, user...)
	if len(raw) > maxInstructions {
		return nil, fmt.Errorf("capture filter has %d instructions, more than the kernel's limit of %d", len(raw), maxInstructions)
	}
	return raw, nil
}
