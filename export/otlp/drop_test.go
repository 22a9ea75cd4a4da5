package otlp

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// stalledCollector takes no batch until released, as a collector that is
// slow or down; then it accepts them all, or refuses them.
type stalledCollector struct {
	release chan struct{}
	refuse  bool
}

func (s *stalledCollector) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	if s.refuse {
		return errors.New("refused")
	}
	return nil
}

func (s *stalledCollector) Shutdown(context.Context) error { return nil }

// A stalled collector never blocks Call: once the queue is full the spans
// are dropped, and every span is accounted for at Close.
func TestStalledCollectorDropsAndCounts(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		col := &stalledCollector{release: make(chan struct{}), refuse: refuse}
		e, err := New(context.Background(), Options{exporter: col, Resource: resource.Empty(), QueueSize: 4})
		if err != nil {
			t.Fatal(err)
		}
		const calls = 200
		for range calls {
			e.Call(unaryCall(0, ""))
		}
		close(col.release)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		c := e.Counts()
		if c.Spans != calls || c.Dropped == 0 || c.Sent+c.Failed+c.Dropped != calls {
			t.Errorf("refuse %v: counts %+v: the spans past the queue must be dropped, and all accounted for", refuse, c)
		}
		if (c.Failed > 0) != refuse || (c.Sent > 0) == refuse {
			t.Errorf("refuse %v: counts %+v", refuse, c)
		}
	}
}

// acceptingCollector takes every batch at once and counts the spans.
type acceptingCollector struct{ spans int }

func (a *acceptingCollector) ExportSpans(_ context.Context, s []sdktrace.ReadOnlySpan) error {
	a.spans += len(s)
	return nil
}

func (a *acceptingCollector) Shutdown(context.Context) error { return nil }

// With Block (a capture file), a queue smaller than the calls loses none:
// Call waits for room.
func TestBlockLosesNothing(t *testing.T) {
	col := &acceptingCollector{}
	e, err := New(context.Background(), Options{exporter: col, Resource: resource.Empty(), QueueSize: 4, Block: true})
	if err != nil {
		t.Fatal(err)
	}
	for range 500 {
		e.Call(unaryCall(0, ""))
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if c := e.Counts(); c.Sent != 500 || c.Dropped != 0 || col.spans != 500 {
		t.Errorf("counts %+v, collector %d: blocking must lose no span", c, col.spans)
	}
}

// With Block and a collector that refuses, the first failed batch ends
// the waiting: the spans after it are dropped, every one accounted for.
func TestBlockStopsWaitingOnFailure(t *testing.T) {
	col := &stalledCollector{release: make(chan struct{}), refuse: true}
	close(col.release)
	e, err := New(context.Background(), Options{exporter: col, Resource: resource.Empty(), QueueSize: 4, Block: true})
	if err != nil {
		t.Fatal(err)
	}
	for range 500 {
		e.Call(unaryCall(0, ""))
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if c := e.Counts(); c.Failed == 0 || c.Dropped == 0 || c.Sent != 0 || c.Failed+c.Dropped != 500 {
		t.Errorf("counts %+v", c)
	}
}

// With no collector listening, Close gives up after FlushTimeout, and
// nothing is counted as sent.
func TestNoCollector(t *testing.T) {
	for _, tr := range []Transport{GRPC, HTTPProtobuf} {
		e, err := New(context.Background(), Options{Endpoint: "127.0.0.1:1", Transport: tr, Resource: resource.Empty(),
			FlushTimeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			e.Call(unaryCall(0, ""))
		}
		_ = e.Close() // the error says the deadline passed
		c := e.Counts()
		if c.Sent != 0 || c.Failed+c.Dropped != 10 {
			t.Errorf("transport %d: counts %+v", tr, c)
		}
	}
}

func TestEndpointURL(t *testing.T) {
	tests := []struct {
		in   string
		tr   Transport
		want string
	}{
		{"localhost:4317", GRPC, "http://localhost:4317"},
		{"https://collector.example:4317", GRPC, "https://collector.example:4317"},
		{"localhost:4318", HTTPProtobuf, "http://localhost:4318/v1/traces"},
		{"http://localhost:4318/custom", HTTPProtobuf, "http://localhost:4318/custom"},
		{"ftp://x:1", GRPC, ""},
		{"http://", GRPC, ""},
	}
	for _, tt := range tests {
		got, err := endpointURL(tt.in, tt.tr)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("%q: %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := ParseTransport("http/json"); err == nil {
		t.Error("http/json is not supported, and must say so")
	}
}
