package export

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// Stats summarises calls per method: counts, statuses, latency percentiles,
// messages and bytes each way. Its memory grows with the number of methods
// and statuses, not with the number of calls, so it suits captures of any
// size.
type Stats struct {
	methods map[methodKey]*MethodStats
	calls   int
}

// methodKey is what calls are grouped by: the same path called over gRPC
// and over Connect is two rows, as their failures and latencies differ.
type methodKey struct {
	method string
	proto  grpcframe.Protocol
}

// MethodStats is the summary of one method's calls over one protocol.
type MethodStats struct {
	Method    string
	Protocol  grpcframe.Protocol
	Calls     int
	Errors    int            // calls that ended with a non-OK status or no status
	Statuses  map[string]int // status name (or state, when there was none) → calls
	Latency   Histogram
	ReqMsgs   int
	ReqBytes  int64
	RespMsgs  int
	RespBytes int64
}

// NewStats returns an empty summary.
func NewStats() *Stats { return &Stats{methods: map[methodKey]*MethodStats{}} }

// Label is the row's name: the method, followed by its protocol in
// brackets when that is not gRPC ("/a.B/C [connect]").
func (m *MethodStats) Label() string {
	if m.Protocol == grpcframe.ProtoGRPC {
		return m.Method
	}
	return m.Method + " [" + m.Protocol.String() + "]"
}

// Call adds a call; it implements grpcframe.Sink.
func (s *Stats) Call(c *grpcframe.Call) {
	f := FactsOf(c)
	s.Add(&f)
}

// CallFacts is what the statistics count of a call. A view that keeps
// records rather than calls adds those (Add), and so counts as Call does.
type CallFacts struct {
	// Method is the name the call is counted under: its method, the
	// method inferred for it ("… (inferred)"), or "(method unknown)".
	Method   string
	Protocol grpcframe.Protocol
	// Status is the status name, "(unreadable)" when the trailers were
	// lost, or the state in parentheses when there was no status.
	Status string
	// Latency is the duration; Timed says it counts (a call whose request
	// headers were not captured has no known start).
	Latency             time.Duration
	Timed               bool
	ReqMsgs, RespMsgs   int
	ReqBytes, RespBytes int64
}

// FactsOf returns what the statistics count of c.
func FactsOf(c *grpcframe.Call) CallFacts {
	f := CallFacts{
		Method: c.Method, Protocol: c.Protocol, Latency: c.Duration(), Timed: len(c.RequestHeaders) > 0 && !c.StartedBeforeCapture,
		ReqMsgs: len(c.Requests), RespMsgs: len(c.Responses),
		ReqBytes: grpcframe.WireBytes(c.Requests), RespBytes: grpcframe.WireBytes(c.Responses),
	}
	f.Method = StatsMethod(c.Method, c.MethodUnknown, c.MethodInferred)
	if c.Status != nil {
		f.Status = c.Status.Name
	} else {
		f.Status = NoStatus(c.StatusUnknown, c.State)
	}
	return f
}

// StatsMethod is the name a call is counted under: its method, the method
// inferred for it ("… (inferred)"), or "(method unknown)".
func StatsMethod(method string, unknown bool, inferred string) string {
	switch {
	case !unknown:
		return method
	case inferred != "":
		return inferred + InferredSuffix
	}
	return "(method unknown)"
}

// InferredSuffix follows an inferred method in the statistics (StatsMethod).
const InferredSuffix = " (inferred)"

// NoStatus is what the statistics count a call without a status as:
// "(unreadable)" when its trailers were lost, else its state.
func NoStatus(unreadable bool, state grpcframe.State) string {
	if unreadable {
		return "(unreadable)"
	}
	return "(" + state.String() + ")"
}

// Add counts a call by its facts.
func (s *Stats) Add(f *CallFacts) {
	s.calls++
	m := s.method(methodKey{f.Method, f.Protocol})
	m.Calls++
	m.Statuses[f.Status]++
	if f.Status != "OK" {
		m.Errors++
	}
	if f.Timed {
		m.Latency.Add(f.Latency)
	}
	m.ReqMsgs += f.ReqMsgs
	m.RespMsgs += f.RespMsgs
	m.ReqBytes += f.ReqBytes
	m.RespBytes += f.RespBytes
}

// method returns the summary of the method and protocol k names, made on
// first use.
func (s *Stats) method(k methodKey) *MethodStats {
	m := s.methods[k]
	if m == nil {
		m = &MethodStats{Method: k.method, Protocol: k.proto, Statuses: map[string]int{}}
		s.methods[k] = m
	}
	return m
}

// Calls is the number of calls added.
func (s *Stats) Calls() int { return s.calls }

// Merge adds the calls of o, as if each had been added to s: summaries made
// apart (one per goroutine, say) add up to the one summary of all the calls,
// whatever the order.
func (s *Stats) Merge(o *Stats) {
	s.calls += o.calls
	for k, om := range o.methods {
		m := s.method(k)
		m.Calls += om.Calls
		m.Errors += om.Errors
		for st, n := range om.Statuses {
			m.Statuses[st] += n
		}
		m.Latency.Merge(&om.Latency)
		m.ReqMsgs += om.ReqMsgs
		m.ReqBytes += om.ReqBytes
		m.RespMsgs += om.RespMsgs
		m.RespBytes += om.RespBytes
	}
}

