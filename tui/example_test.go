package tui_test

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/sniff"
	"github.com/grpcsniff/grpcsniff/tui"
)

// Example shows the wiring for cmd/grpcsniff when standard output is a
// terminal: the decoding (package sniff) runs in its own goroutine and
// feeds calls and progress to the UI, which shows them as they come. Every send also
// watches ctx, so that quitting the UI stops the pipeline instead of
// leaving it blocked on a full channel.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, err := capture.OpenFile("testdata/pcaps/py_grpcdemo.pcap")
	if err != nil {
		return
	}
	defer src.Close()

	updates := make(chan tui.Update, 1024)
	send := func(u tui.Update) bool {
		select {
		case updates <- u:
			return true
		case <-ctx.Done():
			return false
		}
	}
	go func() {
		defer close(updates)
		var ncalls atomic.Int64
		progress := func(done bool, errText string) *tui.Progress {
			return &tui.Progress{Bytes: src.Offset(), Total: src.Size(), Calls: int(ncalls.Load()), Done: done, Err: errText}
		}
		tick := time.Now()
		opts := sniff.Options{Progress: func() {
			if time.Since(tick) > 100*time.Millisecond {
				tick = time.Now()
				send(tui.Update{Progress: progress(false, "")})
			}
		}}
		_, err := sniff.NewDecoder(opts).Run(ctx, src, sniff.SinkFunc(func(c *sniff.Call) {
			ncalls.Add(1)
			send(tui.Update{Call: c})
		}))
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		send(tui.Update{Progress: progress(true, errText)})
	}()

	// filter.Parse(yExpr) has already validated a -Y expression; pass it
	// on as the initial filter. CapturePath lets w write the packets of
	// chosen connections (leave it empty for standard input); Registry,
	// from schema.Load, would name the message fields.
	_ = tui.Run(ctx, updates, tui.Options{Title: src.Name(), Filter: "", CapturePath: "testdata/pcaps/py_grpcdemo.pcap"})
}
