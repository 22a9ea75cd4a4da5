package sniff

import (
	"errors"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
)

// inline decodes everything in the goroutine reading the packets (Workers
// Inline); the sink runs beside it (pipeline). This is the chain at its
// plainest: TCP → TLS → HTTP → calls.
func (r *runState) inline(src capture.Source, sink Sink, sum *Summary) error {
	o := r.opts
	pipe := newPipeline(sink, o.OnMessage, o.OnProgress, 64, o.Live, r.flush)
	copts := o.callOptions()
	if o.OnMessage != nil {
		copts.OnMessage = pipe.Message
	}
	if o.OnProgress != nil {
		copts.OnProgress = pipe.Progress
	}
	calls := grpcframe.NewAssembler(pipe, copts)
	// TLS is always looked for, keys or not: a TLS connection is then named
	// with its SNI, ALPN and the key it lacks rather than passed over.
	conns := tlsdecrypt.NewFactory(h2decode.NewFactory(calls, o.HTTP), o.Keys, r.tlsOptions(func(f func()) { f() }))
	tcp := capture.NewAssembler(conns, r.tcpOptions())
	var last time.Time
	var rule chunkRule
	poke := func() {}
	if o.Live {
		poke = pipe.poke
	}
	readErr := r.readLoop(src, func(p capture.Packet) {
		last = p.Time
		tcp.AddPacket(p)
		if rule.add(p) {
			calls.Tick(last)
		}
		poke()
	}, func(now time.Time) {
		conns.CheckKeys()
		tcp.Tick(now)
		calls.Tick(now)
		poke()
	})
	tcp.Close(r.endTime(last))
	calls.Close()
	pipe.Close()
	sum.Capture, sum.Calls = tcp.Stats(), calls.Stats()
	return readErr
}

// tcpOptions are the TCP layer's options: a file's connections never time
// out (its calls end with the capture), a live capture's do.
func (r *runState) tcpOptions() capture.Options {
	t := r.opts.TCP
	if !r.opts.Live {
		t.IdleTimeout = 0
	}
	return t
}

func isIdle(err error) bool { return errors.Is(err, capture.ErrIdle) }
