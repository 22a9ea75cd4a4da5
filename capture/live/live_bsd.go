//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package live

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/grpcsniff/grpcsniff/capture"
)

// Source reads packets from a live interface through a BPF device
// (/dev/bpf*). Its methods may be called from several goroutines; in
// particular Close may stop a Next blocked in another goroutine.
type Source struct {
	sourceCommon
	linkType layers.LinkType
	layout   bpfHdrLayout

	mu      sync.Mutex // held by Next and Close; guards the fields below
	fd      int
	rbuf    []byte // the read buffer: exactly the device's buffer size
	pending []byte // the records of the last read not returned yet

	// sourceCommon.infoMu guards stats, and s.fd against Close for Stats.
	stats Stats
}

// Open starts a capture. The device is open, attached and filtered before
// Open returns, so DropPrivileges may be called right after.
func Open(cfg Config) (*Source, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	layout, err := bpfLayoutFor(runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return nil, fmt.Errorf("capturing on %s: %w", cfg.Interface, err)
	}
	if cfg.Interface == AnyInterface {
		return nil, errNoAny()
	}
	ni, err := lookupInterface(cfg.Interface)
	if err != nil {
		return nil, err
	}
	prog, err := bpfProgram(cfg.Filter, cfg.Snaplen)
	if err != nil {
		return nil, fmt.Errorf("capturing on %s: %w", cfg.Interface, err)
	}
	fd, err := openBPFDevice(cfg.Interface)
	if err != nil {
		return nil, err
	}
	s := &Source{sourceCommon: sourceCommon{iface: cfg.Interface, snaplen: cfg.Snaplen, pollWait: cfg.PollTimeout}, layout: layout, fd: fd}
	if err := s.setUp(cfg, ni, prog); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return s, nil
}

// setUp configures the open device of s for cfg, in the order the kernels
// require: the buffer size before attaching to the interface, the filter
// after (BIOCSETF discards what came in unfiltered meanwhile).
func (s *Source) setUp(cfg Config, ni *net.Interface, prog []bpf.RawInstruction) error {
	wrap := func(err error) error { return deviceError(s.iface, err) }
	size, err := setBufferSize(s.fd, cfg.RingBytes)
	if err != nil {
		return wrap(err)
	}
	s.rbuf = make([]byte, size)
	if err := attachDevice(s.fd, s.iface); err != nil {
		return wrap(err)
	}
	dlt, err := dataLinkOf(s.fd)
	if err != nil {
		return wrap(err)
	}
	if s.linkType, err = linkTypeOfDLT(dlt, runtime.GOOS); err != nil {
		return fmt.Errorf("capturing on %s: %w", s.iface, err)
	}
	// Immediate mode: a read returns as soon as a packet is there, rather
	// than when the buffer is full, which on a quiet network may be never.
	if err := setUint(s.fd, unix.BIOCIMMEDIATE, 1); err != nil {
		return wrap(fmt.Errorf("BIOCIMMEDIATE: %w", err))
	}
	if err := setFilter(s.fd, prog); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("capturing on %s: the kernel rejected the capture filter as invalid: %w", s.iface, err)
		}
		return wrap(fmt.Errorf("BIOCSETF: %w", err))
	}
	if err := setReadTimeout(s.fd, bpfReadTimeout(s.pollWait)); err != nil {
		return wrap(fmt.Errorf("BIOCSRTIMEOUT: %w", err))
	}
	// Loopback devices see every packet once, as it is sent, and have
	// nothing to be promiscuous about. The BSDs show a loopback packet
	// once by default, so the direction (BIOCSSEESENT, BIOCSDIRECTION) is
	// left alone: asking for received packets only would hide them all.
	if !cfg.NoPromiscuous && ni.Flags&net.FlagLoopback == 0 {
		if err := setPromiscuous(s.fd); err != nil {
			return fmt.Errorf("capturing on %s: %w: %w", s.iface, ErrPromiscuous, wrap(err))
		}
	}
	if ni.Flags&net.FlagUp == 0 {
		s.warnings = append(s.warnings, fmt.Sprintf(
			"interface %s is down: nothing will be captured until it is brought up (ifconfig %s up)", ni.Name, ni.Name))
	}
	return nil
}

