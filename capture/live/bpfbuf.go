package live

// The parts of the BPF backend (live_bsd.go) that need no device: reading
// the records of a read(2) from /dev/bpf, the layout of their headers on
// each system, the mapping of DLT_ values and the arguments of the ioctls.
// They have no build tags so that their tests run on every platform,
// Linux CI included, for every BSD's layout.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

const (
	// bpfWakeInterval bounds one read(2) of the device (BIOCSRTIMEOUT),
	// so that Next notices Close and its PollTimeout.
	bpfWakeInterval = 100 * time.Millisecond
	// bpfMaxInstructions is BPF_MAXINSNS of the BSDs and macOS: their
	// kernels refuse longer programs, where Linux takes up to 4096.
	bpfMaxInstructions = 512
)

// bpfHdrLayout describes struct bpf_hdr, the header the kernel puts in
// front of each packet in a BPF read buffer, on one system and
// architecture:
//
//	struct bpf_hdr {
//		struct timeval bh_tstamp;  // or timeval32 (macOS), bpf_timeval (OpenBSD, NetBSD)
//		uint32_t       bh_caplen;  // bytes of the packet in the buffer
//		uint32_t       bh_datalen; // bytes of the packet on the wire
//		u_short        bh_hdrlen;  // bytes from the header to the packet
//	};
//
// The packet starts bh_hdrlen bytes after the header (the kernel pads so
// that the network header is aligned), and the next header starts at the
// end of the packet rounded up by BPF_WORDALIGN.
type bpfHdrLayout struct {
	secBytes    int  // size of tv_sec: 4 or 8
	usecBytes   int  // size of tv_usec: 4 or 8
	unsignedSec bool // tv_sec is a u_int32_t (OpenBSD's bpf_timeval)
	caplenOff   int  // offset of bh_caplen: the timestamp's size with its padding
	align       int  // BPF_ALIGNMENT, the rounding of BPF_WORDALIGN
	order       byteOrder
}

// byteOrder is what binary.LittleEndian and BigEndian are: readers of
// the kernel's headers, and writers of them in tests.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// minHeader is the size of the fields read; the kernel's bh_hdrlen is at
// least this.
func (l bpfHdrLayout) minHeader() int { return l.caplenOff + 10 }

// wordAlign is BPF_WORDALIGN.
func (l bpfHdrLayout) wordAlign(n int) int { return (n + l.align - 1) &^ (l.align - 1) }

// Layouts of struct bpf_hdr, from the systems' headers (and
// golang.org/x/sys/unix's BpfHdr and BPF_ALIGNMENT, which a test on each
// system compares with). BPF_ALIGNMENT is sizeof(long) on FreeBSD, NetBSD
// and DragonFly, 4 on macOS and OpenBSD.
var (
	// macOS: struct timeval32 {int32 sec, usec}, whatever the architecture.
	bpfLayoutDarwin = bpfHdrLayout{secBytes: 4, usecBytes: 4, caplenOff: 8, align: 4, order: binary.LittleEndian}
	// FreeBSD, NetBSD and DragonFly on 64-bit: struct timeval {int64, long}.
	bpfLayoutLP64 = bpfHdrLayout{secBytes: 8, usecBytes: 8, caplenOff: 16, align: 8, order: binary.LittleEndian}
	// FreeBSD/386, NetBSD/386 and NetBSD/arm: {int32, int32}.
	bpfLayoutILP32 = bpfHdrLayout{secBytes: 4, usecBytes: 4, caplenOff: 8, align: 4, order: binary.LittleEndian}
	// FreeBSD/arm: a 64-bit time_t but a 32-bit long, so {int64, int32,
	// 4 bytes of padding}.
	bpfLayoutFreeBSDARM = bpfHdrLayout{secBytes: 8, usecBytes: 4, caplenOff: 16, align: 4, order: binary.LittleEndian}
	// OpenBSD: struct bpf_timeval {u_int32 sec, usec} everywhere (and
	// bh_ifidx, bh_flowid, bh_flags, bh_drops after bh_hdrlen, unread).
	bpfLayoutOpenBSD = bpfHdrLayout{secBytes: 4, usecBytes: 4, unsignedSec: true, caplenOff: 8, align: 4, order: binary.LittleEndian}
)

