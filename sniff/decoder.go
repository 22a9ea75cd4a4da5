package sniff

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
)

// Decoder runs a packet source through the whole chain to a sink. A
// Decoder may run several sources, one after the other.
type Decoder struct {
	opts Options
}

// NewDecoder returns a Decoder with the given options.
func NewDecoder(opts Options) *Decoder { return &Decoder{opts: opts} }

// Optional interfaces a Sink may have.
type (
	// Flusher is a sink that buffers: in a live capture, Flush is called
	// after each batch of calls, so that they appear at once.
	Flusher interface{ Flush() }
	// Drainer is a sink that reads the schema registry after its Call has
	// returned (an encoder running in other goroutines): Drain must return
	// once every call handed on so far is done with, and is called before
	// the registry changes.
	Drainer interface{ Drain() }
	// Parter is a sink whose result does not depend on the order of the
	// calls (a summary). Each worker gets a Part of its own and hands it
	// the calls that need nothing of other connections (native gRPC calls
	// of a captured, non-reflection method) as they end, on the core that
	// decoded them; those never reach the sink itself, and are released
	// after the part's Call (which must not keep them). The sink adds its
	// parts up itself. Parts are used only when Match, Redact and
	// ReflectServers are not set.
	Parter interface{ Part() Sink }
)

// Summary is what a run read and decoded, for the user.
type Summary struct {
	Capture capture.Stats   // packets, connections, bytes lost
	Calls   grpcframe.Stats // calls, connection kinds, limits hit, connection notes
	// Found counts the calls the source held, whether or not Match chose
	// them; Shown those handed to the sink (with Parter sinks, the parts'
	// too).
	Found, Shown int
	// TLS are the TLS connections that were not (fully) decrypted, the
	// first MaxTLSNotes of them; MoreTLS counts the others.
	TLS     []TLSNote
	MoreTLS int
	// Harvested counts the schema files taken from reflection calls in the
	// capture.
	Harvested int
}

// MaxTLSNotes bounds Summary.TLS (a live capture may run for days).
const MaxTLSNotes = 20

// TLSNote is a TLS connection that was not (fully) decrypted, with what
// was learnt of it and what was missing.
type TLSNote struct {
	Client, Server netip.AddrPort // the connection's two ends, as the capture first saw them
	Info           capture.TLSInfo
}

func (n TLSNote) String() string { return fmt.Sprintf("%s ↔ %s: %s", n.Client, n.Server, &n.Info) }

// tlsNotes collects Summary.TLS; add may be called from any goroutine.
type tlsNotes struct {
	mu    sync.Mutex
	notes []TLSNote
	more  int
}

func (t *tlsNotes) add(ci *capture.ConnInfo, info *capture.TLSInfo) {
	if info.Decrypted && info.Problem == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.notes) == MaxTLSNotes {
		t.more++
		return
	}
	t.notes = append(t.notes, TLSNote{Client: ci.Addr[0], Server: ci.Addr[1], Info: *info})
}

// Run decodes src to its end (or until ctx is done) and hands each call to
// sink, from a goroutine of its own; it returns once the sink has had them
// all. It does not close the source or the sink. A live source is stopped
// by closing it: Run ends when its Next returns io.EOF.
//
// The error is the source's, when it ended other than cleanly (a truncated
// or damaged capture file): everything before the damage was decoded and
// handed on, and the summary is complete.
func (d *Decoder) Run(ctx context.Context, src capture.Source, sink Sink) (Summary, error) {
	o := d.opts
	var sum Summary
	if fs, ok := src.(secretsSource); ok {
		o.Keys = secretsFrom(fs, o.Keys, o.warn)
	} else if o.Keys == nil {
		o.Keys = &tlsdecrypt.KeyLog{}
	}
	notes := &tlsNotes{}
	chain := d.chain(&o, sink, &sum)
	run := runState{opts: &o, ctx: ctx, notes: notes, flush: flusherOf(sink, o.Live)}
	var err error
	if n := o.workers(); n > 0 {
		run.parts = partsFor(&o, sink)
		err = run.sharded(src, chain, n, &sum)
	} else {
		err = run.inline(src, chain, &sum)
	}
	sum.TLS, sum.MoreTLS = notes.notes, notes.more
	sum.Found += run.tallied()
	sum.Shown += run.tallied()
	return sum, err
}

