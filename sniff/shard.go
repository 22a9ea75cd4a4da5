package sniff

import (
	"bytes"
	"sync"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
)

// A capture (a file, or a live interface) is decoded by several
// goroutines: the one reading the packets reassembles TCP (cheap, and the
// part whose decisions span connections: their numbers, the reorder window,
// the connection table); `workers` goroutines each decrypt, decode HTTP/2
// and assemble the calls of a share of the connections (connection number
// modulo workers); and one merges what the workers did back into the order
// of a single decoder (grpcframe.Merger) and runs the sinks. The packets are
// handed on in stretches (chunkRule); at the end of each, every worker
// sweeps (expires reset calls) and reports, so that a file's output is the
// same whatever the number of workers, byte for byte. A summary needs no
// order: with a Parter sink, each worker counts the calls that need
// nothing of other connections itself, and they never reach the merge.

// Stretches of the capture end after chunkPackets packets, chunkBytes bytes
// of packets or chunkTime of capture time, whichever comes first. They bound
// the memory in flight, and how late a reset call whose grace period is
// over is handed on (grpcframe.Assembler.Tick).
const (
	chunkPackets = 256
	chunkBytes   = 64 << 10
	chunkTime    = 100 * time.Millisecond
)

// chunkRule tells where the capture's stretches end. It depends on the
// packets alone, so every decoding cuts the capture at the same places.
type chunkRule struct {
	packets, bytes int
	start          time.Time
}

// add counts a packet and reports whether the stretch ends with it.
func (r *chunkRule) add(p capture.Packet) bool {
	if r.packets == 0 {
		r.start = p.Time
	}
	r.packets++
	r.bytes += len(p.Data)
	if r.packets >= chunkPackets || r.bytes >= chunkBytes || p.Time.Sub(r.start) >= chunkTime {
		*r = chunkRule{}
		return true
	}
	return false
}

// shardEvent is one call of capture.ConnHandler (or a key log addition),
// recorded for a worker.
type shardEvent struct {
	kind   shardEventKind
	side   capture.Side
	reason capture.EndReason
	conn   *connSlot
	pos    uint64 // place in the capture, for grpcframe.OpLog.At
	t      time.Time
	n      int64  // Gap
	data   []byte // Data: a copy, in the batch's arena
	info   *capture.ConnInfo
	keys   *tlsdecrypt.KeyLog // evKeys: entries added to the key log
}

type shardEventKind uint8

const (
	evConn shardEventKind = iota + 1
	evData
	evGap
	evEnd
	evKeys
)

// connSlot holds a connection's handler in its worker: the reading
// goroutine makes it, only the worker reads and writes it, and each event
// carries it, so that no table of connections is looked up per event (with
// thousands of connections, every lookup misses the cache).
type connSlot struct {
	h capture.ConnHandler
}

// shardBatch is one worker's part of a stretch of the capture.
type shardBatch struct {
	events    []shardEvent
	blocks    [][]byte // the arena the events' data is in, to recycle
	sweep     uint64   // position of the stretch's end
	sweepTime time.Time
	last      bool // the capture is over: close the assembler
}

// arenaBlock is the size of the blocks Data is copied into: a stretch of
// the capture (chunkBytes and its last packet, at most 64 KiB or a little
// more with GRO) fits in one; more only when segments held out of order
// are delivered with it.
const arenaBlock = 256 << 10

// shardRouter is the capture.HandlerFactory of the reading goroutine: it
// records each connection's events for the worker that owns it.
type shardRouter struct {
	n     int
	pos   uint64
	cur   []shardBatch
	arena [][]byte // per worker: the unused rest of its current block
	in    []chan shardBatch
	free  chan []byte // arena blocks to reuse
	// freeEvents are event lists the workers are done with, to reuse.
	freeEvents chan []shardEvent
}

func (r *shardRouter) emit(w int, ev shardEvent) {
	r.pos++
	ev.pos = r.pos
	r.cur[w].events = append(r.cur[w].events, ev)
}

// copyData copies b into worker w's arena.
func (r *shardRouter) copyData(w int, b []byte) []byte {
	if len(b) > arenaBlock/2 {
		return bytes.Clone(b)
	}
	if len(b) > cap(r.arena[w])-len(r.arena[w]) {
		var blk []byte
		select {
		case blk = <-r.free:
		default:
			blk = make([]byte, 0, arenaBlock)
		}
		r.arena[w] = blk[:0]
		r.cur[w].blocks = append(r.cur[w].blocks, blk)
	}
	a := r.arena[w]
	start := len(a)
	a = append(a, b...)
	r.arena[w] = a
	return a[start:len(a):len(a)]
}

// NewConn implements capture.HandlerFactory.
func (r *shardRouter) NewConn(info *capture.ConnInfo) capture.ConnHandler {
	w := int(info.ID % uint64(r.n))
	ci := *info // the worker's own: the TLS layer writes its TLS field
	slot := &connSlot{}
	r.emit(w, shardEvent{kind: evConn, conn: slot, info: &ci})
	return &shardConn{r: r, w: w, slot: slot}
}

