package live

import (
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux the permission is a capability, and the remedy names setcap.
func TestPermissionMessageLinux(t *testing.T) {
	e := &PermissionError{Interface: "lo", Err: unix.EPERM}
	if want := "capturing on lo needs the CAP_NET_RAW capability (and CAP_NET_ADMIN for promiscuous mode)"; e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	if !strings.Contains(e.Remedy(), "setcap cap_net_raw,cap_net_admin+eip") {
		t.Errorf("Remedy() = %q, want the setcap command", e.Remedy())
	}
}

// htons gives the bytes of the big-endian value in memory, whatever the
// host's byte order: the kernel reads sockaddr_ll.sll_protocol that way.
func TestHtonsIsNetworkOrderInMemory(t *testing.T) {
	v := htons(0x0003) // ETH_P_ALL
	b := (*[2]byte)(unsafe.Pointer(&v))
	if b[0] != 0x00 || b[1] != 0x03 {
		t.Errorf("htons(3) is % x in memory, want 00 03", b[:])
	}
}
