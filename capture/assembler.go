package capture

import (
	"encoding/binary"
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
	// MaxBufferedTotal bounds the memory held out of order for all
	// connections together, counted as above: a capture that lost
	// packets on many busy connections at once (a live capture that
	// overflowed its ring) would otherwise hold MaxBufferedPerDirection
	// for each. When a segment takes the total over it, the holes of its
	// direction are given up (reported as Gaps) until the total is under
	// it again or the direction holds nothing. Default 64 MiB.
	MaxBufferedTotal int
	// MaxConnections bounds the connections tracked at once. When a new
	// connection would exceed it, the connection idle the longest is ended
	// with EndEvicted. Default 65536.
	MaxConnections int
	// IdleTimeout, when positive, ends connections that have seen no
	// segment for this long in capture time. Zero never times out, which
	// suits reading files.
	IdleTimeout time.Duration
	// ReorderWindow and ReorderSegments say how long a hole is kept open
	// after the receiver acknowledged bytes past it. The acknowledgement
	// shows that the bytes were sent and received, but a capture can
	// record them after it: packets reordered between the NIC queues and
	// the capture, or a capture reordered by a tool. So the hole is given
	// up as a Gap only once both the capture time has advanced
	// ReorderWindow past the acknowledgement and ReorderSegments further
	// TCP segments (of any connection) have been captured after it, or
	// earlier when MaxBufferedPerDirection is exceeded or the connection
	// ends. Bytes that fill the hole before then are delivered as usual.
	// Zero selects the defaults (200 ms and 32 segments); a negative value
	// drops that condition, and with both negative a hole is given up as
	// soon as an acknowledgement covers it.
	ReorderWindow   time.Duration
	ReorderSegments int
}

// Defaults for Options.
const (
	DefaultMaxBufferedPerDirection = 4 << 20
	DefaultMaxBufferedTotal        = 64 << 20
	DefaultMaxConnections          = 65536
	// A capture on one host reorders packets by microseconds to a few
	// milliseconds (per-CPU capture rings fed by multi-queue NICs, whose
	// hash can put a data segment and its ACK on different queues), so
	// DefaultReorderWindow is far above that while still giving up lost
	// bytes quickly. The segment count guards against captures whose
	// timestamps say little: a reordered capture written with the
	// timestamps of the positions its packets moved to, coarse or equal
	// timestamps. Tools reorder by a few positions; 32 is well above.
	DefaultReorderWindow   = 200 * time.Millisecond
	DefaultReorderSegments = 32
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
	OutOfOrder            int64 // segments held: ahead of a hole, or for the other side (HeldForOtherSide)
	// LateFilled counts segments that brought bytes of a hole after the
	// receiver had acknowledged them: reordered in the capture, not lost.
	LateFilled int64
	// HeldForOtherSide counts in-order segments held back because they
	// acknowledge bytes of the other direction not delivered yet: their
	// sender had received those, so they come after them.
	HeldForOtherSide int64
	PeakBuffered     int64 // most memory held for out-of-order segments at once, all connections
	Stray            int64 // segments for a connection already ended, lone RSTs, data after FIN
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
	factory HandlerFactory
	opt     Options
	// conns finds a connection by connHash of its endpoints; connections
	// whose hashes collide are chained through conn.hnext. A uint64 key
	// hashes and compares in a few instructions, where the pair of
	// netip.AddrPort (64 bytes with pointers) cost a generic hash and an
	// equality function call on every packet; the full endpoints are
	// compared (conn.owns) only on the connections the hash finds.
	conns    map[uint64]*conn
	nconns   int    // connections in conns
	hashMask uint64 // all ones; tests clear bits to make hashes collide
	// live holds the connections not ended, in the order they started
	// (or, with strictLRU, most recently active first). Which of them was
	// idle the longest is found with lru.
	live     connList
	closed   connList // ended, kept to absorb late segments; most recent first
	nextID   uint64
	stats    Stats
	buffered int64 // memory held in all pieces
	maxPend  int   // pieces held per direction at most
	pool     chunkPool
	seg      Segment // AddPacket's decode target
	// waiting holds the directions with a hole acknowledged by the
	// receiver that is not yet given up, by the time of the evidence.
	waiting halfList
	// quiet is set while Tick runs: no segment came for a while, so no
	// late one is on its way and the time condition alone decides.
	quiet     bool
	freeHoles []*holeState
	reorderW  time.Duration // -1: no time condition
	reorderN  int64         // -1: no segment count condition
	// recent is the connection of the last segment: consecutive segments
	// mostly belong to one connection, and comparing addresses is cheaper
	// than a map lookup.
	recent *conn
	// lru finds the live connection idle the longest: moving a connection
	// to the front of live on every segment touched two more connections
	// (its neighbours in the list), cache misses on every packet of a
	// capture with many connections. See lruHeap.
	lru lruHeap
	// strictLRU keeps live in order of activity instead, as it used to
	// be; tests set it to check lru against it.
	strictLRU bool
}

