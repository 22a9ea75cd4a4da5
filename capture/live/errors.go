package live

import (
	"errors"
	"fmt"
	"strings"

	"github.com/grpcsniff/grpcsniff/capture"
	"golang.org/x/sys/unix"
)

var (
	// ErrPermission is matched (errors.Is) by the error Open returns when
	// the process may not open a packet socket. The error itself is a
	// *PermissionError whose message says how to get the permission.
	ErrPermission = errors.New("permission denied to capture packets")

	// ErrNoInterface is matched by the error Open and LinkTypeOf return for
	// an interface name the system does not have.
	ErrNoInterface = errors.New("no such interface")

	// ErrIdle is returned by Source.Next when Config.PollTimeout passed
	// without a packet. It is not an end of capture: call Next again. It
	// gives a single-goroutine caller the chance to expire idle state or
	// refresh a display while the network is quiet.
	// (capture.ErrIdle: a reader of any capture.Source tests for it.)
	ErrIdle = capture.ErrIdle

	// ErrInterfaceGone is matched by the error Next returns when the
	// interface captured on was removed (a VPN's tun device closing, a
	// container's veth going away). It ends the capture.
	ErrInterfaceGone = errors.New("the interface disappeared")

	// ErrRingRefused is matched by the error Open returns when the kernel
	// would not make a capture ring of the size asked (Config.RingBytes):
	// a smaller one may work.
	ErrRingRefused = errors.New("the kernel refused a capture ring of that size")

	// ErrPromiscuous is matched by the error Open returns when the
	// interface could not be put into promiscuous mode
	// (Config.NoPromiscuous leaves it alone).
	ErrPromiscuous = errors.New("could not turn on promiscuous mode")
)

// PermissionError reports that the kernel refused a packet socket: on Linux
// that takes CAP_NET_RAW, which root has and ordinary users do not.
type PermissionError struct {
	Interface string
	Err       error // the system call's error, EPERM or EACCES
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("capturing on %s needs the CAP_NET_RAW capability (and CAP_NET_ADMIN for promiscuous mode)", e.Interface)
}

// Is makes errors.Is(err, ErrPermission) true.
func (e *PermissionError) Is(target error) bool { return target == ErrPermission }

// Unwrap returns the system call's error, so errors.Is(err, unix.EPERM)
// works too.
func (e *PermissionError) Unwrap() error { return e.Err }

// NoInterfaceError reports an interface name the system does not have,
// listing the ones it has so that a typo is easy to spot.
type NoInterfaceError struct {
	Interface string
	Available []string // names of the existing interfaces, "any" included
}

func (e *NoInterfaceError) Error() string {
	msg := fmt.Sprintf("no interface %q", e.Interface)
	if len(e.Available) > 0 {
		msg += " (this system has " + strings.Join(e.Available, ", ") + ")"
	}
	return msg
}

// Is makes errors.Is(err, ErrNoInterface) true.
func (e *NoInterfaceError) Is(target error) bool { return target == ErrNoInterface }

// socketError turns the error of the system call that created or set up the
// packet socket into one that tells the user what to do, when there is
// something they can do.
func socketError(iface string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return &PermissionError{Interface: iface, Err: err}
	}
	if errors.Is(err, unix.EAFNOSUPPORT) {
		return fmt.Errorf("capturing on %s: this kernel has no AF_PACKET sockets (CONFIG_PACKET): %w", iface, err)
	}
	return fmt.Errorf("capturing on %s: %w", iface, err)
}
