package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/export/otlp"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/spf13/pflag"
)

// otlpFlags are the options of the span export.
type otlpFlags struct {
	endpoint string   // --otlp; "" when spans are not sent
	metadata []string // --otlp-metadata
}

func (f *otlpFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.endpoint, "otlp", "", "send each call as an OpenTelemetry span to the collector at `ENDPOINT` (host:port or URL; OTLP/gRPC unless OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf); alone, runs without other output")
	fs.StringSliceVar(&f.metadata, "otlp-metadata", nil, "with --otlp: record the request metadata `NAMES` (comma-separated) as span attributes (never redacted ones)")
}

// check rejects an endpoint the exporter cannot take, and
// --otlp-metadata without --otlp.
func (f *otlpFlags) check() error {
	if f.endpoint == "" {
		if len(f.metadata) > 0 {
			return usagef("--otlp-metadata goes with --otlp ENDPOINT")
		}
		return nil
	}
	if err := otlp.CheckEndpoint(f.endpoint); err != nil {
		return usagef("--otlp: %v", err)
	}
	return nil
}

// headless says whether spans are the only output: --otlp without
// --json, --text or --stats, on a terminal or not.
func (c *config) headless() bool {
	return c.otlp.endpoint != "" && !c.json && !c.text && !c.stats
}

// newSpans starts the span export the flags ask for; nil when --otlp was
// not given. The SDK's errors reach stderr once, and are counted after.
func (c *config) newSpans(stderr io.Writer) (*otlp.Exporter, error) {
	if c.otlp.endpoint == "" {
		return nil, nil
	}
	tr, err := otlp.TransportFromEnv()
	if err != nil {
		return nil, err
	}
	var reported atomic.Bool
	otlp.ReportErrors(func(err error) {
		if !reported.Swap(true) {
			fmt.Fprintf(stderr, "%s: OTLP: %v (is a collector listening at %s? later errors are counted in the summary)\n",
				progName, err, c.otlp.endpoint)
		}
	})
	return otlp.New(context.Background(), otlp.Options{Endpoint: c.otlp.endpoint, Transport: tr,
		Metadata: c.otlp.metadata, Redacted: c.redact, Semconv: otlp.SemconvFromEnv(os.Getenv("OTEL_SEMCONV_STABILITY_OPT_IN"))})
}

// spanOutput sends each call as a span, then hands it to the output the
// other flags chose (none when headless). The span is made first, as that
// output may release the call once it has it.
type spanOutput struct {
	spans    *otlp.Exporter
	next     output // nil when headless
	endpoint string
	stderr   io.Writer
	quiet    bool // -q: the counts only when spans were lost
}

// Call implements sniff.Sink.
func (s *spanOutput) Call(c *grpcframe.Call) {
	s.spans.Call(c)
	if s.next != nil {
		s.next.Call(c)
	}
}

// Flush implements sniff.Flusher for the output behind.
func (s *spanOutput) Flush() {
	if f, ok := s.next.(interface{ Flush() }); ok {
		f.Flush()
	}
}

// Drain implements sniff.Drainer for the output behind.
func (s *spanOutput) Drain() {
	if d, ok := s.next.(interface{ Drain() }); ok {
		d.Drain()
	}
}

// Close closes the output behind, then sends the spans still queued
// (within otlp.DefaultFlushTimeout) and says what became of them.
func (s *spanOutput) Close() error {
	var err error
	if s.next != nil {
		err = s.next.Close()
	}
	if cerr := s.spans.Close(); cerr != nil {
		fmt.Fprintf(s.stderr, "%s: %v\n", progName, cerr)
	}
	n := s.spans.Counts()
	if s.quiet && n.Failed == 0 && n.Dropped == 0 {
		return err
	}
	fmt.Fprintf(s.stderr, "%s: OTLP: %s sent to %s", progName, export.Count(n.Sent, "span"), s.endpoint)
	if n.Failed > 0 || n.Dropped > 0 {
		fmt.Fprintf(s.stderr, "; %d failed (the collector refused them or did not answer), %d dropped (queue full, or unsent when the flush deadline passed)",
			n.Failed, n.Dropped)
	}
	if n.Joined > 0 {
		fmt.Fprintf(s.stderr, "; %d joined the trace their request carried", n.Joined)
	}
	fmt.Fprintln(s.stderr)
	return err
}
