package otlp

import sdktrace "go.opentelemetry.io/otel/sdk/trace"

// SetSpanExporter makes o send spans to e rather than over OTLP.
func SetSpanExporter(o *Options, e sdktrace.SpanExporter) { o.exporter = e }
