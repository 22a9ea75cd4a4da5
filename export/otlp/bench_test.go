package otlp_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/export/otlp"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/sniff"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// benchCalls are the calls of a shipped capture, kept whole.
func benchCalls(b *testing.B, name string) []*grpcframe.Call {
	src, err := capture.OpenFile("../../testdata/pcaps/" + name)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	var calls []*grpcframe.Call
	if _, err := sniff.NewDecoder(sniff.Options{}).Run(context.Background(), src, grpcframe.SinkFunc(func(c *grpcframe.Call) {
		calls = append(calls, c)
	})); err != nil {
		b.Fatal(err)
	}
	return calls
}

// discard is a collector that takes every batch at once.
type discard struct{ spans atomic.Int64 }

func (d *discard) ExportSpans(_ context.Context, s []sdktrace.ReadOnlySpan) error {
	d.spans.Add(int64(len(s)))
	return nil
}
func (d *discard) Shutdown(context.Context) error { return nil }

// receiver is an OTLP/gRPC collector on loopback that counts the spans.
type receiver struct {
	coltrace.UnimplementedTraceServiceServer
	spans atomic.Int64
}

func (r *receiver) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			r.spans.Add(int64(len(ss.Spans)))
		}
	}
	return &coltrace.ExportTraceServiceResponse{}, nil
}

// runExport sends calls as spans b.N times over and reports calls/s,
// counting only the spans that arrived.
func runExport(b *testing.B, o otlp.Options, calls []*grpcframe.Call, arrived func() int64) {
	o.Resource, o.QueueSize = resource.Empty(), 1<<16
	e, err := otlp.New(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		for _, c := range calls {
			e.Call(c)
		}
	}
	if err := e.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(arrived())/b.Elapsed().Seconds(), "calls/s")
	if n := e.Counts(); n.Dropped > 0 {
		b.ReportMetric(float64(n.Dropped), "dropped")
	}
}

// BenchmarkSpans is the cost of making the spans of grpcgo_interop.pcap's
// calls, the network aside.
func BenchmarkSpans(b *testing.B) {
	calls := benchCalls(b, "grpcgo_interop.pcap")
	d := &discard{}
	o := otlp.Options{}
	otlp.SetSpanExporter(&o, d)
	runExport(b, o, calls, d.spans.Load)
}

// BenchmarkSpansOverOTLP sends them to an OTLP/gRPC collector on loopback.
func BenchmarkSpansOverOTLP(b *testing.B) {
	calls := benchCalls(b, "grpcgo_interop.pcap")
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer()
	r := &receiver{}
	coltrace.RegisterTraceServiceServer(srv, r)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	runExport(b, otlp.Options{Endpoint: lis.Addr().String()}, calls, r.spans.Load)
}
