// Package lossy damages a pcap the way a busy network or capture does: it
// drops packets and swaps packets with ones a few positions later, at
// random with a fixed seed, so that the damage is the same on every run.
package lossy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Options say how much damage to do.
type Options struct {
	Drop    float64 // percentage of packets dropped
	Reorder float64 // percentage of packets swapped with one 1–3 positions later
	Seed    uint64
}

// Stats say what was done.
type Stats struct {
	Packets, Dropped, Swapped int
	// DroppedPackets describes each dropped packet, in input order.
	DroppedPackets []DroppedPacket
}

// DroppedPacket is one packet the copy left out.
type DroppedPacket struct {
	Index int       // 0-based position in the input
	Time  time.Time // its timestamp in the input
	// TCP is set when the packet is a TCP segment (of an unfragmented IPv4
	// or an IPv6 packet); the fields below are then filled in.
	TCP      bool
	Src, Dst netip.AddrPort // the sender and the receiver
	Seq      uint32         // the sequence number of the first payload byte (of the SYN or FIN when there is none)
	Len      int            // payload bytes, as the IP header counts them, captured or not
	SYN      bool
	FIN      bool
	RST      bool
}

// Payload reports whether the packet carried stream bytes.
func (d DroppedPacket) Payload() bool { return d.TCP && d.Len > 0 }

// Conn names the packet's connection whatever its direction: the two
// endpoints in order.
func (d DroppedPacket) Conn() [2]netip.AddrPort {
	if d.Src.Compare(d.Dst) <= 0 {
		return [2]netip.AddrPort{d.Src, d.Dst}
	}
	return [2]netip.AddrPort{d.Dst, d.Src}
}

// String describes the packet in one line.
func (d DroppedPacket) String() string {
	if !d.TCP {
		return fmt.Sprintf("#%d (not TCP)", d.Index)
	}
	flags := ""
	for _, f := range []struct {
		on bool
		s  string
	}{{d.SYN, "S"}, {d.FIN, "F"}, {d.RST, "R"}} {
		if f.on {
			flags += f.s
		}
	}
	if flags != "" {
		flags = " " + flags
	}
	return fmt.Sprintf("#%d %s > %s seq %d+%d%s", d.Index, d.Src, d.Dst, d.Seq, d.Len, flags)
}

// describe decodes what a dropped packet was.
func describe(index int, t time.Time, data []byte, lt layers.LinkType) DroppedPacket {
	d := DroppedPacket{Index: index, Time: t}
	pkt := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if tcp == nil {
		return d
	}
	var src, dst netip.Addr
	var ipPayload int
	switch ip := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			return d
		}
		src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		ipPayload = int(ip.Length) - int(ip.IHL)*4
	case *layers.IPv6:
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
		ipPayload = int(ip.Length) // extension headers aside: none in the test captures
	default:
		return d
	}
	d.TCP = true
	d.Src = netip.AddrPortFrom(src, uint16(tcp.SrcPort))
	d.Dst = netip.AddrPortFrom(dst, uint16(tcp.DstPort))
	d.Seq = tcp.Seq
	d.SYN, d.FIN, d.RST = tcp.SYN, tcp.FIN, tcp.RST
	d.Len = max(ipPayload-int(tcp.DataOffset)*4, len(tcp.Payload))
	return d
}

type packet struct {
	ci   gopacket.CaptureInfo
	data []byte
}

// packetReader is what Copy reads: a pcap or a pcapng file.
type packetReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// format is what Copy writes: the input's link type, snap length and
// timestamp resolution.
type format struct {
	link    layers.LinkType
	snaplen uint32
	nanos   bool
}

// open reads the file header of a pcap, or of a pcapng file with one link
// type (its packets are written out as a pcap with nanosecond timestamps).
func open(in io.Reader) (packetReader, format, error) {
	b := bufio.NewReader(in)
	magic, err := b.Peek(4)
	if err != nil {
		return nil, format{}, fmt.Errorf("reading the file header: %w", err)
	}
	if binary.BigEndian.Uint32(magic) == 0x0A0D0D0A {
		r, err := pcapgo.NewNgReader(b, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, format{}, err
		}
		return r, format{r.LinkType(), 262144, true}, nil
	}
	r, err := pcapgo.NewReader(b)
	if err != nil {
		return nil, format{}, err
	}
	return r, format{r.LinkType(), r.Snaplen(), r.Resolution().ToDuration() < time.Microsecond}, nil
}

// Copy reads the pcap or pcapng in, damages it and writes it to out as a
// pcap (same link type, snap length and timestamp resolution; nanosecond
// for a pcapng). Timestamps stay in file order: a reordered packet takes
// the timestamp of the position it moved to, as if it had arrived then.
// A pcapng's other blocks (key logs among them) are not copied.
func Copy(in io.Reader, out io.Writer, o Options) (Stats, error) {
	r, f, err := open(in)
	if err != nil {
		return Stats{}, err
	}
	var ps []packet
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Stats{}, err
		}
		ps = append(ps, packet{ci, data})
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6c6f737379))
	st := Stats{Packets: len(ps)}
	kept := ps[:0]
	for i, p := range ps {
		if rng.Float64()*100 < o.Drop {
			st.Dropped++
			st.DroppedPackets = append(st.DroppedPackets, describe(i, p.ci.Timestamp, p.data, r.LinkType()))
			continue
		}
		kept = append(kept, p)
	}
	for i := range kept {
		if rng.Float64()*100 >= o.Reorder {
			continue
		}
		j := i + 1 + rng.IntN(3)
		if j >= len(kept) {
			continue
		}
		kept[i].data, kept[j].data = kept[j].data, kept[i].data
		kept[i].ci.CaptureLength, kept[j].ci.CaptureLength = kept[j].ci.CaptureLength, kept[i].ci.CaptureLength
		kept[i].ci.Length, kept[j].ci.Length = kept[j].ci.Length, kept[i].ci.Length
		st.Swapped++
	}
	var w *pcapgo.Writer
	if f.nanos {
		w = pcapgo.NewWriterNanos(out)
	} else {
		w = pcapgo.NewWriter(out)
	}
	if err := w.WriteFileHeader(f.snaplen, f.link); err != nil {
		return st, err
	}
	for _, p := range kept {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			return st, err
		}
	}
	return st, nil
}
