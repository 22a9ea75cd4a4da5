package live

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/net/bpf"
)

// Defaults for the zero values of Config.
const (
	DefaultSnaplen     = 262144   // tcpdump's default: whole packets, even TSO/GRO ones
	MaxSnaplen         = 262144   // larger snap lengths are lowered to this, as tcpdump does
	DefaultRingBytes   = 32 << 20 // 32 MiB: over 20k full-size packets of slack
	DefaultPollTimeout = time.Second
)

// Config says what to capture. The zero value of each field picks a default.
type Config struct {
	// Interface is the interface name, or "any" for all interfaces
	// (Linux only: a BPF device reads one interface).
	Interface string
	// Snaplen is the most bytes kept of each packet; 0 means
	// DefaultSnaplen, and more than MaxSnaplen means MaxSnaplen. With a
	// Filter, the filter's return values cut packets short too
	// (bpffilter.Compile builds them from the snaplen it is given).
	Snaplen int
	// RingBytes is the size of the ring shared with the kernel (tcpdump
	// -B); 0 means DefaultRingBytes. On the BSDs it is the BPF device's
	// buffer, which the kernel caps (512 KiB by default on macOS and
	// FreeBSD: sysctl debug.bpf_maxbufsize, net.bpf.maxbufsize). Packets arriving while the ring is full
	// are dropped and counted in Stats.KernelDrops.
	RingBytes int
	// Filter is a classic BPF program run by the kernel on every packet,
	// compiled for LinkTypeOf(Interface) (bpffilter.ForLinkType: Ethernet,
	// RawIP when the packets start at the IP header on Linux, Null, Loop
	// or RawIPVersion on the BSDs). nil accepts every packet. The BSDs
	// refuse programs of more than 512 instructions.
	Filter []bpf.RawInstruction
	// NoPromiscuous leaves the interface out of promiscuous mode (tcpdump
	// -p). Promiscuous mode is never used on "any" and loopback devices. It
	// ends when the socket closes, even if the process dies.
	NoPromiscuous bool
	// PollTimeout is how long Next waits for a packet before returning
	// ErrIdle; 0 means DefaultPollTimeout, negative waits indefinitely
	// (Close still ends the wait).
	PollTimeout time.Duration
}

// Stats counts the work of a Source since Open.
type Stats struct {
	// Received counts the packets that passed the filter, including those
	// then dropped for lack of ring space (libpcap's ps_recv).
	Received uint64
	// Delivered counts the packets Next returned.
	Delivered uint64
	// KernelDrops counts the packets that passed the filter but found the
	// ring full (ps_drop): the reader is too slow; a larger RingBytes
	// absorbs bursts.
	KernelDrops uint64
	// QueueFreezes counts the times the ring filled up (tp_freeze_q_cnt;
	// Linux only).
	QueueFreezes uint64
	// InterfaceDrops counts the packets the interface (all of them for
	// "any") dropped before any capture could see them: the growth of
	// /sys/class/net/IFACE/statistics/rx_dropped since Open (ps_ifdrop).
	// Always 0 on the BSDs, which have no such counter for BPF to read.
	InterfaceDrops uint64
}

// withDefaults returns cfg with the defaults in place of its zero values,
// or an error for a value that makes no sense.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Interface == "" {
		return cfg, errors.New("no interface given (Config.Interface)")
	}
	if cfg.Snaplen == 0 {
		cfg.Snaplen = DefaultSnaplen
	}
	if cfg.Snaplen < 0 {
		return cfg, fmt.Errorf("snap length %d is negative", cfg.Snaplen)
	}
	cfg.Snaplen = min(cfg.Snaplen, MaxSnaplen)
	if cfg.RingBytes == 0 {
		cfg.RingBytes = DefaultRingBytes
	}
	if cfg.RingBytes < 0 {
		return cfg, fmt.Errorf("ring size %d is negative", cfg.RingBytes)
	}
	if cfg.PollTimeout == 0 {
		cfg.PollTimeout = DefaultPollTimeout
	}
	return cfg, nil
}
