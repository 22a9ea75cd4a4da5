package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
	"github.com/grpcsniff/grpcsniff/tui"
)

// isTerminal reports whether w is a terminal: then the interactive view is
// shown, and otherwise one line per call (pipes, files).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// runTUI decodes the capture in the background and shows the calls in the
// terminal UI as they come; a live capture runs until the user quits.
func runTUI(in input, reg *schema.Registry, sf *schemaFlags, o options, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates := make(chan tui.Update, 1024)
	send := func(u tui.Update) {
		select {
		case updates <- u:
		case <-ctx.Done():
		}
	}
	// Messages from the decoding (reflection, TLS) would scribble over the
	// screen: they are kept and printed after the UI ends.
	var msgs lineBuffer
	var ncalls atomic.Int64 // counted where the sinks run, read where the packets are
	progress := func(done bool, errText string) *tui.Progress {
		if in.live != nil {
			p := in.live.progress()
			p.Calls, p.Done, p.Err = int(ncalls.Load()), done, errText
			return p
		}
		return &tui.Progress{Bytes: in.file.Offset(), Total: in.file.Size(), Calls: int(ncalls.Load()), Done: done, Err: errText}
	}
	go func() {
		defer close(updates)
		var toUI grpcframe.Sink = grpcframe.SinkFunc(func(c *grpcframe.Call) { send(tui.Update{Call: c}) })
		if o.redact.set {
			toUI = newRedactSink(o.redact.names, toUI)
		}
		sink := newSchemaSink(reg, sf, &msgs, grpcframe.SinkFunc(func(c *grpcframe.Call) {
			ncalls.Add(1)
			toUI.Call(c)
		}))
		tick := time.Now()
		hooks := decodeHooks{
			stop: func() bool { return ctx.Err() != nil },
			progress: func() {
				if time.Since(tick) > 100*time.Millisecond {
					tick = time.Now()
					send(tui.Update{Progress: progress(false, "")})
				}
			},
		}
		if in.live != nil {
			in.live.hooks(&hooks)
		}
		var err error
		if o.workers > 0 {
			_, _, err = decodeSharded(in.src, sink, o.limits, shardHooks{workers: o.workers, stop: hooks.stop, progress: hooks.progress,
				live: hooks.live, idle: hooks.idle, tls: hooks.tls})
		} else {
			_, _, err = decodeCaptureHooks(in.src, sink, o.limits, hooks)
		}
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		if e := in.close(); e != nil && errText == "" {
			errText = e.Error()
		}
		send(tui.Update{Progress: progress(true, errText)})
	}()
	// w re-reads the capture file for the packets of chosen connections;
	// standard input cannot be read twice, so it gets no path.
	capPath := o.read
	switch {
	case capPath == "-":
		capPath = ""
	case in.live != nil:
		// The -w file, flushed whenever the network is quiet.
		capPath = o.live.write
	}
	if in.live != nil {
		// The live capture ends with the UI.
		go func() {
			<-ctx.Done()
			in.live.Stop()
		}()
	}
	err := tui.Run(ctx, updates, tui.Options{Title: in.name, Filter: o.filter, Schema: reg,
		Registry: reg, CapturePath: capPath, MaxCalls: o.uiMaxCalls, MaxMessageBytes: o.uiMaxMessage})
	cancel()
	for range updates {
		// Wait for the decoding to stop (it sees ctx) before reading msgs.
	}
	for _, l := range msgs.lines {
		fmt.Fprint(stderr, l)
	}
	if in.live != nil && !o.quiet {
		in.live.summary(stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		return exitError
	}
	return exitOK
}

// lineBuffer keeps what is written to it, for later.
type lineBuffer struct{ lines []string }

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.lines = append(b.lines, string(p))
	return len(p), nil
}
