package otlp

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/http2"
)

// exportCalls runs calls through an Exporter whose spans land in memory,
// and returns the spans in the order the calls were given.
func exportCalls(t *testing.T, o Options, calls ...*grpcframe.Call) (tracetest.SpanStubs, Counts) {
	t.Helper()
	mem := tracetest.NewInMemoryExporter()
	o.exporter, o.Resource = keepOnShutdown{mem}, resource.Empty()
	e, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		e.Call(c)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return tracetest.SpanStubsFromReadOnlySpans(mem.GetSpans().Snapshots()), e.Counts()
}

// keepOnShutdown keeps the spans of an in-memory exporter past Close,
// which would empty it.
type keepOnShutdown struct{ *tracetest.InMemoryExporter }

func (keepOnShutdown) Shutdown(context.Context) error { return nil }

// attrs turns a span's attributes into a map for lookups.
func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

var (
	t0     = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	client = netip.MustParseAddrPort("10.0.0.1:40000")
	server = netip.MustParseAddrPort("10.0.0.2:50051")
)

// unaryCall is a complete gRPC call with the status code given.
func unaryCall(code int, message string, hs ...h2decode.HeaderField) *grpcframe.Call {
	return &grpcframe.Call{
		Client: client, Server: server, Transport: h2decode.TransportH2C, StreamID: 1, GRPC: true,
		Method: "/helloworld.Greeter/SayHello", HTTPMethod: "POST", RequestHeaders: hs,
		Requests:  []*grpcframe.Message{{Length: 7, Time: t0.Add(time.Millisecond), Data: make([]byte, 7)}},
		Responses: []*grpcframe.Message{{Length: 12, Time: t0.Add(3 * time.Millisecond), Data: make([]byte, 12)}},
		Status:    &grpcframe.Status{Code: code, Name: grpcframe.CodeName(code), Message: message},
		Start:     t0, End: t0.Add(4 * time.Millisecond), State: grpcframe.StateComplete,
	}
}

func TestSpanOfAGRPCCall(t *testing.T) {
	spans, counts := exportCalls(t, Options{}, unaryCall(0, ""))
	if len(spans) != 1 || counts.Spans != 1 || counts.Sent != 1 || counts.Dropped != 0 {
		t.Fatalf("spans %d, counts %+v", len(spans), counts)
	}
	s := spans[0]
	if s.Name != "helloworld.Greeter/SayHello" || s.SpanKind != trace.SpanKindServer {
		t.Errorf("name %q kind %v", s.Name, s.SpanKind)
	}
	if !s.StartTime.Equal(t0) || !s.EndTime.Equal(t0.Add(4*time.Millisecond)) {
		t.Errorf("times %v – %v, want the capture's", s.StartTime, s.EndTime)
	}
	a := attrs(s)
	want := map[attribute.Key]attribute.Value{
		"rpc.system.name": attribute.StringValue("grpc"), "rpc.method": attribute.StringValue("helloworld.Greeter/SayHello"),
		"rpc.response.status_code": attribute.StringValue("OK"), "server.address": attribute.StringValue("10.0.0.2"),
		"server.port": attribute.IntValue(50051), "client.address": attribute.StringValue("10.0.0.1"),
		"client.port": attribute.IntValue(40000), "network.peer.address": attribute.StringValue("10.0.0.1"),
		"network.transport": attribute.StringValue("tcp"), "network.type": attribute.StringValue("ipv4"),
		"network.protocol.version": attribute.StringValue("2"), "grpcsniff.call.state": attribute.StringValue("complete"),
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%s = %v, want %v", k, a[k].Emit(), v.Emit())
		}
	}
	for _, k := range []attribute.Key{"rpc.system", "rpc.service", "rpc.grpc.status_code", "error.type", "grpcsniff.trace_context"} {
		if _, ok := a[k]; ok {
			t.Errorf("%s set without reason", k)
		}
	}
	if s.Status.Code != codes.Unset {
		t.Errorf("status %v, want unset for OK", s.Status)
	}
}

func TestMessageEvents(t *testing.T) {
	c := unaryCall(0, "")
	c.Requests = append(c.Requests, &grpcframe.Message{Length: 20, Compressed: true, Encoding: "gzip",
		Data: make([]byte, 300), Time: t0.Add(2 * time.Millisecond)})
	spans, _ := exportCalls(t, Options{}, c)
	ev := spans[0].Events
	type want struct {
		typ          string
		id           int64
		compressed   int64 // -1: absent
		uncompressed int64
	}
	wants := []want{{"RECEIVED", 1, -1, 7}, {"RECEIVED", 2, 20, 300}, {"SENT", 1, -1, 12}}
	if len(ev) != len(wants) {
		t.Fatalf("%d events, want %d", len(ev), len(wants))
	}
	for i, w := range wants {
		a := map[attribute.Key]attribute.Value{}
		for _, kv := range ev[i].Attributes {
			a[kv.Key] = kv.Value
		}
		got := want{a["rpc.message.type"].AsString(), a["rpc.message.id"].AsInt64(), -1, a["rpc.message.uncompressed_size"].AsInt64()}
		if v, ok := a["rpc.message.compressed_size"]; ok {
			got.compressed = v.AsInt64()
		}
		if ev[i].Name != "rpc.message" || got != w {
			t.Errorf("event %d: %s %+v, want %+v", i, ev[i].Name, got, w)
		}
	}
	if !ev[1].Time.Equal(t0.Add(2 * time.Millisecond)) {
		t.Errorf("event time %v, want the message's", ev[1].Time)
	}
}