// lruHeap finds the live connection with the oldest conn.touch. Each
// segment only sets its connection's touch (a counter advanced on every
// touch, so no two connections have the same); the heap holds every live connection keyed
// by its touch as it was when last pushed or fixed, which is never newer
// than its touch. The top is then the least recently active connection
// once its key is its touch: every other connection's touch is at least
// its key, which is at least the top's. A top whose key is out of date is
// fixed and sifted down; one that ended is popped (connections leave the
// heap lazily). Pushing a new connection costs nothing, its key being the
// newest.
type lruHeap struct {
	h     []lruEntry
	clock uint64 // the last touch given
}

type lruEntry struct {
	key uint64
	c   *conn
}

// touch marks c as the most recently active connection.
func (l *lruHeap) touch(c *conn) {
	l.clock++
	c.touch = l.clock
}

// push adds c, just touched, which makes it the newest: it stays at the
// end of the heap's array.
func (l *lruHeap) push(c *conn, live int) {
	if len(l.h) > 2*live+64 {
		l.compact()
	}
	l.h = append(l.h, lruEntry{c.touch, c})
	l.up(len(l.h) - 1)
}

// compact drops the entries of connections that ended.
func (l *lruHeap) compact() {
	j := 0
	for _, e := range l.h {
		if !e.c.closed {
			l.h[j] = e
			j++
		}
	}
	clear(l.h[j:])
	l.h = l.h[:j]
	for i := j/2 - 1; i >= 0; i-- {
		l.down(i)
	}
}

// oldest returns the live connection idle the longest, or nil.
func (l *lruHeap) oldest() *conn {
	for len(l.h) > 0 {
		e := &l.h[0]
		switch {
		case e.c.closed:
			n := len(l.h) - 1
			l.h[0] = l.h[n]
			l.h[n] = lruEntry{}
			l.h = l.h[:n]
		case e.key != e.c.touch:
			e.key = e.c.touch
		default:
			return e.c
		}
		l.down(0)
	}
	return nil
}

func (l *lruHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if l.h[p].key <= l.h[i].key {
			return
		}
		l.h[p], l.h[i] = l.h[i], l.h[p]
		i = p
	}
}

func (l *lruHeap) down(i int) {
	n := len(l.h)
	for {
		m := i
		if c := 2*i + 1; c < n && l.h[c].key < l.h[m].key {
			m = c
		}
		if c := 2*i + 2; c < n && l.h[c].key < l.h[m].key {
			m = c
		}
		if m == i {
			return
		}
		l.h[i], l.h[m] = l.h[m], l.h[i]
		i = m
	}
}

// idlest returns the live connection idle the longest, or nil.
func (a *Assembler) idlest() *conn {
	if a.strictLRU {
		return a.live.back()
	}
	return a.lru.oldest()
}

type connKey struct{ lo, hi netip.AddrPort }

// connHash hashes the endpoints of a connection, whichever is given first.
// Equal hashes say nothing: conn.owns decides.
func connHash(a, b netip.AddrPort) uint64 {
	return endpointHash(a) ^ endpointHash(b)
}

// endpointHash mixes an address (the zone left out: rare, and compared by
// owns anyway) and a port into 64 bits. The ports go through the mixing
// with the address, so that swapping the ports of two endpoints does not
// give the same connHash.
func endpointHash(ap netip.AddrPort) uint64 {
	b := ap.Addr().As16()
	h := binary.BigEndian.Uint64(b[:8])*0x9E3779B97F4A7C15 ^ binary.BigEndian.Uint64(b[8:])
	h ^= uint64(ap.Port()) << 7
	// The finalizer of SplitMix64.
	h ^= h >> 30
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 27
	h *= 0x94D049BB133111EB
	return h ^ h>>31
}

