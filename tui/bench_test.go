package tui

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// synthetic returns n calls over a few methods and statuses.
func synthetic(n int) []*grpcframe.Call {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	methods := []string{"/helloworld.Greeter/SayHello", "/muxs.FileController/Read", "/routeguide.RouteGuide/RouteChat"}
	calls := make([]*grpcframe.Call, n)
	for i := range calls {
		code := 0
		if i%17 == 0 {
			code = 5
		}
		start := t0.Add(time.Duration(i) * time.Millisecond)
		calls[i] = &grpcframe.Call{
			ConnID: uint64(i%50 + 1), StreamID: uint32(2*i + 1),
			Client:    netip.MustParseAddrPort(fmt.Sprintf("10.0.%d.%d:40000", i%200, i%250)),
			Server:    netip.MustParseAddrPort("10.1.0.1:50051"),
			Method:    methods[i%len(methods)],
			Requests:  []*grpcframe.Message{{Length: 5, Data: []byte("\x0a\x03you"), Time: start}},
			Responses: []*grpcframe.Message{{Length: 13, Data: []byte("\x0a\x0bHello, you!"), Time: start.Add(time.Millisecond)}},
			Status:    &grpcframe.Status{Code: code, Name: grpcframe.CodeName(code)},
			Start:     start, End: start.Add(time.Duration(i%1000) * time.Microsecond), State: grpcframe.StateComplete,
		}
	}
	return calls
}

func benchModel(b *testing.B) *Model {
	m, _ := New(nil, Options{Location: time.UTC})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	m.Update(batchMsg{calls: synthetic(100_000)})
	return m
}

// BenchmarkMoveDown: one keystroke and the frame it draws, with 100,000
// calls loaded. The target is well under 50 ms.
func BenchmarkMoveDown(b *testing.B) {
	m := benchModel(b)
	press(m, "g")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		press(m, "j")
		_ = m.View()
	}
}

// BenchmarkFilterApply: typing the last character of "status != OK", which
// re-filters 100,000 calls, and the frame.
func BenchmarkFilterApply(b *testing.B) { benchFilter(b, benchModel(b)) }

// benchFilter times typing the last character of "status != OK" into m's
// filter prompt, and the frame.
func benchFilter(b *testing.B, m *Model) {
	press(m, "/")
	typeText(m, "status != O")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		press(m, "K")
		_ = m.View()
		press(m, "backspace")
	}
}

// BenchmarkSort: cycling the sort key over 100,000 calls, and the frame.
func BenchmarkSort(b *testing.B) { benchSort(b, benchModel(b)) }

// benchSort times cycling m's sort key, and the frame.
func benchSort(b *testing.B, m *Model) {
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		press(m, "s")
		_ = m.View()
	}
}

// BenchmarkMessageFilterApply measures a filter on decoded message fields,
// which decodes every request message of the 100,000 calls.
func BenchmarkMessageFilterApply(b *testing.B) {
	m := benchModel(b)
	press(m, "/")
	typeText(m, "req.1 == yo")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		press(m, "u")
		_ = m.View()
		press(m, "backspace")
	}
}

// BenchmarkStatsRecompute: one pass of the live statistics over 100,000
// calls, the work refreshStats does at most every statsEvery.
func BenchmarkStatsRecompute(b *testing.B) {
	m := benchModel(b)
	press(m, "S")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.computeStats()
	}
}

// BenchmarkBoundedArrival: a batch of 1,000 calls arriving at a list full
// at MaxCalls 100,000, so that each batch drops as many old calls.
func BenchmarkBoundedArrival(b *testing.B) {
	m, _ := New(nil, Options{Location: time.UTC, MaxCalls: 100_000})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	calls := synthetic(101_000)
	m.Update(batchMsg{calls: calls[:100_000]})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Update(batchMsg{calls: calls[100_000:]})
	}
}

// BenchmarkSchemaDetail: opening a streaming call of 2,000 messages with
// the schema loaded (each message read through it for its line), then
// expanding one message, which rebuilds the tree.
func BenchmarkSchemaDetail(b *testing.B) {
	reg := registry(b, "helloworld.proto")
	c := synthetic(1)[0]
	for i := 0; i < 2000; i++ {
		c.Requests = append(c.Requests, &grpcframe.Message{Length: 5, Data: []byte("\x0a\x03you"), Time: c.Start})
	}
	m, _ := New(nil, Options{Location: time.UTC, Registry: reg})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	m.Update(batchMsg{calls: []*grpcframe.Call{c}})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		press(m, "enter", "enter")
		_ = m.View()
		press(m, "esc")
	}
}

// benchModelMillion is a view of 1,000,000 calls that keeps none in full,
// as it does for a capture file of that size.
func benchModelMillion(b *testing.B) *Model {
	m, _ := New(nil, Options{Location: time.UTC, KeepBytes: 1,
		Reload: func(context.Context, *Scope, func(*grpcframe.Call) bool, func(*grpcframe.Call) bool) error {
			return nil
		}})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	calls := synthetic(1_000_000)
	for k := 0; k < len(calls); k += 10_000 {
		m.Update(batchMsg{calls: calls[k : k+10_000]})
	}
	return m
}

// BenchmarkFilterMillion: a filter typed over 1,000,000 records, and the
// frame. The target is 300 ms.
func BenchmarkFilterMillion(b *testing.B) { benchFilter(b, benchModelMillion(b)) }

// BenchmarkSortMillion: sorting 1,000,000 records by the next key, and the
// frame. The target is 300 ms.
func BenchmarkSortMillion(b *testing.B) { benchSort(b, benchModelMillion(b)) }

// BenchmarkHeldPerCall reports the bytes the view holds per call once the
// calls are let go: records, rows and interned strings (the target is 100).
func BenchmarkHeldPerCall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := benchModelMillion(b)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "B/call")
		runtime.KeepAlive(m)
	}
}

// BenchmarkLoadBatch: taking in one batch of calls (as many as a batch
// holds at most) into a view of a file that already lists 600,000; a key
// pressed while a file loads waits at most this long, plus a frame, to be
// handled. The target for the key is 50 ms.
func BenchmarkLoadBatch(b *testing.B) {
	m, _ := New(nil, Options{Location: time.UTC, KeepBytes: 1,
		Reload: func(context.Context, *Scope, func(*grpcframe.Call) bool, func(*grpcframe.Call) bool) error {
			return nil
		}})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	calls := synthetic(600_000 + maxBatch*b.N)
	for k := 0; k < 600_000; k += maxBatch {
		m.Update(batchMsg{calls: calls[k:min(k+maxBatch, 600_000)]})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := 600_000 + i*maxBatch
		m.Update(batchMsg{calls: calls[k : k+maxBatch]})
		_ = m.View()
	}
}
