package otlp

import (
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/export/rpcconv"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Semconv says which sets of RPC attributes a span carries.
type Semconv uint8

const (
	// SemconvStable is the current RPC conventions (release candidate):
	// rpc.system.name, rpc.method as "pkg.Service/Method",
	// rpc.response.status_code as the code's name.
	SemconvStable Semconv = iota
	// SemconvDup adds the older experimental set that dashboards still key
	// on: rpc.system, rpc.service, rpc.grpc.status_code (a number) and
	// rpc.connect_rpc.error_code. rpc.method keeps the current form, as
	// one key can hold one value.
	SemconvDup
)

// SemconvFromEnv reads OTEL_SEMCONV_STABILITY_OPT_IN (a comma-separated
// list): "rpc/dup" asks for both sets; anything else, the current one.
func SemconvFromEnv(v string) Semconv {
	for _, s := range strings.Split(v, ",") {
		if strings.TrimSpace(s) == "rpc/dup" {
			return SemconvDup
		}
	}
	return SemconvStable
}

// maxEvents bounds the events of one span (messages and notes): a stream
// of a million messages would otherwise make a span the collector
// refuses. The span says how many were left out.
const maxEvents = 1024

// record makes and ends the call's span, and reports whether it joined a
// trace context from the request.
func (e *Exporter) record(c *grpcframe.Call) bool {
	start, end := spanTimes(c)
	ctx, joined := parentContext(c.RequestHeaders)
	attrs := e.attributes(c, joined)
	_, span := e.tracer.Start(ctx, spanName(c), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(start), trace.WithAttributes(attrs...))
	addEvents(span, c)
	if failed, desc := rpcconv.Classify(c); failed {
		span.SetStatus(codes.Error, desc)
	}
	span.End(trace.WithTimestamp(end))
	return joined != ""
}

// spanTimes are the call's start and end as captured. A call whose start
// was not captured starts at its first packet seen, which grpcframe puts
// in Start; a call with neither is an instant.
func spanTimes(c *grpcframe.Call) (start, end time.Time) {
	start, end = c.Start, c.End
	if start.IsZero() {
		start = end
	}
	if end.IsZero() || end.Before(start) {
		end = start
	}
	return start, end
}

// spanName is rpc.method when the method is known, otherwise the RPC
// system's name, as the conventions ask.
func spanName(c *grpcframe.Call) string {
	if m := rpcconv.FullMethod(c); m != "_OTHER" {
		return m
	}
	return rpcconv.SystemName(c.Protocol)
}

// attributes are the span's attributes: the RPC conventions' and
// grpcsniff's own, which say what the capture knows of the call.
func (e *Exporter) attributes(c *grpcframe.Call, joined string) []attribute.KeyValue {
	a := make([]attribute.KeyValue, 0, 24)
	a = append(a, attribute.String("rpc.system.name", rpcconv.SystemName(c.Protocol)),
		attribute.String("rpc.method", rpcconv.FullMethod(c)))
	if c.MethodUnknown && c.MethodInferred != "" {
		a = append(a, attribute.String("grpcsniff.method_inferred", c.MethodInferred))
	}
	if sc := rpcconv.StatusCode(c); sc != "" {
		a = append(a, attribute.String("rpc.response.status_code", sc))
	}
	if et := rpcconv.ErrorType(c); et != "" {
		a = append(a, attribute.String("error.type", et))
	}
	a = appendNetwork(a, c)
	if e.opts.Semconv == SemconvDup {
		a = appendOld(a, c)
	}
	a = appendState(a, c)
	if joined != "" {
		a = append(a, attribute.String("grpcsniff.trace_context", joined))
	}
	return e.appendMetadata(a, c.RequestHeaders)
}

// appendNetwork adds where the call went, as a server span sees it: the
// peer is the client.
func appendNetwork(a []attribute.KeyValue, c *grpcframe.Call) []attribute.KeyValue {
	if c.Server.IsValid() {
		a = append(a, attribute.String("server.address", c.Server.Addr().Unmap().String()),
			attribute.Int("server.port", int(c.Server.Port())))
	}
	if c.Client.IsValid() {
		a = append(a, attribute.String("client.address", c.Client.Addr().Unmap().String()),
			attribute.Int("client.port", int(c.Client.Port())),
			attribute.String("network.peer.address", c.Client.Addr().Unmap().String()),
			attribute.Int("network.peer.port", int(c.Client.Port())))
		a = append(a, attribute.String("network.type", networkType(c)))
	}
	a = append(a, attribute.String("network.transport", "tcp"), attribute.String("network.protocol.name", "http"))
	if v := rpcconv.HTTPVersion(c.Transport); v != "" {
		a = append(a, attribute.String("network.protocol.version", v))
	}
	return a
}

func networkType(c *grpcframe.Call) string {
	if c.Client.Addr().Unmap().Is4() {
		return "ipv4"
	}
	return "ipv6"
}

// appendOld adds the experimental RPC attributes (OTEL_SEMCONV_STABILITY_OPT_IN=rpc/dup).
func appendOld(a []attribute.KeyValue, c *grpcframe.Call) []attribute.KeyValue {
	a = append(a, attribute.String("rpc.system", rpcconv.OldSystemName(c.Protocol)))
	if m := rpcconv.FullMethod(c); m != "_OTHER" {
		a = append(a, attribute.String("rpc.service", m[:strings.LastIndexByte(m, '/')]))
	}
	if c.Status == nil {
		return a
	}
	if c.Protocol == grpcframe.ProtoConnect && c.Status.ProtocolCode != "" {
		return append(a, attribute.String("rpc.connect_rpc.error_code", c.Status.ProtocolCode))
	}
	return append(a, attribute.Int("rpc.grpc.status_code", c.Status.Code))
}

// appendState adds what the capture knows of the call besides the RPC:
// how it ended, and what of it was not captured.
func appendState(a []attribute.KeyValue, c *grpcframe.Call) []attribute.KeyValue {
	a = append(a, attribute.String("grpcsniff.call.state", c.State.String()),
		attribute.Int64("grpcsniff.connection.id", int64(c.ConnID)),
		attribute.Int("grpcsniff.stream.id", int(c.StreamID)),
		attribute.String("grpcsniff.protocol", c.Protocol.String()))
	if c.StartedBeforeCapture {
		a = append(a, attribute.Bool("grpcsniff.call.started_before_capture", true))
	}
	if c.LostBytes {
		a = append(a, attribute.Bool("grpcsniff.call.lost_bytes", true))
	}
	if c.State == grpcframe.StateReset {
		a = append(a, attribute.String("grpcsniff.call.reset_code", c.ResetCode.String()),
			attribute.String("grpcsniff.call.reset_by", c.ResetBy.String()))
	}
	if c.Status != nil && c.Status.Message != "" {
		a = append(a, attribute.String("grpcsniff.status.message", c.Status.Message))
	}
	return a
}

// addEvents adds one event per message, requests and responses in the
// order they were captured, and one per note; at most maxEvents in all.
func addEvents(span trace.Span, c *grpcframe.Call) {
	req, resp, n := 0, 0, 0
	for req < len(c.Requests) || resp < len(c.Responses) {
		if n == maxEvents-1 {
			span.SetAttributes(attribute.Int("grpcsniff.events_left_out", len(c.Requests)+len(c.Responses)-req-resp))
			break
		}
		if resp >= len(c.Responses) || (req < len(c.Requests) && !c.Responses[resp].Time.Before(c.Requests[req].Time)) {
			req++
			addMessage(span, c.Requests[req-1], "RECEIVED", req, c.End)
		} else {
			resp++
			addMessage(span, c.Responses[resp-1], "SENT", resp, c.End)
		}
		n++
	}
	for _, note := range c.Notes {
		span.AddEvent("grpcsniff.note", trace.WithTimestamp(c.End), trace.WithAttributes(
			attribute.String("grpcsniff.note.kind", note.Kind.String()), attribute.String("grpcsniff.note.text", note.Text)))
	}
}

// addMessage adds a message's event: its direction as the server sees it
// (requests RECEIVED, responses SENT), its number in that direction from
// 1, and its sizes. A message without a time of its own takes the call's
// end.
func addMessage(span trace.Span, m *grpcframe.Message, typ string, id int, end time.Time) {
	a := []attribute.KeyValue{attribute.String("rpc.message.type", typ), attribute.Int("rpc.message.id", id)}
	if m.Compressed {
		a = append(a, attribute.Int64("rpc.message.compressed_size", int64(m.Length)))
	}
	if n, ok := rpcconv.UncompressedSize(m); ok {
		a = append(a, attribute.Int64("rpc.message.uncompressed_size", n))
	}
	if m.Truncated {
		a = append(a, attribute.Bool("grpcsniff.message.truncated", true))
	}
	if m.Err != "" {
		a = append(a, attribute.String("grpcsniff.message.error", m.Err))
	}
	at := m.Time
	if at.IsZero() {
		at = end
	}
	span.AddEvent("rpc.message", trace.WithTimestamp(at), trace.WithAttributes(a...))
}
