package live

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// npfDevs is what Npcap and Windows report on a laptop with two adapters
// named alike by their drivers, a VPN and the loopback device.
func npfDevs() []npfDevice {
	return []npfDevice{
		{Name: `\Device\NPF_{4C1E0C2B-1111-4A4B-9C2D-000000000001}`, Description: "Intel(R) Ethernet Connection I219-V",
			Flags: pcapIfUp | pcapIfRunning | 0x10, Friendly: "Ethernet", Index: 12, IfType: ifTypeEthernet, MTU: 1500,
			Addrs: []netip.Prefix{netip.MustParsePrefix("192.168.1.20/24")}},
		{Name: `\Device\NPF_{4C1E0C2B-2222-4A4B-9C2D-000000000002}`, Description: "Intel(R) Wi-Fi 6 AX201 160MHz",
			Flags: pcapIfUp | pcapIfStatusDisconnect, Friendly: "Wi-Fi", Index: 7, IfType: ifTypeWiFi},
		{Name: `\Device\NPF_{4C1E0C2B-3333-4A4B-9C2D-000000000003}`, Description: "WireGuard Tunnel",
			Flags: pcapIfUp | pcapIfRunning, Friendly: "wg0", Index: 30, IfType: 53},
		{Name: `\Device\NPF_{4C1E0C2B-4444-4A4B-9C2D-000000000004}`, Description: "Hyper-V Virtual Ethernet Adapter",
			Flags: pcapIfUp | pcapIfRunning, Friendly: "vEthernet", Index: 40, IfType: ifTypeEthernet},
		{Name: `\Device\NPF_{4C1E0C2B-5555-4A4B-9C2D-000000000005}`, Description: "Hyper-V Virtual Ethernet Adapter #2",
			Flags: pcapIfUp | pcapIfRunning, Friendly: "VETHERNET", Index: 41, IfType: ifTypeEthernet},
		{Name: npfLoopback, Description: "Adapter for loopback traffic capture",
			Flags: pcapIfLoopback | pcapIfUp | pcapIfRunning | 0x30, Aliases: []string{"Loopback Pseudo-Interface 1"}},
	}
}

func TestResolveDevice(t *testing.T) {
	devs := npfDevs()
	for _, c := range []struct{ name, want string }{
		{"Ethernet", devs[0].Name},
		{"ethernet", devs[0].Name},
		{"Wi-Fi", devs[1].Name},
		{`\Device\NPF_{4C1E0C2B-2222-4A4B-9C2D-000000000002}`, devs[1].Name},
		{`\device\npf_{4c1e0c2b-2222-4a4b-9c2d-000000000002}`, devs[1].Name},
		{`NPF_{4C1E0C2B-3333-4A4B-9C2D-000000000003}`, devs[2].Name},
		{`{4C1E0C2B-3333-4A4B-9C2D-000000000003}`, devs[2].Name},
		{"wg0", devs[2].Name},
		{"loopback", npfLoopback},
		{"lo", npfLoopback},
		{"NPF_Loopback", npfLoopback},
		{npfLoopback, npfLoopback},
		{"Loopback Pseudo-Interface 1", npfLoopback},
		{"1", devs[0].Name},
		{"6", npfLoopback},
		{devs[4].Name, devs[4].Name},
	} {
		d, err := resolveDevice(c.name, devs)
		if err != nil || d.Name != c.want {
			t.Errorf("resolveDevice(%q) = %q, %v; want %q", c.name, d.Name, err, c.want)
		}
	}
	for _, name := range []string{"eth0", "0", "7", "vEthernet", "", "any"} {
		_, err := resolveDevice(name, devs)
		var ne *NoInterfaceError
		if !errors.As(err, &ne) || !errors.Is(err, ErrNoInterface) {
			t.Errorf("resolveDevice(%q): %v, want a NoInterfaceError", name, err)
			continue
		}
		if got := strings.Join(ne.Available, ","); !strings.Contains(got, "Ethernet,Wi-Fi,wg0,") || !strings.HasSuffix(got, ",loopback") {
			t.Errorf("resolveDevice(%q) lists %s", name, got)
		}
	}
}

