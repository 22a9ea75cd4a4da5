package h2decode

import (
	"slices"
	"strings"

	"golang.org/x/net/http2"
)

// Recovering the HPACK table after a gap.
//
// Bytes lost across a frame boundary may have held header blocks, and a
// header block may insert entries into the dynamic table (shifting every
// dynamic index by the number inserted) or change its size; so the decoder
// forgets the table (hpackDecoder.lose) and begins a new epoch of unknown
// entries. Often, though, the streams show that the lost bytes held no
// header block at all, and then the table is exactly what it was before
// them. HTTP/2's stream rules (RFC 9113 §5.1, §8.1) bound where a side can
// send a header block:
//
//   - a server only on a stream the client has opened (push is excluded:
//     proofs need the client to have turned it off in its first SETTINGS),
//     before it has ended the stream; once it has sent its final (non-1xx)
//     response headers, its only header block left is the trailers, which
//     end the stream, so a later HEADERS or DATA frame of the server on that
//     stream shows none was lost;
//   - a client only on a stream it has opened and not ended (trailers,
//     which end it; a later HEADERS or DATA frame on it shows none was
//     lost), or on a new stream, whose id is above every id it opened
//     before: a request header block (it holds pseudo-header fields, which
//     trailers never do) on the next id after them shows none was opened
//     in between.
//
// Which streams the client had opened when the server sent the lost bytes
// comes from the capture's causal order: the server's bytes after the gap
// acknowledge every client byte the server had received, and the capture
// delivers those before them (see package capture), so every stream the
// server could have answered in the lost bytes was open by the time frame
// sync is found again. The candidates are counted then.
//
// When every candidate is ruled out, the saved table is put back behind the
// entries inserted since the gap (hpackDecoder.resume); blocks decoded
// before that keep their unknown fields. Anything that breaks the reasoning
// gives the proof up and leaves the table lost: a header block cut by the
// gap, server push, a stream that no later frame can rule out (one the
// server had not answered may have had 1xx headers lost), another loss of
// frame sync before the proof is done, or streams the client may have
// opened unseen (after a loss of its frames that no proof cleared, until a
// request on a new stream bounds them: trackRequest).

// maxTrackedStreams bounds the open streams a connection follows for gap
// proofs; past it, its gaps are not recovered.
const maxTrackedStreams = 512

// streamTrack follows the streams of an HTTP/2 connection seen from its
// start: what each side may still send on them.
type streamTrack struct {
	open []openStream // streams not yet ended by both sides
	// few holds open while it fits: most connections have a call or two
	// under way at a time, and then tracking costs one allocation.
	few        [4]openStream
	lastOpened uint32 // the highest stream id the client opened
	push       pushState
	broken     bool // too many open streams: no proofs on this connection
	// unsure is set while streams the client opened may be unknown: it
	// lost frames, and neither a gap proof nor a request on a new stream
	// (see trackRequest) has bounded what they opened since.
	unsure bool
}

// maxUnsureStreams bounds the stream ids a request after a loss of the
// client's frames leaves as possibly opened in it; past it, tracking is
// given up.
const maxUnsureStreams = 16

// openStream is one stream the client opened that a side has not ended.
type openStream struct {
	id uint32
	// final is set once the server sent final (non-1xx) response headers.
	final bool
	// ended[r] is set once role r (0 client, 1 server) ended the stream
	// (END_STREAM or RST_STREAM): it sends no header block on it again.
	ended [2]bool
}

// pushState is what the client's SETTINGS said of server push.
type pushState uint8

const (
	pushUnknown pushState = iota // no SETTINGS from the client yet
	pushOff                      // its first SETTINGS turned push off, and none turned it on
	pushOn                       // push was allowed at some point
)

// gapProof is what a direction must still see before the bytes it lost are
// proven to have held no header block.
type gapProof struct {
	table *savedTable // the table before the gap
	epoch uint32      // the decoder's epoch that the gap began
	armed bool        // frame sync was found again and the candidates counted
	// waiting are the streams on which the side may have sent a header
	// block in the lost bytes, until it sends a HEADERS or DATA frame on
	// them.
	waiting []uint32
	// newStreams is set while the side (a client) may have opened a stream
	// in the lost bytes: until a request header block opens lastOpened+2.
	newStreams bool
	lastOpened uint32
	// opening is lastOpened+2 once a HEADERS frame came on it: whether its
	// block opens the stream is known once it is decoded (proofOpens).
	opening uint32
}

