package grpcframe

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"golang.org/x/net/http2"
)

// Sink receives finished calls.
type Sink interface {
	Call(c *Call)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(*Call)

// Call implements Sink.
func (f SinkFunc) Call(c *Call) { f(c) }

// Options bound what calls may hold. Zero values pick the defaults.
type Options struct {
	// MaxMessageSize bounds the bytes kept of one message (or HTTP body),
	// after decompression; longer ones keep their first bytes. Default
	// 16 MiB.
	MaxMessageSize int
	// MaxClosedStreams bounds the stream ids remembered per connection to
	// recognise late frames of finished calls; a frame for a stream id
	// below the ones remembered, and not open, is taken as late too (ids
	// only grow). Default 1024.
	MaxClosedStreams int
	// MaxOpenStreams bounds the calls open at once on one connection: when
	// a new stream would exceed it, the oldest open call is handed on as it
	// stands, with StateEvicted and a note, and its later frames ignored.
	// Default DefaultMaxOpenStreams.
	MaxOpenStreams int
	// EmitOnFinish hands each call to the sink as soon as it finishes,
	// instead of in order of start. Live capture wants this: in start
	// order, one stream open for hours would hold back every later call
	// (and their memory).
	EmitOnFinish bool
	// OnMessage, when set, is told of every message as soon as its last
	// byte arrives, before its call finishes: request says it came from the
	// client (as far as the capture shows so far), index is its place among
	// the messages of its direction. Call and Message are the ones later
	// handed to the sink; the callee must not change them.
	OnMessage func(c *Call, request bool, index int, m *Message)
	// KeepPayload, when set, says whether to keep the bytes of a call's
	// messages; asked at each DATA frame (the request headers are known
	// by then). A message whose bytes are not kept has its length, flags
	// and time but no Data, and is not decompressed: what a summary needs,
	// at a fraction of the cost. nil keeps them all.
	KeepPayload func(c *Call) bool
	// Tally, when set, takes the calls that nothing orders or pairs
	// across connections: native gRPC calls whose request headers, :path
	// included, were captured and whose method TallyMethod accepts (nil:
	// every method). Each is handed to Tally as it finishes, in the
	// assembler's goroutine, and never to the sink. A consumer whose result
	// does not depend on the order of the calls (a summary) then reads
	// each call on the core that built it, and can recycle it there: after
	// the assembler's next Tick (or Close), before which it may still look
	// at the call's memory.
	Tally       func(c *Call)
	TallyMethod func(method string) bool
}

// DefaultMaxOpenStreams is the default of Options.MaxOpenStreams.
const DefaultMaxOpenStreams = 10000

func (o *Options) fill() {
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 16 << 20
	}
	if o.MaxClosedStreams <= 0 {
		o.MaxClosedStreams = 1024
	}
	if o.MaxOpenStreams <= 0 {
		o.MaxOpenStreams = DefaultMaxOpenStreams
	}
}

// Assembler builds calls from HTTP/2 events. It implements h2decode.Handler.
type Assembler struct {
	// ord puts finished calls in order and pairs CORS preflights: a Merger
	// of its own (NewAssembler), or an OpLog that a shared Merger replays
	// (NewLoggingAssembler).
	ord    orderer
	merger *Merger // ord, when it is the assembler's own
	opts   Options
	resets []pendingReset
	dec    decompressor
	stats  Stats
	// sharedBytes is what the connections' shared header lists hold.
	sharedBytes int
	// facts is factsOf's scratch for blocks the decoder did not name.
	facts blockFacts
}

// Stats counts what the assembler saw.
type Stats struct {
	Calls       int
	Connections int
	// ByKind counts connections by what they were found to carry.
	ByKind map[string]int
	// ConnNotes are the notes of connections that were not HTTP/2 or had
	// trouble, prefixed with the connection's endpoints: the first
	// maxConnNotes of them (a live capture on a busy host would otherwise
	// keep one for every SSH or database connection, for days);
	// MoreConnNotes counts the others.
	ConnNotes     []string
	MoreConnNotes int
	// Evicted counts calls closed because their connection had more than
	// Options.MaxOpenStreams open (see StateEvicted).
	Evicted int
	// OverSize counts messages cut at Options.MaxMessageSize (on the wire
	// or after decompression).
	OverSize int
	// HeaderListCut counts header lists cut at h2decode's MaxHeaderListSize;
	// TableOverLimit, header blocks whose HPACK table size update exceeded
	// its MaxTableSize.
	HeaderListCut, TableOverLimit int
}

