package live

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/gopacket/gopacket/layers"
)

// AnyInterface is the pseudo-interface name that captures on every
// interface, as in tcpdump -i any.
const AnyInterface = "any"

// Interface describes a network interface one can capture on.
type Interface struct {
	// Index is the kernel's interface index; 0 for "any".
	Index int
	Name  string
	// Description is set for pseudo-interfaces ("any").
	Description string
	Up          bool // administratively up (ip link set NAME up)
	Running     bool // has carrier: packets can flow
	Loopback    bool
	MTU         int
	// Addrs holds the interface's IPv4 and IPv6 addresses with prefix length.
	Addrs []netip.Prefix
	// LinkType is what captured packets start with: Ethernet, or Raw (an
	// IP header) for "any" and devices without an Ethernet header.
	LinkType layers.LinkType
}

// String formats the interface like a line of tcpdump -D, with addresses:
// "eth0 [Up, Running] 10.0.0.2/24 fe80::1/64".
func (i Interface) String() string {
	var b strings.Builder
	b.WriteString(i.Name)
	if i.Description != "" {
		b.WriteString(" (" + i.Description + ")")
	}
	var flags []string
	if i.Up {
		flags = append(flags, "Up")
	} else {
		flags = append(flags, "Down")
	}
	if i.Running {
		flags = append(flags, "Running")
	}
	if i.Loopback {
		flags = append(flags, "Loopback")
	}
	if len(flags) > 0 {
		b.WriteString(" [" + strings.Join(flags, ", ") + "]")
	}
	for _, a := range i.Addrs {
		b.WriteString(" " + a.String())
	}
	return b.String()
}

// Interfaces lists the system's interfaces in index order, followed by the
// pseudo-interfaces of the platform ("any" on Linux). Listing needs no
// privilege. On Windows it lists Npcap's capture devices instead, by the
// names -i takes, in the order of the numbers -i takes too.
func Interfaces() ([]Interface, error) {
	if platformInterfaces != nil {
		return platformInterfaces()
	}
	return netInterfaces()
}

// platformInterfaces, when set, is Interfaces on a platform whose capture
// devices are not the interfaces of package net (Windows and Npcap).
var platformInterfaces func() ([]Interface, error)

// netInterfaces lists the interfaces of package net and the
// pseudo-interfaces, with the link type of each.
func netInterfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(ifs)+1)
	for _, ni := range ifs {
		i := Interface{
			Index:    ni.Index,
			Name:     ni.Name,
			Up:       ni.Flags&net.FlagUp != 0,
			Running:  ni.Flags&net.FlagRunning != 0,
			Loopback: ni.Flags&net.FlagLoopback != 0,
			MTU:      ni.MTU,
		}
		if lt, err := LinkTypeOf(ni.Name); err == nil {
			i.LinkType = lt
		}
		addrs, _ := ni.Addrs() // an interface without addresses is still listed
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ones, _ := ipn.Mask.Size()
			i.Addrs = append(i.Addrs, netip.PrefixFrom(ip.Unmap(), ones))
		}
		out = append(out, i)
	}
	return append(out, pseudoInterfaces()...), nil
}

// lookupInterface finds iface, or returns a *NoInterfaceError listing the
// names that exist.
func lookupInterface(iface string) (*net.Interface, error) {
	ni, err := net.InterfaceByName(iface)
	if err == nil {
		return ni, nil
	}
	ifs, lerr := net.Interfaces()
	if lerr != nil {
		return nil, fmt.Errorf("interface %q: %w", iface, err)
	}
	e := &NoInterfaceError{Interface: iface}
	for _, i := range ifs {
		if i.Name == iface {
			// It exists after all: the first lookup failed for another reason.
			return nil, fmt.Errorf("interface %q: %w", iface, err)
		}
		e.Available = append(e.Available, i.Name)
	}
	for _, p := range pseudoInterfaces() {
		e.Available = append(e.Available, p.Name)
	}
	return nil, e
}
