package live

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// permissionNeeded completes PermissionError's message.
const permissionNeeded = "the CAP_NET_RAW capability (and CAP_NET_ADMIN for promiscuous mode)"

// permissionRemedy is PermissionError.Remedy.
const permissionRemedy = "run as root, or grant it once with: sudo setcap cap_net_raw,cap_net_admin+eip $(which grpcsniff)"

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
