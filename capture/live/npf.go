package live

// The Windows backend's logic that does not need Npcap: naming devices,
// mapping their link types and flags, and reading libpcap's error codes.
// It is in an untagged file so that its tests run on every platform; only
// live_windows.go and iface_windows.go call it in a build.

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket/layers"
)

const (
	// npfPrefix starts the name of every Npcap capture device; the rest is
	// the adapter's GUID, "{...}", as Windows names adapters.
	npfPrefix = `\Device\NPF_`
	// npfLoopback is Npcap's loopback capture device, which sees the
	// traffic to 127.0.0.1 and ::1 (Npcap 0.9983 and later).
	npfLoopback = npfPrefix + "Loopback"
	// loopbackName is how -D lists npfLoopback; "lo" is accepted too, as
	// users of other systems type it.
	loopbackName = "loopback"
	// nullHeaderLen is the size of the DLT_NULL header Npcap puts in
	// front of loopback packets: the address family in host byte order.
	nullHeaderLen = 4
)

// libpcap's pcap_if flags (pcap/pcap.h).
const (
	pcapIfLoopback         = 0x01
	pcapIfUp               = 0x02
	pcapIfRunning          = 0x04
	pcapIfStatusMask       = 0x30
	pcapIfStatusDisconnect = 0x20
)

// libpcap's pcap_activate results that need a message of their own.
const (
	pcapWarningPromiscNotSup = 2
	pcapErrorNoSuchDevice    = -5
	pcapErrorPermDenied      = -8
	pcapErrorIfaceNotUp      = -9
)

// Windows interface types (IANA ifType) known to give Ethernet frames
// through Npcap: Wi-Fi adapters in their normal (managed) mode get an
// emulated Ethernet header.
const (
	ifTypeEthernet = 6
	ifTypeWiFi     = 71
)

// npfDevice is an Npcap capture device, with what Windows says about its
// adapter.
type npfDevice struct {
	Name        string // \Device\NPF_{GUID} or \Device\NPF_Loopback
	Description string // Npcap's, e.g. "Intel(R) Ethernet Connection I219-V"
	Flags       uint32 // PCAP_IF_*
	Addrs       []netip.Prefix
	// From the Windows adapter of the same GUID, when there is one.
	Friendly string // the name Windows shows: "Ethernet", "Wi-Fi"
	Index    int    // the interface index (net.Interface.Index)
	IfType   uint32 // IANA ifType; 0 if unknown
	MTU      int
	// Aliases are other names accepted for the device: the Windows name
	// of the loopback pseudo-interface for npfLoopback.
	Aliases []string
}

// isLoopback says whether d is Npcap's loopback device.
func (d npfDevice) isLoopback() bool {
	return strings.EqualFold(d.Name, npfLoopback) || d.Flags&pcapIfLoopback != 0
}

// shortName is the name -D lists for d and -i takes: the Windows name of
// the adapter when it has one that no other device has, loopbackName for
// the loopback device, and the NPF device name otherwise.
func (d npfDevice) shortName(devs []npfDevice) string {
	if d.isLoopback() {
		return loopbackName
	}
	if d.Friendly == "" {
		return d.Name
	}
	for _, o := range devs {
		if o.Name != d.Name && strings.EqualFold(o.Friendly, d.Friendly) {
			return d.Name
		}
	}
	return d.Friendly
}

// guidOf returns the "{...}" part of an NPF device name, or "".
func guidOf(name string) string {
	if len(name) < len(npfPrefix) || !strings.EqualFold(name[:len(npfPrefix)], npfPrefix) {
		return ""
	}
	g := name[len(npfPrefix):]
	if !strings.HasPrefix(g, "{") || !strings.HasSuffix(g, "}") {
		return ""
	}
	return g
}

