// Package otlp sends each call as an OpenTelemetry span over OTLP (gRPC or
// HTTP/protobuf), so that a capture's calls join the traces an
// observability pipeline already holds.
//
// It stands alone, apart from package export, because it pulls in the
// OpenTelemetry SDK and its exporters: the other outputs, the view and the
// library users of package sniff do not pay for them.
//
// A span has the call's own start and end times, attributes by the
// OpenTelemetry semantic conventions for RPC (span.go says which), one
// event per message, and the trace and parent of the trace context the
// request carried (W3C traceparent, grpc-trace-bin or B3; context.go).
// Spans are queued and sent in batches; when the queue is full because the
// collector is slow or down, spans are dropped and counted rather than
// slowing the capture (Exporter.Counts after Close accounts for every
// span). Options.Block makes a capture file's reading wait instead.
package otlp
