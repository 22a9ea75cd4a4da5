package capture

import (
	"io"
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
	// timestamps. Measured with scripts/lossy (20% of the packets each
	// swapped with one 1 to 3 positions later) on every shipped capture
	// and 20 seeds, the count alone made false gaps up to 8 segments
	// (14 of them at 8) and none from 16 on: 32 is twice that. The time
	// alone did not suffice there (22 false gaps at 200 ms): a packet
	// moved across a pause in the traffic takes the pause's time.
	DefaultReorderWindow   = 200 * time.Millisecond
	DefaultReorderSegments = 32
)

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
	conns  map[uint64]*conn
	nconns int // connections in conns
	// live holds the connections not ended, in the order they started
	// (or, with hooks.strictLRU, most recently active first). Which of
	// them was idle the longest is found with lru.
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
	lru   lruHeap
	hooks hooks
}

// hooks are switches that only tests set, to check the Assembler against
// simpler ways of doing the same; the zero value is what runs otherwise.
type hooks struct {
	// clearHashBits are cleared from every connection hash, so that
	// connections share hash chains.
	clearHashBits uint64
	// strictLRU keeps live in order of activity instead of finding the
	// idlest connection with lru, as it used to be; tests check lru
	// against it.
	strictLRU bool
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
	a := &Assembler{factory: f, opt: opt, conns: make(map[uint64]*conn)}
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
	c.last = t.UnixNano()
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
