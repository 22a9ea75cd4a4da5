// Command tracedclient calls helloworld.Greeter on a greeter server, each
// call inside a trace of the client's own, carrying that trace's context
// in one of the forms a sniffer joins:
//
//	traceparent     grpc-go instrumented with otelgrpc (W3C Trace Context)
//	grpc-trace-bin  the binary trace context, as gRPC's OpenCensus tracing sends it
//	b3              Zipkin's single b3 header
//	x-b3            Zipkin's X-B3-TraceId, X-B3-SpanId, X-B3-Sampled
//	none            no trace context
//
// It writes, to -spans, one JSON line per call: the name sent, the trace id
// and the id of the span the call's context names as its parent, so that a
// test can check the sniffed spans join those traces.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"log"
	"os"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	hwpb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/helloworld"
)

var (
	addr  = flag.String("addr", "127.0.0.1:50180", "server address")
	spans = flag.String("spans", "traced.json", "where the calls' trace ids and parent span ids are written")
)

// record is one line of -spans.
type record struct {
	Name    string `json:"name"`     // the HelloRequest name, which is the form
	TraceID string `json:"trace_id"` // "" for none
	Parent  string `json:"parent_span_id"`
}

func main() {
	flag.Parse()
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(mem))
	tracer := tp.Tracer("tracedclient")
	out, err := os.Create(*spans)
	if err != nil {
		log.Fatal(err)
	}
	enc := json.NewEncoder(out)

	// traceparent: otelgrpc makes the client span and sends its context.
	instrumented := dial(grpc.WithStatsHandler(otelgrpc.NewClientHandler(
		otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(propagation.TraceContext{}))))
	ctx, app := tracer.Start(context.Background(), "app")
	sayHello(ctx, hwpb.NewGreeterClient(instrumented), "traceparent")
	app.End()
	client := lastClientSpan(mem)
	_ = enc.Encode(record{"traceparent", client.TraceID().String(), client.SpanID().String()})
	instrumented.Close()

	plain := dial()
	defer plain.Close()
	gc := hwpb.NewGreeterClient(plain)
	for _, form := range []string{"grpc-trace-bin", "b3", "x-b3"} {
		ctx, span := tracer.Start(context.Background(), "app "+form)
		sc := span.SpanContext()
		sayHello(metadata.NewOutgoingContext(ctx, contextMetadata(form, sc)), gc, form)
		span.End()
		_ = enc.Encode(record{form, sc.TraceID().String(), sc.SpanID().String()})
	}
	sayHello(context.Background(), gc, "none")
	_ = enc.Encode(record{Name: "none"})
	if err := out.Close(); err != nil {
		log.Fatal(err)
	}
}

func dial(opts ...grpc.DialOption) *grpc.ClientConn {
	conn, err := grpc.NewClient(*addr, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		log.Fatal(err)
	}
	return conn
}

// sayHello calls SayHello with the form as the name; the server's answer
// does not matter here, only that the call succeeds.
func sayHello(ctx context.Context, c hwpb.GreeterClient, form string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.SayHello(ctx, &hwpb.HelloRequest{Name: form}); err != nil {
		log.Fatalf("SayHello with %s: %v", form, err)
	}
}

// lastClientSpan is the client span otelgrpc made last.
func lastClientSpan(mem *tracetest.InMemoryExporter) trace.SpanContext {
	got := mem.GetSpans()
	for i := len(got) - 1; i >= 0; i-- {
		if got[i].SpanKind == trace.SpanKindClient {
			return got[i].SpanContext
		}
	}
	log.Fatal("otelgrpc made no client span")
	return trace.SpanContext{}
}

// contextMetadata writes sc in the form named. grpc-go sends a -bin
// value in base64.
func contextMetadata(form string, sc trace.SpanContext) metadata.MD {
	tid, sid := sc.TraceID(), sc.SpanID()
	switch form {
	case "grpc-trace-bin":
		b := append([]byte{0, 0}, tid[:]...)
		b = append(append(b, 1), sid[:]...)
		return metadata.Pairs("grpc-trace-bin", string(append(b, 2, 1)))
	case "b3":
		return metadata.Pairs("b3", hex.EncodeToString(tid[:])+"-"+hex.EncodeToString(sid[:])+"-1")
	}
	return metadata.Pairs("x-b3-traceid", hex.EncodeToString(tid[:]), "x-b3-spanid", hex.EncodeToString(sid[:]), "x-b3-sampled", "1")
}
