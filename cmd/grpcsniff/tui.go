package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
	"github.com/grpcsniff/grpcsniff/sniff"
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
func runTUI(in *input, reg *schema.Registry, c *config, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates := make(chan tui.Update, 1024)
	// Messages from the decoding (reflection, TLS) would scribble over the
	// screen: they are kept and printed after the UI ends.
	var msgs lineBuffer
	var res tuiResult
	go decodeForTUI(ctx, in, reg, c, &msgs, updates, &res)
	if in.file != nil {
		go viewGC(ctx)
	}
	if in.live != nil {
		// The live capture ends with the UI.
		go func() {
			<-ctx.Done()
			in.live.Stop()
		}()
	}
	err := tui.Run(ctx, updates, tui.Options{Title: in.name, Filter: c.filter, Schema: reg, Decode: c.limits.rawOptions(),
		Registry: reg, CapturePath: c.capturePathForTUI(), MaxCalls: c.uiMaxCallsFor(in), MaxMessageBytes: c.uiMaxMessage,
		Live: in.live != nil, GrpcurlSchema: c.schema.grpcurlArgs(), Reload: reloaderFor(c, in, reg), Recycle: recycler(in), KeepBytes: keepBytes(c.uiKeepBytes)})
	cancel()
	for range updates {
		// Wait for the decoding to stop (it sees ctx) before reading msgs.
	}
	for _, l := range msgs.lines {
		fmt.Fprint(stderr, l)
	}
	if !c.quiet {
		if in.live != nil {
			in.live.summary(stderr)
		}
		summarize(stderr, res.sum, res.notes, false)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		return exitError
	}
	return res.status(in)
}

// tuiResult is what the decoding behind the view found, read once it is
// over: the same summary and exit status as the batch outputs give.
type tuiResult struct {
	sum     sniff.Summary
	notes   []string
	readErr error
	stopped bool // the user quit before the input was read to its end
}

// status is the exit status: the batch outputs' for a file read to its
// end (damaged, or no calls at all), 0 otherwise.
func (r *tuiResult) status(in *input) int {
	switch {
	case r.readErr != nil:
		return exitDamaged
	case in.live == nil && !r.stopped && r.sum.Found == 0:
		return exitNoCalls
	}
	return exitOK
}

// decodeForTUI runs the decoding, sending each call and, every tenth of a
// second, the progress to the UI; it closes updates when done.
func decodeForTUI(ctx context.Context, in *input, reg *schema.Registry, c *config, msgs io.Writer, updates chan<- tui.Update, res *tuiResult) {
	defer close(updates)
	send := func(u tui.Update) {
		select {
		case updates <- u:
		case <-ctx.Done():
		}
	}
	var ncalls atomic.Int64 // counted where the sink runs, read where the packets are
	progress := func(done bool, errText string) *tui.Progress {
		if in.live != nil {
			p := in.live.progress()
			p.Calls, p.Done, p.Err = int(ncalls.Load()), done, errText
			return p
		}
		return &tui.Progress{Bytes: in.file.Offset(), Total: in.file.Size(), Calls: int(ncalls.Load()), Done: done, Err: errText}
	}
	opts := c.sniffOptions(in, reg, msgs)
	if c.wantsFirstPass(in) {
		// The shapes that name unknown methods: the first calls wait for
		// it, as long as decoding hintCalls calls takes at most.
		_, opts.Methods = firstPass(c, in)
	}
	tick := time.Now()
	opts.Progress = func() {
		if time.Since(tick) > 100*time.Millisecond {
			tick = time.Now()
			send(tui.Update{Progress: progress(false, "")})
		}
	}
	if in.live != nil {
		// Calls appear while they are open, and grow. A copy that does not
		// fit in the channel is dropped (the next one, or the call itself,
		// takes its place) rather than hold the capture back.
		opts.OnProgress = func(call *sniff.Call) {
			select {
			case updates <- tui.Update{Call: call}:
			default:
			}
		}
	}
	sum, err := sniff.NewDecoder(opts).Run(ctx, in.src, sniff.SinkFunc(func(call *sniff.Call) {
		ncalls.Add(1)
		send(tui.Update{Call: call})
	}))
	*res = tuiResult{sum: sum, notes: summaryNotes(sum, &c.limits, c.keylog != ""), readErr: err, stopped: ctx.Err() != nil}
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	if e := in.close(); e != nil && errText == "" {
		errText = e.Error()
	}
	p := progress(true, errText)
	p.Notes = res.notes
	send(tui.Update{Progress: p})
}

