package otlp

import (
	"context"
	"encoding/hex"
	"strings"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The trace context forms a request may carry, as grpcsniff.trace_context
// names them.
const (
	contextW3C  = "traceparent"
	contextGRPC = "grpc-trace-bin"
	contextB3   = "b3"
)

// parentContext is the context a call's span starts in: the remote span
// of the first trace context the request headers carry (W3C traceparent,
// then grpc-trace-bin, then B3), with the form's name; a context with
// none, and "", when there is none or none is valid.
func parentContext(hs []h2decode.HeaderField) (context.Context, string) {
	ctx := context.Background()
	h := headerCarrier(hs)
	if sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(ctx, h)); sc.IsValid() {
		return trace.ContextWithRemoteSpanContext(ctx, sc), contextW3C
	}
	if sc, ok := parseGRPCTraceBin(h.Get("grpc-trace-bin")); ok {
		return trace.ContextWithRemoteSpanContext(ctx, sc), contextGRPC
	}
	if sc, ok := parseB3(h); ok {
		return trace.ContextWithRemoteSpanContext(ctx, sc), contextB3
	}
	return ctx, ""
}

// headerCarrier reads request headers for the W3C propagator. Fields
// whose text the capture lost are not there.
type headerCarrier []h2decode.HeaderField

// Get returns the first value of the header named key (lowercase).
func (h headerCarrier) Get(key string) string {
	key = strings.ToLower(key)
	for _, f := range h {
		if !f.NameUnknown && !f.ValueUnknown && f.Name == key {
			return f.Value
		}
	}
	return ""
}

// Set does nothing: a capture is only read.
func (h headerCarrier) Set(string, string) {}

// Keys lists the header names.
func (h headerCarrier) Keys() []string {
	keys := make([]string, 0, len(h))
	for _, f := range h {
		if !f.NameUnknown {
			keys = append(keys, f.Name)
		}
	}
	return keys
}

// grpcTraceBinLen is the size of grpc-trace-bin's binary form (OpenCensus
// binary format): version 0, field 0 and a 16-byte trace id, field 1 and
// an 8-byte span id, field 2 and one byte of options.
const grpcTraceBinLen = 29

// parseGRPCTraceBin reads grpc-trace-bin: base64 on the wire, or the raw
// bytes behind a 0x00 between peers that agreed on binary metadata (the
// header then holds the bytes themselves).
func parseGRPCTraceBin(v string) (trace.SpanContext, bool) {
	if v == "" {
		return trace.SpanContext{}, false
	}
	if b, err := grpcframe.DecodeBinHeader(v); err == nil {
		if sc, ok := traceBinContext(b); ok {
			return sc, true
		}
	}
	raw := []byte(v)
	if len(raw) == grpcTraceBinLen+1 && raw[0] == 0 {
		raw = raw[1:]
	}
	return traceBinContext(raw)
}

// traceBinContext reads the binary format's fields in their fixed order.
func traceBinContext(b []byte) (trace.SpanContext, bool) {
	if len(b) < grpcTraceBinLen || b[0] != 0 || b[1] != 0 || b[18] != 1 || b[27] != 2 {
		return trace.SpanContext{}, false
	}
	var cfg trace.SpanContextConfig
	copy(cfg.TraceID[:], b[2:18])
	copy(cfg.SpanID[:], b[19:27])
	cfg.TraceFlags = trace.TraceFlags(b[28] & 1)
	cfg.Remote = true
	sc := trace.NewSpanContext(cfg)
	return sc, sc.IsValid()
}

// parseB3 reads Zipkin's B3 headers: the single "b3" header
// (traceid-spanid[-sampled[-parentspanid]]) or X-B3-TraceId and
// X-B3-SpanId. A 64-bit trace id is padded to 128 bits with zeros on the
// left, as B3 says.
func parseB3(h headerCarrier) (trace.SpanContext, bool) {
	traceID, spanID, sampled := h.Get("x-b3-traceid"), h.Get("x-b3-spanid"), h.Get("x-b3-sampled")
	if single := h.Get("b3"); single != "" {
		parts := strings.Split(single, "-")
		if len(parts) < 2 {
			return trace.SpanContext{}, false
		}
		traceID, spanID, sampled = parts[0], parts[1], ""
		if len(parts) > 2 {
			sampled = parts[2]
		}
	}
	return b3Context(traceID, spanID, sampled == "1" || sampled == "d" || h.Get("x-b3-flags") == "1")
}

func b3Context(traceID, spanID string, sampled bool) (trace.SpanContext, bool) {
	if len(traceID) == 16 {
		traceID = strings.Repeat("0", 16) + traceID
	}
	var cfg trace.SpanContextConfig
	if len(traceID) != 32 || len(spanID) != 16 {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(cfg.TraceID[:], []byte(traceID)); err != nil {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(cfg.SpanID[:], []byte(spanID)); err != nil {
		return trace.SpanContext{}, false
	}
	if sampled {
		cfg.TraceFlags = trace.FlagsSampled
	}
	cfg.Remote = true
	sc := trace.NewSpanContext(cfg)
	return sc, sc.IsValid()
}
