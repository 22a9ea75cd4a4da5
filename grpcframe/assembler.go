package grpcframe

import (
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// An Assembler's work is spread over files by concern. This one holds what
// configures it, what it counts and its state per connection; headers.go
// reads header blocks (request headers, response headers, trailers),
// sharedlist.go keeps the header lists that calls of a connection share,
// body.go reads DATA (messages, grpc-web-text, HTTP bodies), message.go
// splits a direction into messages and decompresses them, web.go holds
// what gRPC-Web adds, lifecycle.go and tick.go open streams and end calls
// (RST_STREAM, GOAWAY, losses, the connection's end), streams.go finds a
// connection's open streams, order.go hands finished calls on in order,
// and recycle.go builds new calls in the memory of those handed back.

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
	// OnProgress, when set, is told of a call still open each time it
	// grows: when its request headers are read and when one of its
	// messages completes. It gets a copy of the call as it stands (its
	// messages so far in Requests and Responses, State 0), which it may
	// keep and read from any goroutine until the call itself, handed to the
	// sink as usual when it ends, is recycled; the copy is not to be
	// recycled.
	OnProgress func(c *Call)
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
	ByKind map[h2decode.ConnKind]int
	// ConnNotes are the notes of connections that were not HTTP/2 or had
	// trouble, prefixed with the connection's endpoints: the first
	// maxConnNotes of them (a live capture on a busy host would otherwise
	// keep one for every SSH or database connection, for days);
	// MoreConnNotes counts the others.
	ConnNotes     []h2decode.Note
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
		s.ByKind = map[h2decode.ConnKind]int{}
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
	return &Assembler{ord: m, merger: m, opts: opts, stats: Stats{ByKind: map[h2decode.ConnKind]int{}}}
}

// NewLoggingAssembler returns an Assembler for a share of a capture's
// connections: it records in log what decides the output order, for a
// Merger to replay together with the other shares' logs. opts must be the
// same for every share, and the Merger's EmitOnFinish the same as opts'.
func NewLoggingAssembler(log *OpLog, opts Options) *Assembler {
	opts.fill()
	return &Assembler{ord: log, opts: opts, stats: Stats{ByKind: map[h2decode.ConnKind]int{}}}
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

func (a *Assembler) conn(c *h2decode.Conn) *connState {
	if cs, ok := c.User.(*connState); ok {
		return cs
	}
	cs := &connState{} // the maps are made on first use
	c.User = cs
	a.stats.Connections++
	return cs
}