// keys hands entries added to the key log (a pcapng Decryption Secrets
// Block) to every worker, at this place in the capture.
func (r *shardRouter) keys(k *tlsdecrypt.KeyLog) {
	for w := range r.n {
		r.emit(w, shardEvent{kind: evKeys, keys: k})
	}
}

// endStretch hands each worker its part of the stretch just read.
func (r *shardRouter) endStretch(t time.Time, last bool) {
	r.pos++
	for w := range r.n {
		b := r.cur[w]
		b.sweep, b.sweepTime, b.last = r.pos, t, last
		r.in[w] <- b
		var evs []shardEvent
		select {
		case evs = <-r.freeEvents:
		default:
			evs = make([]shardEvent, 0, max(cap(b.events), 64))
		}
		r.cur[w] = shardBatch{events: evs}
		r.arena[w] = nil
	}
}

type shardConn struct {
	r    *shardRouter
	w    int
	slot *connSlot
}

func (c *shardConn) Data(s capture.Side, data []byte, t time.Time) {
	c.r.emit(c.w, shardEvent{kind: evData, conn: c.slot, side: s, data: c.r.copyData(c.w, data), t: t})
}

func (c *shardConn) Gap(s capture.Side, n int64, t time.Time) {
	c.r.emit(c.w, shardEvent{kind: evGap, conn: c.slot, side: s, n: n, t: t})
}

func (c *shardConn) End(reason capture.EndReason, t time.Time) {
	c.r.emit(c.w, shardEvent{kind: evEnd, conn: c.slot, reason: reason, t: t})
}

// shardWorker decodes its share of the connections.
type shardWorker struct {
	log   grpcframe.OpLog
	calls *grpcframe.Assembler
	tls   *tlsdecrypt.Factory
	keys  *tlsdecrypt.KeyLog
	// tallied are the calls handed to the worker's part of a Parter sink
	// during the stretch, released at its end: until the assembler's Tick
	// it may still look at their memory (a reset call's entry), which
	// another worker may otherwise have taken for a call of its own.
	tallied []*grpcframe.Call
}

// newShardWorker makes a worker: its own TLS factory, HTTP decoders and
// call assembler, recording into its log what the merge replays.
func (r *runState) newShardWorker() *shardWorker {
	o := r.opts
	w := &shardWorker{keys: o.Keys}
	if !o.Live {
		// A copy, which the keys of Decryption Secrets Blocks reach at
		// their place in the capture, however far ahead the reading is.
		w.keys = &tlsdecrypt.KeyLog{}
		w.keys.Merge(o.Keys)
		if o.Keys.Growing() {
			w.keys.SetGrowing()
		}
	}
	opts := o.callOptions()
	if r.parts != nil {
		part, counted := r.parts(), new(int)
		r.counted = append(r.counted, counted)
		opts.Tally = func(c *grpcframe.Call) {
			*counted++
			part.Call(c)
			w.tallied = append(w.tallied, c)
		}
		opts.TallyMethod = notReflection
	}
	if onMessage := o.OnMessage; onMessage != nil {
		opts.OnMessage = func(c *grpcframe.Call, request bool, index int, m *grpcframe.Message) {
			// The call goes on changing: the sink gets it as it stands
			// (its slices are only appended to, never rewritten).
			snap := *c
			w.log.Defer(func() { onMessage(&snap, request, index, m) })
		}
	}
	if onProgress := o.OnProgress; onProgress != nil {
		opts.OnProgress = func(c *grpcframe.Call) { w.log.Defer(func() { onProgress(c) }) }
	}
	w.calls = grpcframe.NewLoggingAssembler(&w.log, opts)
	w.tls = tlsdecrypt.NewFactory(h2decode.NewFactory(w.calls, o.HTTP), w.keys, r.tlsOptions(w.log.Defer))
	return w
}

func (w *shardWorker) run(in <-chan shardBatch, out chan<- []grpcframe.Op, r *shardRouter, spent <-chan []grpcframe.Op) {
	defer close(out)
	for b := range in {
		for i := range b.events {
			ev := &b.events[i]
			w.log.At(ev.pos)
			switch ev.kind {
			case evConn:
				ev.conn.h = w.tls.NewConn(ev.info)
			case evData:
				ev.conn.h.Data(ev.side, ev.data, ev.t)
			case evGap:
				ev.conn.h.Gap(ev.side, ev.n, ev.t)
			case evEnd:
				ev.conn.h.End(ev.reason, ev.t)
				ev.conn.h = nil
			case evKeys:
				w.keys.Merge(ev.keys)
				w.keys.SetGrowing()
			}
			*ev = shardEvent{}
		}
		w.log.At(b.sweep)
		w.tls.CheckKeys() // keys that came while the network was quiet
		w.calls.Tick(b.sweepTime)
		if b.last {
			w.calls.Close()
		}
		for i, c := range w.tallied {
			grpcframe.Recycle(c)
			w.tallied[i] = nil
		}
		w.tallied = w.tallied[:0]
		for _, blk := range b.blocks {
			select {
			case r.free <- blk[:0]:
			default:
			}
		}
		if cap(b.events) <= maxReusedEvents {
			select {
			case r.freeEvents <- b.events[:0]: // cleared as they were handled
			default:
			}
		}
		var reuse []grpcframe.Op
		select {
		case reuse = <-spent:
		default:
		}
		out <- w.log.Take(reuse)
	}
}