// lookup returns the connection between seg's endpoints, or nil.
func (a *Assembler) lookup(seg *Segment) *conn {
	for c := a.conns[connHash(seg.Src, seg.Dst)&a.hashMask]; c != nil; c = c.hnext {
		if c.owns(seg) {
			return c
		}
	}
	return nil
}

func keyOf(a, b netip.AddrPort) connKey {
	if a.Compare(b) <= 0 {
		return connKey{a, b}
	}
	return connKey{b, a}
}

// conn is one connection the Assembler follows.
//
// Every segment of a capture with many connections comes to a conn the
// cache has lost, so the fields are in the order that puts what a segment
// reads (down to info.Addr) in 4 of the 5 cache lines of the 320-byte size
// class, leaving the rest of info (ID, Start, TLS) in the last.
type conn struct {
	h          ConnHandler // nil: ignored
	closed     bool
	rst        *earlyRST // a RST that came ahead of bytes it follows
	prev, next *conn
	last       time.Time
	touch      uint64 // when it was last active: see lruHeap
	dir        [2]half
	hnext      *conn // the next connection with the same hash
	info       ConnInfo
	hash       uint64 // connHash(info.Addr[0], info.Addr[1]), its key in Assembler.conns
}

// earlyRST is a RST captured ahead of bytes it follows: sent by side after
// its stream reached seq and, if hasAck, after it received the other
// direction up to ack. The connection ends when the streams get there, or
// when the RST is old enough (Assembler.due).
type earlyRST struct {
	side   Side
	hasAck bool
	seq    uint32
	ack    uint32
	t      time.Time
	n      int64
}

// half is one direction of a connection, named by its sender.
type half struct {
	next       uint32 // sequence number of the next byte to deliver
	acked      uint32 // highest acknowledgement the receiver sent, if ackValid
	isn        uint32 // if synSeen
	start      uint32 // the sequence number the stream starts at, if init
	firstAck   uint32 // the acknowledgement in the first segment, if firstAckOK
	finSeq     uint32 // sequence number of the FIN, if fin
	init       bool   // next is known
	synSeen    bool
	ackValid   bool
	firstAckOK bool
	fin        bool // a FIN was seen
	done       bool // the stream reached its FIN; nothing more is delivered
	// q holds the segments that arrived out of order: allocated when the
	// first one does (most directions never see one), dropped at the end.
	q *heldQueue
	x *holeState // from the first acknowledgement beyond next to the end
}

// heldQueue is what a direction holds out of order.
type heldQueue struct {
	pend     []piece // sorted by seq, disjoint
	buffered int     // memory held in pend, as piece.cost counts it
}

// pend returns the pieces held, if any.
func (h *half) pend() []piece {
	if h.q == nil {
		return nil
	}
	return h.q.pend
}

// holeState is what a direction needs once the receiver has acknowledged
// bytes the capture has not shown (yet): most connections never do, so it
// is allocated then, from a free list, and released when the connection
// ends.
type holeState struct {
	// The acknowledgements that show a hole at next was lost from the
	// capture rather than reordered in it. ev is set while evSeq is
	// after next: the receiver had every byte before evSeq at evTime, when
	// the assembler had seen evN segments. ackTime and ackN are the same
	// for acked, if it was after next when it came. A hole is given up
	// when its evidence is old enough (Assembler.due).
	ev      bool
	evSeq   uint32
	evTime  time.Time
	evN     int64
	ackTime time.Time
	ackN    int64
	// Links in Assembler.waiting, nil when not in it; c and side name the
	// half for the list.
	wprev, wnext *half
	c            *conn
	side         Side
}

// hasEv reports whether h has evidence of a hole at next.
func (h *half) hasEv() bool { return h.x != nil && h.x.ev }

// piece is a run of sequence space held out of order: captured bytes
// followed by bytes the snap length cut off.
type piece struct {
	seq     uint32
	data    []byte // a pooled copy
	missing int
	t       time.Time
	// ack is the acknowledgement the segment carried, if hasAck: its bytes
	// were sent after the other direction's bytes before ack arrived.
	ack    uint32
	hasAck bool
}

func (p *piece) span() uint32 { return uint32(len(p.data) + p.missing) }

func (p *piece) cost() int { return cap(p.data) + pieceOverhead }

func (h *half) pending() bool { return len(h.pend()) > 0 || (h.fin && !h.done) }

