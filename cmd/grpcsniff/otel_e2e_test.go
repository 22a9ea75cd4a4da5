//go:build e2e

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The end-to-end test of --otlp against a real tracing backend: Jaeger
// v2 (all-in-one, in-memory storage), whose binary GRPCSNIFF_JAEGER names
// (scripts/otel-e2e builds it and runs this test). It fails, and does not
// skip, when the binary is missing.

// jaegerConfig is Jaeger's configuration: OTLP in, the query API out, all
// on loopback ports chosen free, no telemetry of its own.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    enable_tracing: false
    storage:
      traces: mem
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
      http:
        endpoint: 127.0.0.1:%d
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`

// jaeger is a running Jaeger's ports.
type jaeger struct{ query, otlpGRPC, otlpHTTP int }

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startJaeger runs the binary GRPCSNIFF_JAEGER names until the test ends,
// and waits for its query API.
func startJaeger(t *testing.T) jaeger {
	bin := os.Getenv("GRPCSNIFF_JAEGER")
	if bin == "" {
		t.Fatal("GRPCSNIFF_JAEGER does not name a Jaeger binary: run scripts/otel-e2e, which builds one")
	}
	j := jaeger{query: freePort(t), otlpGRPC: freePort(t), otlpHTTP: freePort(t)}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, jaegerConfig, j.query, freePort(t), j.otlpGRPC, j.otlpHTTP), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "jaeger.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Jaeger: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("Jaeger's log:\n%s", b)
		}
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/services", j.query)); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return j
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("Jaeger's query API did not answer within 60 s")
		}
	}
}

// jaegerSpan is what the query API says of a span.
type jaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	StartTime int64 `json:"startTime"` // µs since the epoch
	Duration  int64 `json:"duration"`  // µs
	Tags      []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
	Logs []struct {
		Fields []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"fields"`
	} `json:"logs"`
}

func (s jaegerSpan) tag(key string) any {
	for _, t := range s.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return nil
}

