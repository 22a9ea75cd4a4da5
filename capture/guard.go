package capture

import (
	"encoding/binary"
	"fmt"
	"io"
)

// maxRecordLen bounds the bytes one pcap record or pcapng block may claim.
// libpcap never writes more than 262144 bytes of a packet; the margin is for
// writers that ignore their own snap length. A length beyond it means the
// file is damaged (or built to exhaust memory: a small .gz can expand to a
// record that claims gigabytes of zeros).
const maxRecordLen = 16 << 20

// recordGuard sits between the (decompressed) byte stream and the pcap or
// pcapng parser and walks the record structure as the bytes pass through,
// independently of the parser. When a record claims more than maxRecordLen
// bytes the guard fails the stream, so the parser never buffers more than
// one read's worth of a bogus record.
//
// The guard detects the format from the first bytes it sees; on anything
// else it passes bytes through untouched.
type recordGuard struct {
	r     io.Reader
	state guardState
	big   bool // byte order of the current pcap file or pcapng section
	shbs  int  // pcapng section headers seen
	hdr   [24]byte
	hn    int    // bytes collected in hdr
	skip  uint64 // record body bytes to pass before the next header
	err   error  // reported by the next Read

	// Decryption Secrets Blocks: the body of the one passing is collected
	// in dsb (nil otherwise) and handed to onSecrets when whole, or kept
	// in heldSecrets until onSecrets is set (the first bytes are read,
	// when the source is opened, before the caller could set it). After
	// the first packet, without onSecrets, they are no longer collected.
	dsb         []byte
	onSecrets   func(secretsType uint32, data []byte)
	heldSecrets []heldSecrets
	noSecrets   bool
}

type heldSecrets struct {
	typ  uint32
	data []byte
}

type guardState uint8

const (
	guardDetect      guardState = iota // collecting the first 4 bytes
	guardPcapHeader                    // collecting the 24-byte pcap file header
	guardPcapRecord                    // collecting a 16-byte pcap record header
	guardPcapngBlock                   // collecting a pcapng block header
	guardPassive                       // not a format the guard knows
)

// errBadLength is the guard's error; FileSource turns it into a message
// naming the file and the packet count.
type errBadLength struct {
	n     uint64
	short bool // shorter than a block header, rather than too long
}

func (e errBadLength) Error() string {
	if e.short {
		return fmt.Sprintf("a block claims %d bytes, less than its own header", e.n)
	}
	return fmt.Sprintf("a record claims %d bytes (more than the %d MiB limit)", e.n, maxRecordLen>>20)
}

const pcapngSHB = 0x0A0D0D0A

func (g *recordGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if g.state != guardPassive {
		g.scan(p[:n])
	}
	return n, err
}

// need is the header size the current state collects.
func (g *recordGuard) need() int {
	switch g.state {
	case guardDetect:
		return 4
	case guardPcapHeader:
		return 24
	case guardPcapRecord:
		return 16
	case guardPcapngBlock:
		// A section header carries its byte order after the length.
		if g.hn >= 4 && binary.LittleEndian.Uint32(g.hdr[:4]) == pcapngSHB {
			return 12
		}
		return 8
	}
	return 0
}

func (g *recordGuard) scan(p []byte) {
	for len(p) > 0 && g.err == nil && g.state != guardPassive {
		if g.skip > 0 {
			d := uint64(len(p))
			if d > g.skip {
				d = g.skip
			}
			if g.dsb != nil {
				g.dsb = append(g.dsb, p[:d]...)
			}
			g.skip -= d
			p = p[d:]
			if g.skip == 0 && g.dsb != nil {
				g.secrets()
			}
			continue
		}
		need := g.need()
		c := copy(g.hdr[g.hn:need], p)
		g.hn += c
		p = p[c:]
		if g.hn < g.need() {
			continue
		}
		g.header()
	}
}

func (g *recordGuard) u32(b []byte) uint32 {
	if g.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// header handles a complete header in g.hdr[:g.hn].
func (g *recordGuard) header() {
	h := g.hdr[:g.hn]
	g.hn = 0
	switch g.state {
	case guardDetect:
		switch binary.BigEndian.Uint32(h) {
		case 0xA1B2C3D4, 0xA1B23C4D:
			g.big = true
			g.state = guardPcapHeader
		case 0xD4C3B2A1, 0x4D3CB2A1:
			g.big = false
			g.state = guardPcapHeader
		case pcapngSHB:
			g.state = guardPcapngBlock
		default:
			g.state = guardPassive
			return
		}
		// Keep the magic: the header states count it.
		copy(g.hdr[:], h)
		g.hn = 4
	case guardPcapHeader:
		g.state = guardPcapRecord
	case guardPcapRecord:
		n := uint64(g.u32(h[8:12]))
		if n > maxRecordLen {
			g.fail(errBadLength{n: n})
			return
		}
		g.skip = n
	case guardPcapngBlock:
		if len(h) == 12 {
			g.shbs++
			switch binary.BigEndian.Uint32(h[8:12]) {
			case 0x1A2B3C4D:
				g.big = true
			case 0x4D3C2B1A:
				g.big = false
			default:
				// The parser reports the bad byte order.
				g.state = guardPassive
				return
			}
		}
		total := uint64(g.u32(h[4:8]))
		if total > maxRecordLen+64 {
			g.fail(errBadLength{n: total})
			return
		}
		if total < 12 {
			g.fail(errBadLength{n: total, short: true})
			return
		}
		g.skip = total - uint64(len(h))
		if len(h) == 8 && g.u32(h[:4]) == pcapngDSB && !g.noSecrets {
			// Grown as the bytes come: the length may be a lie.
			g.dsb = make([]byte, 0, min(g.skip, 4096))
		}
	}
}

const pcapngDSB = 0x0000000A

// secrets hands on the Decryption Secrets Block just collected: its body is
// the secrets type, the secrets length, the secrets (padded to 32 bits),
// options, and the block's length again.
func (g *recordGuard) secrets() {
	b := g.dsb
	g.dsb = nil
	if len(b) < 12 {
		return
	}
	typ, n := g.u32(b[:4]), uint64(g.u32(b[4:8]))
	if n > uint64(len(b)-12) {
		return // the parser says what is wrong with the block, if it cares
	}
	data := b[8 : 8+n : 8+n]
	if g.onSecrets != nil {
		g.onSecrets(typ, data)
		return
	}
	g.heldSecrets = append(g.heldSecrets, heldSecrets{typ, data})
}

func (g *recordGuard) fail(err errBadLength) {
	g.err = err
}