// TestDeviceInterface checks how -D lists devices: by the name -i takes,
// with the NPF device and Npcap's description, and Npcap's flags.
func TestDeviceInterface(t *testing.T) {
	devs := npfDevs()
	var lines []string
	for _, d := range devs {
		lines = append(lines, deviceInterface(d, devs).String())
	}
	want := []string{
		`Ethernet (\Device\NPF_{4C1E0C2B-1111-4A4B-9C2D-000000000001}: Intel(R) Ethernet Connection I219-V) [Up, Running] 192.168.1.20/24`,
		`Wi-Fi (\Device\NPF_{4C1E0C2B-2222-4A4B-9C2D-000000000002}: Intel(R) Wi-Fi 6 AX201 160MHz) [Up]`,
		`wg0 (\Device\NPF_{4C1E0C2B-3333-4A4B-9C2D-000000000003}: WireGuard Tunnel) [Up, Running]`,
		`\Device\NPF_{4C1E0C2B-4444-4A4B-9C2D-000000000004} (Hyper-V Virtual Ethernet Adapter) [Up, Running]`,
		`\Device\NPF_{4C1E0C2B-5555-4A4B-9C2D-000000000005} (Hyper-V Virtual Ethernet Adapter #2) [Up, Running]`,
		`loopback (\Device\NPF_Loopback: Adapter for loopback traffic capture) [Up, Running, Loopback]`,
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], want[i])
		}
	}
	lt := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeEthernet, 0, layers.LinkTypeEthernet, layers.LinkTypeEthernet, layers.LinkTypeRaw}
	for i, d := range devs {
		if got := deviceInterface(d, devs); got.LinkType != lt[i] || got.Index != d.Index {
			t.Errorf("%s: link type %s, index %d; want %s, %d", d.Name, got.LinkType, got.Index, lt[i], d.Index)
		}
	}
	if !devs[1].disconnected() || devs[0].disconnected() || devs[5].disconnected() {
		t.Error("disconnected")
	}
}

func TestPredictedLinkType(t *testing.T) {
	devs := npfDevs()
	if _, ok := devs[2].predictedLinkType(); ok {
		t.Error("a WireGuard tunnel's link type was guessed; it must be asked")
	}
	if lt, ok := (npfDevice{Name: npfLoopback}).predictedLinkType(); !ok || lt != layers.LinkTypeRaw {
		t.Errorf("loopback by name: %s, %v", lt, ok)
	}
}

func TestGuidOf(t *testing.T) {
	for in, want := range map[string]string{
		`\Device\NPF_{ABC}`: "{ABC}",
		`\device\npf_{abc}`: "{abc}",
		npfLoopback:         "",
		`{ABC}`:             "",
		`\Device\NPF_`:      "",
	} {
		if got := guidOf(in); got != want {
			t.Errorf("guidOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrefixLen(t *testing.T) {
	for _, c := range []struct {
		mask []byte
		is4  bool
		want int
	}{
		{[]byte{255, 255, 255, 0}, true, 24},
		{append(make([]byte, 10), 0xff, 0xff, 255, 255, 240, 0), true, 20},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}, false, 64},
		{nil, true, 32},
		{nil, false, 128},
	} {
		if got := prefixLen(c.mask, c.is4); got != c.want {
			t.Errorf("prefixLen(%v, %v) = %d, want %d", c.mask, c.is4, got, c.want)
		}
	}
}

// fakeActivateError stands for gopacket's unexported activateError.
type fakeActivateError int

func (e fakeActivateError) Error() string { return "Permission Denied" }

func TestActivateError(t *testing.T) {
	code, ok := activateCode(fakeActivateError(pcapErrorPermDenied))
	if !ok || code != pcapErrorPermDenied {
		t.Fatalf("activateCode = %d, %v", code, ok)
	}
	if _, ok := activateCode(errors.New("x")); ok {
		t.Error("a code read from a string error")
	}
	if _, ok := activateCode(nil); ok {
		t.Error("a code read from nil")
	}
	for _, c := range []struct {
		code int
		is   error
		text string
	}{
		{pcapErrorPermDenied, ErrPermission, "needs"},
		{pcapErrorNoSuchDevice, ErrPermission, "declined"},
		{pcapWarningPromiscNotSup, ErrPromiscuous, "does not support"},
		{pcapErrorIfaceNotUp, nil, "disabled"},
		{-1, nil, "Permission Denied"},
	} {
		err := activateError("Ethernet", c.code, fakeActivateError(c.code))
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("code %d: %v does not match %v", c.code, err, c.is)
		}
		if !strings.Contains(err.Error(), c.text) || !strings.Contains(err.Error(), "Ethernet") {
			t.Errorf("code %d: %q lacks %q", c.code, err, c.text)
		}
	}
}

func TestCounter32(t *testing.T) {
	var c counter32
	for _, step := range []struct {
		cur  uint32
		want uint64
	}{{10, 10}, {10, 10}, {1 << 31, 1 << 31}, {1<<32 - 1, 1<<32 - 1}, {5, 1<<32 + 5}, {100, 1<<32 + 100}} {
		if got := c.update(step.cur); got != step.want {
			t.Fatalf("update(%d) = %d, want %d", step.cur, got, step.want)
		}
	}
}
