package live

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
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
// "any" pseudo-interface. Listing needs no privilege.
func Interfaces() ([]Interface, error) {
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
	out = append(out, Interface{
		Name:        AnyInterface,
		Description: "Pseudo-device that captures on all interfaces",
		Up:          true,
		Running:     true,
		LinkType:    layers.LinkTypeRaw,
	})
	return out, nil
}

// LinkTypeOf returns the link type packets captured on iface will have, so
// that a filter can be compiled for it before Open: layers.LinkTypeEthernet
// for Ethernet-like devices and lo, layers.LinkTypeRaw (packets start at
// the IPv4 or IPv6 header) for "any" and every other kind of device.
func LinkTypeOf(iface string) (layers.LinkType, error) {
	if iface == AnyInterface {
		return layers.LinkTypeRaw, nil
	}
	if _, err := lookupInterface(iface); err != nil {
		return 0, err
	}
	hw, err := hardwareType(iface)
	if err != nil {
		return 0, err
	}
	return linkTypeOfHardware(hw), nil
}

// linkTypeOfHardware maps an ARPHRD_ device type to the link type of the
// capture. Only Ethernet and loopback (whose frames carry an all-zero
// Ethernet header) are read with their link-layer header; everything else
// is read from the network header on, which is all a gRPC sniffer needs and
// spares it from knowing every link layer Linux supports.
func linkTypeOfHardware(hw uint16) layers.LinkType {
	switch hw {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return layers.LinkTypeEthernet
	}
	return layers.LinkTypeRaw
}

// hardwareType asks the kernel for the device type (ARPHRD_*) of iface.
func hardwareType(iface string) (uint16, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("device type of %s: %w", iface, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(iface)
	if err != nil {
		return 0, fmt.Errorf("device type of %s: %w", iface, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, fmt.Errorf("device type of %s: %w", iface, err)
	}
	// The union holds a struct sockaddr whose first field, sa_family, is the
	// ARPHRD_ type in host byte order.
	return ifr.Uint16(), nil
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
	e.Available = append(e.Available, AnyInterface)
	return nil, e
}

// rxDropped reads the count of packets the interface's driver and the
// kernel's input path dropped, as libpcap reports in ps_ifdrop.
func rxDropped(iface string) (uint64, error) {
	b, err := os.ReadFile("/sys/class/net/" + iface + "/statistics/rx_dropped")
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// allRxDropped reads rxDropped of every interface, for "any".
func allRxDropped() map[string]uint64 {
	m := map[string]uint64{}
	ifs, err := net.Interfaces()
	if err != nil {
		return m
	}
	for _, i := range ifs {
		if n, err := rxDropped(i.Name); err == nil {
			m[i.Name] = n
		}
	}
	return m
}
