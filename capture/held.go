package capture

import (
	"slices"
	"time"
)

// pieceOverhead is what a held segment costs besides its payload buffer.
const pieceOverhead = 64

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