// halfList is an intrusive doubly linked list of halves with a sentinel.
type halfList struct {
	root half
	n    int
}

func (l *halfList) init() {
	if l.root.x == nil {
		l.root.x = new(holeState)
	}
	l.root.x.wnext, l.root.x.wprev = &l.root, &l.root
	l.n = 0
}

// pushBack adds h, which has a holeState and is not in the list.
func (l *halfList) pushBack(h *half) {
	h.x.wprev, h.x.wnext = l.root.x.wprev, &l.root
	l.root.x.wprev.x.wnext = h
	l.root.x.wprev = h
	l.n++
}

func (l *halfList) remove(h *half) {
	if h.x == nil || h.x.wnext == nil {
		return
	}
	h.x.wprev.x.wnext, h.x.wnext.x.wprev = h.x.wnext, h.x.wprev
	h.x.wprev, h.x.wnext = nil, nil
	l.n--
}

func (l *halfList) front() *half {
	if l.n == 0 {
		return nil
	}
	return l.root.x.wnext
}

// maxFreeHoleStates bounds the holeStates kept for reuse.
const maxFreeHoleStates = 4096

// holeState returns s's holeState, taking one from the free list (or
// allocating it) the first time.
func (a *Assembler) holeState(c *conn, s Side) *holeState {
	h := &c.dir[s]
	if h.x == nil {
		if n := len(a.freeHoles); n > 0 {
			h.x = a.freeHoles[n-1]
			a.freeHoles[n-1] = nil
			a.freeHoles = a.freeHoles[:n-1]
		} else {
			h.x = new(holeState)
		}
		h.x.c, h.x.side = c, s
	}
	return h.x
}

// releaseHoleState returns h's holeState, out of the waiting list, to the
// free list.
func (a *Assembler) releaseHoleState(h *half) {
	if h.x == nil {
		return
	}
	a.waiting.remove(h)
	x := h.x
	h.x = nil
	*x = holeState{}
	if len(a.freeHoles) < maxFreeHoleStates {
		a.freeHoles = append(a.freeHoles, x)
	}
}

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
	if opt.MaxBufferedTotal <= 0 {
		opt.MaxBufferedTotal = DefaultMaxBufferedTotal
	}
	if opt.MaxBufferedPerDirection <= 0 {
		opt.MaxBufferedPerDirection = DefaultMaxBufferedPerDirection
	}
	if opt.MaxConnections <= 0 {
		opt.MaxConnections = DefaultMaxConnections
	}
	a := &Assembler{factory: f, opt: opt, conns: make(map[uint64]*conn), hashMask: ^uint64(0)}
	a.maxPend = max(opt.MaxBufferedPerDirection>>minChunkShift, 16)
	switch {
	case opt.ReorderWindow == 0:
		a.reorderW = DefaultReorderWindow
	case opt.ReorderWindow < 0:
		a.reorderW = -1
	default:
		a.reorderW = opt.ReorderWindow
	}
	switch {
	case opt.ReorderSegments == 0:
		a.reorderN = DefaultReorderSegments
	case opt.ReorderSegments < 0:
		a.reorderN = -1
	default:
		a.reorderN = int64(opt.ReorderSegments)
	}
	a.live.init()
	a.closed.init()
	a.waiting.init()
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
	if a.opt.IdleTimeout > 0 {
		a.expire(seg.Time)
	}
	if a.waiting.n > 0 {
		a.sweep(seg.Time)
	}
	a.stats.TCPSegments++
	c := a.recent
	if c == nil || !c.owns(seg) {
		c = a.lookup(seg)
		a.recent = c
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
		c = a.newConn(seg)
	} else if c.closed {
		a.stats.Stray++
		return
	}
	a.segment(c, seg)
	if c.rst != nil && !c.closed {
		a.checkRST(c, seg.Time)
	}
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
	if !h.synSeen && h.init && !c.closed && seg.Seq+1 == h.start {
		// This side's SYN, captured after the first bytes it sent (the
		// capture reordered it): the connection it opened.
		return false
	}
	if o := &c.dir[s.Other()]; !h.init && !c.closed && o.init &&
		((seg.ACK && seg.Ack == o.start) || (o.firstAckOK && seg.Seq+1 == o.firstAck)) {
		// A SYN-ACK for the stream the other side has been sending, or
		// the SYN the other side's first segment acknowledged, captured
		// after it.
		return false
	}
	if c.closed || h.init {
		return true // after the end, a new ISN, or a SYN in mid-stream
	}
	// This side's first segment completes the handshake the other side
	// started; after a connection picked up in mid-stream it is a new one.
	return !c.dir[s.Other()].synSeen
}

