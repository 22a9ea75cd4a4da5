package grpcframe

import (
	"sync"

	"github.com/grpcsniff/grpcsniff/h2decode"
)

// A capture of a million calls would otherwise allocate a million calls,
// their header fields and messages, each in memory never touched before: on
// the virtual machines measured, a first touch costs a page fault of 2 to 6
// microseconds per 4 KiB, more than decoding what is written there. A
// consumer that is done with a call (an export that has written it, a
// summary that has counted it) hands it back with Recycle, and the next
// calls are built in the same memory, which is warm in the cache as well.

// callMem is the memory of a call and of its stream's state while it is
// being assembled: one allocation, reused as a whole.
type callMem struct {
	// The stream first: its hot fields then start the allocation, which
	// its size class aligns to a cache line.
	s    stream
	call Call
}

// Bounds on what a recycled call or message keeps for its next use: the
// memory of an unusual call (a large message, hundreds of headers) is left
// to the collector instead.
const (
	maxRecycledData    = 64 << 10
	maxRecycledHeaders = 256
	maxRecycledMsgs    = 64
)

// callPool holds recycled calls as they were handed back, messages and
// all. They are reset when reused, by the goroutine that fills them in
// again: clearing them where they were handed back would pull their memory
// into that core's cache only for the next call's goroutine to pull it back.
var callPool sync.Pool // of *callMem

// newCallMem returns the memory for a new call: a recycled one, reset but
// for the capacity of its slices and its messages (each stream side's
// msgReader reuses those of one direction), or a new one.
func newCallMem() *callMem {
	m, ok := callPool.Get().(*callMem)
	if !ok {
		return &callMem{}
	}
	old := &m.call
	hdr, notes := old.hdr, old.Notes
	if cap(hdr) > maxRecycledHeaders {
		hdr = nil
	}
	reqs, resps := spareMessages(old.Requests), spareMessages(old.Responses)
	m.call = Call{hdr: hdr[:0], Notes: notes[:0]}
	m.s = stream{gen: m.s.gen + 1}
	// A side's messages are appended to got[side] at or behind the place
	// its msgReader takes spares from, in the same array.
	m.s.got = [2][]*Message{reqs[:0], resps[:0]}
	m.s.msgs[0].spares, m.s.msgs[1].spares = reqs, resps
	return m
}

// spareMessages returns a recycled call's messages for reuse, or nil when
// there are too many to keep.
func spareMessages(ms []*Message) []*Message {
	if cap(ms) > maxRecycledMsgs {
		return nil
	}
	return ms
}

// newMessage returns a zeroed Message but for the room of its Data: a
// spare of a recycled call when the reader has one left.
func (r *msgReader) newMessage() *Message {
	if len(r.spares) == 0 {
		return &Message{}
	}
	m := r.spares[0]
	r.spares = r.spares[1:]
	data := m.Data
	if cap(data) > maxRecycledData {
		data = nil
	}
	*m = Message{Data: data[:0]}
	return m
}

// Recycle hands back a call that an Assembler made, with its messages, for
// later calls to be built in. The caller must hold the last reference: no
// one may read the call, its header slices, its messages or their Data
// afterwards. Strings read from the call stay valid (they are never
// reused). Calls made otherwise are left alone.
func Recycle(c *Call) {
	m := c.mem
	if m == nil || m.s.call != nil {
		// Not an Assembler's, or (a misuse) not yet finished.
		return
	}
	if hooks.poisonRecycled {
		poison(c)
		return
	}
	callPool.Put(m)
}

// poisoned is what a poisoned call's strings say.
const poisoned = "<recycled call read>"

func poison(c *Call) {
	for _, ms := range [][]*Message{c.Requests, c.Responses} {
		for _, msg := range ms {
			for i := range msg.Data {
				msg.Data[i] = 0xEE
			}
			msg.Length, msg.Err, msg.Encoding = 0xEEEEEE, poisoned, poisoned
		}
	}
	// The call's own header memory is overwritten; its lists, which may
	// be shared with other calls (sharedList), are replaced.
	hdr := c.hdr[:cap(c.hdr)]
	for i := range hdr {
		hdr[i] = h2decode.HeaderField{Name: poisoned, Value: poisoned}
	}
	for _, hs := range []*[]h2decode.HeaderField{&c.RequestHeaders, &c.ResponseHeaders, &c.Trailers} {
		p := make([]h2decode.HeaderField, len(*hs))
		for i := range p {
			p[i] = h2decode.HeaderField{Name: poisoned, Value: poisoned}
		}
		*hs = p
	}
	c.Method, c.HTTPMethod = poisoned, poisoned
	c.Protocol, c.Transport = 0xEE, 0xEE // name no protocol, no transport
	c.status = Status{Code: 0xEEEE, Name: poisoned, Message: poisoned}
	c.Status = &c.status
	c.Notes = append(c.Notes, h2decode.Note{Text: poisoned})
	c.StreamID, c.ConnID = 0xEEEEEEEE, 0xEEEEEEEE
	c.mem = nil // never recycled again
}
