package capture

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Segment is one decoded TCP segment.
type Segment struct {
	Src, Dst           netip.AddrPort
	Seq, Ack           uint32
	SYN, ACK, FIN, RST bool
	// Payload is the captured TCP payload. DecodePacket points it into the
	// packet's Data, so it has the same lifetime.
	Payload []byte
	// Missing counts payload bytes the IP header says were sent but the
	// capture's snap length cut off. They follow Payload in sequence space.
	Missing int
	Time    time.Time
}

// DecodeResult says what DecodePacket made of a packet.
type DecodeResult uint8

const (
	// DecodedTCP: the packet carries a TCP segment; the Segment is filled.
	DecodedTCP DecodeResult = iota
	// DecodedOther: a well-formed packet that is not TCP over IP (ARP,
	// UDP, ICMP, LLDP, ...).
	DecodedOther
	// DecodedFragment: an IP fragment other than the first, which holds
	// no TCP header. The TCP segment it belongs to shows up as lost bytes.
	DecodedFragment
	// DecodedUnsupported: the link type is not one this package decodes.
	DecodedUnsupported
	// DecodedMalformed: the headers are cut short or inconsistent; the
	// reason says how.
	DecodedMalformed
)

func (r DecodeResult) String() string {
	switch r {
	case DecodedTCP:
		return "tcp"
	case DecodedOther:
		return "other"
	case DecodedFragment:
		return "fragment"
	case DecodedUnsupported:
		return "unsupported"
	case DecodedMalformed:
		return "malformed"
	}
	return "unknown"
}

// Link types without a name in gopacket/layers. DLT 12 and 14 are raw IP
// on some systems (OpenBSD writes 12 for loop devices, 14 for raw IP).
const (
	linkTypeRaw12 layers.LinkType = 12
	linkTypeRaw14 layers.LinkType = 14
)

const (
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86DD
	etherTypeVLAN   = 0x8100
	etherTypeQinQ   = 0x88A8
	etherTypeQinQ1  = 0x9100
	etherTypeQinQ2  = 0x9200
	etherTypeMPLS   = 0x8847
	etherTypeMPLSMc = 0x8848
	etherTypePPPoE  = 0x8864
	// etherTypeByVersion is an internal marker: the IP version comes from
	// the first nibble (raw IP, MPLS payloads).
	etherTypeByVersion = 0xFFFF
)

// Reasons for DecodedMalformed. They are constants so that decoding never
// allocates; Stats keeps a count per reason.
const (
	reasonEthernetShort = "ethernet header truncated"
	reasonSLLShort      = "linux cooked (SLL) header truncated"
	reasonSLL2Short     = "linux cooked (SLL2) header truncated"
	reasonLoopShort     = "loopback header truncated"
	reasonPPPShort      = "ppp header truncated"
	reasonVLANShort     = "vlan tag truncated"
	reasonMPLSShort     = "mpls label stack truncated"
	reasonPPPoEShort    = "pppoe header truncated"
	reasonTooManyTags   = "too many vlan/mpls tags"
	reasonEmptyIP       = "ip packet is empty"
	reasonIPVersion     = "ip version is neither 4 nor 6"
	reasonIPv4Short     = "ipv4 header truncated"
	reasonIPv4HdrLen    = "ipv4 header length below 20 bytes"
	reasonIPv4Total     = "ipv4 total length shorter than its header"
	reasonIPv4Beyond    = "ipv4 total length beyond the captured frame"
	reasonIPv6Short     = "ipv6 header truncated"
	reasonIPv6Beyond    = "ipv6 payload length beyond the captured frame"
	reasonIPv6Ext       = "ipv6 extension header truncated"
	reasonIPv6TooMany   = "too many ipv6 extension headers"
	reasonTCPShort      = "tcp header truncated"
	reasonTCPHdrLen     = "tcp data offset below 20 bytes"
	reasonTCPBeyond     = "tcp header longer than the ip payload"
)

