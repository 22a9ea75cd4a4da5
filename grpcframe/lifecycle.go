package grpcframe

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"golang.org/x/net/http2"
)

// A call's life: its stream is opened by the first event that names it
// (openStream) and ends at an END_STREAM (endSide), a RST_STREAM (after
// resetGrace, see Tick), a GOAWAY that refused it, its eviction or the
// connection's end; finish then hands the call to the orderer, or to
// Options.Tally.

// startMissing marks a call whose request headers were not captured. Stream
// ids only grow, so a stream above one whose request was captured started
// inside the capture: its headers were lost, not before the capture.
func (a *Assembler) startMissing(c *h2decode.Conn, call *Call) {
	cs := a.conn(c)
	if cs.firstRequest != 0 && call.StreamID > cs.firstRequest {
		call.LostBytes = true
		call.note(h2decode.NoteLostBytes, "its request headers were not captured (lost in a gap)")
		return
	}
	call.StartedBeforeCapture = true
}

// stream is a call being assembled. The fields read or written at every
// event of the call come first, in the first cache line of the call's
// memory (callMem puts the stream first): with a thousand calls open at
// once, a call's memory has mostly left the cache by its next frame, and
// each line touched is a miss.
type stream struct {
	call     *Call
	conn     *h2decode.Conn
	lastSeen time.Time // the last event on the stream
	// headers counts the header blocks seen from each side, up to
	// math.MaxUint32.
	headers [2]uint32
	// How each side's body is read (decided at its first data): split into
	// messages, base64 then split (grpc-web-text), or kept whole (HTTP).
	mode   [2]bodyMode
	format [2]Format
	// side is the capture side that sent the request headers, when seen.
	clientSide capture.Side
	sideKnown  bool
	ended      [2]bool
	dataSeen   [2]bool
	ctypeKnown [2]bool
	// held: the call was started by its first header block, whose
	// handling decides between tallying it and ordering it (Options.Tally).
	held bool
	// tally: the call goes to Options.Tally, not to the orderer.
	tally bool

	msgs     [2]msgReader
	got      [2][]*Message
	encoding [2]string
	// ctype is each side's content-type, when its headers said.
	ctype [2]string
	// web holds what gRPC-Web-Text and HTTP bodies need (nil for gRPC).
	web     *webStream
	resetAt time.Time // when a RST_STREAM ended the call
	// gen counts the calls this memory was used for (see Recycle).
	gen uint32
}

// isClient reports whether side is the call's client as far as the capture
// shows so far (finish decides the same way, once and for all).
func (s *stream) isClient(side capture.Side) bool {
	switch {
	case s.sideKnown:
		return side == s.clientSide
	case s.conn.ClientKnown():
		return side == s.conn.Client
	}
	return side == guessClientByPort(s.conn.Info.Addr)
}

// stream finds or starts the call for a stream id. It returns nil for
// frames of a call that already finished.
func (a *Assembler) stream(c *h2decode.Conn, id uint32, t time.Time) *stream {
	return a.openStream(c, id, t, false)
}

// openStream is stream; hold leaves a new call for the caller to hand to
// the orderer or to Options.Tally (stream.held).
func (a *Assembler) openStream(c *h2decode.Conn, id uint32, t time.Time, hold bool) *stream {
	cs := a.conn(c)
	if s := cs.last; s != nil && s.call != nil && s.call.StreamID == id {
		return s
	}
	if s := cs.streams.get(id); s != nil {
		cs.last = s
		return s
	}
	if id == 0 || id < cs.forgotten || cs.isClosed(id) {
		return nil
	}
	if cs.streams.len() >= a.opts.MaxOpenStreams {
		a.evictOldest(c, cs, t)
	}
	m := newCallMem()
	call, s := &m.call, &m.s
	call.mem, call.ConnID, call.StreamID, call.Start, call.GRPC = m, c.Info.ID, id, t, true
	s.call, s.conn = call, c
	cs.streams.put(id, s)
	cs.last = s
	cs.order = append(cs.order, id)
	if len(cs.order) > 2*a.opts.MaxOpenStreams+64 {
		// Drop the ids of finished streams.
		j := 0
		for _, o := range cs.order {
			if cs.streams.get(o) != nil {
				cs.order[j] = o
				j++
			}
		}
		cs.order = cs.order[:j]
	}
	if hold {
		s.held = true
	} else if !a.opts.EmitOnFinish {
		a.ord.push(call)
	}
	return s
}