// reloaderFor reads the capture file again for the view, with the same
// settings, so that it need not keep every call of a large capture (see
// tui.Reloader): the -r file, or for a live capture its -w file, where
// the packets of calls that ended a while ago are (it is flushed whenever
// the network is quiet). nil for standard input, which cannot be read
// twice, and for a live capture without -w: its view keeps its calls up to
// --ui-max-calls.
func reloaderFor(c *config, in *input, reg *schema.Registry) tui.Reloader {
	path := c.read
	if in.live != nil {
		path = c.live.write
		// The file is read as a file: the live options (following the key
		// log, flushing when idle) are not for it; the keys are shared.
		in = &input{keys: in.live.keys}
	}
	if path == "" || path == "-" {
		return nil
	}
	return func(ctx context.Context, scope *tui.Scope, want, found func(*sniff.Call) bool) error {
		fs, err := capture.OpenFile(path)
		if err != nil {
			return err
		}
		defer fs.Close()
		var src capture.Source = fs
		if scope != nil {
			src = capture.NewConnOnly(fs, scope.Client, scope.Server)
		}
		opts := c.sniffOptions(in, reg, io.Discard)
		opts.ReflectServers = false // the first reading fetched what they had
		opts.Match = want
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stopped := false
		_, err = sniff.NewDecoder(opts).Run(ctx, src, sniff.SinkFunc(func(call *sniff.Call) {
			if !stopped && !found(call) {
				stopped = true
				cancel()
			}
		}))
		if stopped {
			return nil
		}
		return err
	}
}

// keepBytes is tui.Options.KeepBytes for --ui-keep-bytes, whose 0 keeps
// no call whole (the view's 0 means its default).
func keepBytes(n int64) int64 {
	if n == 0 {
		return 1
	}
	return n
}

// recycler is what the view hands the calls it lets go on arrival:
// sniff.Release for a file. A live capture's calls may have been shown as
// copies while open (sniff.Options.OnProgress), which share their parts;
// they are left to the collector.
func recycler(in *input) func(*sniff.Call) {
	if in.live != nil {
		return nil
	}
	return sniff.Release
}

// capturePathForTUI is the file "w" in the view reads again for the
// packets of chosen connections: standard input cannot be read twice, so
// it gets none; a live capture's is its -w file, flushed whenever the
// network is quiet.
func (c *config) capturePathForTUI() string {
	switch {
	case c.read == "-":
		return ""
	case c.live.iface != "":
		return c.live.write
	}
	return c.read
}

// uiMaxCallsFor is --ui-max-calls, or its default: no limit for a file,
// 100,000 calls for a live capture that may run for days.
func (c *config) uiMaxCallsFor(in *input) int {
	switch {
	case c.uiMaxCalls >= 0:
		return c.uiMaxCalls
	case in.live != nil:
		return 100000
	}
	return 0
}

// lineBuffer keeps what is written to it, for later.
type lineBuffer struct{ lines []string }

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.lines = append(b.lines, string(p))
	return len(p), nil
}

// grpcurlArgs are the grpcurl flags that give it the schemas loaded from
// files, for the commands the view builds (with none, grpcurl asks the
// server by reflection, as --reflect does).
func (f *schemaFlags) grpcurlArgs() []string {
	var args []string
	for _, d := range f.imports {
		args = append(args, "-import-path", d)
	}
	for _, p := range f.protos {
		args = append(args, "-proto", p)
	}
	for _, p := range f.protosets {
		args = append(args, "-protoset", p)
	}
	return args
}