// chain is what runs for each call in the sink's goroutine, in order: the
// schemas learn from it, the count, Match, redaction, the sink.
func (d *Decoder) chain(o *Options, sink Sink, sum *Summary) Sink {
	out := sink
	if len(o.Redact) > 0 {
		out = export.NewRedactor(o.Redact, sink)
	}
	// With OnMessage or OnProgress, the sink has been given messages of
	// calls still being decoded, and keeps them all.
	release := o.OnMessage == nil && o.OnProgress == nil
	afterSink := release && o.ReleaseCalls
	var next Sink = SinkFunc(func(c *Call) {
		sum.Found++
		switch {
		case o.Match == nil || o.Match(c):
			sum.Shown++
			out.Call(c)
			if afterSink {
				Release(c)
			}
		case release:
			Release(c)
		}
	})
	next = inferring(o, next)
	if o.Schemas != nil {
		s := newSchemaSink(o, next)
		if dr, ok := sink.(Drainer); ok {
			s.beforeChange = dr.Drain
		}
		sum.Harvested = 0
		next = SinkFunc(func(c *Call) {
			s.Call(c)
			sum.Harvested = s.harvested
		})
	}
	return next
}

// flusherOf returns the sink's Flush for a live capture, nil otherwise: a
// file's output is flushed by its sink's Close.
func flusherOf(sink Sink, live bool) func() {
	if f, ok := sink.(Flusher); ok && live {
		return f.Flush
	}
	return nil
}

// partsFor returns the parts factory for the workers when the sink has one
// and nothing needs the calls in order or whole.
func partsFor(o *Options, sink Sink) func() Sink {
	p, ok := sink.(Parter)
	if !ok || o.Match != nil || len(o.Redact) > 0 || o.ReflectServers || o.OnMessage != nil || o.OnProgress != nil {
		return nil
	}
	return p.Part
}

// runState is one Run's shared state.
type runState struct {
	opts  *Options
	ctx   context.Context
	notes *tlsNotes
	flush func()
	parts func() Sink
	// counted are the calls each worker handed to its part.
	counted []*int
}

func (r *runState) tallied() int {
	n := 0
	for _, c := range r.counted {
		n += *c
	}
	return n
}

// stop reports whether the caller asked the run to end.
func (r *runState) stop() bool { return r.ctx.Err() != nil }

// tlsOptions are the TLS layer's options for one factory: the caller's,
// with the Decoder's report of undecrypted connections first. defer_
// decides where a note is added (a worker adds it where its calls are
// merged, so that notes keep the capture's order).
func (r *runState) tlsOptions(defer_ func(func())) tlsdecrypt.Options {
	t := r.opts.TLS
	if r.opts.Live {
		t.WaitForKeys = true
	}
	report := t.Report
	t.Report = func(ci *capture.ConnInfo, info *capture.TLSInfo) {
		cp, snap := *ci, *info
		defer_(func() { r.notes.add(&cp, &snap) })
		if report != nil {
			report(ci, info)
		}
	}
	return t
}

// readLoop reads src to its end, handing each packet to packet. When an
// error from a live source only means that no packet came for a while
// (capture.ErrIdle), it calls idle with the wall clock's time and goes on.
// The context is checked, and Progress called, every few thousand packets
// and when idle. It returns the error that ended the reading: nil at the
// end of the input or when stopped.
func (r *runState) readLoop(src capture.Source, packet func(capture.Packet), idle func(now time.Time)) error {
	progress := r.opts.Progress
	for n := 1; ; n++ {
		if n&4095 == 0 {
			if r.stop() {
				return nil
			}
			if progress != nil {
				progress()
			}
		}
		p, err := src.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if !r.opts.Live || !isIdle(err) {
				return err
			}
			idle(time.Now())
			if r.stop() {
				return nil
			}
			if progress != nil {
				progress()
			}
			continue
		}
		packet(p)
	}
}

// endTime is when the capture ended, for the calls still open: the last
// packet's time for a file, now for a live capture (they were open until
// the user stopped).
func (r *runState) endTime(last time.Time) time.Time {
	if r.opts.Live {
		return time.Now()
	}
	return last
}
