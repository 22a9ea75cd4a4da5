package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/grpcsniff/grpcsniff/capture"
)

const (
	// blockRetire is TPACKET_V3's tp_retire_blk_tov: the kernel hands a ring
	// block over when it is full or this long after its first packet. It is
	// the extra latency a packet can have at low rates, and low rates also
	// retire blocks that are mostly empty, so it trades display latency
	// against ring use: 50 ms is not noticeable on a screen, and a 32 MiB
	// ring of 512 KiB blocks still holds 3 s of even the sparsest traffic.
	blockRetire = 50 * time.Millisecond
	// wakeInterval bounds how long the ring's poll blocks, so that Next
	// notices Close (the poll cannot be interrupted) and PollTimeout.
	wakeInterval = 100 * time.Millisecond
	// minBlock is the smallest ring block; blocks are powers of two so the
	// kernel can allocate them in one piece.
	minBlock = 128 << 10
	// blockOverhead covers the block descriptor and the per-packet
	// tpacket3_hdr and sockaddr_ll the kernel puts in front of the data.
	blockOverhead = 1024
)

// Source reads packets from a live interface. Its methods may be called
// from several goroutines; in particular Close may stop a Next blocked in
// another goroutine.
type Source struct {
	sourceCommon
	ifindex  int // 0 for "any"
	linkType layers.LinkType

	mu  sync.Mutex // held by Next and Close; guards the fields below
	tp  *afpacket.TPacket
	fd  int
	buf []byte // Packet.Data of the last Next: a copy out of the ring

	// sourceCommon.infoMu guards the fields below, and s.fd against Close
	// for Stats.
	downNoted bool // a warning says the interface is down
	stats     Stats
	dropsBase map[string]uint64 // rx_dropped per interface at Open
	dropsLast map[string]uint64 // last value read, kept for interfaces that vanish
}

// Open starts a capture. The socket is open and filtered before Open
// returns, so DropPrivileges may be called right after.
func Open(cfg Config) (*Source, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if strconv.IntSize == 32 {
		// gopacket's afpacket.TPacket keeps 64-bit counters that it updates
		// atomically without the alignment 32-bit platforms need: the first
		// packet would crash the program.
		return nil, fmt.Errorf("capturing on %s: %w (32-bit Linux: the AF_PACKET ring library crashes there)", cfg.Interface, ErrNotSupported)
	}
	s := &Source{sourceCommon: sourceCommon{iface: cfg.Interface, snaplen: cfg.Snaplen, pollWait: cfg.PollTimeout}}
	spec := programSpec{snaplen: cfg.Snaplen}
	promisc, err := s.useInterface(cfg, &spec)
	if err != nil {
		return nil, err
	}
	sockType := afpacket.SocketRaw
	if s.linkType == layers.LinkTypeRaw {
		// SOCK_DGRAM strips whatever link-layer header the device has, so
		// every packet, and the filter's view of it, starts at the network
		// header.
		sockType = afpacket.SocketDgram
		spec.ipOnly = true
	}
	prog, err := buildProgram(cfg.Filter, spec)
	if err != nil {
		return nil, err
	}
	tp, err := s.openRing(cfg, sockType)
	if err != nil {
		return nil, err
	}
	if err := s.attach(tp, prog, promisc); err != nil {
		return nil, err
	}
	s.buf = make([]byte, 0, min(cfg.Snaplen, 64<<10))
	s.readDropsBase()
	return s, nil
}

// useInterface looks up the interface of cfg and sets what the capture
// needs of it: its index and link type in s, in spec whether outgoing
// loopback copies are dropped and whether the socket sees every
// interface, and a warning if it is down. It returns whether to turn
// promiscuous mode on.
func (s *Source) useInterface(cfg Config, spec *programSpec) (promisc bool, err error) {
	promisc = !cfg.NoPromiscuous
	if cfg.Interface == AnyInterface {
		s.linkType = layers.LinkTypeRaw
		spec.allInterfaces = true
		spec.dropOutgoingOn = loopbackIndex()
		return false, nil
	}
	ni, err := lookupInterface(cfg.Interface)
	if err != nil {
		return false, err
	}
	s.ifindex = ni.Index
	if s.linkType, err = LinkTypeOf(cfg.Interface); err != nil {
		return false, err
	}
	if ni.Flags&net.FlagLoopback != 0 {
		spec.dropOutgoingOn = ni.Index
		promisc = false
	}
	if ni.Flags&net.FlagUp == 0 {
		s.downNoted = true
		s.warnings = append(s.warnings, fmt.Sprintf(
			"interface %s is down: nothing will be captured until it is brought up (ip link set %s up)", ni.Name, ni.Name))
	}
	return promisc, nil
}