// Add adds the counts of o (another share of the same capture) to s; the
// connection notes are the Merger's, and left alone.
func (s *Stats) Add(o Stats) {
	s.Calls += o.Calls
	s.Connections += o.Connections
	if s.ByKind == nil {
		s.ByKind = map[string]int{}
	}
	for k, n := range o.ByKind {
		s.ByKind[k] += n
	}
	s.Evicted += o.Evicted
	s.OverSize += o.OverSize
	s.HeaderListCut += o.HeaderListCut
	s.TableOverLimit += o.TableOverLimit
}

// NewAssembler returns an Assembler that hands finished calls to sink.
func NewAssembler(sink Sink, opts Options) *Assembler {
	opts.fill()
	m := NewMerger(sink, opts.EmitOnFinish)
	return &Assembler{ord: m, merger: m, opts: opts, stats: Stats{ByKind: map[string]int{}}}
}

// NewLoggingAssembler returns an Assembler for a share of a capture's
// connections: it records in log what decides the output order, for a
// Merger to replay together with the other shares' logs. opts must be the
// same for every share, and the Merger's EmitOnFinish the same as opts'.
func NewLoggingAssembler(log *OpLog, opts Options) *Assembler {
	opts.fill()
	return &Assembler{ord: log, opts: opts, stats: Stats{ByKind: map[string]int{}}}
}

// Stats returns the counts so far. The connection notes are those of the
// assembler's own Merger; a logging assembler has none (see Merger.Notes).
func (a *Assembler) Stats() Stats {
	st := a.stats
	if a.merger != nil {
		st.ConnNotes, st.MoreConnNotes = a.merger.Notes()
	}
	return st
}

// connState is the per-connection state kept in h2decode.Conn.User.
type connState struct {
	streams streamSet
	// order holds the ids of streams in the order they opened (finished ones
	// are skipped lazily), to find the oldest open one.
	order []uint32
	// closed holds the ids of finished streams, ascending: ids only grow,
	// so a finished one is almost always appended, and a new stream's id
	// is found above them all without a search.
	closed []uint32
	// last is the stream found last: a connection's frames mostly follow
	// each other on one stream.
	last *stream
	// firstRequest is the lowest stream id whose request headers were
	// captured (0: none yet).
	firstRequest uint32
	// forgotten: closed ids below it were dropped from closed to bound
	// its size; a stream below it that is not open is finished.
	forgotten uint32
	// shared holds the last request headers, response headers and
	// trailers, for the calls that repeat them (see sharedList).
	shared [3]sharedList
	// facts holds what the last blocks the decoder named said (blockFacts).
	facts [factSlots]blockFacts
}

// blockFacts is what Headers reads of a header block's fields, besides what
// readRequestHeaders and readTrailers read: whether it has request
// pseudo-headers (a :method or :path whose name is known), and the first
// field of each name below whose name and value are known (as Header finds
// it). They are read
// in one pass over the fields, and kept for a block the decoder named
// (HeadersEvent.Block), which has the same fields each time it comes.
type blockFacts struct {
	block           uint64
	requestPseudo   bool
	seen            uint8 // factCT, …: which of the fields below the block has
	contentType     string
	status          string // :status
	httpStatus      int    // status as a number (0 when it is not one)
	grpcEncoding    string
	contentEncoding string
}

// Bits of blockFacts.seen.
const (
	factCT uint8 = 1 << iota
	factStatus
	factGRPCStatus
	factGRPCEncoding
	factContentEncoding
)

// factSlots is how many blocks' facts a connection keeps, by block id: a
// client's requests to a method or two, a server's response headers and
// trailers.
const factSlots = 4

// readFacts reads the facts of the block whose fields are fs into f.
func readFacts(f *blockFacts, fs []h2decode.HeaderField) {
	*f = blockFacts{}
	for i := range fs {
		h := &fs[i]
		if h.NameUnknown {
			continue
		}
		if h.Name == ":method" || h.Name == ":path" {
			f.requestPseudo = true
			continue
		}
		if h.ValueUnknown {
			continue
		}
		var bit uint8
		switch h.Name {
		case "content-type":
			bit = factCT
		case ":status":
			bit = factStatus
		case "grpc-status":
			bit = factGRPCStatus
		case "grpc-encoding":
			bit = factGRPCEncoding
		case "content-encoding":
			bit = factContentEncoding
		default:
			continue
		}
		if f.seen&bit != 0 {
			continue // Header finds the first
		}
		f.seen |= bit
		switch bit {
		case factCT:
			f.contentType = h.Value
		case factStatus:
			f.status = h.Value
			f.httpStatus, _ = strconv.Atoi(h.Value)
		case factGRPCEncoding:
			f.grpcEncoding = h.Value
		case factContentEncoding:
			f.contentEncoding = h.Value
		}
	}
}

