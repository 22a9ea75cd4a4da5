package otlp

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/grpcsniff/grpcsniff/export/rpcconv"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Transport is how spans reach the collector: OTLP over gRPC or over
// HTTP with protobuf bodies.
type Transport uint8

const (
	// GRPC is OTLP/gRPC (the collector's port 4317).
	GRPC Transport = iota
	// HTTPProtobuf is OTLP/HTTP with protobuf bodies (port 4318).
	HTTPProtobuf
)

// ParseTransport reads the values of OTEL_EXPORTER_OTLP_PROTOCOL that
// carry traces: "grpc" and "http/protobuf".
func ParseTransport(s string) (Transport, error) {
	switch s {
	case "grpc":
		return GRPC, nil
	case "http/protobuf":
		return HTTPProtobuf, nil
	}
	return GRPC, fmt.Errorf("OTLP protocol %q is not supported: use grpc or http/protobuf", s)
}

// TransportFromEnv is the protocol the standard environment asks for
// (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, then OTEL_EXPORTER_OTLP_PROTOCOL),
// gRPC when neither is set.
func TransportFromEnv() (Transport, error) {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := os.Getenv(name); v != "" {
			t, err := ParseTransport(v)
			if err != nil {
				return t, fmt.Errorf("%s: %w", name, err)
			}
			return t, nil
		}
	}
	return GRPC, nil
}

// Defaults of Options.
const (
	DefaultQueueSize    = 8192
	DefaultFlushTimeout = 5 * time.Second
)

// Options configure an Exporter. Everything the standard OTEL_EXPORTER_OTLP_*
// variables say (headers, certificates, compression, timeout) applies
// besides, as the OpenTelemetry exporters read them.
type Options struct {
	// Endpoint is the collector's URL: http://host:port for cleartext,
	// https://host:port for TLS; "host:port" alone means cleartext. With
	// HTTPProtobuf, a URL without a path gets /v1/traces.
	Endpoint  string
	Transport Transport
	// Metadata names the request headers (lowercase) recorded as
	// rpc.request.metadata.<name> attributes. Redacted ones never are.
	Metadata []string
	// Redacted names the headers whose values are hidden (--redact): they
	// are never recorded, whatever Metadata says.
	Redacted []string
	// Semconv says which RPC attribute sets spans carry.
	Semconv Semconv
	// QueueSize bounds the spans waiting to be sent (DefaultQueueSize when
	// 0); past it, spans are dropped and counted.
	QueueSize int
	// Block makes Call wait for room in the queue instead of dropping the
	// span: for a capture file, whose reading can wait for the collector,
	// never for a live capture, whose packets cannot. Once a batch has
	// failed (blockExportTimeout at most), the spans that follow are
	// dropped rather than waited for: a collector that is down must not
	// hold a file's reading for hours.
	Block bool
	// FlushTimeout bounds how long Close waits for queued spans to be sent
	// (DefaultFlushTimeout when 0).
	FlushTimeout time.Duration
	// Resource, when set, replaces the resource read from the environment
	// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES): for tests.
	Resource *resource.Resource
	// exporter, when set, replaces the OTLP exporter: for tests.
	exporter sdktrace.SpanExporter
}

// Counts say what became of the calls handed to an Exporter.
type Counts struct {
	Spans   int64 // spans made (calls of an RPC protocol)
	Skipped int64 // calls that were not RPCs (plain HTTP, CORS preflights): no span
	Sent    int64 // spans the collector accepted
	Failed  int64 // spans in batches the collector refused or never answered
	Dropped int64 // spans dropped because the queue was full, or still queued at Close
	Joined  int64 // spans whose trace came from the request's trace context
}

// Exporter is a sink that turns each call into a span and sends it over
// OTLP. Call never blocks on the network.
type Exporter struct {
	opts     Options
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
	meta     []metadataKey
	counted  *countingExporter
	spans    atomic.Int64
	skipped  atomic.Int64
	joined   atomic.Int64
	// final is the counts as Close left them: a batch still being sent
	// then is lost, whatever its late answer says.
	final atomic.Pointer[Counts]
}

// New starts an Exporter. It does not connect yet: a collector that is
// down only shows as failed spans.
func New(ctx context.Context, o Options) (*Exporter, error) {
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = DefaultFlushTimeout
	}
	exp := o.exporter
	if exp == nil {
		var err error
		if exp, err = newOTLP(ctx, o); err != nil {
			return nil, err
		}
	}
	res := o.Resource
	if res == nil {
		var err error
		if res, err = envResource(ctx); err != nil {
			return nil, err
		}
	}
	counted := &countingExporter{next: exp}
	// Unless told to block, the batcher drops a span when its queue is
	// full, and capture goes on.
	bopts := []sdktrace.BatchSpanProcessorOption{sdktrace.WithMaxQueueSize(o.QueueSize),
		sdktrace.WithMaxExportBatchSize(min(512, o.QueueSize))}
	if o.Block {
		bopts = append(bopts, sdktrace.WithBlocking(), sdktrace.WithExportTimeout(blockExportTimeout))
	}
	bsp := sdktrace.NewBatchSpanProcessor(counted, bopts...)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(bsp), sdktrace.WithResource(res),
		// Every call is a span, whatever the sampled flag of the trace
		// context it joins: the capture is the record.
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanLimits(spanLimits()))
	return &Exporter{opts: o, provider: tp, tracer: tp.Tracer(scopeName), meta: metadataKeys(o.Metadata, o.Redacted),
		counted: counted}, nil
}

