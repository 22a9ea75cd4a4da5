package metrics_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/export/metrics"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/sniff"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape decodes a shipped capture into Metrics and into the --stats
// summary, and returns what /metrics then serves, parsed.
func scrape(t *testing.T, name string) (map[string]*dto.MetricFamily, *export.Stats) {
	t.Helper()
	src, err := capture.OpenFile("../../testdata/pcaps/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	stats := export.NewStats()
	both := grpcframe.SinkFunc(func(c *grpcframe.Call) { m.Call(c); stats.Call(c) })
	if _, err := sniff.NewDecoder(sniff.Options{ReleaseCalls: true}).Run(context.Background(), src, both); err != nil {
		t.Fatal(err)
	}
	return serve(t, m), stats
}

// serve is what m's handler answers a scrape with, parsed.
func serve(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return families
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// rowKey is what --stats and the metrics both count by.
type rowKey struct{ method, status string }

// The metrics of a capture count what --stats counts: calls by method
// and status, and the bytes each way (the captures' messages are not
// compressed, so their sizes on the wire are their uncompressed sizes).
func TestMetricsMatchStats(t *testing.T) {
	for _, name := range []string{"py_grpcdemo.pcap", "grpcgo_interop.pcap", "grpcweb_h1.pcap"} {
		t.Run(name, func(t *testing.T) {
			families, stats := scrape(t, name)
			want := map[rowKey]uint64{}
			var reqBytes, respBytes float64
			for _, ms := range stats.Methods() {
				if ms.Protocol == grpcframe.ProtoHTTP {
					continue
				}
				for status, n := range ms.Statuses {
					if status[0] == '(' {
						status = "" // no status: no rpc.response.status_code
					}
					want[rowKey{ms.Method[1:], status}] += uint64(n)
				}
				reqBytes += float64(ms.ReqBytes)
				respBytes += float64(ms.RespBytes)
			}
			got := map[rowKey]uint64{}
			for _, m := range families["rpc_server_call_duration_seconds"].GetMetric() {
				got[rowKey{label(m, "rpc_method"), label(m, "rpc_response_status_code")}] += m.GetHistogram().GetSampleCount()
			}
			if len(got) != len(want) {
				t.Errorf("%d rows, --stats has %d: %v vs %v", len(got), len(want), got, want)
			}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("%v: %d calls in the metrics, %d in --stats", k, got[k], n)
				}
			}
			if s := sum(families["rpc_server_request_size_bytes"]); s != reqBytes {
				t.Errorf("request bytes %v, --stats %v", s, reqBytes)
			}
			if s := sum(families["rpc_server_response_size_bytes"]); s != respBytes {
				t.Errorf("response bytes %v, --stats %v", s, respBytes)
			}
			if families["go_goroutines"] == nil || families["process_cpu_seconds_total"] == nil {
				t.Error("the Go runtime and process collectors are missing")
			}
		})
	}
}

func sum(f *dto.MetricFamily) float64 {
	var s float64
	for _, m := range f.GetMetric() {
		s += m.GetHistogram().GetSampleSum()
	}
	return s
}

func TestObserve(t *testing.T) {
	m, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	drops := int64(0)
	if err := m.Observe("grpcsniff.capture.kernel_drops", "{packet}", "Packets the kernel dropped.", func() int64 { return drops }); err != nil {
		t.Fatal(err)
	}
	drops = 42
	families := serve(t, m)
	f := families["grpcsniff_capture_kernel_drops_packet_total"]
	if f == nil {
		f = families["grpcsniff_capture_kernel_drops_total"]
	}
	if f == nil || f.GetMetric()[0].GetCounter().GetValue() != 42 {
		t.Errorf("kernel drops: %v (families %v)", f, keys(families))
	}
}

func keys(m map[string]*dto.MetricFamily) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}