// bpfLayoutFor returns the struct bpf_hdr layout of a system and
// architecture (runtime.GOOS and GOARCH).
func bpfLayoutFor(goos, goarch string) (bpfHdrLayout, error) {
	var l bpfHdrLayout
	switch goos + "/" + goarch {
	case "darwin/amd64", "darwin/arm64":
		l = bpfLayoutDarwin
	case "freebsd/amd64", "freebsd/arm64", "freebsd/riscv64", "netbsd/amd64", "netbsd/arm64", "dragonfly/amd64":
		l = bpfLayoutLP64
	case "freebsd/386", "netbsd/386", "netbsd/arm":
		l = bpfLayoutILP32
	case "freebsd/arm":
		l = bpfLayoutFreeBSDARM
	case "openbsd/386", "openbsd/amd64", "openbsd/arm", "openbsd/arm64", "openbsd/riscv64":
		l = bpfLayoutOpenBSD
	case "openbsd/mips64", "openbsd/ppc64":
		l = bpfLayoutOpenBSD
		l.order = binary.BigEndian
	default:
		return l, fmt.Errorf("the layout of BPF headers on %s/%s is not known", goos, goarch)
	}
	return l, nil
}

// bpfRecord is one packet of a BPF read buffer.
type bpfRecord struct {
	ts      time.Time
	data    []byte // the captured bytes, within the buffer
	datalen int    // length on the wire
}

// errBPFBuffer is wrapped by the errors of nextBPFRecord: the buffer does
// not hold what the kernel writes, and the rest of it cannot be read.
var errBPFBuffer = errors.New("malformed BPF buffer")

// nextBPFRecord reads the record at the start of buf, which holds what one
// read(2) returned from the current record on. It returns the record and
// the offset of the next one in buf (len(buf) after the last). A record
// that does not fit in buf is an error wrapping errBPFBuffer.
func nextBPFRecord(buf []byte, l bpfHdrLayout) (bpfRecord, int, error) {
	if len(buf) < l.minHeader() {
		return bpfRecord{}, 0, fmt.Errorf("%w: %d bytes left, shorter than a header", errBPFBuffer, len(buf))
	}
	caplen := l.order.Uint32(buf[l.caplenOff:])
	datalen := l.order.Uint32(buf[l.caplenOff+4:])
	hdrlen := int(l.order.Uint16(buf[l.caplenOff+8:]))
	if hdrlen < l.minHeader() {
		return bpfRecord{}, 0, fmt.Errorf("%w: header length %d, less than %d", errBPFBuffer, hdrlen, l.minHeader())
	}
	// Compared as unsigned 64-bit numbers: on a 32-bit system a length
	// near 4 GiB would be negative as an int.
	if hdrlen > len(buf) || uint64(caplen) > uint64(len(buf)-hdrlen) {
		return bpfRecord{}, 0, fmt.Errorf("%w: a %d-byte packet after a %d-byte header in %d bytes", errBPFBuffer, caplen, hdrlen, len(buf))
	}
	end := hdrlen + int(caplen)
	rec := bpfRecord{
		ts:      l.timestamp(buf),
		data:    buf[hdrlen:end:end],
		datalen: int(min(max(datalen, caplen), math.MaxInt32)),
	}
	// The padding after the last packet may be missing: read(2) returns
	// the bytes written, not rounded up.
	return rec, min(l.wordAlign(end), len(buf)), nil
}

// timestamp reads bh_tstamp at the start of hdr.
func (l bpfHdrLayout) timestamp(hdr []byte) time.Time {
	var sec, usec int64
	if l.secBytes == 8 {
		sec = int64(l.order.Uint64(hdr))
	} else if l.unsignedSec {
		sec = int64(l.order.Uint32(hdr))
	} else {
		sec = int64(int32(l.order.Uint32(hdr)))
	}
	if l.usecBytes == 8 {
		usec = int64(l.order.Uint64(hdr[l.secBytes:]))
	} else {
		usec = int64(int32(l.order.Uint32(hdr[l.secBytes:])))
	}
	return time.Unix(sec, usec*1000)
}