// blockExportTimeout bounds how long a batch may take with Options.Block,
// retries included, before it counts as failed.
const blockExportTimeout = 10 * time.Second

// scopeName is the instrumentation scope of the spans.
const scopeName = "github.com/grpcsniff/grpcsniff/export/otlp"

// spanLimits lets a long stream's message events through: the SDK's
// default of 128 events would cut them silently.
func spanLimits() sdktrace.SpanLimits {
	l := sdktrace.NewSpanLimits()
	l.EventCountLimit = maxEvents
	return l
}

// newOTLP makes the OTLP exporter the options ask for.
func newOTLP(ctx context.Context, o Options) (sdktrace.SpanExporter, error) {
	u, err := endpointURL(o.Endpoint, o.Transport)
	if err != nil {
		return nil, err
	}
	if o.Transport == HTTPProtobuf {
		return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u))
	}
	return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(u))
}

// CheckEndpoint says whether endpoint is one Options.Endpoint takes, and
// if not, what it should look like.
func CheckEndpoint(endpoint string) error {
	_, err := endpointURL(endpoint, GRPC)
	return err
}

// endpointURL checks the endpoint and gives it a scheme (and, for
// OTLP/HTTP, the traces path) when it has none.
func endpointURL(endpoint string, t Transport) (string, error) {
	if !strings.Contains(endpoint, "://") {
		endpoint = "http://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("OTLP endpoint %q is not host:port or an http:// or https:// URL (e.g. http://localhost:4317)", endpoint)
	}
	if t == HTTPProtobuf && (u.Path == "" || u.Path == "/") {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// envResource is the resource of the spans: service.name "grpcsniff"
// unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise.
func envResource(ctx context.Context) (*resource.Resource, error) {
	r, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", "grpcsniff")),
		resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w (it takes key=value pairs separated by commas)", err)
	}
	return r, nil
}

// Call makes the call's span; it implements grpcframe.Sink. The span is
// queued for sending: Call returns without waiting for the network.
func (e *Exporter) Call(c *grpcframe.Call) {
	if !rpcconv.IsRPC(c) {
		e.skipped.Add(1)
		return
	}
	e.spans.Add(1)
	if e.opts.Block && e.counted.failed.Load() > 0 {
		return // the collector failed: dropped (Counts), not waited for
	}
	if e.record(c) {
		e.joined.Add(1)
	}
}

// Close sends what is queued, waiting at most Options.FlushTimeout, and
// stops the Exporter.
func (e *Exporter) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.FlushTimeout)
	defer cancel()
	err := e.provider.Shutdown(ctx)
	final := e.Counts()
	final.Dropped = max(0, final.Spans-final.Sent-final.Failed)
	e.final.Store(&final)
	if err != nil {
		return fmt.Errorf("sending spans to the OTLP collector: %w", err)
	}
	return nil
}

// Counts says what became of the calls so far: before Close, Dropped
// holds the spans still queued too; after Close, every span is sent,
// failed or dropped.
func (e *Exporter) Counts() Counts {
	if f := e.final.Load(); f != nil {
		return *f
	}
	c := Counts{Spans: e.spans.Load(), Skipped: e.skipped.Load(), Joined: e.joined.Load(),
		Sent: e.counted.sent.Load(), Failed: e.counted.failed.Load()}
	c.Dropped = max(0, c.Spans-c.Sent-c.Failed-e.counted.inFlight.Load())
	return c
}

// countingExporter counts the spans each batch carried, by outcome. The
// batcher's own drops are what the counts do not account for.
type countingExporter struct {
	next                   sdktrace.SpanExporter
	sent, failed, inFlight atomic.Int64
}

func (c *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	n := int64(len(spans))
	c.inFlight.Add(n)
	err := c.next.ExportSpans(ctx, spans)
	if err != nil {
		c.failed.Add(n)
	} else {
		c.sent.Add(n)
	}
	c.inFlight.Add(-n)
	return err
}

func (c *countingExporter) Shutdown(ctx context.Context) error { return c.next.Shutdown(ctx) }

// ReportErrors hands the OpenTelemetry SDK's errors (a batch the collector
// refused or never answered) to f instead of the standard logger. It is
// process-wide, as the SDK's error handler is.
func ReportErrors(f func(error)) { otel.SetErrorHandler(otel.ErrorHandlerFunc(f)) }
