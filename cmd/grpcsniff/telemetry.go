package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/grpcsniff/grpcsniff/export/metrics"
	"github.com/grpcsniff/grpcsniff/export/otlp"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/spf13/pflag"
)

// headless says whether spans and metrics are the only outputs: --otlp or
// --metrics-listen without --json, --text or --stats, on a terminal or
// not.
func (c *config) headless() bool {
	return (c.otlp.endpoint != "" || c.metricsListen != "") && !c.json && !c.text && !c.stats
}

func (c *config) registerMetrics(fs *pflag.FlagSet) {
	fs.StringVar(&c.metricsListen, "metrics-listen", "", "serve Prometheus metrics at http://`ADDR`/metrics while running (RED metrics per method and status, packets, kernel drops, spans sent); alone, runs without other output")
}

// telemetryOutput hands each call to the span export and the metrics, then
// to the output the other flags chose (none when headless). They come
// first, as that output may release the call once it has it.
type telemetryOutput struct {
	spans    *otlp.Exporter   // nil without --otlp
	metrics  *metrics.Metrics // nil without --metrics-listen
	server   *http.Server
	next     output // nil when headless
	endpoint string
	stderr   io.Writer
	quiet    bool
}

// Call implements sniff.Sink.
func (t *telemetryOutput) Call(c *grpcframe.Call) {
	if t.spans != nil {
		t.spans.Call(c)
	}
	if t.metrics != nil {
		t.metrics.Call(c)
	}
	if t.next != nil {
		t.next.Call(c)
	}
}

// Flush implements sniff.Flusher for the output behind.
func (t *telemetryOutput) Flush() {
	if f, ok := t.next.(interface{ Flush() }); ok {
		f.Flush()
	}
}

// Drain implements sniff.Drainer for the output behind.
func (t *telemetryOutput) Drain() {
	if d, ok := t.next.(interface{ Drain() }); ok {
		d.Drain()
	}
}

// Close closes the output behind, sends the spans still queued and says
// what became of them, and stops serving the metrics.
func (t *telemetryOutput) Close() error {
	var err error
	if t.next != nil {
		err = t.next.Close()
	}
	if t.spans != nil {
		reportSpans(t.spans, t.endpoint, t.stderr, t.quiet)
	}
	if t.server != nil {
		_ = t.server.Close()
		err = errors.Join(err, t.metrics.Close())
	}
	return err
}

// serveMetrics starts --metrics-listen: the metrics, their health
// counters, and the HTTP server, which runs until Close.
func (t *telemetryOutput) serveMetrics(addr string, in *input) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--metrics-listen: %w (give a free HOST:PORT, e.g. 127.0.0.1:9464 or :9464)", err)
	}
	m, err := metrics.New()
	if err != nil {
		ln.Close()
		return err
	}
	if err := t.observeHealth(m, in); err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	t.metrics, t.server = m, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = t.server.Serve(ln) }()
	fmt.Fprintf(t.stderr, "%s: metrics at http://%s/metrics\n", progName, ln.Addr())
	return nil
}

// observeHealth adds grpcsniff's own counters: the live capture's packets
// and drops, and what became of the spans.
func (t *telemetryOutput) observeHealth(m *metrics.Metrics, in *input) error {
	var errs []error
	if in.live != nil {
		src := in.live.src
		errs = append(errs,
			m.Observe("grpcsniff.capture.packets", "{packet}", "Packets that passed the capture filter.", func() int64 { return int64(src.Stats().Received) }),
			m.Observe("grpcsniff.capture.kernel_drops", "{packet}", "Packets the kernel dropped for want of ring space (try a larger -B).", func() int64 { return int64(src.Stats().KernelDrops) }),
			m.Observe("grpcsniff.capture.interface_drops", "{packet}", "Packets the interface dropped.", func() int64 { return int64(src.Stats().InterfaceDrops) }))
	}
	if spans := t.spans; spans != nil {
		errs = append(errs,
			m.Observe("grpcsniff.otlp.spans", "{span}", "Spans made, one per RPC.", func() int64 { return spans.Counts().Spans }),
			m.Observe("grpcsniff.otlp.spans.sent", "{span}", "Spans the collector accepted.", func() int64 { return spans.Counts().Sent }),
			m.Observe("grpcsniff.otlp.spans.failed", "{span}", "Spans in batches the collector refused or never answered.", func() int64 { return spans.Counts().Failed }),
			m.Observe("grpcsniff.otlp.spans.unsent", "{span}", "Spans neither sent nor failed: queued, or dropped because the queue was full.", func() int64 { return spans.Counts().Dropped }))
	}
	return errors.Join(errs...)
}
