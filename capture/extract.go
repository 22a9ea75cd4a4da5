package capture

import (
	"errors"
	"io"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ConnTuple names a TCP connection by its two endpoints, in either order.
type ConnTuple struct{ A, B netip.AddrPort }

type connKey struct{ lo, hi netip.AddrPort }

func keyOf(a, b netip.AddrPort) connKey {
	if a.Compare(b) <= 0 {
		return connKey{a, b}
	}
	return connKey{b, a}
}

// ExtractConnections re-reads the capture at path and writes to w, as
// pcapng, the TCP packets whose endpoint pair (in either direction) is one
// of conns, with their original bytes, lengths and timestamps. It returns
// the number of packets written.
//
// The capture is read again rather than kept in memory because a UI holds
// calls, not packets: keeping every packet of a long capture for a rare
// export would cost more than reading the file twice. Each link type met
// among the kept packets gets its own interface block, so a capture that
// mixes link types stays readable. Matching is by endpoints, so when a
// client port was reused, every connection with that pair is written; IP
// fragments after the first carry no TCP header and are left out. A read
// error after some packets returns those packets' count with the error
// (the output is still a valid pcapng); a capture without a matching
// packet gives a pcapng with an interface and no packets.
func ExtractConnections(path string, conns []ConnTuple, w io.Writer) (int, error) {
	if path == "-" || path == "" {
		return 0, errors.New("the capture came from standard input and cannot be read again")
	}
	src, err := OpenFile(path)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	want := make(map[connKey]bool, len(conns))
	for _, c := range conns {
		want[keyOf(c.A, c.B)] = true
	}
	x := extractor{w: w, ifaces: map[layers.LinkType]int{}}
	var seg Segment
	var readErr error
	first := layers.LinkTypeEthernet
	for n := 0; ; n++ {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if n == 0 {
			first = p.LinkType
		}
		if r, _ := DecodePacket(p, &seg); r != DecodedTCP || !want[keyOf(seg.Src, seg.Dst)] {
			continue
		}
		if err := x.write(p); err != nil {
			return x.n, err
		}
	}
	if x.ng == nil {
		// No packet matched: still leave a readable (empty) capture.
		if err := x.open(first); err != nil {
			return 0, err
		}
	}
	if err := x.ng.Flush(); err != nil {
		return x.n, err
	}
	return x.n, readErr
}

// extractor writes packets, adding an interface per link type on first use.
type extractor struct {
	w      io.Writer
	ng     *pcapgo.NgWriter
	ifaces map[layers.LinkType]int
	n      int
}

func (x *extractor) open(lt layers.LinkType) error {
	intf := pcapgo.DefaultNgInterface
	intf.Name, intf.LinkType = "", lt
	opts := pcapgo.DefaultNgWriterOptions
	opts.SectionInfo.Application = "grpcsniff"
	ng, err := pcapgo.NewNgWriterInterface(x.w, intf, opts)
	if err != nil {
		return err
	}
	x.ng, x.ifaces[lt] = ng, 0
	return nil
}

func (x *extractor) write(p Packet) error {
	if x.ng == nil {
		if err := x.open(p.LinkType); err != nil {
			return err
		}
	}
	id, ok := x.ifaces[p.LinkType]
	if !ok {
		intf := pcapgo.DefaultNgInterface
		intf.Name, intf.LinkType = "", p.LinkType
		var err error
		if id, err = x.ng.AddInterface(intf); err != nil {
			return err
		}
		x.ifaces[p.LinkType] = id
	}
	ci := gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: max(p.Length, len(p.Data)), InterfaceIndex: id}
	if err := x.ng.WritePacket(ci, p.Data); err != nil {
		return err
	}
	x.n++
	return nil
}