// factsOf returns the facts of ev's block: those kept for it when the
// decoder named it, else read into the assembler's scratch.
func (a *Assembler) factsOf(c *h2decode.Conn, ev *h2decode.HeadersEvent) *blockFacts {
	if ev.Block == 0 {
		readFacts(&a.facts, ev.Fields)
		return &a.facts
	}
	f := &a.conn(c).facts[ev.Block%factSlots]
	if f.block != ev.Block {
		readFacts(f, ev.Fields)
		f.block = ev.Block
	}
	return f
}

// startMissing marks a call whose request headers were not captured. Stream
// ids only grow, so a stream above one whose request was captured started
// inside the capture: its headers were lost, not before the capture.
func (a *Assembler) startMissing(c *h2decode.Conn, call *Call) {
	cs := a.conn(c)
	if cs.firstRequest != 0 && call.StreamID > cs.firstRequest {
		call.LostBytes = true
		call.note("its request headers were not captured (lost in a gap)")
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
	case s.conn.ClientKnown:
		return side == s.conn.Client
	}
	return side == guessClientByPort(s.conn.Info.Addr)
}

func (a *Assembler) conn(c *h2decode.Conn) *connState {
	if cs, ok := c.User.(*connState); ok {
		return cs
	}
	cs := &connState{} // the maps are made on first use
	c.User = cs
	a.stats.Connections++
	return cs
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
	call.mem, call.ConnID, call.StreamID, call.Start, call.GRPC, call.Protocol = m, c.Info.ID, id, t, true, ProtoGRPC
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
		s.call.note(fmt.Sprintf("evicted: more than %d streams were open on the connection and this was the oldest; frames after %s were not followed",
			a.opts.MaxOpenStreams, t.UTC().Format(time.RFC3339Nano)))
		end := s.lastSeen
		if end.IsZero() {
			end = s.call.Start
		}
		a.finish(c, s, end)
		return
	}
}

// Headers implements h2decode.Handler.
func (a *Assembler) Headers(c *h2decode.Conn, ev *h2decode.HeadersEvent) {
	s := a.openStream(c, ev.StreamID, ev.Time, a.opts.Tally != nil)
	if s == nil {
		return
	}
	s.lastSeen = ev.Time
	call := s.call
	facts := a.factsOf(c, ev)
	first := s.headers[ev.Side] == 0
	isRequest := first && facts.requestPseudo
	if s.held && !isRequest {
		a.order(s)
	}
	if first && !isRequest && !ev.EndStream && facts.interim() {
		// 100 Continue, 103 Early Hints: the final response follows.
		return
	}
	if s.headers[ev.Side] < math.MaxUint32 {
		s.headers[ev.Side]++
	}
	if first && facts.seen&factCT != 0 {
		s.ctype[ev.Side], s.ctypeKnown[ev.Side] = facts.contentType, true
	}
	if ev.Err != nil {
		call.note(fmt.Sprintf("header block partly undecodable: %v", ev.Err))
		if errors.Is(ev.Err, h2decode.ErrTableSizeOverLimit) {
			a.stats.TableOverLimit++
		}
	}
	if ev.Truncated {
		call.note("header list over the size limit: some fields left out")
		a.stats.HeaderListCut++
	}
	switch {
	case isRequest || (first && !s.sideKnown && s.headers[ev.Side.Other()] == 0 && c.ClientKnown && c.Client == ev.Side):
		s.clientSide, s.sideKnown = ev.Side, true
		call.RequestHeaders = a.keepFields(c, call, sharedRequest, ev)
		if cs := a.conn(c); cs.firstRequest == 0 || ev.StreamID < cs.firstRequest {
			cs.firstRequest = ev.StreamID
		}
		if len(s.got[ev.Side]) > 0 || s.msgs[ev.Side].nhdr > 0 {
			call.note("request headers after request data")
		}
		a.readRequestHeaders(call, ev.Fields)
		if s.held {
			// Method and protocol are known now, and do not change.
			if call.Protocol == ProtoGRPC && !call.MethodUnknown && (a.opts.TallyMethod == nil || a.opts.TallyMethod(call.Method)) {
				s.held, s.tally = false, true
			} else {
				a.order(s)
			}
		}
		s.encoding[ev.Side] = facts.encoding(call)
		// Only a browser sends CORS preflights, and a browser cannot make
		// a native gRPC call (it has no access to HTTP/2 trailers): those
		// calls, nearly all of a capture, skip the pairing.
		if call := s.call; !call.CORSPreflight && !call.MethodUnknown && call.Method != "" && call.Protocol != ProtoGRPC {
			a.ord.link(call, preflightKey{c.Info.Addr[s.clientSide].Addr(), c.Info.Addr[s.clientSide.Other()], call.Method, call.HTTPMethod})
		}
	case first:
		// The server's first block: response headers, or Trailers-Only.
		if !s.sideKnown {
			s.clientSide, s.sideKnown = ev.Side.Other(), true
			a.startMissing(c, call)
		}
		if call.FirstResponse.IsZero() {
			call.FirstResponse = ev.Time
		}
		if facts.seen&factStatus != 0 {
			call.HTTPStatus = facts.httpStatus
		}
		if call.RequestHeaders == nil && s.ctypeKnown[ev.Side] {
			// The request was not captured: the response says what it was.
			call.setProtocol(protocolOf(s.ctype[ev.Side]))
		}
		hasStatus := facts.seen&factGRPCStatus != 0
		// Trailers-Only: one header block holding the status. Over HTTP/1.1
		// (gRPC-Web) it cannot end the stream by itself: an empty body
		// follows it.
		web := call.Protocol == ProtoGRPCWeb || call.Protocol == ProtoGRPCWebText
		if (ev.EndStream && call.Protocol != ProtoHTTP) || (hasStatus && (ev.EndStream || web)) {
			call.TrailersOnly = true
			call.Trailers = a.keepFields(c, call, sharedTrailers, ev)
			a.readTrailers(call, ev.Fields)
		} else {
			call.ResponseHeaders = a.keepFields(c, call, sharedResponse, ev)
			s.encoding[ev.Side] = facts.encoding(call)
		}
	default:
		// A later block from the same side: trailers (or, from the client,
		// trailers that gRPC does not use).
		if call.Trailers == nil {
			call.Trailers = a.keepFields(c, call, sharedTrailers, ev)
		} else {
			// A new array: a list's capacity ends at its length.
			call.Trailers = append(call.Trailers, ev.Fields...)
			call.shared &^= sharedTrailers
		}
		a.readTrailers(call, ev.Fields)
	}
	if ev.EndStream {
		a.endSide(c, s, ev.Side, ev.Time)
	}
}