// openRing opens the packet socket of cfg with its TPACKET_V3 ring. The
// socket receives nothing until attach has set it up.
func (s *Source) openRing(cfg Config, sockType afpacket.OptSocketType) (*afpacket.TPacket, error) {
	blockSize, numBlocks := ringGeometry(cfg.Snaplen, cfg.RingBytes)
	bindName := cfg.Interface
	if cfg.Interface == AnyInterface {
		bindName = "" // afpacket binds to ifindex 0: all interfaces
	}
	// Protocol 0 opens the socket deaf: the kernel delivers nothing to it
	// until it is bound to a protocol. afpacket binds right after creating
	// the socket, so without this, packets would reach the ring before the
	// filter is attached, unfiltered and with loopback duplicates.
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(bindName),
		afpacket.OptSocketType(sockType),
		afpacket.OptProtocol(0),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		// In TPACKET_V3 packets are packed into blocks and the frame size
		// only has to divide the block size; one frame per block keeps the
		// kernel's frame-count arithmetic trivial.
		afpacket.OptFrameSize(blockSize),
		afpacket.OptBlockSize(blockSize),
		afpacket.OptNumBlocks(numBlocks),
		afpacket.OptBlockTimeout(blockRetire),
		afpacket.OptPollTimeout(s.pollInterval()),
	)
	if err != nil {
		// afpacket flattens the errors of its setsockopt calls into text.
		if strings.Contains(err.Error(), "packet_rx_ring") {
			return nil, fmt.Errorf("capturing on %s: %w (%d MiB): %v", cfg.Interface, ErrRingRefused, blockSize*numBlocks>>20, err)
		}
		return nil, socketError(cfg.Interface, err)
	}
	return tp, nil
}

// attach makes tp the socket of s: it attaches the filter prog, turns
// promiscuous mode on if promisc, and then binds the socket so that
// packets start coming. If any of it fails, tp is closed.
func (s *Source) attach(tp *afpacket.TPacket, prog []bpf.RawInstruction, promisc bool) error {
	s.tp = tp
	fd, err := tpacketFD(tp)
	if err != nil {
		tp.Close()
		return err
	}
	s.fd = fd
	if err := tp.SetBPF(prog); err != nil {
		tp.Close()
		if errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("capturing on %s: the kernel rejected the capture filter as invalid: %w", s.iface, err)
		}
		return socketError(s.iface, err)
	}
	if promisc {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return fmt.Errorf("capturing on %s: %w: %w", s.iface, ErrPromiscuous, socketError(s.iface, err))
		}
	}
	// Now that the filter is in place, start receiving. On a down
	// interface the bind succeeds but sets the socket error ENETDOWN, which
	// Next clears; the kernel starts delivering when the interface comes up.
	err = unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: s.ifindex})
	if err != nil {
		tp.Close()
		return socketError(s.iface, err)
	}
	return nil
}

// readDropsBase reads the drop counters of the interfaces captured on,
// which Stats counts from.
func (s *Source) readDropsBase() {
	if s.iface == AnyInterface {
		s.dropsBase = allRxDropped()
	} else if n, err := rxDropped(s.iface); err == nil {
		s.dropsBase = map[string]uint64{s.iface: n}
	}
	s.dropsLast = map[string]uint64{}
	for k, v := range s.dropsBase {
		s.dropsLast[k] = v
	}
}

// ringGeometry picks the TPACKET_V3 block size and count: blocks are the
// smallest power of two at least minBlock that holds a snaplen packet, and
// there are as many as fit in ringBytes, but at least two so that the
// kernel can fill one while the reader reads the other.
func ringGeometry(snaplen, ringBytes int) (blockSize, numBlocks int) {
	blockSize = minBlock
	for blockSize < snaplen+blockOverhead {
		blockSize *= 2
	}
	numBlocks = max(ringBytes/blockSize, 2)
	return blockSize, numBlocks
}

// pollInterval is how long one poll of the ring may block.
func (s *Source) pollInterval() time.Duration {
	if s.pollWait > 0 && s.pollWait < wakeInterval {
		return max(s.pollWait, time.Millisecond)
	}
	return wakeInterval
}

// tpacketFD returns the socket of tp. afpacket does not export it, but the
// capture needs it for what afpacket does not do: binding the socket again
// after attaching the filter, and reading the socket error.
func tpacketFD(tp *afpacket.TPacket) (int, error) {
	f := reflect.ValueOf(tp).Elem().FieldByName("fd")
	if !f.IsValid() || f.Kind() != reflect.Int || f.Int() < 0 {
		return -1, errors.New("afpacket.TPacket has no fd field: this afpacket version is not supported")
	}
	return int(f.Int()), nil
}

// htons returns v in network byte order as the host reads it, which is
// what the protocol field of a sockaddr_ll holds.
func htons(v uint16) uint16 {
	return binary.NativeEndian.Uint16(binary.BigEndian.AppendUint16(nil, v))
}

// loopbackIndex returns the index of the first loopback interface (lo), or
// 0 if there is none.
func loopbackIndex() int {
	ifs, err := net.Interfaces()
	if err != nil {
		return 0
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 {
			return i.Index
		}
	}
	return 0
}

