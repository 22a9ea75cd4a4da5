package grpcframe

import (
	"container/heap"
	"net/netip"
	"slices"

	"github.com/grpcsniff/grpcsniff/h2decode"
)

// The operations in this file are the only ones of an Assembler that span
// connections: the output order of calls, CORS preflights (a browser may
// send one on another connection than the call it is for) and the
// connection notes. An Assembler hands them to an orderer: its own Merger,
// which carries them out at once, or an OpLog, which records them so that
// the assemblers of several goroutines, each with a share of a capture's
// connections, can have one Merger carry out all of theirs in the order a
// single assembler would have.
type orderer interface {
	push(call *Call)   // a call started (not with EmitOnFinish)
	finish(call *Call) // a call is complete
	flush()            // hand on the finished calls no unfinished one precedes
	link(call *Call, k preflightKey)
	remember(k preflightKey, p Preflight)
	note(n h2decode.Note) // a connection note for Stats.ConnNotes
	seq() uint64          // the current OpLog position (0 for a Merger)
	expiring(resetSeq uint64)
}

// preflightKey pairs a CORS preflight with its call: a browser may send
// them on different connections, but from the same address to the same
// server and path.
type preflightKey struct {
	client netip.Addr
	server netip.AddrPort
	path   string
	method string // the Access-Control-Request-Method
}

// maxPreflights bounds the preflights remembered.
const maxPreflights = 1024

// maxConnNotes bounds Stats.ConnNotes.
const maxConnNotes = 1000

// Merger hands finished calls to a sink in output order: by start,
// connection and stream id, each as soon as no unfinished call precedes it
// (or each as it finishes, with EmitOnFinish). It pairs CORS preflights with
// their calls and keeps the connection notes.
type Merger struct {
	sink         Sink
	emitOnFinish bool
	pending      pendingCalls // calls started, in output order; finished ones wait for earlier ones
	// CORS preflights waiting for the call they were for (oldest first).
	preflights map[preflightKey]Preflight
	pfOrder    []preflightKey
	notes      []h2decode.Note
	moreNotes  int
	scratch    []int // Replay's positions in its logs
}

// NewMerger returns a Merger handing calls to sink. emitOnFinish is
// Options.EmitOnFinish of the assemblers it serves.
func NewMerger(sink Sink, emitOnFinish bool) *Merger {
	return &Merger{sink: sink, emitOnFinish: emitOnFinish}
}

// Notes returns the connection notes (at most a thousand) and how many more
// there were.
func (m *Merger) Notes() (notes []h2decode.Note, more int) { return m.notes, m.moreNotes }

func (m *Merger) push(call *Call) { m.pending.push(entryOf(call)) }

func (m *Merger) finish(call *Call) {
	call.finished = true
	if m.emitOnFinish {
		m.sink.Call(call)
		return
	}
	m.flush()
}

func (m *Merger) flush() {
	for {
		c := m.pending.top()
		if c == nil || !c.finished {
			return
		}
		m.pending.pop()
		m.sink.Call(c)
	}
}

func (m *Merger) remember(k preflightKey, p Preflight) {
	if m.preflights == nil {
		m.preflights = map[preflightKey]Preflight{}
	}
	if _, ok := m.preflights[k]; !ok {
		m.pfOrder = append(m.pfOrder, k)
	}
	m.preflights[k] = p
	for len(m.pfOrder) > maxPreflights {
		delete(m.preflights, m.pfOrder[0])
		m.pfOrder = m.pfOrder[1:]
	}
}

// link attaches to a call the preflight that asked for it.
func (m *Merger) link(call *Call, k preflightKey) {
	if len(m.preflights) == 0 {
		return
	}
	if p, ok := m.preflights[k]; ok {
		call.Preflight = &p
		delete(m.preflights, k)
		if i := slices.Index(m.pfOrder, k); i >= 0 {
			m.pfOrder = slices.Delete(m.pfOrder, i, i+1)
		}
	}
}

func (m *Merger) note(n h2decode.Note) {
	if len(m.notes) == maxConnNotes {
		m.moreNotes++
		return
	}
	m.notes = append(m.notes, n)
}

func (m *Merger) seq() uint64     { return 0 }
func (m *Merger) expiring(uint64) {}

// Close hands on every call still waiting: call it once the assemblers it
// serves are closed and their logs replayed.
func (m *Merger) Close() { m.flush() }