// interim reports a 1xx response other than 101.
func (f *blockFacts) interim() bool {
	st := f.status
	return f.seen&factStatus != 0 && len(st) == 3 && st[0] == '1' && st != "101"
}

// encoding is the compression of the messages of the side that sent the
// block: grpc-encoding for gRPC, content-encoding for an HTTP body.
func (f *blockFacts) encoding(call *Call) string {
	if call.Protocol == ProtoHTTP {
		return strings.ToLower(strings.TrimSpace(f.contentEncoding))
	}
	return f.grpcEncoding
}

// keepFields keeps a header block, which the decoder only lends for the
// event, for a call: as the connection's shared list of its kind when the
// block repeats it (or starts a new one), else in the call's own memory.
func (a *Assembler) keepFields(c *h2decode.Conn, call *Call, kind uint8, ev *h2decode.HeadersEvent) []h2decode.HeaderField {
	fs := ev.Fields
	if len(fs) == 0 {
		return nil
	}
	if l := a.conn(c).shared[bits.TrailingZeros8(kind)].keep(fs, ev.Block, &a.sharedBytes); l != nil {
		call.shared |= kind
		return l
	}
	return call.keepFields(fs)
}

// Bits of Call.shared.
const (
	sharedRequest uint8 = 1 << iota
	sharedResponse
	sharedTrailers
)

// sharedList holds the last few header lists of one kind (request
// headers, say) on a connection, each in memory of its own that is never
// written again. Calls that repeat one, field for field, share it rather
// than copy it: a client sends the same request headers on every call to a
// method (a few methods, a few lists), a server the same response headers
// and trailers. Comparing a block with the lists costs about what copying
// it would; the calls are smaller, and a writer that knows a list
// (export.Encoder) need not read it again.
type sharedList struct {
	entries []sharedEntry // up to sharedPerKind, made on first use
	next    int           // the entry a new list replaces once all are used
	hits    uint32        // calls that shared a list since one was last made
	misses  uint32        // blocks in a row that repeated none
}

type sharedEntry struct {
	fields []h2decode.HeaderField // cap == len, so appending copies
	cost   int                    // bytes counted against Assembler.sharedBytes
	// block is the HeadersEvent.Block that fields were last found equal
	// to: the same block again is the same list, without comparing.
	block uint64
}

// sharedPerKind is how many lists of a kind a connection keeps: enough for
// a client that calls a few methods in turn on one connection.
const sharedPerKind = 4

