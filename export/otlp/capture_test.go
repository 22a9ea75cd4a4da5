package otlp_test

import (
	"context"
	"testing"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/export/otlp"
	"github.com/grpcsniff/grpcsniff/sniff"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// memoryCollector keeps the spans past Close, which would empty an
// in-memory exporter.
type memoryCollector struct{ *tracetest.InMemoryExporter }

func (memoryCollector) Shutdown(context.Context) error { return nil }

// A real grpcio client and server: four calls, four traces, each with its
// messages as events, through the decoder as the command runs it.
func TestSpansOfARealCapture(t *testing.T) {
	src, err := capture.OpenFile("../../testdata/pcaps/py_grpcdemo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	mem := memoryCollector{tracetest.NewInMemoryExporter()}
	o := otlp.Options{Resource: resource.Empty()}
	otlp.SetSpanExporter(&o, mem)
	e, err := otlp.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sniff.NewDecoder(sniff.Options{ReleaseCalls: true}).Run(context.Background(), src, e); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	spans := mem.GetSpans()
	if len(spans) != 4 || e.Counts().Sent != 4 {
		t.Fatalf("%d spans, counts %+v", len(spans), e.Counts())
	}
	events := map[string]int{"demo.GRPCDemo/SimpleMethod": 2, "demo.GRPCDemo/ClientStreamingMethod": 4,
		"demo.GRPCDemo/ServerStreamingMethod": 4, "demo.GRPCDemo/BidirectionalStreamingMethod": 6}
	traces := map[trace.TraceID]bool{}
	for _, s := range spans {
		traces[s.SpanContext.TraceID()] = true
		if n, ok := events[s.Name]; !ok || len(s.Events) != n {
			t.Errorf("span %q with %d events", s.Name, len(s.Events))
		}
		code, port := "", int64(0)
		for _, kv := range s.Attributes {
			switch kv.Key {
			case "rpc.response.status_code":
				code = kv.Value.AsString()
			case "server.port":
				port = kv.Value.AsInt64()
			}
		}
		if code != "OK" || port != 23333 {
			t.Errorf("span %q: status code %q, server port %d", s.Name, code, port)
		}
		if s.Parent.IsValid() {
			t.Errorf("span %q has a parent, but the capture carries no trace context", s.Name)
		}
	}
	if len(traces) != 4 {
		t.Errorf("%d traces, want one per call", len(traces))
	}
}