// DecodePacket decodes p's link, IP and TCP headers into seg. It never
// allocates and never keeps p; seg.Payload points into p.Data. For results
// other than DecodedTCP seg's contents are unspecified, and for
// DecodedMalformed the returned reason says what was wrong.
func DecodePacket(p Packet, seg *Segment) (DecodeResult, string) {
	data := p.Data
	// cut is how many bytes of the frame the snap length removed.
	cut := p.Length - len(data)
	if cut < 0 {
		cut = 0
	}
	seg.Time = p.Time
	var et uint16
	switch p.LinkType {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return DecodedMalformed, reasonEthernetShort
		}
		et = binary.BigEndian.Uint16(data[12:])
		data = data[14:]
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return DecodedMalformed, reasonSLLShort
		}
		et = binary.BigEndian.Uint16(data[14:])
		data = data[16:]
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return DecodedMalformed, reasonSLL2Short
		}
		et = binary.BigEndian.Uint16(data[0:])
		data = data[20:]
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return DecodedMalformed, reasonLoopShort
		}
		// NULL is in the writer's byte order, LOOP in network order; the
		// family is small, so whichever reading is small is the right one.
		fam := binary.BigEndian.Uint32(data)
		if fam > 0xFFFF {
			fam = binary.LittleEndian.Uint32(data)
		}
		data = data[4:]
		switch fam {
		case 2:
			et = etherTypeIPv4
		case 10, 23, 24, 28, 30: // AF_INET6 on Linux, Windows (older Npcap loopback), Net/OpenBSD, FreeBSD, Darwin
			et = etherTypeIPv6
		default:
			return DecodedOther, ""
		}
	case layers.LinkTypeRaw, linkTypeRaw12, linkTypeRaw14:
		et = etherTypeByVersion
	case layers.LinkTypeIPv4:
		et = etherTypeIPv4
	case layers.LinkTypeIPv6:
		et = etherTypeIPv6
	case layers.LinkTypePPP:
		if len(data) >= 2 && data[0] == 0xFF && data[1] == 0x03 {
			data = data[2:]
		}
		if len(data) < 2 {
			return DecodedMalformed, reasonPPPShort
		}
		var ok bool
		if et, ok = pppEtherType(binary.BigEndian.Uint16(data)); !ok {
			return DecodedOther, ""
		}
		data = data[2:]
	default:
		return DecodedUnsupported, ""
	}
	return decodeEtherType(et, data, cut, seg)
}

func decodeEtherType(et uint16, data []byte, cut int, seg *Segment) (DecodeResult, string) {
	for range 8 {
		switch et {
		case etherTypeIPv4:
			return decodeIPv4(data, cut, seg)
		case etherTypeIPv6:
			return decodeIPv6(data, cut, seg)
		case etherTypeByVersion:
			if len(data) == 0 {
				return DecodedMalformed, reasonEmptyIP
			}
			switch data[0] >> 4 {
			case 4:
				return decodeIPv4(data, cut, seg)
			case 6:
				return decodeIPv6(data, cut, seg)
			}
			return DecodedMalformed, reasonIPVersion
		case etherTypeVLAN, etherTypeQinQ, etherTypeQinQ1, etherTypeQinQ2:
			if len(data) < 4 {
				return DecodedMalformed, reasonVLANShort
			}
			et = binary.BigEndian.Uint16(data[2:])
			data = data[4:]
		case etherTypeMPLS, etherTypeMPLSMc:
			// Labels until the bottom-of-stack bit; the payload's IP
			// version is its first nibble.
			for {
				if len(data) < 4 {
					return DecodedMalformed, reasonMPLSShort
				}
				bottom := data[2]&1 != 0
				data = data[4:]
				if bottom {
					break
				}
			}
			et = etherTypeByVersion
		case etherTypePPPoE:
			if len(data) < 8 {
				return DecodedMalformed, reasonPPPoEShort
			}
			var ok bool
			if et, ok = pppEtherType(binary.BigEndian.Uint16(data[6:])); !ok {
				return DecodedOther, ""
			}
			data = data[8:]
		default:
			return DecodedOther, ""
		}
	}
	return DecodedMalformed, reasonTooManyTags
}