// Replay carries out the operations of several OpLogs in the order one
// Assembler would have: by position (OpLog.At), each log's own order kept.
// The logs must together cover one stretch of the capture, each the
// operations of its connections (OpLog.Take), and the stretches come in
// capture order. Replay runs in the goroutine that owns the Merger; the
// calls' finishing operations must have been recorded (and the log handed
// over) before, so that the calls are no longer changed.
func (m *Merger) Replay(logs ...[]Op) {
	pos := m.scratch[:0]
	for range logs {
		pos = append(pos, 0)
	}
	m.scratch = pos
	for {
		best := -1
		for i, l := range logs {
			if pos[i] == len(l) {
				continue
			}
			if best < 0 || l[pos[i]].before(&logs[best][pos[best]]) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		m.apply(&logs[best][pos[best]])
		pos[best]++
	}
}

func (m *Merger) apply(o *Op) {
	switch o.kind {
	case opPush:
		// A call's keys are set when it is made and never change, so
		// they may be read while its worker goes on filling it in.
		m.pending.push(entryOf(o.call))
	case opFinish:
		m.finish(o.call)
	case opFlush:
		m.flush()
	case opLink:
		if o.x == nil {
			m.link(o.call, o.call.link)
		} else {
			m.link(o.call, o.x.pk)
		}
	case opRemember:
		m.remember(o.x.pk, o.x.pf)
	case opNote:
		m.note(o.x.note)
	case opFunc:
		o.x.fn()
	}
}

type opKind uint8

const (
	opPush opKind = iota + 1
	opFinish
	opFlush
	opLink
	opRemember
	opNote
	opFunc
)

// Op is one recorded operation of an OpLog. A capture has a few per call,
// so the rare ones keep their arguments apart.
type Op struct {
	seq   uint64 // the position given to OpLog.At
	minor uint64 // order among the operations of a sweep (0 otherwise)
	call  *Call  // push, finish, link: never changed after the worker's push
	x     *opArgs
	kind  opKind
}

// opArgs are the arguments of the rarer operations.
type opArgs struct {
	pk   preflightKey
	pf   Preflight
	note h2decode.Note
	fn   func()
}

func (o *Op) before(p *Op) bool {
	if o.seq != p.seq {
		return o.seq < p.seq
	}
	return o.minor < p.minor
}

// OpLog records the cross-connection operations of an Assembler made with
// NewLoggingAssembler, each at the position in the capture it was given
// last with At, for a Merger to Replay.
//
// Positions must grow through the capture and be unique to the event they
// are given for (a TCP connection's data, say), except for a sweep: a
// position given to every log before Tick, whose expiring calls the Merger
// then orders by when they were reset.
type OpLog struct {
	ops   []Op
	at    uint64
	minor uint64
	// args holds the arguments of the rarer operations (every call has a
	// link) in chunks of a fixed size: the ops point into them, so a full
	// chunk is left as it is and a new one started. chunks are those the
	// ops recorded since the last Take point into.
	args   []opArgs
	chunks [][]opArgs
	// out are the chunks of the logs taken and not yet handed back, oldest
	// first (outChunks of them in all); free those whose log came back, to
	// reuse.
	out       []takenArgs
	outChunks int
	free      [][]opArgs
}

// takenArgs are the argument chunks of a log returned by Take, known by
// the address of its first operation.
type takenArgs struct {
	first  *Op
	chunks [][]opArgs
}

// argsChunk is how many operations' arguments are allocated at once;
// maxArgChunks bounds the chunks an OpLog keeps for reuse, and those it
// keeps track of until their log comes back (logs not handed back, such as
// the large ones of a stream flood, are forgotten and their chunks left to
// the collector).
const (
	argsChunk    = 128
	maxArgChunks = 256
)

func (l *OpLog) arg(a opArgs) *opArgs {
	if len(l.args) == cap(l.args) {
		if n := len(l.free); n > 0 {
			l.args = l.free[n-1]
			l.free = l.free[:n-1]
		} else {
			l.args = make([]opArgs, 0, argsChunk)
		}
		l.chunks = append(l.chunks, l.args)
	}
	l.args = append(l.args, a)
	return &l.args[len(l.args)-1]
}

// At sets the position of the operations recorded next.
func (l *OpLog) At(pos uint64) { l.at, l.minor = pos, 0 }

// Defer records fn, to be run by the Merger in its place among the
// operations (a note of a layer below, say, that must come out in capture
// order).
func (l *OpLog) Defer(fn func()) { l.add(Op{kind: opFunc, x: l.arg(opArgs{fn: fn})}) }

// Take returns the operations recorded since the last Take. The log
// records the next ones into reuse (cleared), if not nil: a slice that an
// earlier Take returned, as it was returned, and that the Merger is done
// with.
func (l *OpLog) Take(reuse []Op) []Op {
	ops := l.ops
	if cap(reuse) > 0 {
		// The Merger is done with reuse, and with every log taken before
		// it: their argument chunks are free.
		first := &reuse[:1][0]
		for i, t := range l.out {
			if t.first == first {
				for _, ts := range l.out[:i+1] {
					for _, c := range ts.chunks {
						if len(l.free) < maxArgChunks {
							clear(c)
							l.free = append(l.free, c[:0])
						}
					}
				}
				l.dropOut(i + 1)
				break
			}
		}
	}
	if len(l.chunks) > 0 {
		// The next operations start a chunk of their own, so that these
		// can be reused as a whole.
		l.out = append(l.out, takenArgs{first: &ops[:1][0], chunks: l.chunks})
		l.outChunks += len(l.chunks)
		l.chunks, l.args = nil, nil
		n, over := 0, l.outChunks-maxArgChunks
		for over > 0 && n < len(l.out) {
			over -= len(l.out[n].chunks)
			n++
		}
		l.dropOut(n)
	}
	if reuse == nil {
		reuse = make([]Op, 0, cap(ops))
	}
	// What lies beyond reuse's length is zero already: it was cleared
	// before, or never used.
	clear(reuse)
	l.ops = reuse[:0]
	return ops
}

// dropOut stops keeping track of the first n logs of out.
func (l *OpLog) dropOut(n int) {
	for _, t := range l.out[:n] {
		l.outChunks -= len(t.chunks)
	}
	k := copy(l.out, l.out[n:])
	clear(l.out[k:])
	l.out = l.out[:k]
}

func (l *OpLog) add(o Op) {
	o.seq, o.minor = l.at, l.minor
	l.ops = append(l.ops, o)
}

func (l *OpLog) push(c *Call)      { l.add(Op{kind: opPush, call: c}) }
func (l *OpLog) finish(call *Call) { l.add(Op{kind: opFinish, call: call}) }
func (l *OpLog) flush()            { l.add(Op{kind: opFlush}) }
func (l *OpLog) link(call *Call, k preflightKey) {
	if !call.linked {
		// Every call has a link: its key is kept in the call rather than
		// in the log's arguments.
		call.link, call.linked = k, true
		l.add(Op{kind: opLink, call: call})
		return
	}
	l.add(Op{kind: opLink, call: call, x: l.arg(opArgs{pk: k})})
}
func (l *OpLog) remember(k preflightKey, p Preflight) {
	l.add(Op{kind: opRemember, x: l.arg(opArgs{pk: k, pf: p})})
}
func (l *OpLog) note(n h2decode.Note) { l.add(Op{kind: opNote, x: l.arg(opArgs{note: n})}) }
func (l *OpLog) seq() uint64          { return l.at }

// expiring orders the operations of a call expiring in a sweep by the
// position of its RST_STREAM, as one assembler's list of reset calls is.
func (l *OpLog) expiring(resetSeq uint64) { l.minor = resetSeq + 1 }

// pendingCalls orders calls by start, connection and stream id. Calls
// mostly start in that order, so those that do wait in a queue, cheaper
// than a heap; the others (a capture whose timestamps go back) in a heap.
type pendingCalls struct {
	fifo []heapEntry // in order; fifo[head:] are waiting
	head int
	late callHeap
}

func (p *pendingCalls) push(e heapEntry) {
	if n := len(p.fifo); n == p.head || !e.less(&p.fifo[n-1]) {
		if p.head > 0 && p.head >= len(p.fifo)/2 {
			// Reuse the room of the calls handed on.
			n := copy(p.fifo, p.fifo[p.head:])
			clear(p.fifo[n:])
			p.fifo, p.head = p.fifo[:n], 0
		}
		p.fifo = append(p.fifo, e)
		return
	}
	heap.Push(&p.late, e)
}

// top returns the first call in order, nil if none is waiting.
func (p *pendingCalls) top() *Call {
	switch {
	case p.head < len(p.fifo) && (len(p.late) == 0 || p.fifo[p.head].less(&p.late[0])):
		return p.fifo[p.head].call
	case len(p.late) > 0:
		return p.late[0].call
	}
	return nil
}

// pop removes the call top returned.
func (p *pendingCalls) pop() {
	if p.head < len(p.fifo) && (len(p.late) == 0 || p.fifo[p.head].less(&p.late[0])) {
		p.fifo[p.head] = heapEntry{}
		p.head++
		return
	}
	heap.Pop(&p.late)
}

// callHeap is a heap of calls by start, connection and stream id. The keys
// are copied into the entries (they never change once a call is pushed), so
// that sifting compares within the slice instead of loading each Call.
type callHeap []heapEntry

type heapEntry struct {
	sec    int64 // start, in seconds and nanoseconds since the epoch
	nsec   int32
	stream uint32
	conn   uint64
	call   *Call
}

func entryOf(c *Call) heapEntry {
	return heapEntry{sec: c.Start.Unix(), nsec: int32(c.Start.Nanosecond()), conn: c.ConnID, stream: c.StreamID, call: c}
}

func (a *heapEntry) less(b *heapEntry) bool {
	switch {
	case a.sec != b.sec:
		return a.sec < b.sec
	case a.nsec != b.nsec:
		return a.nsec < b.nsec
	case a.conn != b.conn:
		return a.conn < b.conn
	}
	return a.stream < b.stream
}

func (h callHeap) Len() int           { return len(h) }
func (h callHeap) Less(i, j int) bool { return h[i].less(&h[j]) }
func (h callHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }

// Push takes a heapEntry.
func (h *callHeap) Push(x any) { *h = append(*h, x.(heapEntry)) }

// Pop returns a heapEntry.
func (h *callHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = heapEntry{}
	*h = old[:len(old)-1]
	return e
}