// order hands a held call to the orderer after all.
func (a *Assembler) order(s *stream) {
	s.held = false
	if !a.opts.EmitOnFinish {
		a.ord.push(s.call)
	}
}

// evictOldest closes the connection's oldest open call to make room for a
// new one.
func (a *Assembler) evictOldest(c *h2decode.Conn, cs *connState, t time.Time) {
	for len(cs.order) > 0 {
		id := cs.order[0]
		cs.order = cs.order[1:]
		s := cs.streams.get(id)
		if s == nil {
			continue
		}
		a.stats.Evicted++
		s.call.State = StateEvicted
		s.call.note(h2decode.NoteLimit, fmt.Sprintf("evicted: more than %d streams were open on the connection and this was the oldest; frames after %s were not followed",
			a.opts.MaxOpenStreams, t.UTC().Format(time.RFC3339Nano)))
		end := s.lastSeen
		if end.IsZero() {
			end = s.call.Start
		}
		a.finish(c, s, end)
		return
	}
}

// resetGrace is how long (in capture time) a reset call waits for the
// frames its peer had already sent: a server's trailers often cross the
// client's RST_STREAM (a deadline: CANCEL from the client, DEADLINE_EXCEEDED
// from the server), and both belong to the call.
const resetGrace = time.Second

// Reset implements h2decode.Handler.
func (a *Assembler) Reset(c *h2decode.Conn, side capture.Side, id uint32, code http2.ErrCode, t time.Time) {
	s := a.stream(c, id, t)
	if s == nil {
		return
	}
	s.lastSeen = t
	if !s.sideKnown && s.headers[0] == 0 && s.headers[1] == 0 && !s.dataSeen[0] && !s.dataSeen[1] && !s.call.StartedBeforeCapture && !s.call.LostBytes {
		// A RST_STREAM is the first thing seen of this stream.
		a.startMissing(c, s.call)
	}
	if s.call.State == StateReset {
		// The peer's RST_STREAM answering ours closes the stream.
		a.finish(c, s, t)
		return
	}
	s.call.State = StateReset
	s.call.ResetCode = code
	s.call.ResetBy = s.role(side)
	s.ended[side] = true
	if s.ended[side.Other()] {
		a.finish(c, s, t)
		return
	}
	s.resetAt = t
	a.resets = append(a.resets, pendingReset{c, s, a.ord.seq(), s.gen})
}

type pendingReset struct {
	c   *h2decode.Conn
	s   *stream
	seq uint64 // the OpLog position of the RST_STREAM (0 with a Merger of its own)
	// gen is s.gen when the call was reset: a finished call's stream state
	// may be recycled for another call (see Recycle).
	gen uint32
}

// expireResets finishes reset calls whose grace period is over.
func (a *Assembler) expireResets(now time.Time) {
	if len(a.resets) == 0 {
		return
	}
	j := 0
	for _, r := range a.resets {
		switch {
		case r.s.call == nil || r.s.gen != r.gen: // already finished
		case now.Sub(r.s.resetAt) > resetGrace:
			// Across shares, calls expire in the order they were reset.
			a.ord.expiring(r.seq)
			a.finish(r.c, r.s, r.s.lastSeen)
		default:
			a.resets[j] = r
			j++
		}
	}
	clear(a.resets[j:])
	a.resets = a.resets[:j]
}

// GoAway implements h2decode.Handler.
func (a *Assembler) GoAway(c *h2decode.Conn, side capture.Side, last uint32, code http2.ErrCode, debug []byte, t time.Time) {
	cs := a.conn(c)
	msg := fmt.Sprintf("GOAWAY from %s: last stream %d, %v", c.Info.Addr[side], last, code)
	if len(debug) > 0 {
		msg += fmt.Sprintf(" (%q)", debug)
	}
	if code != http2.ErrCodeNo {
		c.Notes = append(c.Notes, h2decode.Note{Kind: h2decode.NotePeer, Text: msg})
	}
	for _, id := range cs.streams.sortedIDs() {
		s := cs.streams.get(id)
		// Streams above last that the GOAWAY's receiver opened were never
		// processed.
		if id > last && s.sideKnown && s.clientSide != side {
			s.call.State = StateRefused
			s.call.note(h2decode.NotePeer, msg)
			a.finish(c, s, t)
		}
	}
}