// resolveDevice finds the device a user means by name, in devs as listed by
// Interfaces: the NPF device name (with or without `\Device\`), the
// adapter's GUID, its Windows name ("Ethernet"), "loopback" or "lo" for
// the loopback device, or its number in the -D list. Names are compared
// without regard to case, as Windows does. It returns a *NoInterfaceError
// when nothing matches.
func resolveDevice(name string, devs []npfDevice) (npfDevice, error) {
	for _, d := range devs {
		if d.matches(name, devs) {
			return d, nil
		}
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 1 && n <= len(devs) {
		return devs[n-1], nil
	}
	e := &NoInterfaceError{Interface: name}
	for _, d := range devs {
		e.Available = append(e.Available, d.shortName(devs))
	}
	return npfDevice{}, e
}

// matches says whether name is one of the names of d.
func (d npfDevice) matches(name string, devs []npfDevice) bool {
	names := []string{d.Name, d.shortName(devs), strings.TrimPrefix(d.Name, `\Device\`)}
	if g := guidOf(d.Name); g != "" {
		names = append(names, g)
	}
	if d.isLoopback() {
		names = append(names, "lo", npfLoopback)
	}
	names = append(names, d.Aliases...)
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// predictedLinkType is LinkTypeOf for a device whose link type is known
// without opening it: the loopback device, whose packets Next hands on as
// raw IP (without Npcap's DLT_NULL header), and Ethernet and Wi-Fi
// adapters. ok is false for other adapters, which must be asked.
func (d npfDevice) predictedLinkType() (lt layers.LinkType, ok bool) {
	switch {
	case d.isLoopback():
		return layers.LinkTypeRaw, true
	case d.IfType == ifTypeEthernet || d.IfType == ifTypeWiFi:
		return layers.LinkTypeEthernet, true
	}
	return 0, false
}

// deviceInterface describes d as -D lists it.
func deviceInterface(d npfDevice, devs []npfDevice) Interface {
	i := Interface{
		Index:       d.Index,
		Name:        d.shortName(devs),
		Description: d.Name,
		Up:          d.Flags&pcapIfUp != 0,
		Running:     d.Flags&pcapIfRunning != 0 && d.Flags&pcapIfStatusMask != pcapIfStatusDisconnect,
		Loopback:    d.isLoopback(),
		MTU:         d.MTU,
		Addrs:       d.Addrs,
	}
	switch {
	case i.Name == d.Name:
		// The name says which device it is; the description, what it is.
		i.Description = d.Description
	case d.Description != "":
		i.Description = d.Name + ": " + d.Description
	}
	if lt, ok := d.predictedLinkType(); ok {
		i.LinkType = lt
	}
	return i
}

// disconnected says whether Npcap reports the adapter without a link
// (cable unplugged, Wi-Fi not associated).
func (d npfDevice) disconnected() bool {
	return d.Flags&pcapIfStatusMask == pcapIfStatusDisconnect
}

// prefixLen returns the prefix length of a netmask as pcap_findalldevs
// gives it: 4 or 16 bytes (an IPv4 mask may come as IPv4-mapped IPv6), or
// none, which means a host address.
func prefixLen(mask []byte, is4 bool) int {
	if is4 && len(mask) == 16 {
		mask = mask[12:]
	}
	if len(mask) == 0 {
		if is4 {
			return 32
		}
		return 128
	}
	bits := 0
	for _, b := range mask {
		for ; b&0x80 != 0; b <<= 1 {
			bits++
		}
	}
	return bits
}

// activateCode returns libpcap's status code behind an error of gopacket's
// InactiveHandle.Activate, which returns its unexported activateError (an
// int) rather than something one can compare with.
func activateCode(err error) (code int, ok bool) {
	if err == nil {
		return 0, false
	}
	v := reflect.ValueOf(err)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(v.Int()), true
	}
	return 0, false
}

// activateError turns the error of pcap_activate on iface into one that
// says what to do: code is libpcap's status (see activateCode).
func activateError(iface string, code int, err error) error {
	switch code {
	case pcapErrorPermDenied:
		return &PermissionError{Interface: iface, Err: err}
	case pcapErrorNoSuchDevice:
		// The device was listed a moment ago. libpcap reports a refused
		// UAC prompt of admin-only mode as "no such device"
		// (ERROR_BAD_UNIT), so that is the likely cause.
		return fmt.Errorf("capturing on %s: Npcap could not open the device, which happens when its administrator prompt is declined: %w",
			iface, &PermissionError{Interface: iface, Err: err})
	case pcapWarningPromiscNotSup:
		return fmt.Errorf("capturing on %s: %w: the adapter does not support it", iface, ErrPromiscuous)
	case pcapErrorIfaceNotUp:
		return fmt.Errorf("capturing on %s: the adapter is disabled (enable it in Network Connections): %v", iface, err)
	}
	return fmt.Errorf("capturing on %s: %v", iface, err)
}

// counter32 adds up a 32-bit counter that Npcap reports cumulatively and
// that wraps around after 2^32 packets.
type counter32 struct {
	last  uint32
	total uint64
}

// update takes the counter's current value and returns the total.
func (c *counter32) update(cur uint32) uint64 {
	c.total += uint64(cur - c.last) // modular: right across a wrap
	c.last = cur
	return c.total
}
