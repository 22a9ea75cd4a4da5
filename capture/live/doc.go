// Package live captures packets from a Linux network interface without cgo
// or libpcap, through an AF_PACKET socket with a TPACKET_V3 memory-mapped
// ring (github.com/gopacket/gopacket/afpacket).
//
// A Source implements capture.Source. What Packet.Data starts with depends
// on the interface: Ethernet devices and lo give Ethernet frames, while
// "any" (every interface) and devices without an Ethernet header (tun,
// WireGuard, PPP, ...) are read through a SOCK_DGRAM socket and give raw IP
// packets (layers.LinkTypeRaw). Call LinkTypeOf before Open to know which of
// the two a filter must be compiled for.
//
// The package also holds what a capture command needs around the socket:
// Interfaces for listing devices (-D), DropPrivileges for giving up root once
// the socket is open (-Z), and PcapngWriter for saving what was captured,
// TLS key logs included (-w).
package live
