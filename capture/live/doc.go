// Package live captures packets from a network interface in pure Go, with
// no cgo, through the platform's own capture device (no libpcap, except
// Npcap's on Windows, loaded at run time). One file per backend, chosen by
// build tags, implements Open and Source; the decoder reads every backend
// through capture.Source and never knows which it has:
//
//   - Linux: an AF_PACKET socket with a TPACKET_V3 memory-mapped ring
//     (github.com/gopacket/gopacket/afpacket). Ethernet devices and lo give
//     Ethernet frames, while "any" (every interface) and devices without an
//     Ethernet header (tun, WireGuard, PPP, ...) are read through a
//     SOCK_DGRAM socket and give raw IP packets (layers.LinkTypeRaw).
//   - macOS, FreeBSD, NetBSD, OpenBSD and DragonFly: a BPF device
//     (/dev/bpf, or the first free /dev/bpfN on macOS) attached to one
//     interface, read with golang.org/x/sys/unix and the syscall package's
//     BPF ioctls. Ethernet and Wi-Fi give Ethernet frames, lo0 and utun
//     give DLT_NULL frames (layers.LinkTypeNull; OpenBSD's lo0 gives
//     layers.LinkTypeLoop), tun devices raw IP. There is no "any": one
//     interface at a time. Opening needs read access to /dev/bpf* (root,
//     or on macOS the access_bpf group of Wireshark's ChmodBPF).
//   - Windows: Npcap (https://npcap.com), through gopacket/pcap, which
//     loads Npcap's wpcap.dll from System32\Npcap at run time, without cgo
//     (when the program starts: gopacket's init tries, and Open tries again);
//     without Npcap, Open fails with ErrNoNpcap (which matches
//     ErrNotSupported too) and a download hint. -i takes the adapter's
//     Windows name ("Ethernet", "Wi-Fi"), its \Device\NPF_{GUID} name or
//     GUID, its number in the Interfaces list, or "loopback" (also "lo")
//     for Npcap's loopback device \Device\NPF_Loopback. Ethernet and Wi-Fi
//     adapters give Ethernet frames; loopback packets are handed on as raw
//     IP (layers.LinkTypeRaw) without Npcap's 4-byte DLT_NULL header, and
//     raw IP filters are rewritten for Npcap, which lacks Linux's
//     SKF_AD_PROTOCOL. In Npcap's admin-only mode, capturing needs an
//     administrator (PermissionError).
//   - Elsewhere, until a backend exists, Open fails with ErrNotSupported;
//     capture files are read on every platform by package capture.
//
// Call LinkTypeOf before Open to know what a filter must be compiled for
// (bpffilter.ForLinkType maps it to the filter compiler's link type).
//
// The package also holds what a capture command needs around the device:
// Interfaces for listing devices (-D), DropPrivileges for giving up root once
// the device is open (-Z), and PcapngWriter for saving what was captured,
// TLS key logs included (-w).
package live
