//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// The ioctls of a BPF device. golang.org/x/sys/unix exports ioctls with a
// pointer to an int but none taking a struct, so those (BIOCSETIF,
// BIOCSETF, BIOCSRTIMEOUT, BIOCGSTATS) go through the syscall package's
// BPF helpers, which pass their struct to libc's ioctl on macOS and
// OpenBSD and to the system call elsewhere. They are marked deprecated in
// favour of golang.org/x/net/bpf, which assembles programs but has no
// ioctls; they are what gopacket's bsdbpf uses too.

// maxBPFUnit bounds the /dev/bpfN devices tried when /dev/bpf does not
// clone (macOS creates bpf0, bpf1, ... on demand, up to a sysctl limit).
const maxBPFUnit = 256

// BIOCSBLEN bounds: the kernels lower a larger size to their limit
// themselves (512 KiB by default on macOS and FreeBSD).
const (
	minBPFBuffer = 64 << 10
	maxBPFBuffer = 16 << 20
)

// openBPFDevice opens a free BPF device: /dev/bpf where it clones (FreeBSD,
// OpenBSD, DragonFly, NetBSD), else the first /dev/bpfN not busy (macOS).
func openBPFDevice(iface string) (int, error) {
	fd, err := unix.Open("/dev/bpf", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err == nil {
		return fd, nil
	}
	if !errors.Is(err, unix.ENOENT) {
		return -1, deviceError(iface, fmt.Errorf("/dev/bpf: %w", err))
	}
	for i := 0; i < maxBPFUnit; i++ {
		name := "/dev/bpf" + strconv.Itoa(i)
		fd, err := unix.Open(name, unix.O_RDWR|unix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EBUSY):
			continue
		case errors.Is(err, unix.ENOENT) && i > 0:
			return -1, fmt.Errorf("capturing on %s: every BPF device (/dev/bpf0 to bpf%d) is in use", iface, i-1)
		default:
			return -1, deviceError(iface, fmt.Errorf("%s: %w", name, err))
		}
	}
	return -1, fmt.Errorf("capturing on %s: every BPF device is in use", iface)
}

// setUint sets a u_int device parameter (BIOCIMMEDIATE, BIOCSBLEN, ...).
func setUint(fd int, req uint, v uint32) error {
	return unix.IoctlSetPointerInt(fd, req, int(v))
}

// getUint reads a u_int device parameter (BIOCGBLEN, BIOCGDLT).
func getUint(fd int, req uint) (uint32, error) {
	v, err := unix.IoctlGetInt(fd, req)
	if err != nil {
		return 0, err
	}
	return firstUint32(v, binary.NativeEndian, strconv.IntSize/8), nil
}

// setBufferSize sets the device's buffer (BIOCSBLEN, before BIOCSETIF)
// to the largest of bpfBufferSizes the kernel takes, and returns the size
// in effect, which every read(2) must ask for.
func setBufferSize(fd int, ringBytes int) (int, error) {
	var err error
	for _, n := range bpfBufferSizes(ringBytes, minBPFBuffer, maxBPFBuffer) {
		if err = setUint(fd, unix.BIOCSBLEN, uint32(n)); err == nil {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("%w: BIOCSBLEN: %w", ErrRingRefused, err)
	}
	n, err := getUint(fd, unix.BIOCGBLEN)
	if err != nil {
		return 0, fmt.Errorf("BIOCGBLEN: %w", err)
	}
	return int(n), nil
}

// setFilter installs prog with BIOCSETF, which also discards what the
// device had buffered before.
func setFilter(fd int, prog []bpf.RawInstruction) error {
	insns := make([]syscall.BpfInsn, len(prog))
	for i, in := range prog {
		insns[i] = syscall.BpfInsn{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	//lint:ignore SA1019 see the comment at the top of the file
	return syscall.SetBpf(fd, insns)
}

// setReadTimeout bounds each read(2) with BIOCSRTIMEOUT.
func setReadTimeout(fd int, d time.Duration) error {
	tv := syscall.NsecToTimeval(d.Nanoseconds())
	//lint:ignore SA1019 see the comment at the top of the file
	return syscall.SetBpfTimeout(fd, &tv)
}

// deviceStats reads BIOCGSTATS: the packets the device's filter saw and
// those it had to drop for lack of buffer space, since it was opened.
func deviceStats(fd int) (recv, drop uint64, err error) {
	//lint:ignore SA1019 see the comment at the top of the file
	st, err := syscall.BpfStats(fd)
	if err != nil {
		return 0, 0, err
	}
	return uint64(st.Recv), uint64(st.Drop), nil
}

// dataLinkOf returns the link type of the interface the device is
// attached to (BIOCGDLT).
func dataLinkOf(fd int) (uint32, error) {
	dlt, err := getUint(fd, unix.BIOCGDLT)
	if err != nil {
		return 0, fmt.Errorf("BIOCGDLT: %w", err)
	}
	return dlt, nil
}

// attachDevice attaches the device to iface (BIOCSETIF).
func attachDevice(fd int, iface string) error {
	//lint:ignore SA1019 see the comment at the top of the file
	if err := syscall.SetBpfInterface(fd, iface); err != nil {
		return fmt.Errorf("BIOCSETIF: %w", err)
	}
	return nil
}

// setPromiscuous turns promiscuous mode on until the device is closed.
func setPromiscuous(fd int) error {
	//lint:ignore SA1019 see the comment at the top of the file
	return syscall.SetBpfPromisc(fd, 1)
}
