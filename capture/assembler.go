package capture

import (
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Options tunes an Assembler. Zero values select the defaults.
type Options struct {
	// MaxBufferedPerDirection bounds the memory holding segments that
	// arrived out of order for one direction of one connection, waiting
	// for a hole before them to be filled. A segment counts as its payload
	// rounded up to a power of two (at least 512 bytes) plus 64 bytes, and
	// at most MaxBufferedPerDirection/512 segments are held. When either
	// bound is exceeded the first hole is reported as a Gap and the bytes
	// after it are delivered. Default 4 MiB.
	MaxBufferedPerDirection int
	// MaxConnections bounds the connections tracked at once. When a new
	// connection would exceed it, the connection idle the longest is ended
	// with EndEvicted. Default 65536.
	MaxConnections int
	// IdleTimeout, when positive, ends connections that have seen no
	// segment for this long in capture time. Zero never times out, which
	// suits reading files.
	IdleTimeout time.Duration
}

// Defaults for Options.
const (
	DefaultMaxBufferedPerDirection = 4 << 20
	DefaultMaxConnections          = 65536
)

// maxTrailingGap bounds the gap reported at the end of a stream from
// acknowledgements alone; beyond it the acknowledgement number is taken to
// be nonsense rather than a measure of lost bytes.
const maxTrailingGap = 1 << 30

// maxMissing bounds Segment.Missing: no TCP segment is longer.
const maxMissing = 1 << 20

// pieceOverhead is what a held segment costs besides its payload buffer.
const pieceOverhead = 64

// Stats counts what an Assembler saw.
type Stats struct {
	Packets     int64 // packets given to AddPacket
	TCPSegments int64 // TCP segments, from AddPacket or Add
	NonTCP      int64 // well-formed packets that are not TCP (ARP, UDP, ICMP, ...)
	Fragments   int64 // IP fragments other than the first, skipped
	Unsupported int64 // packets with a link type that is not decoded
	// UnsupportedLinkTypes lists the first few such link types.
	UnsupportedLinkTypes []layers.LinkType
	Malformed            int64 // packets with broken headers, skipped
	// MalformedReasons lists the first few distinct reasons with counts.
	MalformedReasons []ReasonCount

	Connections int64 // connections started
	Open        int64 // connections not yet ended
	Evicted     int64 // ended because MaxConnections was reached
	IdleEnded   int64 // ended by IdleTimeout
	Replaced    int64 // ended because a new SYN reused their addresses and ports
	Ignored     int64 // connections for which the factory returned nil

	Gaps           int64 // Gap calls
	GapBytes       int64 // bytes reported missing by them
	TruncatedBytes int64 // part of GapBytes: payload cut by the snap length

	RetransmittedSegments int64 // segments that brought no new bytes
	RetransmittedBytes    int64 // bytes received more than once, dropped
	OutOfOrder            int64 // segments that arrived ahead of a hole
	PeakBuffered          int64 // most memory held for out-of-order segments at once, all connections
	Stray                 int64 // segments for a connection already ended, lone RSTs, data after FIN
}

// ReasonCount is one kind of malformed packet.
type ReasonCount struct {
	Reason      string
	Count       int64
	FirstPacket int64 // 1-based number of the first packet with this reason
}

const maxReasons = 8

// Assembler reassembles TCP segments into per-connection byte streams and
// hands them to ConnHandlers. It is not safe for concurrent use; feed it
// from one goroutine in capture order.
type Assembler struct {
	factory  HandlerFactory
	opt      Options
	conns    map[connKey]*conn
	live     connList // not ended, most recently active first
	closed   connList // ended, kept to absorb late segments; most recent first
	nextID   uint64
	stats    Stats
	buffered int64 // memory held in all pieces
	maxPend  int   // pieces held per direction at most
	pool     chunkPool
	seg      Segment // AddPacket's decode target
	// recent is the connection of the last segment: consecutive segments
	// mostly belong to one connection, and comparing addresses is cheaper
	// than a map lookup.
	recent *conn
}

type connKey struct{ lo, hi netip.AddrPort }

func keyOf(a, b netip.AddrPort) connKey {
	if a.Compare(b) <= 0 {
		return connKey{a, b}
	}
	return connKey{b, a}
}

type conn struct {
	info       ConnInfo
	h          ConnHandler // nil: ignored
	key        connKey
	dir        [2]half
	last       time.Time
	prev, next *conn
	closed     bool
}

// half is one direction of a connection, named by its sender.
type half struct {
	next     uint32 // sequence number of the next byte to deliver
	acked    uint32 // highest acknowledgement the receiver sent, if ackValid
	isn      uint32 // if synSeen
	finSeq   uint32 // sequence number of the FIN, if fin
	init     bool   // next is known
	synSeen  bool
	ackValid bool
	fin      bool // a FIN was seen
	done     bool // the stream reached its FIN; nothing more is delivered
	pend     []piece
	buffered int // memory held in pend, as piece.cost counts it
}

// piece is a run of sequence space held out of order: captured bytes
// followed by bytes the snap length cut off.
type piece struct {
	seq     uint32
	data    []byte // a pooled copy
	missing int
	t       time.Time
}

func (p *piece) span() uint32 { return uint32(len(p.data) + p.missing) }

func (p *piece) cost() int { return cap(p.data) + pieceOverhead }

func (h *half) pending() bool { return len(h.pend) > 0 || (h.fin && !h.done) }

// Serial number arithmetic (RFC 1982) for 32-bit sequence numbers.
func seqAfter(a, b uint32) bool { return int32(a-b) > 0 }

// connList is an intrusive doubly linked list with a sentinel.
type connList struct {
	root conn
	n    int
}

func (l *connList) init() { l.root.next, l.root.prev = &l.root, &l.root }

func (l *connList) pushFront(c *conn) {
	c.prev, c.next = &l.root, l.root.next
	l.root.next.prev = c
	l.root.next = c
	l.n++
}

func (l *connList) remove(c *conn) {
	c.prev.next, c.next.prev = c.next, c.prev
	c.prev, c.next = nil, nil
	l.n--
}

func (l *connList) toFront(c *conn) {
	if l.root.next == c {
		return
	}
	c.prev.next, c.next.prev = c.next, c.prev
	c.prev, c.next = &l.root, l.root.next
	l.root.next.prev = c
	l.root.next = c
}

func (l *connList) back() *conn {
	if l.n == 0 {
		return nil
	}
	return l.root.prev
}

// NewAssembler returns an Assembler that asks f for a handler per
// connection. NewConn may return nil to ignore a connection: its segments
// are then only followed to see it end.
func NewAssembler(f HandlerFactory, opt Options) *Assembler {
	if opt.MaxBufferedPerDirection <= 0 {
		opt.MaxBufferedPerDirection = DefaultMaxBufferedPerDirection
	}
	if opt.MaxConnections <= 0 {
		opt.MaxConnections = DefaultMaxConnections
	}
	a := &Assembler{factory: f, opt: opt, conns: make(map[connKey]*conn)}
	a.maxPend = max(opt.MaxBufferedPerDirection>>minChunkShift, 16)
	a.live.init()
	a.closed.init()
	return a
}

// AddPacket decodes p and adds its TCP segment, if any. Packets that are
// not TCP, or are malformed, are counted in Stats and skipped; the error is
// always nil and exists for sources of packets that may fail.
func (a *Assembler) AddPacket(p Packet) error {
	a.stats.Packets++
	res, reason := DecodePacket(p, &a.seg)
	switch res {
	case DecodedTCP:
		a.Add(&a.seg)
	case DecodedOther:
		a.stats.NonTCP++
	case DecodedFragment:
		a.stats.Fragments++
	case DecodedUnsupported:
		a.stats.Unsupported++
		if len(a.stats.UnsupportedLinkTypes) < maxReasons && !slices.Contains(a.stats.UnsupportedLinkTypes, p.LinkType) {
			a.stats.UnsupportedLinkTypes = append(a.stats.UnsupportedLinkTypes, p.LinkType)
		}
	case DecodedMalformed:
		a.stats.Malformed++
		a.noteReason(reason)
	}
	return nil
}

func (a *Assembler) noteReason(reason string) {
	for i := range a.stats.MalformedReasons {
		if a.stats.MalformedReasons[i].Reason == reason {
			a.stats.MalformedReasons[i].Count++
			return
		}
	}
	if len(a.stats.MalformedReasons) < maxReasons {
		a.stats.MalformedReasons = append(a.stats.MalformedReasons, ReasonCount{Reason: reason, Count: 1, FirstPacket: a.stats.Packets})
	}
}

// Stats returns the counters so far.
func (a *Assembler) Stats() Stats {
	s := a.stats
	s.Open = int64(a.live.n)
	s.UnsupportedLinkTypes = slices.Clone(s.UnsupportedLinkTypes)
	s.MalformedReasons = slices.Clone(s.MalformedReasons)
	return s
}

// Add feeds one segment, in capture order. seg and its payload are not
// kept after Add returns.
func (a *Assembler) Add(seg *Segment) {
	a.stats.TCPSegments++
	if a.opt.IdleTimeout > 0 {
		a.expire(seg.Time)
	}
	var key connKey
	c := a.recent
	if c == nil || !c.owns(seg) {
		key = keyOf(seg.Src, seg.Dst)
		c = a.conns[key]
		a.recent = c
	} else {
		key = c.key
	}
	if c != nil && seg.SYN && !seg.RST && startsNew(c, seg) {
		a.replace(c, seg.Time)
		c = nil
	}
	if c == nil {
		if seg.RST {
			// A reset for a connection never seen carries nothing to deliver.
			a.stats.Stray++
			return
		}
		c = a.newConn(key, seg)
	} else if c.closed {
		a.stats.Stray++
		return
	}
	a.segment(c, seg)
}

// owns reports whether seg travels between c's endpoints.
func (c *conn) owns(seg *Segment) bool {
	return (seg.Src == c.info.Addr[0] && seg.Dst == c.info.Addr[1]) ||
		(seg.Src == c.info.Addr[1] && seg.Dst == c.info.Addr[0])
}

func (c *conn) sideOf(seg *Segment) Side {
	if seg.Src == c.info.Addr[SideA] {
		return SideA
	}
	return SideB
}

// startsNew reports whether SYN segment seg opens a new connection on the
// addresses of c rather than belonging to c.
func startsNew(c *conn, seg *Segment) bool {
	s := c.sideOf(seg)
	h := &c.dir[s]
	if h.synSeen && seg.Seq == h.isn {
		return false // the same SYN again
	}
	if c.closed || h.init {
		return true // after the end, a new ISN, or a SYN in mid-stream
	}
	// This side's first segment completes the handshake the other side
	// started; after a connection picked up in mid-stream it is a new one.
	return !c.dir[s.Other()].synSeen
}

func (a *Assembler) newConn(key connKey, seg *Segment) *conn {
	if len(a.conns) >= a.opt.MaxConnections {
		a.makeRoom(seg.Time)
	}
	a.nextID++
	c := &conn{key: key, last: seg.Time}
	c.info.ID = a.nextID
	c.info.Start = seg.Time
	if seg.SYN && seg.ACK {
		c.info.Addr = [2]netip.AddrPort{seg.Dst, seg.Src}
		c.info.SYNSeen = true
	} else {
		c.info.Addr = [2]netip.AddrPort{seg.Src, seg.Dst}
		c.info.SYNSeen = seg.SYN
	}
	a.stats.Connections++
	c.h = a.factory.NewConn(&c.info)
	if c.h == nil {
		a.stats.Ignored++
	}
	a.conns[key] = c
	a.live.pushFront(c)
	a.recent = c
	return c
}

// makeRoom frees one slot in the table: an ended connection if there is
// one, else the live connection idle the longest.
func (a *Assembler) makeRoom(t time.Time) {
	if c := a.closed.back(); c != nil {
		a.drop(c)
		return
	}
	c := a.live.back()
	if c == nil {
		return
	}
	a.stats.Evicted++
	a.flush(c, t)
	a.end(c, EndEvicted, t)
	a.drop(c)
}

// drop forgets an ended connection.
func (a *Assembler) drop(c *conn) {
	if a.recent == c {
		a.recent = nil
	}
	a.closed.remove(c)
	if a.conns[c.key] == c {
		delete(a.conns, c.key)
	}
}

// replace ends c because a new connection reuses its addresses.
func (a *Assembler) replace(c *conn, t time.Time) {
	if !c.closed {
		a.stats.Replaced++
		a.flush(c, t)
		a.end(c, a.quietReason(c), t)
	}
	a.drop(c)
}

// quietReason is the end reason of a connection that stopped without a RST.
func (a *Assembler) quietReason(c *conn) EndReason {
	if c.dir[0].fin || c.dir[1].fin {
		return EndFIN
	}
	return EndEvicted
}

func (a *Assembler) expire(now time.Time) {
	cutoff := now.Add(-a.opt.IdleTimeout)
	for c := a.live.back(); c != nil && c.last.Before(cutoff); c = a.live.back() {
		a.stats.IdleEnded++
		a.flush(c, now)
		a.end(c, a.quietReason(c), now)
		a.drop(c)
	}
	for c := a.closed.back(); c != nil && c.last.Before(cutoff); c = a.closed.back() {
		a.drop(c)
	}
}

// segment processes seg for the live connection c.
func (a *Assembler) segment(c *conn, seg *Segment) {
	s := c.sideOf(seg)
	t := seg.Time
	c.last = t
	a.live.toFront(c)
	if seg.RST {
		a.flush(c, t)
		a.end(c, EndRST, t)
		return
	}
	h, o := &c.dir[s], &c.dir[s.Other()]
	if seg.ACK && o.init && (!o.ackValid || seqAfter(seg.Ack, o.acked)) {
		o.acked, o.ackValid = seg.Ack, true
		if o.pending() && c.h != nil {
			a.resolve(c, s.Other(), t)
			if c.closed {
				return
			}
		}
	}
	start := seg.Seq
	if seg.SYN {
		if !h.init {
			h.init, h.synSeen, h.isn, h.next = true, true, seg.Seq, seg.Seq+1
		}
		start++
	} else if !h.init {
		h.init, h.next = true, seg.Seq
	}
	if c.h == nil {
		if seg.FIN {
			h.fin, h.done = true, true
			if o.done {
				a.end(c, EndFIN, t)
			}
		}
		return
	}
	if len(seg.Payload) == 0 && seg.Missing == 0 && !seg.FIN {
		return
	}
	a.data(c, s, start, seg.Payload, seg.Missing, seg.FIN, t)
}

// data handles the sequence range [start, start+len(payload)+missing) sent
// by s, followed by a FIN if fin.
func (a *Assembler) data(c *conn, s Side, start uint32, payload []byte, missing int, fin bool, t time.Time) {
	h := &c.dir[s]
	if h.done {
		a.stats.Stray++
		return
	}
	missing = min(max(missing, 0), maxMissing)
	n := uint32(len(payload) + missing)
	end := start + n
	if fin && !h.fin {
		h.fin, h.finSeq = true, end
	}
	if n > 0 {
		switch {
		case !seqAfter(end, h.next):
			a.stats.RetransmittedSegments++
			a.stats.RetransmittedBytes += int64(n)
		case !seqAfter(start, h.next):
			if skip := h.next - start; skip > 0 {
				a.stats.RetransmittedBytes += int64(skip)
				payload, missing = cutFront(payload, missing, skip)
			}
			a.deliver(c, s, payload, missing, t)
			if len(h.pend) > 0 {
				a.drain(c, s)
			}
		default:
			a.buffer(c, s, start, payload, missing, t)
			a.resolve(c, s, t)
			if c.closed {
				return
			}
		}
	}
	a.checkFin(c, s, t)
}

// cutFront drops the first skip bytes of a captured-then-missing run.
func cutFront(data []byte, missing int, skip uint32) ([]byte, int) {
	if int(skip) <= len(data) {
		return data[skip:], missing
	}
	return data[len(data):], missing - (int(skip) - len(data))
}

// deliver hands in-order bytes to the handler and advances the stream.
func (a *Assembler) deliver(c *conn, s Side, data []byte, missing int, t time.Time) {
	h := &c.dir[s]
	h.next += uint32(len(data) + missing)
	if len(data) > 0 {
		c.h.Data(s, data, t)
	}
	if missing > 0 {
		a.stats.TruncatedBytes += int64(missing)
		a.gap(c, s, uint32(missing), t)
	}
}

func (a *Assembler) gap(c *conn, s Side, n uint32, t time.Time) {
	a.stats.Gaps++
	a.stats.GapBytes += int64(n)
	c.h.Gap(s, int64(n), t)
}

// skipTo gives up on the bytes before seq: they are reported as a Gap.
func (a *Assembler) skipTo(c *conn, s Side, seq uint32, t time.Time) {
	h := &c.dir[s]
	if n := seq - h.next; seqAfter(seq, h.next) {
		h.next = seq
		a.gap(c, s, n, t)
	}
}

// drain delivers the buffered pieces that the stream has reached.
func (a *Assembler) drain(c *conn, s Side) {
	h := &c.dir[s]
	i := 0
	for ; i < len(h.pend); i++ {
		p := &h.pend[i]
		if seqAfter(p.seq, h.next) {
			break
		}
		if end := p.seq + p.span(); seqAfter(end, h.next) {
			skip := h.next - p.seq
			a.stats.RetransmittedBytes += int64(skip)
			data, missing := cutFront(p.data, p.missing, skip)
			a.deliver(c, s, data, missing, p.t)
		} else {
			a.stats.RetransmittedBytes += int64(p.span())
		}
		a.release(h, p)
	}
	if i > 0 {
		n := copy(h.pend, h.pend[i:])
		clear(h.pend[n:])
		h.pend = h.pend[:n]
	}
}

// release frees a piece leaving pend; each piece is released once.
func (a *Assembler) release(h *half, p *piece) {
	h.buffered -= p.cost()
	a.buffered -= int64(p.cost())
	if p.data != nil {
		a.pool.put(p.data)
		p.data = nil
	}
}

func (a *Assembler) releaseAll(h *half) {
	for i := range h.pend {
		a.release(h, &h.pend[i])
	}
	clear(h.pend)
	h.pend = h.pend[:0]
}

// buffer stores [start, start+len(payload)+missing), which lies beyond the
// next expected byte, keeping the bytes that arrived first where it
// overlaps what is already held.
func (a *Assembler) buffer(c *conn, s Side, start uint32, payload []byte, missing int, t time.Time) {
	h := &c.dir[s]
	a.stats.OutOfOrder++
	rel := func(seq uint32) int64 { return int64(seq - h.next) }
	lo := rel(start)
	hi := lo + int64(len(payload)+missing)
	// The first held piece ending after lo; pieces are sorted and disjoint.
	i := len(h.pend)
	if i > 0 && rel(h.pend[i-1].seq)+int64(h.pend[i-1].span()) > lo {
		i, _ = slices.BinarySearchFunc(h.pend, lo, func(p piece, lo int64) int {
			if rel(p.seq)+int64(p.span()) <= lo {
				return -1
			}
			return 1
		})
	}
	for cur := lo; cur < hi; {
		if i < len(h.pend) {
			if ps := rel(h.pend[i].seq); ps <= cur {
				pe := min(ps+int64(h.pend[i].span()), hi)
				a.stats.RetransmittedBytes += pe - cur
				cur = pe
				i++
				continue
			}
		}
		stop := hi
		if i < len(h.pend) {
			stop = min(stop, rel(h.pend[i].seq))
		}
		// Insert the part [cur, stop) of the new segment.
		from, to := int(cur-lo), int(stop-lo)
		p := piece{seq: start + uint32(from), t: t}
		if from < len(payload) {
			d := payload[from:min(to, len(payload))]
			p.data = a.pool.get(len(d))
			copy(p.data, d)
		}
		p.missing = (to - from) - len(p.data)
		h.buffered += p.cost()
		a.buffered += int64(p.cost())
		h.pend = slices.Insert(h.pend, i, p)
		i++
		cur = stop
	}
	if a.buffered > a.stats.PeakBuffered {
		a.stats.PeakBuffered = a.buffered
	}
	// Over the limit: give up on the holes, oldest first.
	for (h.buffered > a.opt.MaxBufferedPerDirection || len(h.pend) > a.maxPend) && len(h.pend) > 0 {
		a.skipTo(c, s, h.pend[0].seq, t)
		a.drain(c, s)
	}
}

// resolve gives up on holes the receiver has acknowledged: it got those
// bytes, so they were lost from the capture and will not come.
func (a *Assembler) resolve(c *conn, s Side, t time.Time) {
	h := &c.dir[s]
	for h.ackValid && seqAfter(h.acked, h.next) {
		var holeEnd uint32
		switch {
		case len(h.pend) > 0:
			holeEnd = h.pend[0].seq
		case h.fin && !h.done:
			holeEnd = h.finSeq
		default:
			// Nothing captured beyond the hole yet; its bytes may still
			// show up, so wait.
			return
		}
		if seqAfter(holeEnd, h.acked) {
			holeEnd = h.acked
		}
		if !seqAfter(holeEnd, h.next) {
			break
		}
		a.skipTo(c, s, holeEnd, t)
		a.drain(c, s)
	}
	a.checkFin(c, s, t)
}

// checkFin ends the direction when the stream has reached its FIN, and the
// connection when both directions have.
func (a *Assembler) checkFin(c *conn, s Side, t time.Time) {
	h := &c.dir[s]
	if !h.fin || h.done || seqAfter(h.finSeq, h.next) {
		return
	}
	h.done = true
	h.next = h.finSeq + 1
	a.releaseAll(h)
	if c.dir[s.Other()].done {
		a.end(c, EndFIN, t)
	}
}

// flush delivers everything held for c, reporting holes as gaps, up to the
// end of each stream as far as the capture shows it.
func (a *Assembler) flush(c *conn, t time.Time) {
	if c.h == nil {
		return
	}
	for s := SideA; s <= SideB; s++ {
		h := &c.dir[s]
		if !h.init || h.done {
			continue
		}
		for len(h.pend) > 0 {
			a.skipTo(c, s, h.pend[0].seq, t)
			a.drain(c, s)
		}
		switch {
		case h.fin:
			a.skipTo(c, s, h.finSeq, t)
			h.done = true
			h.next = h.finSeq + 1
		case h.ackValid && seqAfter(h.acked, h.next) && h.acked-h.next < maxTrailingGap:
			// The receiver acknowledged bytes the capture never showed.
			a.skipTo(c, s, h.acked, t)
		}
	}
}

// end closes c: the handler's End is called, held buffers are released and
// c is kept only to absorb late segments.
func (a *Assembler) end(c *conn, reason EndReason, t time.Time) {
	if c.closed {
		return
	}
	c.closed = true
	a.releaseAll(&c.dir[0])
	a.releaseAll(&c.dir[1])
	c.dir[0].pend, c.dir[1].pend = nil, nil
	a.live.remove(c)
	c.last = t
	a.closed.pushFront(c)
	if c.h != nil {
		c.h.End(reason, t)
	}
}

// Close ends the capture at time t: every open connection gets its held
// bytes (after Gaps for the holes before them) and End(EndCapture), or
// End(EndFIN) when both sides had sent FIN, in ConnInfo.ID order. The
// Assembler is then empty and may be reused.
func (a *Assembler) Close(t time.Time) {
	open := make([]*conn, 0, a.live.n)
	for c := a.live.root.next; c != &a.live.root; c = c.next {
		open = append(open, c)
	}
	slices.SortFunc(open, func(x, y *conn) int {
		switch {
		case x.info.ID < y.info.ID:
			return -1
		case x.info.ID > y.info.ID:
			return 1
		}
		return 0
	})
	for _, c := range open {
		a.flush(c, t)
		reason := EndCapture
		if c.dir[0].done && c.dir[1].done {
			reason = EndFIN
		}
		a.end(c, reason, t)
	}
	clear(a.conns)
	a.recent = nil
	a.live.init()
	a.live.n = 0
	a.closed.init()
	a.closed.n = 0
}

// ReadAll adds every packet of src, then closes the assembler at the last
// packet's time. It returns the source's error (a truncated file, say)
// after everything before it was added; io.EOF is not an error.
func (a *Assembler) ReadAll(src Source) error {
	var last time.Time
	for {
		p, err := src.Next()
		if err == io.EOF {
			a.Close(last)
			return nil
		}
		if err != nil {
			a.Close(last)
			return err
		}
		last = p.Time
		a.AddPacket(p)
	}
}
