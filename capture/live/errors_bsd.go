//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package live

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// permissionNeeded completes PermissionError's message.
const permissionNeeded = "read access to /dev/bpf*"

// permissionRemedy is PermissionError.Remedy.
const permissionRemedy = "run with sudo, or on macOS install Wireshark's ChmodBPF (adds you to the access_bpf group)"

// deviceError turns the error of opening or setting up a BPF device into
// one that tells the user what to do, when there is something they can do.
func deviceError(iface string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return &PermissionError{Interface: iface, Err: err}
	}
	return fmt.Errorf("capturing on %s: %w", iface, err)
}