func TestErrorClassification(t *testing.T) {
	reset := unaryCall(0, "")
	reset.Status, reset.State, reset.Responses = nil, grpcframe.StateReset, nil
	reset.ResetBy, reset.ResetCode = h2decode.RoleServer, http2.ErrCodeInternal
	cancel := unaryCall(0, "")
	cancel.Status, cancel.State, cancel.ResetBy, cancel.ResetCode = nil, grpcframe.StateReset, h2decode.RoleClient, http2.ErrCodeCancel
	cut := unaryCall(0, "")
	cut.Status, cut.State = nil, grpcframe.StateCut
	tests := []struct {
		name      string
		call      *grpcframe.Call
		errorType string // "" when the span is not an error
		code      string
	}{
		{"not found is the client's", unaryCall(5, "no such user"), "", "NOT_FOUND"},
		{"unavailable", unaryCall(14, "backend down"), "UNAVAILABLE", "UNAVAILABLE"},
		{"internal", unaryCall(13, "boom"), "INTERNAL", "INTERNAL"},
		{"reset by the server", reset, "reset", ""},
		{"cancelled by the client", cancel, "", ""},
		{"cut by the capture's end", cut, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spans, _ := exportCalls(t, Options{}, tt.call)
			s := spans[0]
			a := attrs(s)
			if got := a["error.type"].AsString(); got != tt.errorType {
				t.Errorf("error.type %q, want %q", got, tt.errorType)
			}
			if got := a["rpc.response.status_code"].AsString(); got != tt.code {
				t.Errorf("status code %q, want %q", got, tt.code)
			}
			if (s.Status.Code == codes.Error) != (tt.errorType != "") {
				t.Errorf("span status %v", s.Status)
			}
			if tt.call.Status != nil && s.Status.Code == codes.Error && s.Status.Description != tt.call.Status.Message {
				t.Errorf("description %q, want grpc-message %q", s.Status.Description, tt.call.Status.Message)
			}
			if got := a["grpcsniff.call.state"].AsString(); got != tt.call.State.String() {
				t.Errorf("state %q", got)
			}
		})
	}
}

func TestConnectAndOlderConventions(t *testing.T) {
	c := unaryCall(5, "nope")
	c.Protocol, c.Method = grpcframe.ProtoConnect, "/api/acme.v1.Users/Get"
	c.Status.ProtocolCode = "not_found"
	g := unaryCall(14, "down")
	spans, _ := exportCalls(t, Options{Semconv: SemconvFromEnv("http, rpc/dup")}, c, g)
	a := attrs(spans[0])
	if spans[0].Name != "acme.v1.Users/Get" || a["rpc.system.name"].AsString() != "connectrpc" ||
		a["rpc.response.status_code"].AsString() != "not_found" {
		t.Errorf("connect span %q %v", spans[0].Name, spans[0].Attributes)
	}
	if a["rpc.system"].AsString() != "connect_rpc" || a["rpc.service"].AsString() != "acme.v1.Users" ||
		a["rpc.connect_rpc.error_code"].AsString() != "not_found" {
		t.Errorf("older connect attributes %v", spans[0].Attributes)
	}
	a = attrs(spans[1])
	if a["rpc.system"].AsString() != "grpc" || a["rpc.grpc.status_code"].AsInt64() != 14 || a["rpc.method"].AsString() != "helloworld.Greeter/SayHello" {
		t.Errorf("older grpc attributes %v", spans[1].Attributes)
	}
	if SemconvFromEnv("rpc") != SemconvStable || SemconvFromEnv("") != SemconvStable {
		t.Error("only rpc/dup adds the older set")
	}
}

func TestUnknownMethodAndPlainHTTP(t *testing.T) {
	c := unaryCall(0, "")
	c.Method, c.MethodUnknown, c.MethodInferred = "", true, "/helloworld.Greeter/SayHello"
	web := unaryCall(0, "")
	web.Protocol = grpcframe.ProtoHTTP
	spans, counts := exportCalls(t, Options{}, c, web)
	if len(spans) != 1 || counts.Skipped != 1 || counts.Spans != 1 {
		t.Fatalf("%d spans, counts %+v: a plain HTTP request is no RPC span", len(spans), counts)
	}
	a := attrs(spans[0])
	if spans[0].Name != "grpc" || a["rpc.method"].AsString() != "_OTHER" || a["grpcsniff.method_inferred"].AsString() == "" {
		t.Errorf("span %q %v", spans[0].Name, spans[0].Attributes)
	}
}

func TestMetadataAttributesAndRedaction(t *testing.T) {
	c := unaryCall(0, "", h2decode.HeaderField{Name: "x-tenant", Value: "a"}, h2decode.HeaderField{Name: "x-tenant", Value: "b"},
		h2decode.HeaderField{Name: "authorization", Value: "Bearer s3cret"}, h2decode.HeaderField{Name: "x-key", Value: "[redacted]"})
	spans, _ := exportCalls(t, Options{Metadata: []string{"X-Tenant", "authorization", "x-key", "absent"},
		Redacted: []string{"authorization"}}, c)
	a := attrs(spans[0])
	if got := a["rpc.request.metadata.x-tenant"].AsStringSlice(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("x-tenant %v", got)
	}
	for _, k := range []attribute.Key{"rpc.request.metadata.authorization", "rpc.request.metadata.x-key", "rpc.request.metadata.absent"} {
		if v, ok := a[k]; ok {
			t.Errorf("%s = %v: redacted or absent headers are never recorded", k, v.Emit())
		}
	}
}