// keep returns the shared list fs repeats, or a new one made of fs, or nil
// when the connection's lists do not repeat (a per-call value such as
// grpc-timeout, or more methods in turn than there are entries): after
// sharedPerKind blocks in a row that repeated none, each goes to its call's
// own (recycled) memory, and only every sixteenth makes a new list, to
// notice when lists repeat again.
func (l *sharedList) keep(fs []h2decode.HeaderField, block uint64, budget *int) []h2decode.HeaderField {
	if len(fs) > maxSharedFields {
		return nil
	}
	if block != 0 {
		for i := range l.entries {
			if e := &l.entries[i]; e.block == block {
				l.hits++
				l.misses = 0
				return e.fields
			}
		}
	}
	for i := range l.entries {
		if e := &l.entries[i]; slices.Equal(e.fields, fs) {
			if block != 0 {
				e.block = block
			}
			l.hits++
			l.misses = 0
			return e.fields
		}
	}
	size := 0
	for i := range fs {
		size += len(fs[i].Name) + len(fs[i].Value)
	}
	if size > maxSharedBytes {
		return nil // not a miss: such lists are never shared
	}
	l.misses++
	if l.hits == 0 && l.misses > sharedPerKind && l.misses%16 != 0 {
		return nil
	}
	cost := size + len(fs)*int(unsafe.Sizeof(h2decode.HeaderField{}))
	old := 0
	if len(l.entries) == sharedPerKind {
		old = l.entries[l.next].cost
	}
	if *budget-old+cost > maxSharedTotal {
		return nil
	}
	if len(l.entries) < sharedPerKind {
		l.next = len(l.entries)
		l.entries = append(l.entries, sharedEntry{})
	}
	e := &l.entries[l.next]
	*budget += cost - e.cost
	e.fields, e.cost, e.block = slices.Clip(slices.Clone(fs)), cost, block
	l.next = (l.next + 1) % sharedPerKind
	l.hits = 0
	return e.fields
}

// release drops the lists, and their cost from budget: the connection
// ended.
func (l *sharedList) release(budget *int) {
	for _, e := range l.entries {
		*budget -= e.cost
	}
	*l = sharedList{}
}

// A connection's shared lists outlive its calls, so they are bounded: each
// to maxSharedFields fields and maxSharedBytes of names and values (larger
// blocks go to their calls' own memory), and those of all an Assembler's
// connections together to maxSharedTotal bytes of fields and text, so that
// a flood of connections with large header blocks cannot make them grow
// with the connection table. A connection's lists go when it ends.
const (
	maxSharedFields = 32
	maxSharedBytes  = 2048
	maxSharedTotal  = 8 << 20
)

// keepFields copies a header block, which the decoder only lends for the
// event, into the call's own memory.
func (c *Call) keepFields(fs []h2decode.HeaderField) []h2decode.HeaderField {
	if len(fs) == 0 {
		return nil
	}
	if cap(c.hdr) == 0 {
		// Room for the request's, the response's and the trailers' fields
		// of a usual call.
		c.hdr = make([]h2decode.HeaderField, 0, max(16, len(fs)))
	}
	n := len(c.hdr)
	c.hdr = append(c.hdr, fs...)
	return c.hdr[n:len(c.hdr):len(c.hdr)]
}

func (c *Call) setProtocol(p string) {
	c.Protocol = p
	c.GRPC = p != ProtoHTTP
}

func (a *Assembler) readRequestHeaders(call *Call, fs []h2decode.HeaderField) {
	ctSeen, anyUnknown, acrm := false, false, false
	for i := range fs {
		f := &fs[i]
		if f.Unknown() {
			anyUnknown = true
		}
		if f.NameUnknown {
			continue
		}
		switch f.Name {
		case ":path":
			if f.ValueUnknown {
				call.MethodUnknown = true
			} else {
				call.Method = f.Value
			}
		case ":method":
			if !f.ValueUnknown {
				call.HTTPMethod = f.Value
			}
		case "content-type":
			if !f.ValueUnknown {
				ctSeen = true
				call.setProtocol(protocolOf(f.Value))
			}
		case "access-control-request-method":
			acrm = true
		}
	}
	if !ctSeen && !anyUnknown {
		// gRPC always has a content-type: a request without one is plain
		// HTTP (a GET, a CORS preflight, …).
		call.setProtocol(ProtoHTTP)
	}
	call.CORSPreflight = acrm && call.HTTPMethod == "OPTIONS" && !ctSeen
	if call.Method == "" {
		call.MethodUnknown = true
		for i := range fs {
			if fs[i].Unknown() {
				call.note("method unreadable: the request headers refer to HPACK table entries " + unknownWhy(fs[i].Ref))
				break
			}
		}
	}
}

// unknownWhy says where an unknown table entry came from: before the
// capture began (epoch 0) or before a gap in it.
func unknownWhy(r h2decode.TableRef) string {
	if r.Epoch == 0 {
		return "inserted before the capture began"
	}
	return "whose state was lost in a gap in the capture"
}