// Lost implements h2decode.Handler.
func (a *Assembler) Lost(c *h2decode.Conn, side capture.Side, t time.Time) {
	cs := a.conn(c)
	for _, id := range cs.streams.sortedIDs() {
		s := cs.streams.get(id)
		if s.ended[side] {
			continue
		}
		s.call.LostBytes = true
		s.call.note(h2decode.NoteLostBytes, fmt.Sprintf("frames from %s were lost at %s; this call may miss data", c.Info.Addr[side], t.UTC().Format(time.RFC3339Nano)))
		done := func(m *Message) { a.finishMessage(s, side, m) }
		s.msgs[side].loseSync(t, done)
		if s.mode[side] == modeRaw {
			a.bodyLost(s, side, -1, t)
		}
	}
}

// End implements h2decode.Handler.
func (a *Assembler) End(c *h2decode.Conn, reason capture.EndReason, t time.Time) {
	// A connection that carried no call has no state, and needs none now:
	// it is only counted, as a.conn would.
	var streams *streamSet
	if cs, ok := c.User.(*connState); ok {
		streams = &cs.streams
	} else {
		a.stats.Connections++
	}
	a.stats.ByKind[c.ConnKind()]++
	for _, n := range c.Notes {
		a.ord.note(h2decode.Note{Kind: n.Kind, Text: fmt.Sprintf("%s ↔ %s: %s", c.Info.Addr[0], c.Info.Addr[1], n.Text)})
	}
	state := StateClosed
	if reason == capture.EndCapture {
		state = StateCut
	}
	for _, id := range streams.sortedIDs() {
		s := streams.get(id)
		end := t
		if s.call.State == StateReset {
			end = s.lastSeen
		} else {
			s.call.State = state
		}
		a.finish(c, s, end)
	}
	if cs, ok := c.User.(*connState); ok {
		for i := range cs.shared {
			cs.shared[i].release(&a.sharedBytes)
		}
	}
	a.ord.flush()
}

// Close emits every call still waiting for an earlier one. Call it after the
// capture has ended and every connection has ended.
func (a *Assembler) Close() {
	a.ord.flush()
}

func (a *Assembler) endSide(c *h2decode.Conn, s *stream, side capture.Side, t time.Time) {
	s.ended[side] = true
	a.endBody(s, side)
	if s.call.Protocol.OverHTTP() {
		a.rpcSideEnded(s, side, t)
	}
	if s.call.State == StateReset {
		if s.ended[side.Other()] {
			a.finish(c, s, t)
		}
		return
	}
	if s.sideKnown && side != s.clientSide {
		// The server's end of stream ends a gRPC call, whatever the client
		// still has to say.
		a.finish(c, s, t)
		return
	}
	if s.ended[0] && s.ended[1] {
		a.finish(c, s, t)
	}
}

// role is the part side plays in the call: as the stream's headers showed,
// else as the connection's client.
func (s *stream) role(side capture.Side) h2decode.Role {
	client := s.conn.Client
	if s.sideKnown {
		client = s.clientSide
	}
	return h2decode.RoleOf(side, client)
}

// clientOf decides the call's client side, and the evidence it rests on:
// the stream's own header blocks, else the connection's evidence, else the
// port numbers. Where the connection's evidence and the stream's headers
// agree, the connection's is kept.
func clientOf(c *h2decode.Conn, s *stream) (capture.Side, h2decode.ClientEvidence) {
	switch {
	case s.sideKnown && (!c.ClientKnown() || s.clientSide != c.Client):
		return s.clientSide, h2decode.ClientByHeaders
	case c.ClientKnown():
		return c.Client, c.ClientBy
	}
	return guessClientByPort(c.Info.Addr), h2decode.ClientByPort
}

// progress tells Options.OnProgress of a call still open, as it stands: a
// copy, since the call goes on changing. Its lists are cut to their length
// so that what the call appends later is not seen through them.
func (a *Assembler) progress(c *h2decode.Conn, s *stream) {
	if a.opts.OnProgress == nil {
		return
	}
	snap := *s.call
	snap.mem, snap.hdr = nil, nil // never the call's memory: Recycle leaves it alone
	client, by := clientOf(c, s)
	snap.ClientBy = by
	snap.Client, snap.Server = c.Info.Addr[client], c.Info.Addr[client.Other()]
	req, resp := s.got[client], s.got[client.Other()]
	snap.Requests, snap.Responses = req[:len(req):len(req)], resp[:len(resp):len(resp)]
	snap.Notes = snap.Notes[:len(snap.Notes):len(snap.Notes)]
	snap.Transport = c.Transport()
	if snap.Status != nil {
		st := *snap.Status
		snap.Status = &st
	}
	a.opts.OnProgress(&snap)
}

