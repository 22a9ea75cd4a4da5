package tui_test

import (
	"context"
	"io"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/tui"
)

// Example shows the wiring for cmd/grpcsniff when standard output is a
// terminal: the pipeline runs in its own goroutine and feeds calls and
// progress to the UI, which shows them as they come. Every send also
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
		ncalls := 0
		sink := grpcframe.SinkFunc(func(c *grpcframe.Call) {
			ncalls++
			send(tui.Update{Call: c})
		})
		calls := grpcframe.NewAssembler(sink, grpcframe.Options{})
		tcp := capture.NewAssembler(h2decode.NewFactory(calls, h2decode.Options{}), capture.Options{})
		progress := func(done bool, errText string) *tui.Progress {
			return &tui.Progress{Bytes: src.Offset(), Total: src.Size(), Calls: ncalls, Done: done, Err: errText}
		}
		var last time.Time
		tick := time.Now()
		for ctx.Err() == nil {
			p, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				tcp.Close(last)
				calls.Close()
				send(tui.Update{Progress: progress(true, err.Error())})
				return
			}
			last = p.Time
			tcp.AddPacket(p)
			if time.Since(tick) > 100*time.Millisecond {
				tick = time.Now()
				send(tui.Update{Progress: progress(false, "")})
			}
		}
		tcp.Close(last)
		calls.Close()
		send(tui.Update{Progress: progress(true, "")})
	}()

	// filter.Parse(yExpr) has already validated a -Y expression; pass it
	// on as the initial filter. CapturePath lets w write the packets of
	// chosen connections (leave it empty for standard input); Registry,
	// from schema.Load, would name the message fields.
	_ = tui.Run(ctx, updates, tui.Options{Title: src.Name(), Filter: "", CapturePath: "testdata/pcaps/py_grpcdemo.pcap"})
}