// role is 0 for the client's direction, 1 for the server's.
func (d *dirState) role() int {
	if d.side == d.c.Client {
		return 0
	}
	return 1
}

// tracks returns the connection's stream tracking, made on first use, or
// nil when the connection was not followed from its start (the client's
// preface) or tracking was given up.
func (d *dirState) tracks() *streamTrack {
	c := d.c
	if c.Kind != KindH2 || c.ClientBy != ClientByPreface {
		return nil
	}
	if c.streams == nil {
		c.streams = &streamTrack{}
		c.streams.open = c.streams.few[:0]
	}
	if c.streams.broken {
		return nil
	}
	return c.streams
}

// trackFrame records what the frame whose header was just read says of its
// stream's state.
func (d *dirState) trackFrame() {
	fh := &d.fh
	switch fh.Type {
	case http2.FrameHeaders:
		d.trackHeaders(fh.StreamID, fh.Flags.Has(http2.FlagHeadersEndStream))
	case http2.FrameData:
		if fh.Flags.Has(http2.FlagDataEndStream) {
			d.trackEnd(fh.StreamID)
		}
	case http2.FrameRSTStream:
		d.trackEnd(fh.StreamID)
	case http2.FramePushPromise:
		if st := d.tracks(); st != nil {
			st.push = pushOn
		}
	}
}

// trackHeaders records a HEADERS frame: a client's opens a stream, and
// either side's may end it.
func (d *dirState) trackHeaders(id uint32, end bool) {
	st := d.tracks()
	if st == nil {
		return
	}
	if d.role() == 1 && id%2 == 0 {
		st.push = pushOn // a pushed response
	}
	if d.role() == 0 && id > st.lastOpened {
		if st.unsure {
			return // whether it opens the stream: trackRequest
		}
		st.opened(id)
	}
	if end {
		d.trackEnd(id)
	}
}

// openStream records that the client opened stream id, the highest yet.
func (st *streamTrack) opened(id uint32) {
	st.lastOpened = id
	if len(st.open) >= maxTrackedStreams {
		st.broken, st.open = true, nil
		return
	}
	st.open = append(st.open, openStream{id: id})
}

// trackRequest reads the decoded block of a client's HEADERS frame on a
// stream above those it opened, after frames it lost may have opened some:
// a request (see isRequest) opens this stream, so the lost frames can only
// have opened streams with the ids in between, which are tracked from now
// on as possibly open (a side ended them only once it is seen to).
func (d *dirState) trackRequest(id uint32, fields []HeaderField) {
	st := d.c.streams
	if !st.unsure || st.broken || d.role() != 0 || id <= st.lastOpened || !isRequest(fields) {
		return
	}
	if (id-st.lastOpened)/2 > maxUnsureStreams {
		st.broken, st.open = true, nil
		return
	}
	for maybe := st.lastOpened + 2; maybe < id; maybe += 2 {
		st.opened(maybe)
	}
	st.opened(id)
	st.unsure = false
	if d.blockEnd {
		d.trackEnd(id)
	}
}

// isRequest reports whether fields are a request's header block: they hold
// a known pseudo-header field, which trailers never do.
func isRequest(fields []HeaderField) bool {
	for i := range fields {
		if f := &fields[i]; !f.NameUnknown && strings.HasPrefix(f.Name, ":") {
			return true
		}
	}
	return false
}

// framesLost records that this direction lost frame sync after it had
// been found: a client's frames may have opened streams unseen.
func (d *dirState) framesLost() {
	if st := d.tracks(); st != nil && d.role() == 0 {
		st.unsure = true
	}
}

// trackEnd records that this side ended stream id.
func (d *dirState) trackEnd(id uint32) {
	st := d.tracks()
	if st == nil {
		return
	}
	if i := st.find(id); i >= 0 {
		s := &st.open[i]
		s.ended[d.role()] = true
		if s.ended[0] && s.ended[1] {
			st.open = slices.Delete(st.open, i, i+1)
		}
	}
}

// trackFinal records the server's decoded header block on stream id: a
// known :status that is not 1xx makes it the final response.
func (d *dirState) trackFinal(id uint32, fields []HeaderField) {
	st := d.c.streams
	if st == nil || d.role() != 1 {
		return
	}
	i := st.find(id)
	if i < 0 || st.open[i].final {
		return
	}
	for j := range fields {
		f := &fields[j]
		if !f.Unknown() && f.Name == ":status" && len(f.Value) == 3 && f.Value[0] != '1' {
			st.open[i].final = true
			return
		}
	}
}

