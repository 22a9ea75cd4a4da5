package live

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"

	"github.com/grpcsniff/grpcsniff/capture"
)

// readTimeout is Npcap's read timeout: how long the driver holds packets
// back to hand them over in one batch, and so how late a packet can show,
// as the ring's block timeout on Linux. gopacket's read waits for it up to
// twice before it reports a timeout, which is when Next notices Close and
// PollTimeout: Close takes at most about 100 ms.
//
// Immediate mode (pcap_set_immediate_mode) is left off on purpose: it
// would wake the reader for every packet, costing throughput, and so
// drops, under load, for a latency no screen shows.
const readTimeout = 50 * time.Millisecond

// Source reads packets from an Npcap device. Its methods may be called
// from several goroutines; in particular Close may stop a Next blocked in
// another goroutine.
type Source struct {
	sourceCommon
	framing npfFraming

	mu  sync.Mutex // held by Next and Close: Close must not free what Next reads
	h   *pcap.Handle
	buf []byte // Packet.Data of the last Next: a copy out of Npcap's buffer

	// sourceCommon.infoMu guards the fields below, and h against Close for
	// Stats.
	stats  Stats
	recv   counter32
	drop   counter32
	ifdrop counter32
}

// Open starts a capture through Npcap. The device is open and filtered
// before Open returns.
func Open(cfg Config) (*Source, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	dev, err := findDevice(cfg.Interface)
	if err != nil {
		return nil, err
	}
	h, err := activate(cfg.Interface, dev, cfg)
	if err != nil {
		return nil, err
	}
	s := &Source{sourceCommon: sourceCommon{iface: cfg.Interface, snaplen: cfg.Snaplen, pollWait: cfg.PollTimeout}, h: h}
	if err := s.useLinkType(dev, cfg.Filter); err != nil {
		h.Close()
		return nil, err
	}
	if dev.disconnected() {
		s.warnings = append(s.warnings, fmt.Sprintf(
			"interface %s has no link (cable unplugged, or Wi-Fi not connected): nothing will be captured until it has one", cfg.Interface))
	}
	s.buf = make([]byte, 0, min(cfg.Snaplen, 64<<10))
	return s, nil
}

// activate opens dev as cfg says. Npcap's buffer takes RingBytes; the snap
// length leaves room for the loopback header Next strips.
func activate(iface string, dev npfDevice, cfg Config) (*pcap.Handle, error) {
	ih, err := pcap.NewInactiveHandle(dev.Name)
	if err != nil {
		return nil, fmt.Errorf("capturing on %s: %v", iface, err)
	}
	defer ih.CleanUp()
	timeout := readTimeout
	if cfg.PollTimeout > 0 && cfg.PollTimeout < timeout {
		timeout = max(cfg.PollTimeout, time.Millisecond)
	}
	// Promiscuous mode means nothing on the loopback device.
	promisc := !cfg.NoPromiscuous && !dev.isLoopback()
	for _, set := range []func() error{
		func() error { return ih.SetSnapLen(cfg.Snaplen + nullHeaderLen) },
		func() error { return ih.SetPromisc(promisc) },
		func() error { return ih.SetTimeout(timeout) },
		func() error { return ih.SetBufferSize(cfg.RingBytes) },
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("capturing on %s: %v", iface, err)
		}
	}
	h, err := ih.Activate()
	if err != nil {
		if code, ok := activateCode(err); ok {
			return nil, activateError(iface, code, err)
		}
		return nil, fmt.Errorf("capturing on %s: %v", iface, err)
	}
	return h, nil
}

