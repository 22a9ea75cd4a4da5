package sniff

import (
	"context"
	"iter"

	"github.com/grpcsniff/grpcsniff/capture"
)

// Calls decodes src with opts and yields its calls in order of start (for a
// capture file), for a range loop:
//
//	for call, err := range sniff.Calls(ctx, src, sniff.Options{}) { … }
//
// A damaged capture yields its calls up to the damage, then (nil, err); so
// does a context cancelled before the end. Breaking out of the loop stops
// the decoding of a file (a live source must also be closed, as its Next
// may be waiting for packets). Each call is the caller's to keep (or to
// hand to Release).
// Use a Decoder for the summary (packets, connections, what was lost) and
// for sinks that need more than one goroutine.
func Calls(ctx context.Context, src capture.Source, opts Options) iter.Seq2[*Call, error] {
	return func(yield func(*Call, error) bool) {
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		calls := make(chan *Call, 64)
		var err error
		go func() {
			defer close(calls)
			_, err = NewDecoder(opts).Run(runCtx, src, SinkFunc(func(c *Call) {
				select {
				case calls <- c:
				case <-runCtx.Done():
				}
			}))
		}()
		for c := range calls {
			if !yield(c, nil) {
				cancel()
				for range calls {
					// Wait for the decoding to stop.
				}
				return
			}
		}
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			yield(nil, err)
		}
	}
}
