package capture

import "net/netip"

// ConnOnly is a capture file narrowed to one TCP connection's endpoints:
// its Next skips the TCP packets between any other two endpoints, and
// returns every other packet (the connection's own, and those that are not
// TCP, which the decoding sets aside anyway). Reading the packets costs a
// fraction of decoding them, so a program that has to decode one call of
// a large capture again (an interactive view opening a call it did not
// keep) gets it in the time it takes to read the file. The connections of
// the narrowed capture are numbered from 1 again.
type ConnOnly struct {
	*FileSource
	a, b netip.AddrPort
	seg  Segment
}

// NewConnOnly narrows src to the connection between a and b (either way).
func NewConnOnly(src *FileSource, a, b netip.AddrPort) *ConnOnly {
	return &ConnOnly{FileSource: src, a: a, b: b}
}

// Next returns the next packet of the connection, or that is not TCP.
func (c *ConnOnly) Next() (Packet, error) {
	for {
		p, err := c.FileSource.Next()
		if err != nil {
			return p, err
		}
		if res, _ := DecodePacket(p, &c.seg); res != DecodedTCP ||
			c.seg.Src == c.a && c.seg.Dst == c.b || c.seg.Src == c.b && c.seg.Dst == c.a {
			return p, nil
		}
	}
}