func (a *Assembler) readTrailers(call *Call, fs []h2decode.HeaderField) {
	code, ok := Header(fs, "grpc-status")
	if !ok {
		for i := range fs {
			if fs[i].Unknown() {
				// grpc-status may be among the fields HPACK could not
				// recover; say so rather than report no status.
				call.StatusUnknown = true
				call.note("grpc-status unreadable: the trailers refer to HPACK table entries " + unknownWhy(fs[i].Ref))
				break
			}
		}
		return
	}
	call.StatusUnknown = false
	n, err := strconv.Atoi(code)
	if err != nil {
		call.note(fmt.Sprintf("grpc-status %q is not a number", code))
		return
	}
	// The call's own memory, but for a second status (trailers after
	// trailers): a status once handed out (Options.OnMessage) never
	// changes.
	st := &call.status
	if call.Status != nil {
		st = new(Status)
	}
	*st = Status{Code: n, Name: CodeName(n)}
	if m, ok := Header(fs, "grpc-message"); ok {
		st.Message = percentDecode(m)
	}
	if d, ok := Header(fs, "grpc-status-details-bin"); ok {
		b, err := DecodeBinHeader(d)
		if err != nil {
			st.DetailsErr = "grpc-status-details-bin is not base64: " + err.Error()
		} else {
			parseStatusDetails(st, b)
		}
	}
	call.Status = st
}

// Data implements h2decode.Handler.
func (a *Assembler) Data(c *h2decode.Conn, ev *h2decode.DataEvent) {
	s := a.stream(c, ev.StreamID, ev.Time)
	if s == nil {
		return
	}
	s.lastSeen = ev.Time
	call := s.call
	if !s.sideKnown && s.headers[ev.Side] == 0 && s.headers[ev.Side.Other()] == 0 && !call.StartedBeforeCapture && !call.LostBytes {
		a.startMissing(c, call)
	}
	if s.sideKnown && ev.Side != s.clientSide && call.FirstResponse.IsZero() {
		call.FirstResponse = ev.Time
	}
	side := ev.Side
	done := func(m *Message) { a.finishMessage(s, side, m) }
	if s.headers[side] == 0 && !s.msgs[side].desync && !s.dataSeen[side] {
		// This side's data began before its headers were captured: the
		// bytes may start in the middle of a message, and any 5 bytes would
		// pass for a prefix. Splitting them would invent messages.
		s.msgs[side].desync = true
		call.note(fmt.Sprintf("data from %s began before the capture: its messages are not shown until a DATA frame holding whole messages marks a boundary", c.Info.Addr[side]))
	}
	s.dataSeen[side] = true
	mode := a.sideMode(s, side)
	if ev.Lost != 0 {
		call.LostBytes = true
		switch mode {
		case modeFramed:
			s.msgs[side].lost(ev.Lost, ev.Time, done)
		case modeText:
			// Base64 quanta no longer line up with anything known.
			s.msgs[side].loseSync(ev.Time, done)
		case modeRaw:
			a.bodyLost(s, side, ev.Lost, ev.Time)
		}
	}
	if len(ev.Data) > 0 && mode == modeRaw {
		a.bodyData(s, side, ev.Data, ev.Time)
	}
	keep := a.opts.MaxMessageSize
	if a.opts.KeepPayload != nil && !a.opts.KeepPayload(call) {
		keep = -1
	}
	if len(ev.Data) > 0 && mode == modeText {
		r := &s.msgs[side]
		if !r.desync {
			out, err := s.webState().b64[side].decode(ev.Data)
			r.feed(out, ev.Time, keep, done)
			if err != nil {
				call.note(err.Error() + "; the rest of this direction is not decoded")
				r.loseSync(ev.Time, done)
			}
		}
	}
	if len(ev.Data) > 0 && mode == modeFramed {
		r := &s.msgs[side]
		if r.desync {
			enc := s.encoding[side]
			if r.resync(ev.Data, ev.FrameStart, int(ev.FrameDataLen), enc != "" && enc != "identity", ev.Time, keep, done) {
				call.note(fmt.Sprintf("messages from %s found again after lost bytes, at a DATA frame holding whole messages (inferred)", c.Info.Addr[side]))
			}
		} else {
			r.feed(ev.Data, ev.Time, keep, done)
		}
	}
	if ev.EndStream {
		a.endSide(c, s, side, ev.Time)
	}
}

// webStream is the state of a stream whose bodies are base64 or kept
// whole.
type webStream struct {
	b64  [2]b64Reader
	body [2]*Message // the HTTP body being collected
	// bodyHole: bytes of the body were lost; later bytes are not kept.
	bodyHole [2]bool
}

func (s *stream) webState() *webStream {
	if s.web == nil {
		s.web = &webStream{}
	}
	return s.web
}

// bodyMode says how one side's DATA is read.
type bodyMode uint8

