package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// collector receives OTLP traces, over HTTP/protobuf or gRPC, and keeps
// the spans with their service names.
type collector struct {
	coltrace.UnimplementedTraceServiceServer
	mu       sync.Mutex
	spans    []*tracepb.Span
	services []string
}

func (col *collector) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for range ss.Spans {
				col.services = append(col.services, stringAttr(rs.Resource.GetAttributes(), "service.name"))
			}
			col.spans = append(col.spans, ss.Spans...)
		}
	}
	return &coltrace.ExportTraceServiceResponse{}, nil
}

func (col *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := &coltrace.ExportTraceServiceRequest{}
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, req) != nil {
		http.Error(w, "not an OTLP traces request", http.StatusBadRequest)
		return
	}
	resp, _ := col.Export(r.Context(), req)
	b, _ := proto.Marshal(resp)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(b)
}

// httpCollector serves OTLP/HTTP on loopback and returns its URL.
func httpCollector(t *testing.T) (*collector, string) {
	col := &collector{}
	srv := httptest.NewServer(col)
	t.Cleanup(srv.Close)
	return col, srv.URL
}

// grpcCollector serves OTLP/gRPC on loopback and returns its address.
func grpcCollector(t *testing.T) (*collector, string) {
	col := &collector{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	coltrace.RegisterTraceServiceServer(srv, col)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return col, lis.Addr().String()
}

func stringAttr(kvs []*commonpb.KeyValue, key string) string {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value.GetStringValue()
		}
	}
	return ""
}

func (col *collector) names() []string {
	col.mu.Lock()
	defer col.mu.Unlock()
	var names []string
	for _, s := range col.spans {
		names = append(names, s.Name)
	}
	return names
}

// --otlp alone: no output but the spans, sent over OTLP/HTTP, with the
// service name and resource the environment gives.
func TestOTLPHeadlessOverHTTP(t *testing.T) {
	col, url := httpCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_SERVICE_NAME", "edge-sniffer")
	out, stderr, code := runCmd(t, nil, "-r", "../../testdata/pcaps/py_grpcdemo.pcap", "--otlp", url)
	if code != exitOK || out != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, stderr)
	}
	if !strings.Contains(stderr, "OTLP: 4 spans sent to "+url) {
		t.Errorf("stderr does not count the spans sent: %s", stderr)
	}
	names := col.names()
	if len(names) != 4 || !strings.Contains(strings.Join(names, " "), "demo.GRPCDemo/BidirectionalStreamingMethod") {
		t.Errorf("spans %v", names)
	}
	for _, s := range col.services {
		if s != "edge-sniffer" {
			t.Errorf("service.name %q, want OTEL_SERVICE_NAME's", s)
		}
	}
}

// --otlp beside --json: both outputs get every call; OTLP/gRPC; the older
// attributes too with rpc/dup; request metadata only as asked and never
// redacted.
func TestOTLPWithJSONOverGRPC(t *testing.T) {
	for _, redact := range []bool{false, true} {
		col, addr := grpcCollector(t)
		t.Setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "rpc/dup")
		args := []string{"-r", "../../testdata/pcaps/py_grpcdemo.pcap", "--json", "-q", "--otlp", addr, "--otlp-metadata", "user-agent"}
		if redact {
			args = append(args, "--redact=user-agent")
		}
		out, stderr, code := runCmd(t, nil, args...)
		if code != exitOK || strings.Count(out, "\n") != 4 {
			t.Fatalf("exit %d, %d lines: %s", code, strings.Count(out, "\n"), stderr)
		}
		if len(col.spans) != 4 {
			t.Fatalf("%d spans", len(col.spans))
		}
		for _, s := range col.spans {
			if stringAttr(s.Attributes, "rpc.system") != "grpc" || stringAttr(s.Attributes, "rpc.service") != "demo.GRPCDemo" {
				t.Errorf("span %s lacks the older attributes", s.Name)
			}
			ua := hasAttr(s.Attributes, "rpc.request.metadata.user-agent")
			if ua == redact {
				t.Errorf("redact %v: user-agent recorded %v", redact, ua)
			}
		}
	}
}

func hasAttr(kvs []*commonpb.KeyValue, key string) bool {
	for _, kv := range kvs {
		if kv.Key == key {
			return true
		}
	}
	return false
}

func TestOTLPUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--otlp", "ftp://collector"},
		{"--otlp-metadata", "x-tenant"},
	} {
		_, stderr, code := runCmd(t, nil, append([]string{"-r", "../../testdata/pcaps/py_grpcdemo.pcap"}, args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
}
