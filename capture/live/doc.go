// Package live captures packets from a network interface in pure Go, with
// no cgo and no libpcap, through the platform's own capture device. One
// file per backend, chosen by build tags, implements Open and Source; the
// decoder reads every backend through capture.Source and never knows which
// it has:
//
//   - Linux: an AF_PACKET socket with a TPACKET_V3 memory-mapped ring
//     (github.com/gopacket/gopacket/afpacket). Ethernet devices and lo give
//     Ethernet frames, while "any" (every interface) and devices without an
//     Ethernet header (tun, WireGuard, PPP, ...) are read through a
//     SOCK_DGRAM socket and give raw IP packets (layers.LinkTypeRaw).
//   - Elsewhere, until a backend exists, Open fails with ErrNotSupported;
//     capture files are read on every platform by package capture.
//
// Call LinkTypeOf before Open to know what a filter must be compiled for.
//
// The package also holds what a capture command needs around the device:
// Interfaces for listing devices (-D), DropPrivileges for giving up root once
// the device is open (-Z), and PcapngWriter for saving what was captured,
// TLS key logs included (-w).
package live
