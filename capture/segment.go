package capture

import "time"

// maxTrailingGap bounds the gap reported at the end of a stream from
// acknowledgements alone; beyond it the acknowledgement number is taken to
// be nonsense rather than a measure of lost bytes.
const maxTrailingGap = 1 << 30

// maxMissing bounds Segment.Missing: no TCP segment is longer.
const maxMissing = 1 << 20

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

func (h *half) pending() bool { return len(h.pend()) > 0 || (h.fin && !h.done) }

// Serial number arithmetic (RFC 1982) for 32-bit sequence numbers.
func seqAfter(a, b uint32) bool { return int32(a-b) > 0 }

// segment processes seg for the live connection c. It runs for every TCP
// segment, so what most segments skip (a RST, a SYN or the first segment
// of a stream) is done in calls. An acknowledgement of bytes not captured
// yet is handled here all the same: a capture reordered on a multi-queue
// NIC brings one before most late data segments, and in a call of its
// own it cost BenchmarkAssemblerReorderedAcked 1% more instructions.
func (a *Assembler) segment(c *conn, seg *Segment) {
	s := c.sideOf(seg)
	t := seg.Time
	c.last = t.UnixNano()
	if a.hooks.strictLRU {
		a.live.toFront(c)
	} else {
		a.lru.touch(c)
	}
	h, o := &c.dir[s], &c.dir[s.Other()]
	if seg.RST {
		a.reset(c, s, seg)
		return
	}
	if seg.ACK && !o.init && h.synSeen && !seg.SYN && h.next == h.start {
		// The first acknowledgement after s's SYN answers the SYN-ACK,
		// which was not captured (or not yet): the other stream starts
		// there, so data s sends after receiving its first bytes waits
		// for them rather than overtaking them. Bytes acknowledged with
		// it are put in front when captured (startsEarlier).
		o.startAt(seg.Ack)
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
	if seg.SYN || !h.init {
		start = a.noteStart(c, s, seg)
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

// noteStart records where the stream of s starts (h.noteStart), and what a
// SYN says besides: a SYN-ACK captured before the SYN it answers says
// where the other stream starts, so that bytes of it acknowledged later
// are known to be missing and data sent after them waits for them; a SYN
// that moved the stream's start back puts bytes the receiver had already
// acknowledged in a hole, as if the ACK came now.
func (a *Assembler) noteStart(c *conn, s Side, seg *Segment) uint32 {
	h, o := &c.dir[s], &c.dir[s.Other()]
	next := h.next
	start := h.noteStart(seg)
	if seg.SYN && seg.ACK && !o.init {
		o.startAt(seg.Ack)
	}
	if seg.SYN && h.next != next && h.ackValid && seqAfter(h.acked, h.next) && c.h != nil {
		x := a.holeState(c, s)
		x.ackTime, x.ackN = seg.Time, a.stats.TCPSegments
		a.settle(h)
	}
	return start
}

// startAt starts h's stream at seq, known from the other side's
// acknowledgement rather than from h's own SYN or segments.
func (h *half) startAt(seq uint32) {
	h.init, h.next, h.start = true, seq, seq
}

// reset handles RST segment seg, sent by s on the live connection c: it
// ends c, unless bytes the RST follows have not been captured yet.
func (a *Assembler) reset(c *conn, s Side, seg *Segment) {
	h := &c.dir[s]
	t := seg.Time
	early := (h.init && !h.done && seqAfter(seg.Seq, h.next) && seg.Seq-h.next < maxTrailingGap) ||
		(seg.ACK && a.waits(c, s, seg.Ack)) || a.ackedBefore(c, s)
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
}

// noteStart records where h's stream starts, from its SYN or, without one,
// from its first segment seg, and returns the sequence number of seg's
// first byte of data (after the SYN's).
func (h *half) noteStart(seg *Segment) uint32 {
	start := seg.Seq
	if !h.init && seg.ACK {
		h.firstAck, h.firstAckOK = seg.Ack, true
	}
	if seg.SYN {
		if !h.init {
			h.init, h.synSeen, h.isn, h.next, h.start = true, true, seg.Seq, seg.Seq+1, seg.Seq+1
		} else if !h.synSeen && seg.Seq+1 == h.start {
			h.synSeen, h.isn = true, seg.Seq
		} else if h.startsEarlier(seg.Seq+1, h.start) {
			// Captured after a segment without data from further on
			// (startsNew checked that it is this connection's SYN).
			h.synSeen, h.isn, h.start, h.next = true, seg.Seq, seg.Seq+1, seg.Seq+1
		}
		start++
	} else if !h.init {
		h.init, h.next, h.start = true, seg.Seq, seg.Seq
	}
	return start
}

// startsEarlier reports whether the bytes [start, end) come right before
// where h's stream was taken to start, and can still be put in front of
// it: no SYN was seen, the start came from a segment without data and
// nothing has been delivered since, and the bytes reach up to it.
func (h *half) startsEarlier(start, end uint32) bool {
	return !h.synSeen && h.next == h.start && seqAfter(h.start, start) &&
		!seqAfter(h.start, end) && h.start-start <= maxMissing
}

// ackedBefore reports whether s acknowledged bytes of the other direction
// that have not been delivered yet. A RST from s is the last segment s
// sends, so it came after them even when it carries no acknowledgement.
func (a *Assembler) ackedBefore(c *conn, s Side) bool {
	o := &c.dir[s.Other()]
	return o.ackValid && a.waits(c, s, o.acked)
}

// checkRST ends c for its early RST once the streams have reached it, or
// once it is old enough. It is checked on the connection's segments and
// when a hole of it is given up; a connection that goes quiet with its
// RST waiting ends at the idle timeout or Close, with EndRST.
func (a *Assembler) checkRST(c *conn, now time.Time) {
	r := c.rst
	h := &c.dir[r.side]
	reached := (h.done || !seqAfter(r.seq, h.next)) && !(r.hasAck && a.waits(c, r.side, r.ack)) &&
		!a.ackedBefore(c, r.side)
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
	if n > 0 && h.startsEarlier(start, end) {
		// Sent before the segment the stream was taken to start at, and
		// captured after it: the capture began mid-connection, with a
		// reordered first segment.
		h.start, h.next = start, start
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
