package capture

import (
	"bufio"
	"encoding/binary"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ngRecords reads the Enhanced Packet Blocks of a pcapng file straight out
// of the read buffer that pcapgo.NgReader reads from, as pcapRecords does
// for pcap records: pcapgo copies every packet into a buffer of its own and
// reads the block in several small reads (header, data, padding, each
// option), which was a noticeable part of the cost of reading a capture.
//
// Only a block that is whole in the buffer and entirely regular is taken:
// an Enhanced Packet Block of a known interface, whose data and options
// lie within its length, which ends with its length repeated. Anything
// else (other blocks, which may change the reader's state: interfaces,
// sections, name resolution) is left to pcapgo.NgReader, which reads from
// the same position of the same buffer, so its errors and its checks stay
// the only ones.
//
// The byte order of a block is that of its section, which pcapgo does not
// tell; the fast path is only used while the file has shown a single
// section (recordGuard counts the section headers that pass), whose byte
// order the guard saw.
type ngRecords struct {
	br    *bufio.Reader // nil: not a pcapng file, or the fast path is off
	ng    *pcapgo.NgReader
	guard *recordGuard
	big   bool
	// ifaces caches, for each interface pcapgo has read, what decoding a
	// packet of it takes.
	ifaces []ngIface
}

// ngIface is an interface's link type and timestamp scaling, computed as
// pcapgo.NgReader computes them when it reads the Interface Description
// Block.
type ngIface struct {
	linkType                     layers.LinkType
	offset                       uint64
	secondMask, scaleUp, scaleDn uint64
}

const (
	ngBlockEPB       = 6
	ngEPBHeaderLen   = 28 // type, length, interface, timestamp (2), captured and original lengths
	ngBlockMinEPBLen = ngEPBHeaderLen + 4
)

func newNgRecords(br *bufio.Reader, ng *pcapgo.NgReader, guard *recordGuard) ngRecords {
	if guard.shbs != 1 {
		return ngRecords{}
	}
	return ngRecords{br: br, ng: ng, guard: guard, big: guard.big}
}

func (r *ngRecords) u32(b []byte) uint32 {
	if r.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *ngRecords) u16(b []byte) uint16 {
	if r.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

// iface returns what decoding a packet of interface i takes, or ok false
// when pcapgo has not read that interface (pcapgo then reports the error).
func (r *ngRecords) iface(i uint32) (*ngIface, bool) {
	if int64(i) >= int64(len(r.ifaces)) {
		// Interfaces are only ever added within a section; learn the
		// ones pcapgo read since we last looked.
		n := r.ng.NInterfaces()
		if int64(i) >= int64(n) {
			return nil, false
		}
		for j := len(r.ifaces); j < n; j++ {
			intf, err := r.ng.Interface(j)
			if err != nil {
				return nil, false
			}
			r.ifaces = append(r.ifaces, newNgIface(intf))
		}
	}
	return &r.ifaces[i], true
}

// newNgIface repeats pcapgo's scaling of an interface's timestamps
// (NgReader.readInterfaceDescriptor), which it keeps unexported. pcapgo
// refuses the interface when the exponent is above 63, so it is not.
func newNgIface(intf pcapgo.NgInterface) ngIface {
	f := ngIface{linkType: intf.LinkType, offset: intf.TimestampOffset, scaleUp: 1, scaleDn: 1}
	res := intf.TimestampResolution
	if res.Binary() {
		f.secondMask = 1 << res.Exponent()
	} else {
		f.secondMask = 1
		for range res.Exponent() {
			f.secondMask *= 10
		}
	}
	if f.secondMask < 1e9 {
		f.scaleUp = 1e9 / f.secondMask
	} else {
		f.scaleDn = f.secondMask / 1e9
	}
	return f
}

// next returns the next packet as pcapgo.NgReader.ZeroCopyReadPacketData
// would, with its interface's link type, or ok false (having consumed
// nothing) when the next block is not one the fast path takes.
func (r *ngRecords) next() (data []byte, t time.Time, length int, lt layers.LinkType, ok bool) {
	br := r.br
	if br == nil || br.Buffered() < ngBlockMinEPBLen {
		return nil, t, 0, 0, false
	}
	if r.guard.shbs != 1 {
		// A second section is on its way (the guard reads ahead), in a
		// byte order of its own.
		r.br = nil
		return nil, t, 0, 0, false
	}
	h, err := br.Peek(ngEPBHeaderLen)
	if err != nil || r.u32(h[0:4]) != ngBlockEPB {
		return nil, t, 0, 0, false
	}
	total := r.u32(h[4:8])
	capLen := r.u32(h[20:24])
	if total%4 != 0 || uint64(total) > uint64(br.Buffered()) || total < ngBlockMinEPBLen ||
		uint64(capLen) > uint64(total-ngBlockMinEPBLen) {
		return nil, t, 0, 0, false
	}
	b, err := br.Peek(int(total))
	if err != nil || r.u32(b[total-4:]) != total {
		return nil, t, 0, 0, false
	}
	// The data and its padding, then options up to the trailing length:
	// they must end where the block does, or pcapgo would read on into
	// the next block (and it is for pcapgo to say what happens then).
	dataEnd := ngEPBHeaderLen + int(capLen)
	opt := dataEnd + (4-int(capLen)&3)&3
	end := int(total) - 4
	if opt > end {
		return nil, t, 0, 0, false
	}
	for opt != end {
		if end-opt < 4 {
			return nil, t, 0, 0, false
		}
		code, n := r.u16(b[opt:]), int(r.u16(b[opt+2:]))
		if code == 0 { // end of options: pcapgo skips the rest of the block
			if n != 0 {
				return nil, t, 0, 0, false
			}
			break
		}
		opt += 4 + n + (4-n&3)&3
		if opt > end {
			return nil, t, 0, 0, false
		}
	}
	f, known := r.iface(r.u32(h[8:12]))
	if !known {
		return nil, t, 0, 0, false
	}
	ts := uint64(r.u32(h[12:16]))<<32 | uint64(r.u32(h[16:20]))
	t = time.Unix(int64(ts/f.secondMask+f.offset), int64(ts%f.secondMask*f.scaleUp/f.scaleDn)).UTC()
	length = int(r.u32(h[24:28]))
	if _, err := br.Discard(int(total)); err != nil {
		return nil, time.Time{}, 0, 0, false
	}
	return b[ngEPBHeaderLen:dataEnd:dataEnd], t, length, f.linkType, true
}
