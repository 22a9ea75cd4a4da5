package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/filter"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
	"github.com/grpcsniff/grpcsniff/sniff"
)

// sniffOptions turns the flags into the decoder's options.
func (c *config) sniffOptions(in *input, reg *schema.Registry, stderr io.Writer) sniff.Options {
	l := &c.limits
	o := sniff.Options{
		TCP:             l.tcpOptions(),
		HTTP:            h2decode.Options{MaxHeaderListSize: l.maxHeaderList, MaxTableSize: uint32(l.maxHPACKTable)},
		Calls:           grpcframe.Options{MaxMessageSize: l.maxMessage, MaxOpenStreams: l.maxStreams},
		Keys:            in.keys,
		Workers:         c.workers,
		Schemas:         reg,
		ReflectServers:  c.schema.reflect,
		ReflectInsecure: c.schema.insecure,
		Redact:          c.redact,
		Warn:            warnTo(stderr),
	}
	if c.workers == 0 {
		o.Workers = sniff.Inline // --workers 0: in the reading goroutine
	}
	if in.live != nil {
		in.live.options(&o)
	}
	return o
}

// tcpOptions are the reassembly's options. On the command line 0 turns a
// reorder condition off, which capture.Options spells as a negative value
// (its zero selects the default).
func (l *limits) tcpOptions() capture.Options {
	o := capture.Options{MaxBufferedPerDirection: l.maxBuffered, MaxBufferedTotal: l.maxBufferedTotal,
		MaxConnections: l.maxConns, IdleTimeout: l.idleTimeout,
		ReorderWindow: l.reorderWindow, ReorderSegments: l.reorderSegments}
	if l.reorderWindow == 0 {
		o.ReorderWindow = -1
	}
	if l.reorderSegments == 0 {
		o.ReorderSegments = -1
	}
	return o
}

// rawOptions bound the schema-less protobuf decoding; on the command line
// --max-depth 0 means no nesting, which pbdecode spells as a negative depth.
func (l *limits) rawOptions() pbdecode.Options {
	o := pbdecode.Options{MaxDepth: l.maxDepth, MaxFields: l.maxFields}
	if l.maxDepth == 0 {
		o.MaxDepth = -1
	}
	return o
}

// output is where the calls go: a sink that is closed at the end.
type output interface {
	sniff.Sink
	Close() error
}

// output makes the sink the flags ask for, and sets the options that go
// with it: whether the Decoder releases the calls, whether message bytes
// are needed, and --partial's messages. With --otlp or --metrics-listen,
// the spans and metrics come first.
func (c *config) output(o *sniff.Options, reg *schema.Registry, expr *filter.Expr, std stdio, in *input) (output, error) {
	live := in.live != nil
	if c.otlp.endpoint == "" && c.metricsListen == "" {
		return c.callOutput(o, reg, expr, std.out, live), nil
	}
	t := &telemetryOutput{endpoint: c.otlp.endpoint, stderr: std.err, quiet: c.quiet}
	var err error
	if t.spans, err = c.newSpans(std.err, live); err != nil {
		return nil, err
	}
	if c.metricsListen != "" {
		if err := t.serveMetrics(c.metricsListen, in); err != nil {
			if t.spans != nil {
				_ = t.spans.Close()
			}
			return nil, err
		}
	}
	if c.headless() {
		o.ReleaseCalls = true
		return t, nil
	}
	t.next = c.callOutput(o, reg, expr, std.out, live)
	return t, nil
}

