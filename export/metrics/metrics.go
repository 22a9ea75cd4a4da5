// Package metrics counts calls as RED metrics (rate, errors, duration) by
// the OpenTelemetry semantic conventions for RPC, and grpcsniff's own
// health, for a Prometheus scrape of /metrics (--metrics-listen).
//
// The instruments are the OpenTelemetry SDK's, read by its Prometheus
// exporter into a client_golang registry that also holds the Go runtime
// and process collectors: the same instruments can later feed an OTLP
// metrics exporter, while Prometheus gets the names it expects
// (rpc.server.call.duration in seconds becomes
// rpc_server_call_duration_seconds). A package of its own because of
// those dependencies, which no other package needs.
package metrics

import (
	"context"
	"fmt"
	"net/http"

	"github.com/grpcsniff/grpcsniff/export/rpcconv"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// durationBuckets are the bucket bounds, in seconds, the conventions give
// rpc.server.call.duration.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// sizeBuckets are bounds in bytes for the message sizes, by powers of 4
// from 16 bytes to 16 MiB (the default --max-message-size).
var sizeBuckets = []float64{0, 16, 64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20}

// Metrics is a sink that counts calls, and the registry /metrics serves.
type Metrics struct {
	registry *prometheus.Registry
	provider *sdkmetric.MeterProvider
	meter    metric.Meter
	duration metric.Float64Histogram
	reqSize  metric.Int64Histogram
	respSize metric.Int64Histogram
	calls    metric.Int64Counter
}

// New makes the instruments and the registry.
func New() (*Metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	m := &Metrics{registry: reg, provider: provider, meter: provider.Meter("github.com/grpcsniff/grpcsniff/export/metrics")}
	if err := m.instruments(); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return m, nil
}

// instruments makes the RED instruments and the call counter.
func (m *Metrics) instruments() (err error) {
	if m.duration, err = m.meter.Float64Histogram("rpc.server.call.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of the RPCs seen, from their first captured packet to their last."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return err
	}
	if m.reqSize, err = m.meter.Int64Histogram("rpc.server.request.size", metric.WithUnit("By"),
		metric.WithDescription("Size of each request message, uncompressed."),
		metric.WithExplicitBucketBoundaries(sizeBuckets...)); err != nil {
		return err
	}
	if m.respSize, err = m.meter.Int64Histogram("rpc.server.response.size", metric.WithUnit("By"),
		metric.WithDescription("Size of each response message, uncompressed."),
		metric.WithExplicitBucketBoundaries(sizeBuckets...)); err != nil {
		return err
	}
	m.calls, err = m.meter.Int64Counter("grpcsniff.calls", metric.WithUnit("{call}"),
		metric.WithDescription("Calls decoded, by protocol, RPCs or not."))
	return err
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Call counts a call; it implements grpcframe.Sink. Every call counts in
// grpcsniff_calls_total; an RPC also in the duration histogram, and each
// of its messages whose size is known in a size histogram.
func (m *Metrics) Call(c *grpcframe.Call) {
	ctx := context.Background()
	m.calls.Add(ctx, 1, metric.WithAttributes(attribute.String("grpcsniff.protocol", c.Protocol.String())))
	if !rpcconv.IsRPC(c) {
		return
	}
	attrs := metric.WithAttributeSet(callAttributes(c))
	m.duration.Record(ctx, c.Duration().Seconds(), attrs)
	for _, msg := range c.Requests {
		if n, ok := rpcconv.UncompressedSize(msg); ok {
			m.reqSize.Record(ctx, n, attrs)
		}
	}
	for _, msg := range c.Responses {
		if n, ok := rpcconv.UncompressedSize(msg); ok {
			m.respSize.Record(ctx, n, attrs)
		}
	}
}

// callAttributes are what the RED metrics are split by: the system, the
// method, the status code and the error type, as the conventions name
// them, and the HTTP version.
func callAttributes(c *grpcframe.Call) attribute.Set {
	a := []attribute.KeyValue{attribute.String("rpc.system.name", rpcconv.SystemName(c.Protocol)),
		attribute.String("rpc.method", rpcconv.FullMethod(c)), attribute.String("network.transport", "tcp"),
		attribute.String("network.protocol.name", "http")}
	if sc := rpcconv.StatusCode(c); sc != "" {
		a = append(a, attribute.String("rpc.response.status_code", sc))
	}
	if et := rpcconv.ErrorType(c); et != "" {
		a = append(a, attribute.String("error.type", et))
	}
	if v := rpcconv.HTTPVersion(c.Transport); v != "" {
		a = append(a, attribute.String("network.protocol.version", v))
	}
	return attribute.NewSet(a...)
}

// Observe adds a counter whose value read is called for at each scrape:
// grpcsniff's own health (packets, kernel drops, spans sent or dropped).
// name is an OpenTelemetry name ("grpcsniff.capture.packets"); Prometheus
// sees it with _total.
func (m *Metrics) Observe(name, unit, description string, read func() int64) error {
	_, err := m.meter.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(description),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(read())
			return nil
		}))
	return err
}

// Close stops the instruments.
func (m *Metrics) Close() error { return m.provider.Shutdown(context.Background()) }
