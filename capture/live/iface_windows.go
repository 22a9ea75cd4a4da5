package live

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unsafe"

	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/sys/windows"
)

func init() { platformInterfaces = npcapInterfaces }

// pseudoInterfaces returns none: Npcap has no "any" device.
func pseudoInterfaces() []Interface { return nil }

// npcapInterfaces lists Npcap's capture devices in the order -i takes
// numbers in, named as -i takes them. Without Npcap it lists the system's
// interfaces, saying that capturing on them needs Npcap.
func npcapInterfaces() ([]Interface, error) {
	if err := pcap.LoadWinPCAP(); err != nil {
		ifs, lerr := netInterfaces()
		for i := range ifs {
			ifs[i].Description = "cannot capture: " + ErrNoNpcap.Error() + ", see " + npcapURL
		}
		return ifs, lerr
	}
	devs, err := devices()
	if err != nil {
		return nil, err
	}
	out := make([]Interface, len(devs))
	for i, d := range devs {
		out[i] = deviceInterface(d, devs)
	}
	return out, nil
}

// findDevice finds the Npcap device iface names (see resolveDevice).
func findDevice(iface string) (npfDevice, error) {
	if err := loadNpcap(iface); err != nil {
		return npfDevice{}, err
	}
	devs, err := devices()
	if err != nil {
		return npfDevice{}, fmt.Errorf("capturing on %s: %w", iface, err)
	}
	if len(devs) == 0 {
		// An Npcap in admin-only mode has listed nothing to other users
		// in some versions.
		return npfDevice{}, fmt.Errorf("capturing on %s: Npcap lists no capture devices: %w", iface, &PermissionError{Interface: iface})
	}
	return resolveDevice(iface, devs)
}

// devices lists Npcap's devices (pcap_findalldevs) with the name, index
// and type of the Windows adapter each captures on, matched by GUID.
func devices() ([]npfDevice, error) {
	pds, err := pcap.FindAllDevs()
	if err != nil {
		return nil, fmt.Errorf("listing Npcap's devices: %w", err)
	}
	// Without the adapters, devices go by their NPF names: still usable.
	adapters, _ := adaptersByGUID()
	devs := make([]npfDevice, 0, len(pds))
	for _, pd := range pds {
		d := npfDevice{Name: pd.Name, Description: pd.Description, Flags: pd.Flags}
		for _, a := range pd.Addresses {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			d.Addrs = append(d.Addrs, netip.PrefixFrom(ip, prefixLen(a.Netmask, ip.Is4())))
		}
		if a, ok := adapters[strings.ToUpper(guidOf(pd.Name))]; ok {
			d.Friendly, d.Index, d.IfType, d.MTU = a.Friendly, a.Index, a.IfType, a.MTU
		}
		if d.isLoopback() {
			d.Aliases = adapters[loopbackKey].aliases()
		}
		devs = append(devs, d)
	}
	return devs, nil
}

// adapterInfo is what Windows says of an adapter.
type adapterInfo struct {
	Friendly string
	Index    int
	IfType   uint32
	MTU      int
}

// aliases returns the names under which the loopback device is also
// accepted: Windows' name for its loopback pseudo-interface.
func (a adapterInfo) aliases() []string {
	if a.Friendly == "" {
		return nil
	}
	return []string{a.Friendly}
}

// loopbackKey is where adaptersByGUID files the software loopback
// interface, which has no Npcap device of its own GUID: Npcap captures its
// traffic on NPF_Loopback.
const loopbackKey = "loopback"

// adaptersByGUID returns the system's adapters by upper-case "{GUID}"
// (GetAdaptersAddresses' AdapterName), the software loopback interface
// under loopbackKey.
func adaptersByGUID() (map[string]adapterInfo, error) {
	size := uint32(15 << 10) // Microsoft's advice: start at 15 KB
	for range 3 {
		buf := make([]byte, size)
		aa := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0]))
		err := windows.GetAdaptersAddresses(windows.AF_UNSPEC, windows.GAA_FLAG_SKIP_ANYCAST|windows.GAA_FLAG_SKIP_MULTICAST|windows.GAA_FLAG_SKIP_DNS_SERVER, 0, aa, &size)
		if errors.Is(err, windows.ERROR_BUFFER_OVERFLOW) {
			continue // size now says how much is needed
		}
		if err != nil {
			return nil, fmt.Errorf("GetAdaptersAddresses: %w", err)
		}
		m := map[string]adapterInfo{}
		for ; aa != nil; aa = aa.Next {
			info := adapterInfo{
				Friendly: windows.UTF16PtrToString(aa.FriendlyName),
				Index:    int(aa.IfIndex),
				IfType:   aa.IfType,
				MTU:      int(aa.Mtu),
			}
			if info.Index == 0 {
				info.Index = int(aa.Ipv6IfIndex) // an IPv6-only adapter
			}
			m[strings.ToUpper(windows.BytePtrToString(aa.AdapterName))] = info
			if aa.IfType == windows.IF_TYPE_SOFTWARE_LOOPBACK {
				m[loopbackKey] = info
			}
		}
		return m, nil
	}
	return nil, errors.New("GetAdaptersAddresses: the adapter list kept growing")
}