// traces reads the traces of a service back, waiting for want of them
// (the backend stores batches as they come).
func (j jaeger) traces(t *testing.T, service string, want int) [][]jaegerSpan {
	url := fmt.Sprintf("http://127.0.0.1:%d/api/traces?service=%s&limit=1000&lookback=custom&start=0", j.query, service)
	var got [][]jaegerSpan
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Data []struct {
				Spans []jaegerSpan `json:"spans"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("Jaeger's answer: %v", err)
		}
		got = got[:0]
		for _, tr := range body.Data {
			got = append(got, tr.Spans)
		}
		if len(got) >= want {
			break
		}
	}
	return got
}

// py_grpcdemo.pcap in Jaeger: four traces of one span each, named by
// their methods, status OK, with one event per message, at the capture's
// own times; over OTLP/gRPC and OTLP/HTTP alike.
func TestE2EJaegerShowsTheCapture(t *testing.T) {
	j := startJaeger(t)
	starts := callStarts(t, "../../testdata/pcaps/py_grpcdemo.pcap")
	events := map[string]int{"demo.GRPCDemo/SimpleMethod": 2, "demo.GRPCDemo/ClientStreamingMethod": 4,
		"demo.GRPCDemo/ServerStreamingMethod": 4, "demo.GRPCDemo/BidirectionalStreamingMethod": 6}
	for _, proto := range []string{"grpc", "http/protobuf"} {
		service := "grpcdemo-" + strings.ReplaceAll(proto, "/", "-")
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", proto)
		t.Setenv("OTEL_SERVICE_NAME", service)
		endpoint := fmt.Sprintf("127.0.0.1:%d", j.otlpGRPC)
		if proto != "grpc" {
			endpoint = fmt.Sprintf("http://127.0.0.1:%d", j.otlpHTTP)
		}
		_, stderr, code := runCmd(t, nil, "-r", "../../testdata/pcaps/py_grpcdemo.pcap", "--otlp", endpoint)
		if code != exitOK || !strings.Contains(stderr, "4 spans sent") {
			t.Fatalf("%s: exit %d: %s", proto, code, stderr)
		}
		traces := j.traces(t, service, 4)
		if len(traces) != 4 {
			t.Fatalf("%s: %d traces in Jaeger, want 4", proto, len(traces))
		}
		for _, spans := range traces {
			s := spans[0]
			if len(spans) != 1 || events[s.OperationName] != len(s.Logs) {
				t.Errorf("%s: trace of %d spans, %q with %d events", proto, len(spans), s.OperationName, len(s.Logs))
			}
			if s.tag("rpc.response.status_code") != "OK" || s.tag("span.kind") != "server" || s.tag("error") != nil {
				t.Errorf("%s: %s: tags %v", proto, s.OperationName, s.Tags)
			}
			if start := time.UnixMicro(s.StartTime); !start.Equal(starts[s.OperationName]) {
				t.Errorf("%s: %s starts %v, not at the capture's time %v", proto, s.OperationName, start, starts[s.OperationName])
			}
		}
	}
}

// grpcgo_interop.pcap: the calls the conventions count as a server's
// errors (UNKNOWN, UNIMPLEMENTED) are errors in Jaeger with grpc-message;
// a client's cancel is not.
func TestE2EJaegerShowsErrors(t *testing.T) {
	j := startJaeger(t)
	t.Setenv("OTEL_SERVICE_NAME", "interop")
	_, stderr, code := runCmd(t, nil, "-r", "../../testdata/pcaps/grpcgo_interop.pcap", "--otlp", fmt.Sprintf("127.0.0.1:%d", j.otlpGRPC))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	traces := j.traces(t, "interop", 13)
	var errs []string
	for _, spans := range traces {
		s := spans[0]
		if s.tag("error") == true {
			errs = append(errs, fmt.Sprint(s.tag("error.type")))
			if s.tag("otel.status_description") == nil {
				t.Errorf("%s: error without grpc-message", s.OperationName)
			}
		}
	}
	slices.Sort(errs)
	if len(traces) != 13 || strings.Join(errs, " ") != "UNIMPLEMENTED UNKNOWN UNKNOWN UNKNOWN" {
		t.Errorf("%d traces, errors %v", len(traces), errs)
	}
}

// callStarts are the start times --json gives the calls of a capture, by
// method as span names have it.
func callStarts(t *testing.T, capture string) map[string]time.Time {
	out, stderr, code := runCmd(t, nil, "-r", capture, "--json", "-q")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	starts := map[string]time.Time{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var c struct {
			Method string    `json:"method"`
			Start  time.Time `json:"start"`
		}
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatal(err)
		}
		starts[strings.TrimPrefix(c.Method, "/")] = c.Start
	}
	return starts
}

// grpcgo_traced.pcap: each call that carried a trace context (traceparent
// from otelgrpc, grpc-trace-bin, b3, X-B3-*) is in Jaeger in the client's
// trace, a child of the span the client named; the call without one
// starts a trace of its own.
func TestE2EJaegerJoinsTraces(t *testing.T) {
	j := startJaeger(t)
	t.Setenv("OTEL_SERVICE_NAME", "traced")
	_, stderr, code := runCmd(t, nil, "-r", "../../testdata/pcaps/grpcgo_traced.pcap", "--otlp", fmt.Sprintf("127.0.0.1:%d", j.otlpGRPC))
	if code != exitOK || !strings.Contains(stderr, "4 joined") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	byTrace := map[string]jaegerSpan{}
	for _, spans := range j.traces(t, "traced", 5) {
		byTrace[spans[0].TraceID] = spans[0]
	}
	b, err := os.ReadFile("../../testdata/pcaps/grpcgo_traced.json")
	if err != nil {
		t.Fatal(err)
	}
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
		if !ok || len(s.References) != 1 || s.References[0].RefType != "CHILD_OF" || s.References[0].SpanID != sent.Parent {
			t.Errorf("%s: trace %s: span %+v, want a child of %s", sent.Name, sent.TraceID, s, sent.Parent)
		}
	}
	if len(byTrace) != 5 {
		t.Errorf("%d traces, want 5", len(byTrace))
	}
}