const (
	modeUnset  bodyMode = iota
	modeFramed          // length-prefixed gRPC messages
	modeText            // base64 of length-prefixed messages (grpc-web-text)
	modeRaw             // an HTTP body, kept whole (bounded)
)

// sideMode decides, at a side's first data, how its bytes are read: from
// its own content-type when its headers said, else from the call's
// protocol.
func (a *Assembler) sideMode(s *stream, side capture.Side) bodyMode {
	if m := s.mode[side]; m != modeUnset {
		return m
	}
	call := s.call
	proto := call.Protocol
	ct := s.ctype[side]
	if s.ctypeKnown[side] {
		proto = protocolOf(ct)
		if proto == ProtoHTTP && call.Protocol != ProtoHTTP {
			call.note(fmt.Sprintf("the %s body is not gRPC (content-type %q): kept whole", a.sideRole(s, side), ct))
		}
	} else if call.Protocol != ProtoHTTP {
		// Messages without their own content-type follow the request's
		// (or response's) format.
		ct = s.ctype[0] + s.ctype[1]
		if s.ctypeKnown[side.Other()] {
			ct = s.ctype[side.Other()]
		}
	}
	s.format[side] = formatOf(ct, proto)
	switch proto {
	case ProtoHTTP:
		s.mode[side] = modeRaw
	case ProtoGRPCWebText:
		s.mode[side] = modeText
		s.msgs[side].web = !s.sideKnown || side != s.clientSide
	default:
		s.mode[side] = modeFramed
		s.msgs[side].web = proto == ProtoGRPCWeb && (!s.sideKnown || side != s.clientSide)
	}
	return s.mode[side]
}

func (a *Assembler) sideRole(s *stream, side capture.Side) string {
	if s.sideKnown && side == s.clientSide {
		return "request"
	}
	return "response"
}

// bodyData adds bytes to a side's HTTP body, keeping at most
// Options.MaxMessageSize of them.
func (a *Assembler) bodyData(s *stream, side capture.Side, b []byte, t time.Time) {
	w := s.webState()
	m := w.body[side]
	if m == nil {
		m = s.msgs[side].newMessage()
		m.Body, m.Format = true, s.format[side]
		w.body[side] = m
	}
	m.Time = t
	m.Length = satAdd(m.Length, len(b))
	if room := a.opts.MaxMessageSize - len(m.Data); room > 0 && !w.bodyHole[side] {
		take := min(len(b), room)
		if m.Data == nil {
			m.Data = make([]byte, 0, min(a.opts.MaxMessageSize, max(take, 4096)))
		}
		m.Data = append(m.Data, b[:take]...)
	}
	if len(b) > 0 && int64(m.Length) > int64(len(m.Data)) && !m.Truncated && m.Err == "" {
		m.Truncated = true
		m.Err = fmt.Sprintf("body longer than the %d-byte limit: only its first bytes kept", a.opts.MaxMessageSize)
	}
}

func (a *Assembler) bodyLost(s *stream, side capture.Side, n int64, t time.Time) {
	a.bodyData(s, side, nil, t)
	m := s.web.body[side]
	if n > 0 {
		m.Length = satAdd(m.Length, int(min(n, 1<<31)))
	}
	m.Truncated = true
	m.Err = "bytes of this body were not captured: only those before the first hole are kept"
	s.web.bodyHole[side] = true
}

func satAdd(l uint32, n int) uint32 {
	if v := int64(l) + int64(n); v < 1<<32 {
		return uint32(v)
	}
	return 1<<32 - 1
}

// endBody hands on a side's HTTP body.
func (a *Assembler) endBody(s *stream, side capture.Side) {
	if s.web == nil {
		return
	}
	if m := s.web.body[side]; m != nil {
		s.web.body[side] = nil
		a.finishMessage(s, side, m)
	}
}

