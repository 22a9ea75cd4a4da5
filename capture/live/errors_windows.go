package live

import (
	"errors"
	"fmt"

	"github.com/gopacket/gopacket/pcap"
)

// permissionNeeded completes PermissionError's message. Npcap lets every
// user capture unless it was installed in admin-only mode, so that is the
// only way to be refused.
const permissionNeeded = `administrator rights (Npcap is installed in admin-only mode, "Restrict Npcap driver's access to Administrators only")`

// permissionRemedy is PermissionError.Remedy. In admin-only mode Npcap asks
// for elevation with a UAC prompt when a capture opens, which a
// non-interactive session cannot show.
const permissionRemedy = `run grpcsniff from an administrator terminal (or accept Npcap's administrator prompt), or reinstall Npcap without "Restrict Npcap driver's access to Administrators only"`

// ErrNoNpcap is matched (errors.Is) by the error Open, LinkTypeOf and Interfaces
// return on Windows when Npcap, which live capture goes through, is not
// installed. The error also matches ErrNotSupported.
var ErrNoNpcap = errors.New("Npcap is not installed")

// npcapURL is where Npcap is downloaded from.
const npcapURL = "https://npcap.com"

// noNpcapError reports that wpcap.dll could not be loaded.
type noNpcapError struct {
	Interface string
	Err       error // gopacket's error loading wpcap.dll
}

func (e *noNpcapError) Error() string {
	// The installer's defaults will do: gopacket loads wpcap.dll from
	// System32\Npcap, where Npcap always installs it, so the "WinPcap
	// API-compatible Mode" copy in System32 is not needed.
	return fmt.Sprintf("capturing on %s: %v (%v): live capture on Windows goes through Npcap; download it from %s and install it with the default options",
		e.Interface, ErrNoNpcap, e.Err, npcapURL)
}

// Is makes errors.Is(err, ErrNoNpcap) and errors.Is(err, ErrNotSupported)
// true.
func (e *noNpcapError) Is(target error) bool {
	return target == ErrNoNpcap || target == ErrNotSupported
}

// Unwrap returns gopacket's error.
func (e *noNpcapError) Unwrap() error { return e.Err }

// loadNpcap loads Npcap's wpcap.dll if it is not loaded yet. gopacket
// tries at start-up and again at each call, so an Npcap installed while
// grpcsniff runs is found.
func loadNpcap(iface string) error {
	if err := pcap.LoadWinPCAP(); err != nil {
		return &noNpcapError{Interface: iface, Err: err}
	}
	return nil
}