func (st *streamTrack) find(id uint32) int {
	for i := range st.open {
		if st.open[i].id == id {
			return i
		}
	}
	return -1
}

// trackSettings records the client's SETTINGS_ENABLE_PUSH: proofs on the
// server's side need push off from the client's first SETTINGS on.
func (d *dirState) trackSettings(f *http2.SettingsFrame) {
	st := d.tracks()
	if st == nil || d.role() != 0 {
		return
	}
	v, ok := f.Value(http2.SettingEnablePush)
	switch {
	case ok && v != 0, st.push == pushUnknown && !ok:
		st.push = pushOn
	case ok && st.push == pushUnknown:
		st.push = pushOff
	}
}

// startProof is called at a gap that costs frame sync, before the state is
// lost: when the lost bytes may prove to have held no header block, it
// returns a proof to follow, holding the table as it was.
//
// The streams the client opened must be known (streamTrack.unsure unset):
// streams opened unseen would be missing from the candidates of either
// side. A server's own earlier losses only make it look as if it had more
// to send, which can keep a proof from completing but never completes a
// wrong one.
func (d *dirState) startProof() *gapProof {
	st := d.tracks()
	if st == nil || !d.clientStreamsKnown() || d.blockOpen {
		return nil
	}
	if t := d.fh.Type; d.inFrame && (t == http2.FrameHeaders || t == http2.FrameContinuation || t == http2.FramePushPromise) {
		return nil // a header block was cut by the gap
	}
	hp := d.hpack()
	if hp == nil {
		return nil
	}
	return &gapProof{table: hp.saveTable()}
}

// clientStreamsKnown reports whether every stream the client opened is
// tracked, at worst as possibly open. At a gap of the client's it is asked
// before the gap counts.
func (d *dirState) clientStreamsKnown() bool {
	st := d.c.streams
	return st != nil && !st.unsure
}

// dropProof gives up the proof: the table stays lost.
func (d *dirState) dropProof() { d.proof = nil }

// armProof counts, once frame sync is found again, the streams on which
// the side may have sent a header block in the lost bytes.
func (d *dirState) armProof() {
	p := d.proof
	st := d.tracks()
	if st == nil || (d.role() == 1 && (!d.clientStreamsKnown() || st.push != pushOff)) {
		d.dropProof()
		return
	}
	r := d.role()
	for i := range st.open {
		s := &st.open[i]
		if s.ended[r] {
			continue
		}
		if r == 1 && !s.final {
			// 1xx or final headers may have been lost, and no later frame
			// can show they were not.
			d.dropProof()
			return
		}
		p.waiting = append(p.waiting, s.id)
	}
	p.armed = true
	p.newStreams, p.lastOpened = r == 0, st.lastOpened
	d.settleProof()
}

// proofSees rules out what a HEADERS or DATA frame of this side on stream
// id shows was not in the lost bytes.
func (d *dirState) proofSees(typ http2.FrameType, id uint32) {
	p := d.proof
	if !p.armed || (typ != http2.FrameHeaders && typ != http2.FrameData) {
		if typ == http2.FramePushPromise {
			d.dropProof()
		}
		return
	}
	if i := slices.Index(p.waiting, id); i >= 0 {
		p.waiting = slices.Delete(p.waiting, i, i+1)
	} else if p.newStreams && id > p.lastOpened {
		if typ != http2.FrameHeaders || id != p.lastOpened+2 || p.opening != 0 {
			d.dropProof() // a stream may have been opened in the lost bytes
			return
		}
		p.opening = id
		return
	}
	d.settleProof()
}

// proofOpens reads the decoded block of the HEADERS frame on stream
// opening: if it is a request's, it opened the stream, so the lost bytes
// opened none; if not, it may be the trailers of a stream they opened.
func (d *dirState) proofOpens(fields []HeaderField) {
	if !isRequest(fields) {
		d.dropProof()
		return
	}
	d.proof.newStreams, d.proof.opening = false, 0
	d.settleProof()
}

// settleProof puts the table back once nothing is left to rule out.
func (d *dirState) settleProof() {
	p := d.proof
	if len(p.waiting) > 0 || p.newStreams {
		return
	}
	d.proof = nil
	if d.hp.resume(p.table, p.epoch) {
		if d.role() == 0 {
			d.c.streams.unsure = false // the lost bytes opened no stream
		}
		d.c.note(NoteInferred, "%s: HPACK table state recovered: HTTP/2's stream rules show that the lost bytes held no header block", d.sideName())
	}
}
