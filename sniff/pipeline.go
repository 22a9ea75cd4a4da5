package sniff

import "github.com/grpcsniff/grpcsniff/grpcframe"

// pipeline runs the sinks (schema harvest, the display filter, JSON or text
// encoding with its protobuf decoding) in a goroutine of their own, so that
// decoding the capture and writing the output use two cores. One goroutine
// reads one channel: the output order is the decoding's, whatever the
// timing, and identical to running the sinks inline.
type pipeline struct {
	sink      grpcframe.Sink
	onMessage func(c *grpcframe.Call, request bool, index int, m *grpcframe.Message)
	// onProgress is told of calls still open (a copy as it stands).
	onProgress func(c *grpcframe.Call)
	// flush, when set, runs after each batch: a live capture's output is
	// flushed then, rather than a system call per line.
	flush func()
	ch    chan []pipeItem
	batch []pipeItem
	size  int // items per batch at most
	// eager hands a batch on as soon as the output goroutine is idle
	// (live: each call appears at once while the rate is low, and batches
	// grow only while the output is busy).
	eager bool
	done  chan struct{}
}

// pipeItem is a finished call, (msg set) a message of a call in progress,
// or (open set) a copy of a call in progress.
type pipeItem struct {
	call    *grpcframe.Call
	msg     *grpcframe.Message
	request bool
	open    bool
	index   int
}

// pipelineDepth bounds the batches in flight: the memory the pipeline can
// hold is pipelineDepth × batch size calls.
const pipelineDepth = 64

// newPipeline starts the sinks' goroutine. batch is how many items travel
// together at most (fewer channel operations and goroutine wake-ups); with
// eager, a batch goes as soon as the output goroutine has nothing to do.
func newPipeline(sink grpcframe.Sink, onMessage func(*grpcframe.Call, bool, int, *grpcframe.Message), onProgress func(*grpcframe.Call),
	batch int, eager bool, flush func()) *pipeline {
	p := &pipeline{sink: sink, onMessage: onMessage, onProgress: onProgress, flush: flush, ch: make(chan []pipeItem, pipelineDepth),
		size: max(batch, 1), eager: eager, done: make(chan struct{})}
	go p.run()
	return p
}

func (p *pipeline) run() {
	defer close(p.done)
	for items := range p.ch {
		for i := range items {
			it := &items[i]
			switch {
			case it.msg != nil:
				p.onMessage(it.call, it.request, it.index, it.msg)
			case it.open:
				p.onProgress(it.call)
			default:
				p.sink.Call(it.call)
			}
		}
		if p.flush != nil {
			p.flush()
		}
	}
}

// Call implements grpcframe.Sink: a finished call is no longer touched by
// the decoding, so it crosses as it is.
func (p *pipeline) Call(c *grpcframe.Call) { p.add(pipeItem{call: c}) }

// Message passes on a message of a call still in progress. The decoding
// goes on changing that call, so the other goroutine gets a copy of it as
// it stands (its slices are only appended to, never rewritten).
func (p *pipeline) Message(c *grpcframe.Call, request bool, index int, m *grpcframe.Message) {
	snap := *c
	p.add(pipeItem{call: &snap, msg: m, request: request, index: index})
}

// Progress passes on a copy of a call in progress (grpcframe made it).
func (p *pipeline) Progress(c *grpcframe.Call) { p.add(pipeItem{call: c, open: true}) }

func (p *pipeline) add(it pipeItem) {
	if p.batch == nil {
		p.batch = make([]pipeItem, 0, p.size)
	}
	p.batch = append(p.batch, it)
	if len(p.batch) == p.size || (p.eager && len(p.ch) == 0) {
		p.ch <- p.batch
		p.batch = nil
	}
}

// poke hands on a waiting batch if the output goroutine is idle. A live
// capture calls it after every packet and when the network is quiet, so
// that a call that ended while the output was busy is not held until the
// next one ends.
func (p *pipeline) poke() {
	if len(p.batch) > 0 && len(p.ch) == 0 {
		p.ch <- p.batch
		p.batch = nil
	}
}

// Close hands on what is left and waits until the sinks have seen it all.
func (p *pipeline) Close() {
	if len(p.batch) > 0 {
		p.ch <- p.batch
		p.batch = nil
	}
	close(p.ch)
	<-p.done
}
