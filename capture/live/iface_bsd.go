//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package live

import (
	"fmt"
	"runtime"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// pseudoInterfaces returns none: a BPF device reads one interface, and
// there is no "any".
func pseudoInterfaces() []Interface { return nil }

// LinkTypeOf returns the link type packets captured on iface will have, so
// that a filter can be compiled for it before Open: layers.LinkTypeEthernet
// for Ethernet and Wi-Fi, layers.LinkTypeNull for lo0 and utun (macOS),
// layers.LinkTypeLoop for OpenBSD's lo0, layers.LinkTypeRaw for tun
// devices that give bare IP. It asks the kernel, through a BPF device
// attached to iface for a moment, so it needs the same permission as
// Open. "any" is an error: see errNoAny.
func LinkTypeOf(iface string) (layers.LinkType, error) {
	if iface == AnyInterface {
		return 0, errNoAny()
	}
	if _, err := lookupInterface(iface); err != nil {
		return 0, err
	}
	fd, err := openBPFDevice(iface)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	if err := attachDevice(fd, iface); err != nil {
		return 0, deviceError(iface, err)
	}
	dlt, err := dataLinkOf(fd)
	if err != nil {
		return 0, deviceError(iface, err)
	}
	lt, err := linkTypeOfDLT(dlt, runtime.GOOS)
	if err != nil {
		return 0, fmt.Errorf("capturing on %s: %w", iface, err)
	}
	return lt, nil
}

// errNoAny is the error for "-i any", which Linux has and the BSDs do not.
func errNoAny() error {
	return fmt.Errorf("capturing on %s: %w: %s has no %q pseudo-interface (a BPF device captures one interface); "+
		"pick one from the interface list (grpcsniff -D), such as en0 for Wi-Fi or Ethernet, or lo0 for loopback",
		AnyInterface, ErrNoInterface, osName(runtime.GOOS), AnyInterface)
}

// osName is how the system of goos calls itself.
func osName(goos string) string {
	switch goos {
	case "darwin":
		return "macOS"
	case "freebsd":
		return "FreeBSD"
	case "netbsd":
		return "NetBSD"
	case "openbsd":
		return "OpenBSD"
	case "dragonfly":
		return "DragonFly BSD"
	}
	return goos
}
