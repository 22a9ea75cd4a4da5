package capture

import (
	"encoding/binary"
	"net/netip"
	"time"
)

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
	if a.hooks.strictLRU {
		return a.live.back()
	}
	return a.lru.oldest()
}

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
	for c := a.conns[connHash(seg.Src, seg.Dst)&^a.hooks.clearHashBits]; c != nil; c = c.hnext {
		if c.owns(seg) {
			return c
		}
	}
	return nil
}

// conn is one connection the Assembler follows.
//
// Every segment of a capture with many connections comes to a conn the
// cache has lost, so the fields are in the order that puts what a segment
// reads (down to info.Addr) in the first 4 cache lines of the 288-byte
// size class, leaving the rest of info (ID, Start, TLS) in the last half
// line. last is nanoseconds rather than a time.Time (24 bytes) to fit that
// class: a table of 65,536 connections is 2 MiB smaller.
type conn struct {
	h          ConnHandler // nil: ignored
	closed     bool
	rst        *earlyRST // a RST that came ahead of bytes it follows
	prev, next *conn
	last       int64  // the time of its last segment or end, in Unix nanoseconds
	touch      uint64 // when it was last active: see lruHeap
	dir        [2]half
	hnext      *conn // the next connection with the same hash
	info       ConnInfo
	hash       uint64 // connHash(info.Addr[0], info.Addr[1]), its key in Assembler.conns
}

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
	o := &c.dir[s.Other()]
	if !h.synSeen && h.init && !c.closed && (seg.Seq+1 == h.start ||
		(seg.ACK && o.synSeen && seg.Ack == o.start && h.startsEarlier(seg.Seq+1, h.start))) {
		// This side's SYN, captured after the first bytes it sent, or
		// the SYN-ACK of the captured SYN, captured after a segment
		// without data from further on (the capture reordered it): the
		// connection it opened.
		return false
	}
	if !h.init && !c.closed && o.init &&
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
	return !o.synSeen
}

func (a *Assembler) newConn(seg *Segment) *conn {
	if a.nconns >= a.opt.MaxConnections {
		a.makeRoom(seg.Time)
	}
	a.nextID++
	c := &conn{last: seg.Time.UnixNano()}
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
	c.hash = connHash(seg.Src, seg.Dst) &^ a.hooks.clearHashBits
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
	cutoff := now.Add(-a.opt.IdleTimeout).UnixNano()
	for c := a.idlest(); c != nil && c.last < cutoff; c = a.idlest() {
		a.stats.IdleEnded++
		a.flush(c, now)
		a.end(c, a.quietReason(c), now)
		a.drop(c)
	}
	for c := a.closed.back(); c != nil && c.last < cutoff; c = a.closed.back() {
		a.drop(c)
	}
}