func decodeIPv4(b []byte, cut int, seg *Segment) (DecodeResult, string) {
	if len(b) < 20 {
		return DecodedMalformed, reasonIPv4Short
	}
	if b[0]>>4 != 4 {
		return DecodedMalformed, reasonIPVersion
	}
	ihl := int(b[0]&0x0F) * 4
	if ihl < 20 {
		return DecodedMalformed, reasonIPv4HdrLen
	}
	if len(b) < ihl {
		return DecodedMalformed, reasonIPv4Short
	}
	total := int(binary.BigEndian.Uint16(b[2:]))
	missing := 0
	switch {
	case total == 0:
		// Segmentation offload: the sending host captured a large segment
		// before the NIC split it, with the length left for the NIC.
		missing = min(cut, maxMissing)
	case total < ihl:
		return DecodedMalformed, reasonIPv4Total
	case total <= len(b):
		b = b[:total] // drop link-layer padding and trailers
	default:
		if cut == 0 {
			return DecodedMalformed, reasonIPv4Beyond
		}
		missing = total - len(b)
	}
	if binary.BigEndian.Uint16(b[6:])&0x1FFF != 0 {
		return DecodedFragment, ""
	}
	if b[9] != 6 {
		return DecodedOther, ""
	}
	src := netip.AddrFrom4([4]byte(b[12:16]))
	dst := netip.AddrFrom4([4]byte(b[16:20]))
	return decodeTCP(b[ihl:], src, dst, missing, seg)
}

func decodeIPv6(b []byte, cut int, seg *Segment) (DecodeResult, string) {
	if len(b) < 40 {
		return DecodedMalformed, reasonIPv6Short
	}
	if b[0]>>4 != 6 {
		return DecodedMalformed, reasonIPVersion
	}
	total := 40 + int(binary.BigEndian.Uint16(b[4:]))
	missing := 0
	switch {
	case total == 40 && len(b) > 40:
		// Zero payload length: a jumbogram or segmentation offload.
		missing = min(cut, maxMissing)
	case total <= len(b):
		b = b[:total]
	default:
		if cut == 0 {
			return DecodedMalformed, reasonIPv6Beyond
		}
		missing = total - len(b)
	}
	src := netip.AddrFrom16([16]byte(b[8:24]))
	dst := netip.AddrFrom16([16]byte(b[24:40]))
	next := b[6]
	off := 40
	for range 8 {
		switch next {
		case 6:
			return decodeTCP(b[off:], src, dst, missing, seg)
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(b) < off+2 {
				return DecodedMalformed, reasonIPv6Ext
			}
			next = b[off]
			off += (int(b[off+1]) + 1) * 8
		case 44: // fragment
			if len(b) < off+8 {
				return DecodedMalformed, reasonIPv6Ext
			}
			if binary.BigEndian.Uint16(b[off+2:])>>3 != 0 {
				return DecodedFragment, ""
			}
			next = b[off]
			off += 8
		case 51: // authentication header
			if len(b) < off+2 {
				return DecodedMalformed, reasonIPv6Ext
			}
			next = b[off]
			off += (int(b[off+1]) + 2) * 4
		default: // no next header (59), ESP (50), UDP, ICMPv6, ...
			return DecodedOther, ""
		}
		if off > len(b) {
			return DecodedMalformed, reasonIPv6Ext
		}
	}
	return DecodedMalformed, reasonIPv6TooMany
}

// decodeTCP reads a TCP header from b, the captured IP payload; missing
// bytes of it were cut off by the snap length.
func decodeTCP(b []byte, src, dst netip.Addr, missing int, seg *Segment) (DecodeResult, string) {
	if len(b) < 20 {
		return DecodedMalformed, reasonTCPShort
	}
	hl := int(b[12]>>4) * 4
	if hl < 20 {
		return DecodedMalformed, reasonTCPHdrLen
	}
	payload := b[len(b):]
	if hl <= len(b) {
		payload = b[hl:]
	} else {
		// The snap length cut into the options: sequence numbers and
		// flags are still good, and the payload is all missing.
		short := hl - len(b)
		if short > missing {
			return DecodedMalformed, reasonTCPBeyond
		}
		missing -= short
	}
	seg.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:]))
	seg.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:]))
	seg.Seq = binary.BigEndian.Uint32(b[4:])
	seg.Ack = binary.BigEndian.Uint32(b[8:])
	f := b[13]
	seg.FIN = f&0x01 != 0
	seg.SYN = f&0x02 != 0
	seg.RST = f&0x04 != 0
	seg.ACK = f&0x10 != 0
	seg.Payload = payload
	seg.Missing = missing
	return DecodedTCP, ""
}

// pppEtherType maps a PPP protocol number to the EtherType of the same
// network protocol; ok is false for anything but IPv4 and IPv6.
func pppEtherType(proto uint16) (et uint16, ok bool) {
	switch proto {
	case 0x0021:
		return etherTypeIPv4, true
	case 0x0057:
		return etherTypeIPv6, true
	}
	return 0, false
}