// useLinkType reads the device's link type and installs the filter,
// compiled for LinkTypeOf, made into what Npcap runs on it.
func (s *Source) useLinkType(dev npfDevice, filter []bpf.RawInstruction) error {
	f, err := framingOf(s.h.LinkType())
	if err != nil {
		return fmt.Errorf("capturing on %s: %v", s.iface, err)
	}
	s.framing = f
	if want, ok := dev.predictedLinkType(); ok && len(filter) > 0 && !sameFilterLayout(want, f.out) {
		return fmt.Errorf("capturing on %s: the device gives %s packets, not the %s the capture filter was compiled for", s.iface, f.out, want)
	}
	prog, err := npfProgram(filter, f)
	if err != nil {
		return fmt.Errorf("capturing on %s: %v", s.iface, err)
	}
	if prog == nil {
		return nil
	}
	ins := make([]pcap.BPFInstruction, len(prog))
	for i, r := range prog {
		ins[i] = pcap.BPFInstruction{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	// Packets that arrived between Activate and here are not filtered;
	// the decoder ignores what it does not want.
	if err := s.h.SetBPFInstructionFilter(ins); err != nil {
		return fmt.Errorf("capturing on %s: Npcap rejected the capture filter: %v", s.iface, err)
	}
	return nil
}

// LinkTypeOf returns the link type packets captured on iface will have, so
// that a filter can be compiled for it before Open:
// layers.LinkTypeEthernet for Ethernet and Wi-Fi adapters,
// layers.LinkTypeRaw (packets start at the IP header) for the loopback
// device, whose 4-byte DLT_NULL header Next strips, and for raw IP adapters
// such as VPN tunnels. The link type of an adapter of another kind is read
// by opening it briefly, which needs the capture permission.
func LinkTypeOf(iface string) (layers.LinkType, error) {
	dev, err := findDevice(iface)
	if err != nil {
		return 0, err
	}
	if lt, ok := dev.predictedLinkType(); ok {
		return lt, nil
	}
	h, err := activate(iface, dev, Config{Snaplen: 64, RingBytes: 64 << 10, NoPromiscuous: true})
	if err != nil {
		return 0, err
	}
	defer h.Close()
	f, err := framingOf(h.LinkType())
	if err != nil {
		return 0, fmt.Errorf("capturing on %s: %v", iface, err)
	}
	return f.out, nil
}

// CapturedInterfaces returns the interface captured on: Stats counts the
// drops of that device only.
func (s *Source) CapturedInterfaces() []string { return []string{s.iface} }

// LinkType says what Packet.Data starts with: layers.LinkTypeEthernet, or
// layers.LinkTypeRaw (IPv4 or IPv6 header; also for the loopback device).
func (s *Source) LinkType() layers.LinkType { return s.framing.out }

// Next returns the next packet. Packet.Data is a copy out of Npcap's
// buffer, valid until the following call to Next. Next returns ErrIdle
// when PollTimeout passes without a packet, and io.EOF once Close has been
// called.
func (s *Source) Next() (capture.Packet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	deadline := s.deadline()
	for {
		if s.closed.Load() {
			return capture.Packet{}, io.EOF
		}
		data, ci, err := s.h.ZeroCopyReadPacketData()
		switch {
		case err == nil:
			if len(data) < s.framing.strip {
				continue // a loopback packet without its header: nothing to decode
			}
			data = data[s.framing.strip:]
			if len(data) > s.snaplen {
				data = data[:s.snaplen]
			}
			s.buf = append(s.buf[:0], data...)
			s.infoMu.Lock()
			s.stats.Delivered++
			s.infoMu.Unlock()
			return capture.Packet{
				Data:          s.buf,
				Time:          ci.Timestamp,
				LinkType:      s.framing.out,
				CaptureLength: len(s.buf),
				Length:        max(ci.Length-s.framing.strip, len(s.buf)),
			}, nil
		case errors.Is(err, pcap.NextErrorTimeoutExpired):
			if !deadline.IsZero() && !time.Now().Before(deadline) {
				return capture.Packet{}, ErrIdle
			}
		case errors.Is(err, io.EOF):
			return capture.Packet{}, io.EOF
		default:
			return capture.Packet{}, s.readError(err)
		}
	}
}

// readError says why a read failed: most often the adapter went away
// (unplugged, disabled, a VPN disconnecting).
func (s *Source) readError(err error) error {
	if detail := s.h.Error(); detail != nil && detail.Error() != "" {
		err = fmt.Errorf("%v: %v", err, detail)
	}
	if _, ferr := findDevice(s.iface); errors.Is(ferr, ErrNoInterface) {
		return fmt.Errorf("capturing on %s: %w (%v)", s.iface, ErrInterfaceGone, err)
	}
	return fmt.Errorf("capturing on %s: %v", s.iface, err)
}

// Stats returns the counters since Open; call it as often as convenient.
// Received counts what Npcap's driver saw of the adapter's packets,
// KernelDrops those its buffer (Config.RingBytes) had no room for.
func (s *Source) Stats() Stats {
	s.infoMu.Lock()
	defer s.infoMu.Unlock()
	if !s.closed.Load() {
		s.readDriverStats()
	}
	return s.stats
}

// readDriverStats updates s.stats from pcap_stats, whose counters are
// cumulative and 32 bits wide. infoMu must be held; the handle stays open
// while closed is false because Close takes infoMu before closing it.
func (s *Source) readDriverStats() {
	st, err := s.h.Stats()
	if err != nil {
		return
	}
	s.stats.Received = s.recv.update(uint32(st.PacketsReceived))
	s.stats.KernelDrops = s.drop.update(uint32(st.PacketsDropped))
	s.stats.InterfaceDrops = s.ifdrop.update(uint32(st.PacketsIfDropped))
}

// Close stops the capture and releases the device. A Next blocked in
// another goroutine returns io.EOF within about 100 ms, and every later
// Next returns io.EOF. Stats keeps working after Close, with the final
// counts.
func (s *Source) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.infoMu.Lock()
	defer s.infoMu.Unlock()
	s.readDriverStats()
	s.h.Close()
	return nil
}

var _ capture.Source = (*Source)(nil)