// CapturedInterfaces returns the interface captured on: a BPF device reads
// one.
func (s *Source) CapturedInterfaces() []string { return []string{s.iface} }

// LinkType says what Packet.Data starts with: layers.LinkTypeEthernet,
// layers.LinkTypeNull (lo0, utun: a 4-byte address family in host byte
// order), layers.LinkTypeLoop (OpenBSD's lo0: the same in network byte
// order) or layers.LinkTypeRaw (tun: the IP header).
func (s *Source) LinkType() layers.LinkType { return s.linkType }

// Next returns the next packet. Packet.Data points into the read buffer and
// is valid until the following call to Next. Next returns ErrIdle when
// PollTimeout passes without a packet, and io.EOF once Close has been
// called.
func (s *Source) Next() (capture.Packet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	deadline := s.deadline()
	for {
		if s.closed.Load() {
			return capture.Packet{}, io.EOF
		}
		if p, ok := s.nextBuffered(); ok {
			return p, nil
		}
		n, err := unix.Read(s.fd, s.rbuf)
		switch {
		case err == nil && n > 0:
			s.pending = s.rbuf[:n]
		case err == nil, errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
			// The read timeout passed without a packet.
			if !deadline.IsZero() && !time.Now().Before(deadline) {
				return capture.Packet{}, ErrIdle
			}
		case errors.Is(err, unix.ENXIO), errors.Is(err, unix.ENODEV):
			// The kernel detaches the device from an interface that
			// goes away and fails its reads from then on.
			return capture.Packet{}, fmt.Errorf("capturing on %s: %w", s.iface, ErrInterfaceGone)
		default:
			return capture.Packet{}, fmt.Errorf("capturing on %s: %w", s.iface, err)
		}
	}
}

// nextBuffered returns the next packet of the last read, if any is left.
// A malformed record (which the kernel does not write) loses the rest of
// that read, with a warning, rather than the capture.
func (s *Source) nextBuffered() (capture.Packet, bool) {
	if len(s.pending) == 0 {
		return capture.Packet{}, false
	}
	rec, n, err := nextBPFRecord(s.pending, s.layout)
	if err != nil {
		s.pending = nil
		s.infoMu.Lock()
		s.warnings = append(s.warnings, fmt.Sprintf("capturing on %s: %v: the rest of one read was skipped", s.iface, err))
		s.infoMu.Unlock()
		return capture.Packet{}, false
	}
	s.pending = s.pending[n:]
	data := rec.data
	if len(data) > s.snaplen {
		data = data[:s.snaplen]
	}
	s.infoMu.Lock()
	s.stats.Delivered++
	s.infoMu.Unlock()
	return capture.Packet{
		Data:          data,
		Time:          rec.ts,
		LinkType:      s.linkType,
		CaptureLength: len(data),
		Length:        max(rec.datalen, len(data)),
	}, true
}

// Stats returns the counters since Open. InterfaceDrops stays 0: the BSDs
// have no per-interface drop counter that libpcap reads either. The
// device counts every packet its filter sees, matching or not, so
// Received is what passed the filter as far as the device shows:
// Delivered plus KernelDrops (packets still in the device's buffer are
// counted once read).
func (s *Source) Stats() Stats {
	s.infoMu.Lock()
	defer s.infoMu.Unlock()
	if !s.closed.Load() {
		s.readKernelStats()
	}
	st := s.stats
	st.Received = st.Delivered + st.KernelDrops
	return st
}

// readKernelStats reads BIOCGSTATS into s.stats; infoMu must be held. The
// counters are totals since the device was opened.
func (s *Source) readKernelStats() {
	if s.fd < 0 {
		return
	}
	if _, drop, err := deviceStats(s.fd); err == nil {
		s.stats.KernelDrops = drop
	}
}

// Close stops the capture and releases the device. A Next blocked in
// another goroutine returns io.EOF within about 100 ms (the read timeout:
// a read cannot be interrupted), and every later Next returns io.EOF.
// Stats keeps working after Close, with the final counts.
func (s *Source) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.infoMu.Lock()
	defer s.infoMu.Unlock()
	s.readKernelStats()
	err := unix.Close(s.fd)
	s.fd = -1
	s.pending = nil
	return err
}

var _ capture.Source = (*Source)(nil)