// callOutput makes the output of the calls themselves: the summary,
// NDJSON or text.
func (c *config) callOutput(o *sniff.Options, reg *schema.Registry, expr *filter.Expr, w io.Writer, live bool) output {
	// A file's calls are encoded on every core (in order).
	parallel := !live && c.workers > 0
	switch {
	case c.stats:
		o.ReleaseCalls = true
		// The summary counts messages and their lengths; a display
		// filter may look into their bytes.
		o.DropPayloads = c.filter == ""
		return &statsOutput{Stats: export.NewStats(), w: w}
	case c.json && c.live.partial:
		j := export.NewNDJSON(w)
		j.Options = c.exportOptions(reg)
		o.OnMessage = func(call *sniff.Call, request bool, index int, m *sniff.Message) {
			if expr.Match(call) {
				j.Message(call, request, index, m)
			}
		}
		return j
	case c.json && parallel:
		opts := c.exportOptions(reg)
		return export.NewOrderedWriter(w, func() func(dst []byte, c *grpcframe.Call) []byte {
			return (&export.Encoder{Options: opts}).AppendCall
		}, sniff.Release)
	case c.json:
		j := export.NewNDJSON(w)
		j.Options = c.exportOptions(reg)
		o.ReleaseCalls = true
		return j
	case parallel:
		return export.NewOrderedWriter(w, func() func(dst []byte, c *grpcframe.Call) []byte {
			return func(dst []byte, c *grpcframe.Call) []byte {
				return append(dst, export.FormatLine(c, time.Local)...)
			}
		}, sniff.Release)
	}
	o.ReleaseCalls = true
	return export.NewText(w)
}

func (c *config) exportOptions(reg *schema.Registry) export.Options {
	return export.Options{Schema: reg, Raw: c.limits.rawOptions(), MaxCallBytes: c.limits.maxCallBytes,
		MaxCallBytesHint: "see --max-call-bytes", Hints: c.hints}
}

// runBatch decodes the input to text, NDJSON or the per-method summary,
// then reports what was read on stderr.
func runBatch(c *config, in *input, reg *schema.Registry, expr *filter.Expr, sigs *stopSignals, std stdio) int {
	opts := c.sniffOptions(in, reg, std.err)
	if c.wantsFirstPass(in) {
		c.hints, opts.Methods = firstPass(c, in)
	}
	out, err := c.output(&opts, reg, expr, std, in)
	if err != nil {
		fmt.Fprintf(std.err, "%s: %v\n", progName, err)
		in.close()
		return exitError
	}
	if c.filter != "" {
		opts.Match = expr.Match
	}
	if in.live != nil {
		defer in.live.stopOn(sigs, c.live.duration, std.err)()
		defer in.live.reportOn(std.err)()
		defer in.live.watchLink()()
		// Like tcpdump's "listening on": the capture runs from here.
		fmt.Fprintf(std.err, "%s: %s\n", progName, in.live.describe())
	}
	sum, readErr := sniff.NewDecoder(opts).Run(context.Background(), in.src, out)
	if err := out.Close(); err != nil {
		fmt.Fprintf(std.err, "%s: writing output: %v\n", progName, err)
		in.close()
		return exitError
	}
	status := exitOK
	if readErr != nil {
		fmt.Fprintf(std.err, "%s: %v\n", progName, readErr)
		status = exitDamaged
	}
	if err := in.close(); err != nil {
		fmt.Fprintf(std.err, "%s: %v\n", progName, err)
		status = exitError
	}
	if !c.quiet {
		if in.live != nil {
			in.live.summary(std.err)
		}
		summarize(std.err, sum, summaryNotes(sum, &c.limits, c.keylog != ""), c.filter != "")
	}
	if sum.Found == 0 && status == exitOK && in.live == nil {
		fmt.Fprintf(std.err, "%s: no calls (gRPC, gRPC-Web, Connect, Twirp or HTTP) found in %s (%s, %s)\n",
			progName, in.name, export.Count(sum.Capture.Packets, "packet"), export.Count(sum.Capture.Connections, "TCP connection"))
		status = exitNoCalls
	}
	return status
}

// statsOutput writes the per-method summary when the capture is done. The
// decoding workers count most calls in parts of their own (sniff.Parter),
// added up at the end.
type statsOutput struct {
	*export.Stats
	w     io.Writer
	parts []*export.Stats
}

// Part implements sniff.Parter.
func (s *statsOutput) Part() sniff.Sink {
	p := export.NewStats()
	s.parts = append(s.parts, p)
	return p
}

func (s *statsOutput) Close() error {
	for _, p := range s.parts {
		s.Merge(p)
	}
	return s.WriteText(s.w)
}
