package export

import (
	"io"
	"runtime"

	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// OrderedWriter is a sink that encodes calls (JSON, say: most of the
// output's cost) in several goroutines and writes them in the order they
// came, so that the output is the same as encoding them one by one.
type OrderedWriter struct {
	// newEncoder gives each encoding goroutine its encoder, which may keep
	// state (export.Encoder remembers header lists).
	newEncoder func() func(dst []byte, c *grpcframe.Call) []byte
	// w gets each batch's lines in one Write: a batch is tens or hundreds
	// of kilobytes already, and a buffer in between copied most of the
	// output once more (a Write that does not fit what the buffer has
	// left is copied in part, flushed, and the rest copied).
	w     io.Writer
	batch []*grpcframe.Call
	jobs  chan *encodeJob // to the encoders
	order chan *encodeJob // to the writer, in the calls' order
	done  chan struct{}   // the writer has finished
	err   error           // the first write error (the writer's, read after done)
	// drained is signalled by the writer after each job when asked.
	drained chan struct{}
	free    chan *encodeJob // written jobs, their buffers to reuse
	// release is told of each call once its line is encoded: nothing in
	// the writer reads the call after that.
	release func(*grpcframe.Call)
}

type encodeJob struct {
	calls []*grpcframe.Call
	out   []byte
	ready chan struct{}
	drain bool // signal OrderedWriter.drained once written
}

// orderedBatch is how many calls an encoder takes at once.
const orderedBatch = 64

// maxReusedOutput bounds the encoded batches whose buffer is kept for reuse.
const maxReusedOutput = 4 << 20

// NewOrderedWriter writes to w what an encoder makes of each call, a line
// each, encoding in one goroutine per CPU, each with an encoder of its own
// from newEncoder. Once a call is encoded the writer hands it to release
// (nil: nobody), which may reuse its memory (sniff.Release): the writer is
// the last to read it.
func NewOrderedWriter(w io.Writer, newEncoder func() func(dst []byte, c *grpcframe.Call) []byte, release func(*grpcframe.Call)) *OrderedWriter {
	n := runtime.GOMAXPROCS(0)
	if release == nil {
		release = func(*grpcframe.Call) {}
	}
	o := &OrderedWriter{newEncoder: newEncoder, w: w, release: release,
		jobs: make(chan *encodeJob, 2*n), order: make(chan *encodeJob, 2*n+2),
		done: make(chan struct{}), drained: make(chan struct{}), free: make(chan *encodeJob, 4*n+4)}
	for range n {
		go o.encoder()
	}
	go o.writer()
	return o
}

func (o *OrderedWriter) encoder() {
	encode := o.newEncoder()
	for j := range o.jobs {
		b := j.out[:0]
		for _, c := range j.calls {
			b = encode(b, c)
			b = append(b, '\n')
			o.release(c) // nothing reads it after its line
		}
		j.out = b
		close(j.ready)
	}
}

func (o *OrderedWriter) writer() {
	defer close(o.done)
	for j := range o.order {
		<-j.ready
		if o.err == nil {
			_, o.err = o.w.Write(j.out)
		}
		if j.drain {
			o.drained <- struct{}{}
		}
		clear(j.calls)
		if cap(j.out) <= maxReusedOutput {
			select {
			case o.free <- j:
			default:
			}
		}
	}
}

// Call implements grpcframe.Sink.
func (o *OrderedWriter) Call(c *grpcframe.Call) {
	o.batch = append(o.batch, c)
	if len(o.batch) == orderedBatch {
		o.send(false)
	}
}

func (o *OrderedWriter) send(drain bool) {
	j := &encodeJob{calls: o.batch, ready: make(chan struct{}), drain: drain}
	select {
	case old := <-o.free:
		o.batch, j.out = old.calls[:0], old.out[:0]
	default:
		o.batch = make([]*grpcframe.Call, 0, orderedBatch)
		// Room for a batch of calls with kilobyte messages in JSON: a
		// buffer grown by doubling would have been allocated (and its
		// pages touched) three times over. Room never written costs no
		// memory.
		j.out = make([]byte, 0, 512<<10)
	}
	o.order <- j
	o.jobs <- j
}

// Drain returns once every call handed on so far is encoded and written:
// what the encoders read (the schema registry) may then change without
// touching calls that came before.
func (o *OrderedWriter) Drain() {
	o.send(true)
	<-o.drained
}

// Close writes what is left and returns the first write error.
func (o *OrderedWriter) Close() error {
	if len(o.batch) > 0 {
		o.send(false)
	}
	close(o.order)
	close(o.jobs)
	<-o.done
	return o.err
}
