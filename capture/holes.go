package capture

import "time"

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
			// No hole: held bytes waiting for the other direction.
			// They have waited long enough, so what they wait for is
			// lost: the other direction's holes before it are given up
			// first, so that the layer above still learns of the loss
			// before bytes sent after it. What is still missing then
			// waits for these (a retransmission carrying a later
			// acknowledgement can make such a cycle).
			if p := &h.pend()[0]; p.hasAck {
				a.catchUp(c, s.Other(), p.ack, now)
			}
			before := h.next
			if a.drain(c, s, false); h.next == before {
				a.drain(c, s, true)
			}
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

// catchUp gives up the holes of s before seq, delivering the bytes held
// between them, as far as they do not wait for the other direction.
func (a *Assembler) catchUp(c *conn, s Side, seq uint32, t time.Time) {
	h := &c.dir[s]
	for !h.done && seqAfter(seq, h.next) && seq-h.next < maxTrailingGap {
		end := seq
		if p := h.pend(); len(p) > 0 && seqAfter(end, p[0].seq) {
			end = p[0].seq
		}
		before := h.next
		a.skipTo(c, s, end, a.gapTime(h, t))
		a.drain(c, s, false)
		if h.next == before {
			break
		}
	}
	a.settle(h)
	a.checkFin(c, s, t)
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
