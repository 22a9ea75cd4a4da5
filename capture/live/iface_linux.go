package live

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// pseudoInterfaces returns the interfaces that are not devices: on Linux,
// "any", which reads every interface through one socket.
func pseudoInterfaces() []Interface {
	return []Interface{{
		Name:        AnyInterface,
		Description: "Pseudo-device that captures on all interfaces",
		Up:          true,
		Running:     true,
		LinkType:    layers.LinkTypeRaw,
	}}
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