// CapturedInterfaces returns the interfaces whose drop counters
// Stats.InterfaceDrops adds up: the one captured on, or for "any" those
// that existed at Open, sorted by name.
func (s *Source) CapturedInterfaces() []string {
	s.infoMu.Lock()
	defer s.infoMu.Unlock()
	names := make([]string, 0, len(s.dropsBase))
	for name := range s.dropsBase {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// LinkType says what Packet.Data starts with: layers.LinkTypeEthernet, or
// layers.LinkTypeRaw for an IPv4 or IPv6 header.
func (s *Source) LinkType() layers.LinkType { return s.linkType }

// Next returns the next packet. Packet.Data is a copy out of the ring, valid
// until the following call to Next. Next returns ErrIdle when PollTimeout
// passes without a packet, and io.EOF once Close has been called.
func (s *Source) Next() (capture.Packet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	deadline := s.deadline()
	for {
		if s.closed.Load() {
			return capture.Packet{}, io.EOF
		}
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		switch {
		case err == nil:
			if len(data) > s.snaplen {
				data = data[:s.snaplen]
			}
			s.buf = append(s.buf[:0], data...)
			s.infoMu.Lock()
			s.stats.Delivered++
			s.downNoted = false
			s.infoMu.Unlock()
			return capture.Packet{
				Data:          s.buf,
				Time:          ci.Timestamp,
				LinkType:      s.linkType,
				CaptureLength: len(s.buf),
				Length:        max(ci.Length, len(s.buf)),
			}, nil
		case errors.Is(err, afpacket.ErrTimeout):
			if err := s.checkGone(); err != nil {
				return capture.Packet{}, err
			}
			if !deadline.IsZero() && !time.Now().Before(deadline) {
				return capture.Packet{}, ErrIdle
			}
		case errors.Is(err, afpacket.ErrPoll):
			if err := s.socketError(); err != nil {
				return capture.Packet{}, err
			}
		default:
			return capture.Packet{}, fmt.Errorf("capturing on %s: %w", s.iface, err)
		}
	}
}

// socketError reads and clears the socket error that made poll report
// POLLERR. The kernel sets ENETDOWN when the interface goes down (or was
// down at Open) and when it is removed; only the latter ends the capture,
// as packets flow again once a down interface comes back up.
func (s *Source) socketError() error {
	errno, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return fmt.Errorf("capturing on %s: %w", s.iface, err)
	}
	switch unix.Errno(errno) {
	case 0:
		return nil
	case unix.ENETDOWN:
		s.infoMu.Lock()
		if !s.downNoted {
			s.downNoted = true
			s.warnings = append(s.warnings, fmt.Sprintf("interface %s went down; the capture resumes when it comes back up", s.iface))
		}
		s.infoMu.Unlock()
		return s.checkGone()
	}
	return fmt.Errorf("capturing on %s: %w", s.iface, unix.Errno(errno))
}

// checkGone returns an error if the interface, known to be down, no longer
// exists. A removed interface first goes down, and the kernel reports only
// that (ENETDOWN): its removal comes without a second notice, so it is
// looked for while the interface stays down, at every poll timeout.
func (s *Source) checkGone() error {
	s.infoMu.Lock()
	down := s.downNoted
	s.infoMu.Unlock()
	if !down || s.ifindex == 0 {
		return nil
	}
	if _, err := net.InterfaceByIndex(s.ifindex); err != nil {
		return fmt.Errorf("capturing on %s: %w", s.iface, ErrInterfaceGone)
	}
	return nil
}

// Stats returns the counters since Open. The kernel resets its counters
// each time they are read, so Stats adds them up; call it as often as
// convenient.
func (s *Source) Stats() Stats {
	s.infoMu.Lock()
	defer s.infoMu.Unlock()
	if !s.closed.Load() {
		s.readKernelStats()
	}
	st := s.stats
	for name, base := range s.dropsBase {
		cur, err := rxDropped(name)
		if err != nil {
			cur = s.dropsLast[name]
		}
		s.dropsLast[name] = cur
		if cur > base {
			st.InterfaceDrops += cur - base
		}
	}
	return st
}

// readKernelStats adds the kernel's PACKET_STATISTICS to s.stats. Reading
// them resets them, so they are deltas; infoMu must be held. The fd stays
// valid while closed is false because Close takes infoMu before closing.
func (s *Source) readKernelStats() {
	ks, err := unix.GetsockoptTpacketStatsV3(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return
	}
	// tp_packets already includes tp_drops in TPACKET_V3 (the kernel adds
	// them when reporting).
	s.stats.Received += uint64(ks.Packets)
	s.stats.KernelDrops += uint64(ks.Drops)
	s.stats.QueueFreezes += uint64(ks.Freeze_q_cnt)
}

// Close stops the capture and releases the socket and its ring. A Next
// blocked in another goroutine returns io.EOF within about 100 ms, and
// every later Next returns io.EOF. Stats keeps working after Close, with
// the final counts.
func (s *Source) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.infoMu.Lock()
	s.readKernelStats()
	s.tp.Close()
	s.fd = -1
	s.infoMu.Unlock()
	return nil
}

var _ capture.Source = (*Source)(nil)