func (a *Assembler) newConn(seg *Segment) *conn {
	if a.nconns >= a.opt.MaxConnections {
		a.makeRoom(seg.Time)
	}
	a.nextID++
	c := &conn{last: seg.Time}
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
	// No connection between these endpoints is in the table (Add looked,
	// and replaced any), so c goes at the head of its hash's chain.
	c.hash = connHash(seg.Src, seg.Dst) & a.hashMask
	c.hnext = a.conns[c.hash]
	a.conns[c.hash] = c
	a.nconns++
	a.live.pushFront(c)
	a.lru.touch(c)
	a.lru.push(c, a.live.n)
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
	c := a.idlest()
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
	if head := a.conns[c.hash]; head == c {
		if c.hnext == nil {
			delete(a.conns, c.hash)
		} else {
			a.conns[c.hash] = c.hnext
		}
		a.nconns--
	} else {
		for p := head; p != nil; p = p.hnext {
			if p.hnext == c {
				p.hnext = c.hnext
				a.nconns--
				break
			}
		}
	}
	c.hnext = nil
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
	if c.rst != nil {
		return EndRST
	}
	if c.dir[0].fin || c.dir[1].fin {
		return EndFIN
	}
	return EndEvicted
}

func (a *Assembler) expire(now time.Time) {
	cutoff := now.Add(-a.opt.IdleTimeout)
	for c := a.idlest(); c != nil && c.last.Before(cutoff); c = a.idlest() {
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
	if a.strictLRU {
		a.live.toFront(c)
	} else {
		a.lru.touch(c)
	}
	h, o := &c.dir[s], &c.dir[s.Other()]
	if seg.RST {
		early := (h.init && !h.done && seqAfter(seg.Seq, h.next) && seg.Seq-h.next < maxTrailingGap) ||
			(seg.ACK && a.waits(c, s, seg.Ack))
		if c.h != nil && early {
			// Bytes it follows have not been captured yet: end the
			// connection when they have been, or when it is clear they
			// will not come.
			if c.rst == nil {
				c.rst = &earlyRST{side: s, seq: seg.Seq, ack: seg.Ack, hasAck: seg.ACK, t: t, n: a.stats.TCPSegments}
			}
			return
		}
		a.flush(c, t)
		a.end(c, EndRST, t)
		return
	}
	if seg.ACK && o.init && (!o.ackValid || seqAfter(seg.Ack, o.acked)) {
		o.acked, o.ackValid = seg.Ack, true
		if seqAfter(seg.Ack, o.next) && c.h != nil && !o.done {
			// The receiver has bytes the capture has not shown (yet).
			x := a.holeState(c, s.Other())
			x.ackTime, x.ackN = t, a.stats.TCPSegments
			if !x.ev {
				a.settle(o)
			}
			if x.ev && o.pending() && a.due(x.evTime, x.evN, t) {
				a.resolve(c, s.Other(), t)
				if c.closed {
					return
				}
			}
		}
	}
	start := seg.Seq
	if !h.init && seg.ACK {
		h.firstAck, h.firstAckOK = seg.Ack, true
	}
	if seg.SYN {
		if !h.init {
			h.init, h.synSeen, h.isn, h.next, h.start = true, true, seg.Seq, seg.Seq+1, seg.Seq+1
		} else if !h.synSeen && seg.Seq+1 == h.start {
			h.synSeen, h.isn = true, seg.Seq
		}
		start++
	} else if !h.init {
		h.init, h.next, h.start = true, seg.Seq, seg.Seq
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
	a.data(c, s, start, seg.Payload, seg.Missing, seg.FIN, seg.Ack, seg.ACK, t)
}

// checkRST ends c for its early RST once the streams have reached it, or
// once it is old enough. It is checked on the connection's segments and
// when a hole of it is given up; a connection that goes quiet with its
// RST waiting ends at the idle timeout or Close, with EndRST.
func (a *Assembler) checkRST(c *conn, now time.Time) {
	r := c.rst
	h := &c.dir[r.side]
	reached := (h.done || !seqAfter(r.seq, h.next)) && !(r.hasAck && a.waits(c, r.side, r.ack))
	if reached || a.due(r.t, r.n, now) {
		a.flush(c, now)
		a.end(c, EndRST, now)
	}
}

// data handles the sequence range [start, start+len(payload)+missing) sent
// by s, followed by a FIN if fin, in a segment acknowledging ack if hasAck.
func (a *Assembler) data(c *conn, s Side, start uint32, payload []byte, missing int, fin bool, ack uint32, hasAck bool, t time.Time) {
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
			if h.hasEv() {
				a.stats.LateFilled++
			}
			if hasAck && a.waits(c, s, ack) {
				// Sent after bytes of the other direction that have not
				// been delivered: hold it until they are, so that the
				// layer above sees a response after its request.
				a.stats.HeldForOtherSide++
				a.buffer(c, s, h.next, payload, missing, ack, hasAck, t)
				break
			}
			a.deliver(c, s, payload, missing, t)
			if len(h.pend()) > 0 {
				a.drain(c, s, false)
			}
			if h.hasEv() {
				a.settle(h)
			}
		default:
			if h.hasEv() && seqAfter(h.x.evSeq, start) {
				a.stats.LateFilled++
			}
			a.buffer(c, s, start, payload, missing, ack, hasAck, t)
			if h.hasEv() {
				a.settle(h)
				a.resolve(c, s, t)
				if c.closed {
					return
				}
			}
		}
	}
	a.checkFin(c, s, t)
	if len(c.dir[s.Other()].pend()) > 0 && !c.closed {
		a.ungate(c, s.Other(), t)
	}
}