// finish completes a call and hands it on in order.
func (a *Assembler) finish(c *h2decode.Conn, s *stream, t time.Time) {
	cs := a.conn(c)
	call := s.call
	cs.streams.del(call.StreamID)
	if cs.last == s {
		cs.last = nil
	}
	cs.addClosed(call.StreamID)
	if len(cs.closed) > a.opts.MaxClosedStreams {
		a.pruneClosed(cs, call.StreamID)
	}
	call.End = t
	call.Transport = c.Transport()
	if c.Info.TLS != nil {
		// The TLS layer goes on updating its record of the connection;
		// the call keeps it as it stood when the call ended (and may be
		// read on another goroutine).
		call.TLS = c.Info.TLS.Snapshot()
	}
	client, by := clientOf(c, s)
	call.ClientBy = by
	call.Client, call.Server = c.Info.Addr[client], c.Info.Addr[client.Other()]
	for side := range 2 {
		done := func(m *Message) { a.finishMessage(s, capture.Side(side), m) }
		if s.msgs[side].end(t, done) {
			call.note(h2decode.NoteUnfinished, fmt.Sprintf("%s stream ended inside a message", s.role(capture.Side(side))))
		}
		if s.web != nil && s.web.b64[side].pending() && !s.web.b64[side].bad {
			call.note(h2decode.NoteUnfinished, fmt.Sprintf("%s grpc-web-text body ended inside a base64 quantum", s.role(capture.Side(side))))
		}
		a.endBody(s, capture.Side(side))
	}
	call.Requests = s.got[client]
	call.Responses = s.got[client.Other()]
	if call.Method == "" {
		call.MethodUnknown = true
	}
	if call.State == 0 {
		switch {
		case call.StartedBeforeCapture:
			call.State = StateStartedBeforeCapture
		case call.LostBytes:
			call.State = StateIncomplete
		default:
			call.State = StateComplete
		}
	}
	if call.GRPC && call.Status == nil && !call.StatusUnknown && call.State == StateComplete {
		call.note(h2decode.NoteMalformed, missingStatus(call.Protocol))
	}
	if call.CORSPreflight {
		m, _ := Header(call.RequestHeaders, "access-control-request-method")
		k := preflightKey{call.Client.Addr(), call.Server, call.Method, strings.ToUpper(strings.TrimSpace(m))}
		a.ord.remember(k, Preflight{ConnID: call.ConnID, StreamID: call.StreamID, Start: call.Start, HTTPStatus: call.HTTPStatus})
	}
	s.call = nil
	a.stats.Calls++
	if s.tally {
		a.opts.Tally(call)
		return
	}
	a.ord.finish(call)
}

// missingStatus says what a call of protocol p whose server ended it
// without a status lacked.
func missingStatus(p Protocol) string {
	if p == ProtoConnect {
		return "the server ended the stream without Connect's end-of-stream message"
	}
	return "the server ended the stream without grpc-status"
}

func (a *Assembler) pruneClosed(cs *connState, newest uint32) {
	// Stream ids only grow, so the oldest closed ids are the smallest.
	limit := newest - min(newest, uint32(a.opts.MaxClosedStreams))
	cs.forgotten = max(cs.forgotten, limit)
	i, _ := slices.BinarySearch(cs.closed, limit)
	cs.closed = append(cs.closed[:0], cs.closed[i:]...)
}

// isClosed reports whether stream id finished (and is remembered).
func (cs *connState) isClosed(id uint32) bool {
	if n := len(cs.closed); n == 0 || id > cs.closed[n-1] {
		return false
	}
	_, found := slices.BinarySearch(cs.closed, id)
	return found
}

// addClosed remembers that stream id finished.
func (cs *connState) addClosed(id uint32) {
	if n := len(cs.closed); n == 0 || id > cs.closed[n-1] {
		cs.closed = append(cs.closed, id)
		return
	}
	if i, found := slices.BinarySearch(cs.closed, id); !found {
		cs.closed = slices.Insert(cs.closed, i, id)
	}
}

// guessClientByPort picks the client when nothing in the capture said which
// side it was: the side with the higher (ephemeral-looking) port.
func guessClientByPort(addr [2]netip.AddrPort) capture.Side {
	if addr[capture.SideB].Port() > addr[capture.SideA].Port() {
		return capture.SideB
	}
	return capture.SideA
}