// Methods returns the summaries, most called first.
func (s *Stats) Methods() []*MethodStats {
	out := make([]*MethodStats, 0, len(s.methods))
	for _, m := range s.methods {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Calls != out[j].Calls {
			return out[i].Calls > out[j].Calls
		}
		if out[i].Method != out[j].Method {
			return out[i].Method < out[j].Method
		}
		return out[i].Protocol < out[j].Protocol
	})
	return out
}

// WriteText writes the summary as a table.
func (s *Stats) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	ms := s.Methods()
	width := len("METHOD")
	for _, m := range ms {
		width = max(width, len(Printable(m.Label())))
	}
	fmt.Fprintf(bw, "%-*s %7s %7s %9s %9s %9s %9s %7s %9s %7s %9s\n", width, "METHOD", "CALLS", "ERRORS", "P50", "P90", "P99", "MAX", "↑MSGS", "↑BYTES", "↓MSGS", "↓BYTES")
	for _, m := range ms {
		fmt.Fprintf(bw, "%-*s %7d %7d %9s %9s %9s %9s %7d %9s %7d %9s\n", width, Printable(m.Label()), m.Calls, m.Errors,
			latency(m, 0.5), latency(m, 0.9), latency(m, 0.99), latency(m, 1),
			m.ReqMsgs, FormatBytes(m.ReqBytes), m.RespMsgs, FormatBytes(m.RespBytes))
		if m.Errors > 0 || len(m.Statuses) > 1 {
			fmt.Fprintf(bw, "%-*s   %s\n", width, "", statusList(m.Statuses))
		}
	}
	fmt.Fprintf(bw, "%s, %s; percentiles within 2%%\n", Count(s.calls, "call"), Count(len(ms), "method"))
	return bw.Flush()
}

func latency(m *MethodStats, q float64) string { return m.LatencyText(q) }

// LatencyText is the q quantile of the method's latency (1 for the
// maximum), within 2%, or "-" when no call of it had both ends captured.
func (m *MethodStats) LatencyText(q float64) string {
	if m.Latency.Count() == 0 {
		return "-"
	}
	return FormatDuration(m.Latency.Quantile(q))
}

// StatusText lists the calls by status, most frequent first: "OK 2,
// NOT_FOUND 1". A call without a status is counted by how it ended, in
// parentheses: "(cut) 1", "(unreadable) 1" when HPACK lost the trailers.
func (m *MethodStats) StatusText() string { return statusList(m.Statuses) }

func statusList(st map[string]int) string {
	names := make([]string, 0, len(st))
	for n := range st {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if st[a] != st[b] {
			return st[b] - st[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, st[n])
	}
	return strings.Join(parts, ", ")
}

// Histogram counts durations in buckets 2% wide, from 1µs up (shorter ones
// share the first bucket), so quantiles come out within 2% in constant
// memory.
type Histogram struct {
	buckets []uint64
	n       uint64
	max     time.Duration
}

const histGrowth = 1.02

var logGrowth = math.Log(histGrowth)

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return int(math.Log(us)/logGrowth) + 1
}

// Add counts one duration.
func (h *Histogram) Add(d time.Duration) {
	b := bucketOf(d)
	if b >= len(h.buckets) {
		h.buckets = append(h.buckets, make([]uint64, b+1-len(h.buckets))...)
	}
	h.buckets[b]++
	h.n++
	h.max = max(h.max, d)
}

// Merge adds the durations counted in o.
func (h *Histogram) Merge(o *Histogram) {
	if len(o.buckets) > len(h.buckets) {
		h.buckets = append(h.buckets, make([]uint64, len(o.buckets)-len(h.buckets))...)
	}
	for b, n := range o.buckets {
		h.buckets[b] += n
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Count is the number of durations added.
func (h *Histogram) Count() uint64 { return h.n }

// Quantile returns the q-quantile (0 < q <= 1); q = 1 is the exact maximum.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	var seen uint64
	for b, c := range h.buckets {
		seen += c
		if seen >= rank {
			if b == 0 {
				return min(time.Microsecond, h.max)
			}
			// The bucket's upper bound (at most 2% above any value in it),
			// capped by the true maximum.
			us := math.Exp(float64(b) * logGrowth)
			return min(time.Duration(us*float64(time.Microsecond)), h.max)
		}
	}
	return h.max
}

// Spread counts the durations in the ranges that edges cut, ascending: the
// first range is below edges[0], the last from edges[len-1] up, so there
// are len(edges)+1 counts. A duration is put in the range of its bucket's
// lower bound (within 2%).
func (h *Histogram) Spread(edges []time.Duration) []uint64 {
	out := make([]uint64, len(edges)+1)
	for b, n := range h.buckets {
		if n == 0 {
			continue
		}
		lower := time.Duration(0)
		if b > 0 {
			lower = time.Duration(math.Exp(float64(b-1)*logGrowth) * float64(time.Microsecond))
		}
		r := 0
		for r < len(edges) && lower >= edges[r] {
			r++
		}
		out[r] += n
	}
	return out
}
