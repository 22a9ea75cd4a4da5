package capture

import (
	"bufio"
	"encoding/binary"
	"time"

	"github.com/gopacket/gopacket"
)

// pcapRecords reads the records of a pcap file straight out of the read
// buffer that pcapgo.Reader reads from, when a whole record is already in
// it: pcapgo copies every record (in two reads through the buffer, header
// and data) into a buffer of its own, which was a noticeable part of the
// cost of reading a capture. The returned data then points into the read
// buffer, valid until the next read, as Packet.Data promises.
//
// Anything the fast path does not take for certain (a record that straddles
// the end of the buffered bytes, a length pcapgo would reject) is left to
// pcapgo.Reader, which reads from the same position of the same buffer, so
// its errors and its checks stay the only ones.
type pcapRecords struct {
	br *bufio.Reader // nil: not a pcap file
	// big is the file's byte order; nanoFactor scales the sub-second field
	// to nanoseconds (1000 for a microsecond file), both as pcapgo does.
	big        bool
	nanoFactor uint32
	// maxCapture is the largest capture length pcapgo accepts.
	maxCapture uint32
}

// pcapgoEagerReadMax is pcapgo's eagerReadMax (libpcap's MAXIMUM_SNAPLEN),
// the capture length it accepts above a smaller snap length.
const pcapgoEagerReadMax = 262144

// pcapRecordHeaderLen is the size of a pcap record header.
const pcapRecordHeaderLen = 16

func newPcapRecords(br *bufio.Reader, big, nano bool, snaplen uint32) pcapRecords {
	r := pcapRecords{br: br, big: big, nanoFactor: 1000, maxCapture: max(snaplen, pcapgoEagerReadMax)}
	if nano {
		r.nanoFactor = 1
	}
	return r
}

func (r *pcapRecords) u32(b []byte) uint32 {
	if r.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// next returns the next record as pcapgo.Reader.ZeroCopyReadPacketData
// would, or ok false (having consumed nothing) when the record is not
// entirely buffered or is one that pcapgo should judge.
func (r *pcapRecords) next() (data []byte, ci gopacket.CaptureInfo, ok bool) {
	br := r.br
	if br == nil || br.Buffered() < pcapRecordHeaderLen {
		return nil, ci, false
	}
	h, err := br.Peek(pcapRecordHeaderLen)
	if err != nil {
		return nil, ci, false
	}
	capLen, length := r.u32(h[8:12]), r.u32(h[12:16])
	if capLen > r.maxCapture || capLen > length {
		return nil, ci, false
	}
	// Compared as uint64 before n is formed: on a 32-bit platform
	// pcapRecordHeaderLen+int(capLen) wraps for a claim near 4 GiB.
	if uint64(capLen) > uint64(br.Buffered()-pcapRecordHeaderLen) {
		return nil, ci, false
	}
	n := pcapRecordHeaderLen + int(capLen)
	rec, err := br.Peek(n)
	if err != nil {
		return nil, ci, false
	}
	// The sub-second field is scaled in 32 bits, as pcapgo does (an
	// out-of-range microsecond value wraps the same way).
	ci.Timestamp = time.Unix(int64(r.u32(rec[0:4])), int64(r.u32(rec[4:8])*r.nanoFactor)).UTC()
	ci.CaptureLength, ci.Length = int(capLen), int(length)
	if _, err := br.Discard(n); err != nil {
		return nil, gopacket.CaptureInfo{}, false
	}
	return rec[pcapRecordHeaderLen:n:n], ci, true
}
