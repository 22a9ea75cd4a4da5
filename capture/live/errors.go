package live

import (
	"errors"
	"fmt"
	"strings"

	"github.com/grpcsniff/grpcsniff/capture"
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

	// ErrNotSupported is matched by the error Open returns on a platform
	// this build has no live capture for. Reading capture files works
	// everywhere.
	ErrNotSupported = errors.New("live capture is not supported on this platform")

	// ErrPromiscuous is matched by the error Open returns when the
	// interface could not be put into promiscuous mode
	// (Config.NoPromiscuous leaves it alone).
	ErrPromiscuous = errors.New("could not turn on promiscuous mode")
)

// PermissionError reports that the system refused to open the capture
// device; its message says what the platform asks for (Linux: CAP_NET_RAW,
// macOS and the BSDs: read access to /dev/bpf*, Windows: Npcap's
// administrator-only mode).
type PermissionError struct {
	Interface string
	Err       error // the system call's error, such as EPERM or EACCES
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("capturing on %s needs %s", e.Interface, permissionNeeded)
}

// Remedy says how to get the permission on this platform, as a command
// line tool would tell its user.
func (e *PermissionError) Remedy() string { return permissionRemedy }

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
