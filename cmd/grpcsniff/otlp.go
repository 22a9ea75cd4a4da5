package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/export/otlp"
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

// newSpans starts the span export the flags ask for; nil when --otlp was
// not given. The SDK's errors reach stderr once, and are counted after.
func (c *config) newSpans(stderr io.Writer, live bool) (*otlp.Exporter, error) {
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
	// A file waits for the collector (Block); a live capture drops spans
	// rather than packets.
	return otlp.New(context.Background(), otlp.Options{Endpoint: c.otlp.endpoint, Transport: tr, Block: !live,
		Metadata: c.otlp.metadata, Redacted: c.redact, Semconv: otlp.SemconvFromEnv(os.Getenv("OTEL_SEMCONV_STABILITY_OPT_IN"))})
}

// reportSpans closes the span export, which sends what is queued within
// otlp.DefaultFlushTimeout, and says what became of the spans (with -q,
// only when some were lost).
func reportSpans(spans *otlp.Exporter, endpoint string, stderr io.Writer, quiet bool) {
	if err := spans.Close(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
	}
	n := spans.Counts()
	if quiet && n.Failed == 0 && n.Dropped == 0 {
		return
	}
	fmt.Fprintf(stderr, "%s: OTLP: %s sent to %s", progName, export.Count(n.Sent, "span"), endpoint)
	if n.Failed > 0 || n.Dropped > 0 {
		fmt.Fprintf(stderr, "; %d failed (the collector refused them or did not answer), %d dropped (queue full, or unsent when the flush deadline passed)",
			n.Failed, n.Dropped)
	}
	if n.Joined > 0 {
		fmt.Fprintf(stderr, "; %d joined the trace their request carried", n.Joined)
	}
	fmt.Fprintln(stderr)
}
