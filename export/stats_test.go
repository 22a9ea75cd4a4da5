package export

import (
	"fmt"
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

// Summaries made apart and merged read as the one summary of all the calls:
// counts, statuses, bytes, percentiles and maxima.
func TestStatsMerge(t *testing.T) {
	start := time.Unix(0, 0)
	call := func(i int) *grpcframe.Call {
		method := []string{"/a.S/Fast", "/a.S/Slow", "/b.T/Other"}[i%3]
		d := time.Duration(i*i+1) * 37 * time.Microsecond
		c := &grpcframe.Call{Method: method, Start: start, End: start.Add(d), State: grpcframe.StateComplete,
			RequestHeaders: []h2decode.HeaderField{{Name: ":path", Value: method}},
			Requests:       []*grpcframe.Message{{Length: uint32(i)}}, Responses: []*grpcframe.Message{{Length: 20}, {Length: uint32(i % 7)}}}
		if i%5 != 0 {
			c.Status = &grpcframe.Status{Code: i % 4, Name: []string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT"}[i%4]}
		}
		return c
	}
	all, parts := NewStats(), []*Stats{NewStats(), NewStats(), NewStats()}
	for i := range 1000 {
		all.Call(call(i))
		parts[(i*7)%len(parts)].Call(call(i))
	}
	// A method that only the last part has.
	late := call(3000)
	late.Method = "/c.U/Late"
	parts[2].Call(late)
	all.Call(late)
	merged := NewStats()
	for _, p := range parts {
		merged.Merge(p)
	}
	var want, got strings.Builder
	if err := all.WriteText(&want); err != nil {
		t.Fatal(err)
	}
	if err := merged.WriteText(&got); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("merged:\n%s\nwant:\n%s", got.String(), want.String())
	}
	if merged.Calls() != 1001 {
		t.Errorf("Calls() = %d, want 1001", merged.Calls())
	}
}

// Spread counts durations in the ranges the edges cut, within 2%.
func TestHistogramSpread(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{500 * time.Nanosecond, 50 * time.Microsecond, 900 * time.Microsecond, 2 * time.Millisecond, 3 * time.Second} {
		h.Add(d)
	}
	got := h.Spread([]time.Duration{100 * time.Microsecond, time.Millisecond, time.Second})
	if fmt.Sprint(got) != "[2 1 1 1]" {
		t.Errorf("spread %v, want [2 1 1 1]", got)
	}
}
