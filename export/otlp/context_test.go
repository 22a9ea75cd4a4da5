package otlp

import (
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/grpcsniff/grpcsniff/h2decode"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

const (
	wantTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	wantParent = "00f067aa0ba902b7"
)

// traceBin is grpc-trace-bin's binary form for wantTrace and wantParent,
// sampled.
func traceBin(t *testing.T) []byte {
	t.Helper()
	tid, _ := hex.DecodeString(wantTrace)
	sid, _ := hex.DecodeString(wantParent)
	b := append([]byte{0, 0}, tid...)
	b = append(append(b, 1), sid...)
	return append(b, 2, 1)
}

func TestTraceContextJoined(t *testing.T) {
	bin := traceBin(t)
	tests := []struct {
		name string
		hs   []h2decode.HeaderField
		form string
	}{
		{"W3C traceparent", []h2decode.HeaderField{{Name: "traceparent", Value: "00-" + wantTrace + "-" + wantParent + "-01"}}, "traceparent"},
		{"grpc-trace-bin in base64", []h2decode.HeaderField{{Name: "grpc-trace-bin", Value: base64.StdEncoding.EncodeToString(bin)}}, "grpc-trace-bin"},
		{"grpc-trace-bin unpadded", []h2decode.HeaderField{{Name: "grpc-trace-bin", Value: base64.RawStdEncoding.EncodeToString(bin)}}, "grpc-trace-bin"},
		{"grpc-trace-bin as true binary", []h2decode.HeaderField{{Name: "grpc-trace-bin", Value: "\x00" + string(bin)}}, "grpc-trace-bin"},
		{"B3 single header", []h2decode.HeaderField{{Name: "b3", Value: wantTrace + "-" + wantParent + "-1"}}, "b3"},
		{"B3 headers", []h2decode.HeaderField{{Name: "x-b3-traceid", Value: wantTrace}, {Name: "x-b3-spanid", Value: wantParent}, {Name: "x-b3-sampled", Value: "1"}}, "b3"},
		{"traceparent first", []h2decode.HeaderField{{Name: "b3", Value: "a3ce929d0e0e4736-00f067aa0ba902b8"},
			{Name: "traceparent", Value: "00-" + wantTrace + "-" + wantParent + "-00"}}, "traceparent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spans, counts := exportCalls(t, Options{}, unaryCall(0, "", tt.hs...))
			s := spans[0]
			if got := s.SpanContext.TraceID().String(); got != wantTrace {
				t.Errorf("trace %s, want the request's %s", got, wantTrace)
			}
			if got := s.Parent.SpanID().String(); got != wantParent || !s.Parent.IsRemote() {
				t.Errorf("parent %s (remote %v), want %s", got, s.Parent.IsRemote(), wantParent)
			}
			if s.SpanContext.SpanID().String() == wantParent {
				t.Error("the span reuses its parent's id")
			}
			if attrs(s)["grpcsniff.trace_context"] != attribute.StringValue(tt.form) || counts.Joined != 1 {
				t.Errorf("form %v, joined %d", attrs(s)["grpcsniff.trace_context"].Emit(), counts.Joined)
			}
		})
	}
}

func TestB3ShortTraceID(t *testing.T) {
	spans, _ := exportCalls(t, Options{}, unaryCall(0, "", h2decode.HeaderField{Name: "b3", Value: "a3ce929d0e0e4736-" + wantParent}))
	if got := spans[0].SpanContext.TraceID().String(); got != "0000000000000000a3ce929d0e0e4736" {
		t.Errorf("trace %s: a 64-bit B3 trace id is padded on the left", got)
	}
}

func TestBadTraceContextStartsATrace(t *testing.T) {
	for _, h := range []h2decode.HeaderField{
		{Name: "traceparent", Value: "00-00000000000000000000000000000000-" + wantParent + "-01"},
		{Name: "traceparent", Value: "garbage"},
		{Name: "grpc-trace-bin", Value: "AAAA"},
		{Name: "grpc-trace-bin", Value: "\x00\x01"},
		{Name: "b3", Value: "0"},
		{Name: "b3", Value: "zz-yy"},
		{Name: "x-b3-traceid", Value: wantTrace},
		{Name: "traceparent", ValueUnknown: true},
	} {
		spans, counts := exportCalls(t, Options{}, unaryCall(0, "", h))
		if spans[0].Parent.IsValid() || counts.Joined != 0 || !spans[0].SpanContext.TraceID().IsValid() {
			t.Errorf("%q: %q: parent %v: a broken context must start a trace of its own", h.Name, h.Value, spans[0].Parent)
		}
	}
}

// FuzzParseTraceContext: a trace context is joined only when it is a
// valid remote one, and no header value panics.
func FuzzParseTraceContext(f *testing.F) {
	f.Add("00-"+wantTrace+"-"+wantParent+"-01", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", wantTrace+"-"+wantParent+"-1")
	f.Add("", "\x00\x00\x00", "")
	f.Fuzz(func(t *testing.T, tp, bin, b3 string) {
		hs := []h2decode.HeaderField{{Name: "traceparent", Value: tp}, {Name: "grpc-trace-bin", Value: bin}, {Name: "b3", Value: b3}}
		ctx, form := parentContext(hs)
		sc := trace.SpanContextFromContext(ctx)
		if (form != "") != sc.IsValid() || (form != "" && !sc.IsRemote()) {
			t.Fatalf("form %q with span context %v (valid %v)", form, sc, sc.IsValid())
		}
	})
}
