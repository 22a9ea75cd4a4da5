package export

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 10000; i++ {
		h.Add(time.Duration(i) * time.Microsecond)
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		want := q * 10000
		got := float64(h.Quantile(q)) / float64(time.Microsecond)
		if math.Abs(got-want)/want > 0.02 {
			t.Errorf("q%.2f = %.0fµs, want %.0fµs within 2%%", q, got, want)
		}
	}
	if h.Quantile(1) != 10*time.Millisecond {
		t.Errorf("max %v", h.Quantile(1))
	}
	var empty Histogram
	if empty.Quantile(0.5) != 0 {
		t.Error("empty histogram")
	}
}

func TestStatsTable(t *testing.T) {
	s := NewStats()
	start := time.Unix(0, 0)
	add := func(method string, d time.Duration, status string, code int) {
		c := &grpcframe.Call{Method: method, Start: start, End: start.Add(d), State: grpcframe.StateComplete,
			RequestHeaders: []h2decode.HeaderField{{Name: ":path", Value: method}},
			Requests:       []*grpcframe.Message{{Length: 10}}, Responses: []*grpcframe.Message{{Length: 20}}}
		if status != "" {
			c.Status = &grpcframe.Status{Code: code, Name: status}
		}
		s.Call(c)
	}
	add("/a.S/Fast", time.Millisecond, "OK", 0)
	add("/a.S/Fast", 2*time.Millisecond, "OK", 0)
	add("/a.S/Fast", 3*time.Millisecond, "NOT_FOUND", 5)
	add("/a.S/Slow", time.Second, "", 0)
	// A call whose start was not captured counts, but not in the latencies.
	s.Call(&grpcframe.Call{Method: "/a.S/Slow", Start: start, End: start.Add(time.Hour), State: grpcframe.StateComplete, StartedBeforeCapture: true})
	var b strings.Builder
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "1h") || !strings.Contains(out, "1.00s") {
		t.Errorf("a call without a captured start was counted in the latencies:\n%s", out)
	}
	for _, want := range []string{
		"/a.S/Fast       3       1",
		"OK 2, NOT_FOUND 1",
		"/a.S/Slow       2       2",
		"(complete) 2",
		"5 calls, 2 methods",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
