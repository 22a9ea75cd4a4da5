package capture

import (
	"errors"
	"io"
	"net/netip"
	"testing"
)

// Narrowed to one connection of a capture of several, the source returns
// exactly that connection's TCP packets, in order, and the rest that is
// not TCP.
func TestConnOnly(t *testing.T) {
	const path = "../testdata/pcaps/grpcgo_interop_gzip.pcapng"
	byConn := map[[2]netip.AddrPort]int{}
	var seg Segment
	all := readNarrowed(t, path, func(s *FileSource) Source { return s })
	for _, p := range all {
		if res, _ := DecodePacket(p, &seg); res == DecodedTCP {
			byConn[endpoints(seg)]++
		}
	}
	if len(byConn) < 2 {
		t.Fatalf("the capture has %d connections, want several", len(byConn))
	}
	for conn, n := range byConn {
		got := readNarrowed(t, path, func(s *FileSource) Source { return NewConnOnly(s, conn[1], conn[0]) })
		if len(got) != n {
			t.Errorf("%v: %d packets, want %d", conn, len(got), n)
		}
		for _, p := range got {
			if res, _ := DecodePacket(p, &seg); res == DecodedTCP && endpoints(seg) != conn {
				t.Fatalf("%v: a packet of %v", conn, endpoints(seg))
			}
		}
	}
}

// endpoints names a segment's connection, the lower endpoint first.
func endpoints(s Segment) [2]netip.AddrPort {
	if s.Src.Compare(s.Dst) < 0 {
		return [2]netip.AddrPort{s.Src, s.Dst}
	}
	return [2]netip.AddrPort{s.Dst, s.Src}
}

func readNarrowed(t *testing.T, path string, narrow func(*FileSource) Source) []Packet {
	t.Helper()
	fs, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	src := narrow(fs)
	var out []Packet
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		p.Data = append([]byte(nil), p.Data...)
		out = append(out, p)
	}
}
