package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

const benchPayload = 1400

func benchFrame(b *testing.B, src, dst netip.AddrPort) (layers.LinkType, []byte) {
	return frame(b, "eth", tcpSpec{src: src, dst: dst, seq: 1, ack: 1, flags: "PA", payload: bytes.Repeat([]byte("x"), benchPayload)})
}

func BenchmarkDecodePacket(b *testing.B) {
	for _, v := range []struct {
		name     string
		src, dst netip.AddrPort
	}{{"ipv4", cli, srv}, {"ipv6", cli6, srv6}} {
		b.Run(v.name, func(b *testing.B) {
			lt, data := benchFrame(b, v.src, v.dst)
			p := Packet{Data: data, LinkType: lt, CaptureLength: len(data), Length: len(data)}
			var seg Segment
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if res, _ := DecodePacket(p, &seg); res != DecodedTCP {
					b.Fatal(res)
				}
			}
		})
	}
}

// BenchmarkDecodeGopacketParser decodes the same frame with gopacket's
// DecodingLayerParser, for comparison with DecodePacket.
func BenchmarkDecodeGopacketParser(b *testing.B) {
	_, data := benchFrame(b, cli, srv)
	var (
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		payload gopacket.Payload
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &payload)
	decoded := make([]gopacket.LayerType, 0, 8)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := parser.DecodeLayers(data, &decoded); err != nil {
			b.Fatal(err)
		}
		_ = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip4.SrcIP.To4())), uint16(tcp.SrcPort))
	}
}

// BenchmarkAssembler feeds in-order data packets round-robin across 1000
// connections through AddPacket: decode, lookup, delivery.
func BenchmarkAssembler(b *testing.B) {
	const nconn = 1000
	frames := make([][]byte, nconn)
	var lt layers.LinkType
	a := NewAssembler(nopFactory{}, Options{})
	for i := range frames {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(30000+i))
		lt, frames[i] = benchFrame(b, src, srv)
	}
	const seqOff = 14 + 20 + 4
	seqs := make([]uint32, nconn)
	b.SetBytes(int64(len(frames[0])))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := frames[i]
		binary.BigEndian.PutUint32(f[seqOff:], seqs[i])
		seqs[i] += benchPayload
		a.AddPacket(Packet{Data: f, LinkType: lt, CaptureLength: len(f), Length: len(f)})
		if i++; i == nconn {
			i = 0
		}
	}
	b.StopTimer()
	if st := a.Stats(); st.Connections != min(nconn, int64(b.N)) || st.Gaps != 0 || st.RetransmittedBytes != 0 {
		b.Fatalf("stats %+v", st)
	}
}

// BenchmarkAssemblerPureAck is the cost of an acknowledgement without data.
func BenchmarkAssemblerPureAck(b *testing.B) {
	a := NewAssembler(nopFactory{}, Options{})
	handshake(a)
	s := c2s(1001, 5001, "A", "", 3)
	b.ReportAllocs()
	for b.Loop() {
		a.Add(s)
	}
}

// BenchmarkAssemblerReordered swaps every pair of segments, so half of
// them are held and copied.
func BenchmarkAssemblerReordered(b *testing.B) {
	a := NewAssembler(nopFactory{}, Options{})
	handshake(a)
	payload := bytes.Repeat([]byte("y"), benchPayload)
	s1 := c2s(0, 5001, "PA", "", 3)
	s2 := c2s(0, 5001, "PA", "", 3)
	s1.Payload, s2.Payload = payload, payload
	seq := uint32(1001)
	b.SetBytes(2 * benchPayload)
	b.ReportAllocs()
	for b.Loop() {
		s2.Seq = seq + benchPayload
		s1.Seq = seq
		a.Add(s2)
		a.Add(s1)
		seq += 2 * benchPayload
	}
}

// BenchmarkAssemblerReorderedAcked is BenchmarkAssemblerReordered with the
// receiver's ACK for both segments captured before the late one, as a
// capture on a multi-queue NIC shows it: the hole waits for its segment
// rather than being given up.
func BenchmarkAssemblerReorderedAcked(b *testing.B) {
	a := NewAssembler(nopFactory{}, Options{})
	handshake(a)
	payload := bytes.Repeat([]byte("y"), benchPayload)
	s1 := c2s(0, 5001, "PA", "", 3)
	s2 := c2s(0, 5001, "PA", "", 3)
	ack := s2c(5001, 0, "A", "", 3)
	s1.Payload, s2.Payload = payload, payload
	seq := uint32(1001)
	b.SetBytes(2 * benchPayload)
	b.ReportAllocs()
	for b.Loop() {
		s2.Seq = seq + benchPayload
		s1.Seq = seq
		ack.Ack = seq + 2*benchPayload
		a.Add(s2)
		a.Add(ack)
		a.Add(s1)
		seq += 2 * benchPayload
	}
	b.StopTimer()
	if st := a.Stats(); st.Gaps != 0 {
		b.Fatalf("stats %+v", st)
	}
}

// BenchmarkFileSource reads 2000 synthetic frames from memory, as pcap and
// pcap.gz; GRPCSNIFF_BENCH_PCAP adds a capture file read from disk ("env").
// MB/s is of packet bytes.
func BenchmarkFileSource(b *testing.B) {
	if p := os.Getenv("GRPCSNIFF_BENCH_PCAP"); p != "" {
		b.Run("env", func(b *testing.B) {
			read := func() int64 {
				s, err := OpenFile(p)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				var n int64
				for {
					pkt, err := s.Next()
					if err == io.EOF {
						return n
					} else if err != nil {
						b.Fatal(err)
					}
					n += int64(len(pkt.Data))
				}
			}
			b.SetBytes(read())
			b.ReportAllocs()
			for b.Loop() {
				read()
			}
		})
	}
	var frames []testFrame
	for i := range 2000 {
		lt, data := benchFrame(b, cli, srv)
		frames = append(frames, testFrame{lt: lt, data: data, ts: t0.Add(time.Duration(i) * time.Microsecond)})
	}
	for _, gz := range []bool{false, true} {
		name := "pcap"
		data := writePcap(b, true, frames)
		if gz {
			name = "pcap.gz"
			data = gzipBytes(b, data)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(2000 * len(frames[0].data)))
			b.ReportAllocs()
			for b.Loop() {
				s, err := OpenReader(bytes.NewReader(data), "bench")
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := s.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