// DLT_ values of the link types the backend reads (net/bpf.h). They agree
// on every system except OpenBSD, where DLT_LOOP is 12, the value the
// others give DLT_RAW, and DLT_RAW is 14.
const (
	dltNull       = 0
	dltEN10MB     = 1
	dltRaw        = 12
	dltLoop       = 108
	dltOpenBSDRaw = 14
)

// linkTypeOfDLT maps the DLT_ value BIOCGDLT returns on goos to the link
// type of the packets, or an error naming the DLT: grpcsniff reads
// Ethernet, the BSD loopback framings and raw IP, which covers Ethernet,
// Wi-Fi (which BPF presents as Ethernet by default), lo0, tun and utun.
func linkTypeOfDLT(dlt uint32, goos string) (layers.LinkType, error) {
	raw, loop := uint32(dltRaw), uint32(dltLoop)
	if goos == "openbsd" {
		raw, loop = dltOpenBSDRaw, dltRaw
	}
	switch dlt {
	case dltNull:
		return layers.LinkTypeNull, nil
	case dltEN10MB:
		return layers.LinkTypeEthernet, nil
	case loop:
		return layers.LinkTypeLoop, nil
	case raw:
		return layers.LinkTypeRaw, nil
	}
	return 0, fmt.Errorf("the interface's link type is DLT %d, which grpcsniff cannot read (it reads Ethernet, BSD loopback and raw IP)", dlt)
}

// bpfBufferSizes are the buffer sizes to try with BIOCSBLEN, largest
// first: the ring size asked for, at most maxBytes, then halves of it down
// to minBytes. The kernels lower a size above their limit (sysctl
// debug.bpf_maxbufsize on macOS, net.bpf.maxbufsize on FreeBSD) on their
// own, but refuse one they cannot allocate, which a smaller one may fix.
func bpfBufferSizes(ringBytes, minBytes, maxBytes int) []int {
	n := min(max(ringBytes, minBytes), maxBytes)
	var sizes []int
	for ; n >= minBytes; n /= 2 {
		sizes = append(sizes, n)
	}
	return sizes
}

// bpfReadTimeout is what BIOCSRTIMEOUT is set to: how long one read(2)
// waits for a packet. It is short whatever PollTimeout is, because Close
// cannot interrupt a read blocked in another goroutine: Next notices
// Close, and its PollTimeout, between reads.
func bpfReadTimeout(poll time.Duration) time.Duration {
	if poll > 0 && poll < bpfWakeInterval {
		return max(poll, time.Millisecond)
	}
	return bpfWakeInterval
}

// bpfProgram is the program given to BIOCSETF: the user's filter, or one
// that accepts snaplen bytes of every packet. Unlike Linux's, it needs no
// prefix: the BSDs do not show a loopback packet twice.
func bpfProgram(user []bpf.RawInstruction, snaplen int) ([]bpf.RawInstruction, error) {
	if len(user) == 0 {
		return []bpf.RawInstruction{{Op: 0x06, K: uint32(snaplen)}}, nil // ret #snaplen
	}
	if len(user) > bpfMaxInstructions {
		return nil, fmt.Errorf("the capture filter compiles to %d instructions, more than the %d this kernel accepts: simplify it", len(user), bpfMaxInstructions)
	}
	return user, nil
}

// firstUint32 returns the 32-bit value an ioctl stored at the start of an
// int (golang.org/x/sys/unix.IoctlGetInt passes an int for the kernel's
// u_int): on a 64-bit big-endian system that is the int's high half.
func firstUint32(v int, order binary.ByteOrder, intBytes int) uint32 {
	if intBytes == 4 {
		return uint32(v)
	}
	var b [8]byte
	order.PutUint64(b[:], uint64(v))
	return order.Uint32(b[:4])
}