// waits reports whether bytes sent by s in a segment acknowledging ack
// must wait for the other direction: their sender had received bytes of
// it that have not been delivered yet (reordered or lost in the capture).
// An acknowledgement beyond the other direction's FIN, or absurdly far
// ahead, holds nothing.
func (a *Assembler) waits(c *conn, s Side, ack uint32) bool {
	o := &c.dir[s.Other()]
	return o.init && !o.done && seqAfter(ack, o.next) && ack-o.next < maxTrailingGap
}

// ungate delivers the held bytes of s that the other direction has now
// caught up with, and so on back and forth while that makes progress.
func (a *Assembler) ungate(c *conn, s Side, t time.Time) {
	for !c.closed {
		h := &c.dir[s]
		if len(h.pend()) == 0 || seqAfter(h.pend()[0].seq, h.next) {
			return
		}
		before := h.next
		a.drain(c, s, false)
		if h.next == before {
			return
		}
		if h.hasEv() {
			a.settle(h)
		}
		a.checkFin(c, s, t)
		s = s.Other()
	}
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

// drain delivers the buffered pieces that the stream has reached, up to
// the first that waits for the other direction unless force.
func (a *Assembler) drain(c *conn, s Side, force bool) {
	h := &c.dir[s]
	i := 0
	for ; i < len(h.pend()); i++ {
		p := &h.pend()[i]
		if seqAfter(p.seq, h.next) {
			break
		}
		if end := p.seq + p.span(); seqAfter(end, h.next) {
			if !force && p.hasAck && a.waits(c, s, p.ack) {
				break
			}
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
		q := h.q
		n := copy(q.pend, q.pend[i:])
		clear(q.pend[n:])
		q.pend = q.pend[:n]
	}
}

// release frees a piece leaving pend; each piece is released once.
func (a *Assembler) release(h *half, p *piece) {
	h.q.buffered -= p.cost()
	a.buffered -= int64(p.cost())
	if p.data != nil {
		a.pool.put(p.data)
		p.data = nil
	}
}

func (a *Assembler) releaseAll(h *half) {
	q := h.q
	if q == nil {
		return
	}
	for i := range q.pend {
		a.release(h, &q.pend[i])
	}
	clear(q.pend)
	q.pend = q.pend[:0]
}

// buffer stores [start, start+len(payload)+missing), which lies beyond the
// next expected byte, keeping the bytes that arrived first where it
// overlaps what is already held.
func (a *Assembler) buffer(c *conn, s Side, start uint32, payload []byte, missing int, ack uint32, hasAck bool, t time.Time) {
	h := &c.dir[s]
	if h.q == nil {
		h.q = new(heldQueue)
	}
	q := h.q
	a.stats.OutOfOrder++
	rel := func(seq uint32) int64 { return int64(seq - h.next) }
	lo := rel(start)
	hi := lo + int64(len(payload)+missing)
	// The first held piece ending after lo; pieces are sorted and disjoint.
	i := len(q.pend)
	if i > 0 && rel(q.pend[i-1].seq)+int64(q.pend[i-1].span()) > lo {
		i, _ = slices.BinarySearchFunc(q.pend, lo, func(p piece, lo int64) int {
			if rel(p.seq)+int64(p.span()) <= lo {
				return -1
			}
			return 1
		})
	}
	for cur := lo; cur < hi; {
		if i < len(q.pend) {
			if ps := rel(q.pend[i].seq); ps <= cur {
				pe := min(ps+int64(q.pend[i].span()), hi)
				a.stats.RetransmittedBytes += pe - cur
				cur = pe
				i++
				continue
			}
		}
		stop := hi
		if i < len(q.pend) {
			stop = min(stop, rel(q.pend[i].seq))
		}
		// Insert the part [cur, stop) of the new segment.
		from, to := int(cur-lo), int(stop-lo)
		p := piece{seq: start + uint32(from), t: t, ack: ack, hasAck: hasAck}
		if from < len(payload) {
			d := payload[from:min(to, len(payload))]
			p.data = a.pool.get(len(d))
			copy(p.data, d)
		}
		p.missing = (to - from) - len(p.data)
		q.buffered += p.cost()
		a.buffered += int64(p.cost())
		q.pend = slices.Insert(q.pend, i, p)
		i++
		cur = stop
	}
	if a.buffered > a.stats.PeakBuffered {
		a.stats.PeakBuffered = a.buffered
	}
	// Over a limit: give up on the holes, oldest first. The total is
	// brought down by the direction that took it over, so that it never
	// grows past the limit by more than one segment.
	for (q.buffered > a.opt.MaxBufferedPerDirection || len(q.pend) > a.maxPend ||
		a.buffered > int64(a.opt.MaxBufferedTotal)) && len(q.pend) > 0 {
		a.skipTo(c, s, q.pend[0].seq, a.gapTime(h, t))
		a.drain(c, s, true)
	}
}

// due reports whether an acknowledgement captured at t, when the assembler
// had seen n segments, is old enough at now for the hole it covers to be
// given up: the options' reorder window has passed and enough segments
// have been captured since.
func (a *Assembler) due(t time.Time, n int64, now time.Time) bool {
	return (a.quiet || a.reorderN < 0 || a.stats.TCPSegments-n >= a.reorderN) &&
		(a.reorderW < 0 || now.Sub(t) >= a.reorderW)
}

// gapTime is the time to report a hole at h.next with, when it is given up
// at t: the time of the acknowledgement that showed it lost, if any.
func (a *Assembler) gapTime(h *half, t time.Time) time.Time {
	if h.hasEv() && seqAfter(h.x.evSeq, h.next) {
		return h.x.evTime
	}
	return t
}

// settle brings h's evidence up to date after its stream advanced or the
// receiver acknowledged more: evidence the stream went past is dropped, and
// the latest acknowledgement beyond the stream, if any, becomes the new
// evidence, waiting in a.waiting for its time.
func (a *Assembler) settle(h *half) {
	x := h.x
	if x == nil {
		return
	}
	if x.ev && !seqAfter(x.evSeq, h.next) {
		x.ev = false
		a.waiting.remove(h)
	}
	if !x.ev && !h.done && h.ackValid && seqAfter(h.acked, h.next) {
		x.ev, x.evSeq, x.evTime, x.evN = true, h.acked, x.ackTime, x.ackN
		a.waiting.remove(h)
		a.waiting.pushBack(h)
	}
}

// sweep gives up the holes whose evidence has become old enough by now,
// whatever connection the segment at hand belongs to. The list is in the
// order evidence was found, so it stops at the first that is not due;
// evidence renewed from an earlier acknowledgement can sit behind a later
// one and then waits for it, which only delays giving up.
func (a *Assembler) sweep(now time.Time) {
	for h := a.waiting.front(); h != nil && a.due(h.x.evTime, h.x.evN, now); h = a.waiting.front() {
		a.waiting.remove(h)
		c, s := h.x.c, h.x.side
		if c.h != nil && !c.closed && (h.pending() || len(c.dir[s.Other()].pend()) > 0) {
			a.resolve(c, s, now)
		}
		if c.rst != nil && !c.closed {
			a.checkRST(c, now)
		}
	}
}

// resolve gives up on holes the receiver acknowledged long enough ago: it
// got those bytes, and they have not shown up in the capture within the
// reorder window, so they were lost from it and will not come.
func (a *Assembler) resolve(c *conn, s Side, now time.Time) {
	h := &c.dir[s]
	for h.hasEv() && a.due(h.x.evTime, h.x.evN, now) {
		// The latest acknowledgement may be old enough too; then the
		// hole goes up to it rather than to the first one.
		bound := h.x.evSeq
		if seqAfter(h.acked, bound) && a.due(h.x.ackTime, h.x.ackN, now) {
			bound = h.acked
		}
		var holeEnd uint32
		switch {
		case len(h.pend()) > 0 && !seqAfter(h.pend()[0].seq, h.next):
			// No hole: held bytes waiting for the other direction,
			// which waits for these (a retransmission carrying a later
			// acknowledgement can make such a cycle). They have waited
			// long enough.
			a.drain(c, s, true)
			a.settle(h)
			continue
		case len(h.pend()) > 0:
			holeEnd = h.pend()[0].seq
		case h.fin && !h.done:
			holeEnd = h.finSeq
		case len(c.dir[s.Other()].pend()) > 0 && bound-h.next < maxTrailingGap:
			// The other direction holds bytes sent after these: give
			// them up rather than hold those until the end.
			holeEnd = bound
		default:
			// Nothing captured beyond the hole yet; its bytes may still
			// show up, so wait.
			holeEnd = h.next
		}
		if seqAfter(holeEnd, bound) {
			holeEnd = bound
		}
		if !seqAfter(holeEnd, h.next) {
			break
		}
		a.skipTo(c, s, holeEnd, h.x.evTime)
		a.drain(c, s, false)
		a.settle(h)
	}
	a.checkFin(c, s, now)
	if !c.closed {
		a.ungate(c, s, now)
		a.ungate(c, s.Other(), now)
	}
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
	if h.x != nil {
		h.x.ev = false
		a.waiting.remove(h)
	}
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
	// Give up the holes of both directions in turn first, so that bytes
	// held for the other direction still come after what they follow.
	for progress := true; progress; {
		progress = false
		for s := SideA; s <= SideB; s++ {
			h := &c.dir[s]
			if !h.init || h.done || len(h.pend()) == 0 {
				continue
			}
			before := h.next
			a.skipTo(c, s, h.pend()[0].seq, a.gapTime(h, t))
			a.drain(c, s, false)
			progress = progress || h.next != before
		}
	}
	for s := SideA; s <= SideB; s++ {
		h := &c.dir[s]
		if !h.init || h.done {
			continue
		}
		for len(h.pend()) > 0 {
			a.skipTo(c, s, h.pend()[0].seq, a.gapTime(h, t))
			a.drain(c, s, true)
		}
		switch {
		case h.fin:
			a.skipTo(c, s, h.finSeq, a.gapTime(h, t))
			h.done = true
			h.next = h.finSeq + 1
		case c.rst != nil && s == c.rst.side && seqAfter(c.rst.seq, h.next):
			// The RST came after bytes the capture never showed.
			a.skipTo(c, s, c.rst.seq, a.gapTime(h, t))
		case h.ackValid && seqAfter(h.acked, h.next) && h.acked-h.next < maxTrailingGap:
			// The receiver acknowledged bytes the capture never showed.
			a.skipTo(c, s, h.acked, a.gapTime(h, t))
		}
		if h.x != nil {
			h.x.ev = false
			a.waiting.remove(h)
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
	c.rst = nil
	a.releaseHoleState(&c.dir[0])
	a.releaseHoleState(&c.dir[1])
	a.releaseAll(&c.dir[0])
	a.releaseAll(&c.dir[1])
	c.dir[0].q, c.dir[1].q = nil, nil
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
		switch {
		case c.rst != nil:
			reason = EndRST
		case c.dir[0].done && c.dir[1].done:
			reason = EndFIN
		}
		a.end(c, reason, t)
	}
	clear(a.conns)
	a.nconns = 0
	a.recent = nil
	a.live.init()
	a.live.n = 0
	clear(a.lru.h)
	a.lru.h = a.lru.h[:0]
	a.closed.init()
	a.closed.n = 0
	a.waiting.init()
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
