package otlp_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
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

// exportCapture runs a shipped capture through the decoder, as the
// command does, into an Exporter whose spans it returns.
func exportCapture(t *testing.T, name string) (tracetest.SpanStubs, otlp.Counts) {
	t.Helper()
	src, err := capture.OpenFile("../../testdata/pcaps/" + name)
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
	return mem.GetSpans(), e.Counts()
}

// A real grpcio client and server: four calls, four traces, each with its
// messages as events.
func TestSpansOfARealCapture(t *testing.T) {
	spans, counts := exportCapture(t, "py_grpcdemo.pcap")
	if len(spans) != 4 || counts.Sent != 4 {
		t.Fatalf("%d spans, counts %+v", len(spans), counts)
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

// A real grpc-go client sent each trace context form (traceparent from
// otelgrpc); grpcgo_traced.json holds the trace and parent span ids it
// sent. Each sniffed span joins that trace as a child of that span; the
// call without a context starts a trace of its own.
func TestTraceContextsOfARealPeer(t *testing.T) {
	b, err := os.ReadFile("../../testdata/pcaps/grpcgo_traced.json")
	if err != nil {
		t.Fatal(err)
	}
	spans, counts := exportCapture(t, "grpcgo_traced.pcap")
	byTrace := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byTrace[s.SpanContext.TraceID().String()] = s
	}
	forms := map[string]string{"traceparent": "traceparent", "grpc-trace-bin": "grpc-trace-bin", "b3": "b3", "x-b3": "b3"}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var sent struct {
			Name    string `json:"name"`
			TraceID string `json:"trace_id"`
			Parent  string `json:"parent_span_id"`
		}
		if err := json.Unmarshal([]byte(line), &sent); err != nil {
			t.Fatal(err)
		}
		if sent.TraceID == "" {
			continue
		}
		s, ok := byTrace[sent.TraceID]
		if !ok {
			t.Errorf("%s: no span in trace %s", sent.Name, sent.TraceID)
			continue
		}
		var form string
		for _, kv := range s.Attributes {
			if kv.Key == "grpcsniff.trace_context" {
				form = kv.Value.AsString()
			}
		}
		if s.Parent.SpanID().String() != sent.Parent || !s.Parent.IsRemote() || form != forms[sent.Name] {
			t.Errorf("%s: parent %s (remote %v), form %q; the client sent parent %s", sent.Name, s.Parent.SpanID(), s.Parent.IsRemote(), form, sent.Parent)
		}
	}
	if len(spans) != 5 || counts.Joined != 4 {
		t.Errorf("%d spans, %d joined; want 5 and 4", len(spans), counts.Joined)
	}
}