// stretchesAhead is how many stretches a worker may have waiting, and how
// many it may have decoded before the merge takes them. The merge takes
// each stretch from every worker in turn, so the slack is what keeps a
// worker busy while another decodes a stretch that is nearly all its own:
// a stretch of 64 KiB may be one large segment of one connection. With 4
// and 2, `--stats` on a capture of 64 KiB loopback segments kept the two
// CPUs 1.45 busy; with 8, 1.7.
const stretchesAhead = 8

// maxReusedOps and maxReusedEvents bound the operation logs and event
// lists kept for reuse.
const (
	maxReusedOps    = 8192
	maxReusedEvents = 8192
)

// sharded decodes a capture with the given number of worker goroutines
// (see the top of this file) and hands the calls to sink, from a goroutine
// of its own, in the order inline would (for a file). It returns when sink
// has had every call.
func (r *runState) sharded(src capture.Source, sink grpcframe.Sink, workers int, sum *Summary) error {
	// Every stretch of a worker's that is filled, queued or being decoded
	// has its blocks and event list (handed back once decoded): the free
	// lists keep them all, or each one short is new memory.
	inFlight := workers * (stretchesAhead + 2)
	rt := &shardRouter{n: workers, cur: make([]shardBatch, workers), arena: make([][]byte, workers),
		in: make([]chan shardBatch, workers), free: make(chan []byte, inFlight+4),
		freeEvents: make(chan []shardEvent, inFlight+4)}
	outs := make([]chan []grpcframe.Op, workers)
	spent := make([]chan []grpcframe.Op, workers) // logs replayed, for reuse
	ws := make([]*shardWorker, workers)
	for i := range workers {
		rt.in[i] = make(chan shardBatch, stretchesAhead)
		outs[i] = make(chan []grpcframe.Op, stretchesAhead)
		spent[i] = make(chan []grpcframe.Op, stretchesAhead+2)
		ws[i] = r.newShardWorker()
		go ws[i].run(rt.in[i], outs[i], rt, spent[i])
	}
	merger := grpcframe.NewMerger(sink, r.opts.Live)
	var merged sync.WaitGroup
	merged.Add(1)
	go func() {
		defer merged.Done()
		r.merge(merger, outs, spent)
	}()

	tcp := capture.NewAssembler(rt, r.tcpOptions())
	readErr := r.route(src, tcp, rt)
	for i := range workers {
		close(rt.in[i])
	}
	merged.Wait()
	var cst grpcframe.Stats
	for _, w := range ws {
		cst.Add(w.calls.Stats())
	}
	cst.ConnNotes, cst.MoreConnNotes = merger.Notes()
	sum.Capture, sum.Calls = tcp.Stats(), cst
	return readErr
}

// merge replays the workers' logs, a stretch from each in turn, until they
// end, and hands the logs back for reuse.
func (r *runState) merge(merger *grpcframe.Merger, outs, spent []chan []grpcframe.Op) {
	logs := make([][]grpcframe.Op, len(outs))
	for {
		for i := range outs {
			ops, ok := <-outs[i]
			if !ok {
				merger.Close()
				return
			}
			logs[i] = ops
		}
		merger.Replay(logs...)
		if r.flush != nil {
			r.flush()
		}
		for i, ops := range logs {
			if cap(ops) > maxReusedOps {
				continue // a flood of streams: not kept for the rest of the capture
			}
			select {
			case spent[i] <- ops:
			default:
			}
		}
	}
}

// route reads the packets, reassembles TCP and hands each worker its
// connections' events, a stretch at a time, the last one when the source
// ends.
func (r *runState) route(src capture.Source, tcp *capture.Assembler, rt *shardRouter) error {
	keys, live := r.opts.Keys, r.opts.Live
	keyGen, growing := keys.Gen(), keys.Growing()
	var rule chunkRule
	var last time.Time
	readErr := r.readLoop(src, func(p capture.Packet) {
		// A Decryption Secrets Block read with the packet: even one with
		// no keys says that more may come (KeyLog.SetGrowing).
		if g := keys.Gen(); !live && (g != keyGen || keys.Growing() != growing) {
			growing = true
			var lines []byte
			lines, keyGen = keys.Since(keyGen)
			part, _ := tlsdecrypt.ParseKeyLog(bytes.NewReader(lines)) // reading memory cannot fail
			rt.keys(part)
		}
		last = p.Time
		tcp.AddPacket(p)
		if rule.add(p) {
			rt.endStretch(last, false)
		}
	}, func(now time.Time) {
		// No packet for a while: expire what waits on time at the wall
		// clock's, and hand on what is done.
		tcp.Tick(now)
		rt.endStretch(now, false)
		rule = chunkRule{}
	})
	last = r.endTime(last)
	tcp.Close(last)
	rt.endStretch(last, true)
	return readErr
}