func (a *Assembler) finishMessage(s *stream, side capture.Side, m *Message) {
	if m.trailer {
		a.webTrailers(s, m)
		return
	}
	if !m.Body {
		m.Format = s.format[side]
	}
	if m.Body && s.encoding[side] != "" && s.encoding[side] != "identity" && !m.Truncated {
		m.Compressed = true
	}
	over := int64(m.Length) > int64(a.opts.MaxMessageSize)
	if m.Body {
		over = false // said in the message's error
	}
	if m.Compressed && !m.Truncated && !m.discarded {
		enc := s.encoding[side]
		switch enc {
		case "", "identity":
			m.Err = "compressed flag set but grpc-encoding is " + strconv.Quote(enc) + " (a protocol error); payload shown as sent"
		default:
			out, err := a.dec.decompress(enc, m.Data, a.opts.MaxMessageSize)
			if err != nil {
				m.Err = err.Error()
				if m.Body {
					m.Err = strings.Replace(m.Err, "grpc-encoding", "content-encoding", 1)
				}
				if _, bomb := err.(errTooLarge); bomb {
					m.Data, m.Encoding, m.Truncated = out, enc, true
					over = true
				}
			} else {
				m.Data, m.Encoding = out, enc
			}
		}
	}
	if over {
		a.stats.OverSize++
		s.call.note(fmt.Sprintf("a message was larger than the %d-byte limit (after decompression); only its first bytes were kept", a.opts.MaxMessageSize))
	}
	s.got[side] = append(s.got[side], m)
	if a.opts.OnMessage != nil {
		call := s.call
		if !call.Client.IsValid() {
			info := s.conn.Info
			if s.isClient(side) {
				call.Client, call.Server = info.Addr[side], info.Addr[side.Other()]
			} else {
				call.Client, call.Server = info.Addr[side.Other()], info.Addr[side]
			}
		}
		a.opts.OnMessage(call, s.isClient(side), len(s.got[side])-1, m)
	}
}

// webTrailers reads a grpc-web trailer frame into the call's trailers.
func (a *Assembler) webTrailers(s *stream, m *Message) {
	call := s.call
	if m.Truncated {
		call.note("grpc-web trailer frame: " + m.Err)
	}
	if m.Compressed {
		call.note("grpc-web trailer frame has the compressed flag set: not read")
		return
	}
	fs, problems := parseWebTrailers(m.Data)
	for _, p := range problems {
		call.note(p)
	}
	if call.FirstResponse.IsZero() {
		call.FirstResponse = m.Time
	}
	call.Trailers = append(call.Trailers, fs...)
	call.shared &^= sharedTrailers // a new array, the call's own
	a.readTrailers(call, fs)
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
	s.call.ResetBy = a.roleName(c, s, side)
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
		c.Notes = append(c.Notes, msg)
	}
	for _, id := range cs.streams.sortedIDs() {
		s := cs.streams.get(id)
		// Streams above last that the GOAWAY's receiver opened were never
		// processed.
		if id > last && s.sideKnown && s.clientSide != side {
			s.call.State = StateRefused
			s.call.note(msg)
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
		s.call.note(fmt.Sprintf("frames from %s were lost at %s; this call may miss data", c.Info.Addr[side], t.UTC().Format(time.RFC3339Nano)))
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
	kind := c.Kind.String()
	if c.Info.TLS != nil {
		// A TLS layer sat below: its plaintext was HTTP/2, or nothing
		// reached this layer because it could not be decrypted.
		kind = "h2 over TLS"
		switch c.Kind {
		case h2decode.KindUnknown:
			kind = "TLS not decrypted"
		case h2decode.KindHTTP1:
			kind = "http1 over TLS"
		}
	}
	a.stats.ByKind[kind]++
	for _, n := range c.Notes {
		a.ord.note(fmt.Sprintf("%s ↔ %s: %s", c.Info.Addr[0], c.Info.Addr[1], n))
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

func (a *Assembler) roleName(c *h2decode.Conn, s *stream, side capture.Side) string {
	client := c.Client
	if s.sideKnown {
		client = s.clientSide
	}
	if side == client {
		return "client"
	}
	return "server"
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
	call.Transport = c.Kind.String()
	if c.Kind == h2decode.KindHTTP1 {
		call.Transport = "http1.1"
	}
	if c.Info.TLS != nil {
		call.TLS = c.Info.TLS
		if sn, ok := call.TLS.(interface{ Snapshot() any }); ok {
			// The TLS layer goes on updating its record of the
			// connection; the call keeps it as it stood when the call
			// ended (and may be read on another goroutine).
			call.TLS = sn.Snapshot()
		}
		if c.Kind != h2decode.KindHTTP1 {
			call.Transport = "h2"
		}
	}
	client := c.Client
	if s.sideKnown {
		client = s.clientSide
	} else if !c.ClientKnown {
		client = guessClientByPort(c.Info.Addr)
		call.RolesGuessed = true
	}
	call.Client, call.Server = c.Info.Addr[client], c.Info.Addr[client.Other()]
	for side := range 2 {
		done := func(m *Message) { a.finishMessage(s, capture.Side(side), m) }
		if s.msgs[side].end(t, done) {
			call.note(fmt.Sprintf("%s stream ended inside a message", a.roleName(c, s, capture.Side(side))))
		}
		if s.web != nil && s.web.b64[side].pending() && !s.web.b64[side].bad {
			call.note(fmt.Sprintf("%s grpc-web-text body ended inside a base64 quantum", a.roleName(c, s, capture.Side(side))))
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
		call.note("the server ended the stream without grpc-status")
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
