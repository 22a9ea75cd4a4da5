//go:build linux

package main

import (
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// scrapeMetrics reads /metrics at addr, parsed.
func scrapeMetrics(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return families
}

func histogramCount(f *dto.MetricFamily) (n uint64) {
	for _, m := range f.GetMetric() {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}

// A headless live capture with --otlp and --metrics-listen: /metrics
// counts the calls and packets while it runs, and SIGTERM sends the spans
// still queued before it exits.
func TestLiveOTLPAndMetrics(t *testing.T) {
	requireLive(t)
	addr, port := startTestServer(t)
	col, otlpAddr := grpcCollector(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := l.Addr().String()
	l.Close()
	sn := startSniffer(t, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "--otlp", otlpAddr, "--metrics-listen", metricsAddr)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	fourKinds(t, conn)
	conn.Close()

	var families map[string]*dto.MetricFamily
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		families = scrapeMetrics(t, metricsAddr)
		if histogramCount(families["rpc_server_call_duration_seconds"]) == 4 {
			break
		}
	}
	if n := histogramCount(families["rpc_server_call_duration_seconds"]); n != 4 {
		t.Errorf("%d calls in /metrics, want 4", n)
	}
	if f := families["grpcsniff_capture_packets_total"]; f == nil || f.GetMetric()[0].GetCounter().GetValue() < 20 {
		t.Errorf("packets: %v", f)
	}
	if families["grpcsniff_otlp_spans_total"] == nil || families["go_goroutines"] == nil {
		t.Error("span counts or Go runtime metrics missing")
	}
	sn.stop(t, syscall.SIGTERM)
	if code := sn.cmd.ProcessState.ExitCode(); code != exitOK {
		t.Fatalf("exit %d: %s", code, sn.errText())
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.spans) != 4 {
		t.Errorf("%d spans reached the collector after SIGTERM, want 4: %s", len(col.spans), sn.errText())
	}
}
