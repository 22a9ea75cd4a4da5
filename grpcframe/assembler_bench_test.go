package grpcframe

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"golang.org/x/net/http2"
)

// benchCaptures are the captures the benchmarks replay; GRPCSNIFF_BENCH_PCAP
// adds one (e.g. a file made by scripts/gencorpus.sh).
func benchCaptures() map[string]string {
	m := map[string]string{
		"grpcgo_interop":    "../testdata/pcaps/grpcgo_interop.pcap",
		"grpcgo_concurrent": "../testdata/pcaps/grpcgo_concurrent.pcap",
		"py_routeguide":     "../testdata/pcaps/py_routeguide.pcap",
	}
	if p := os.Getenv("GRPCSNIFF_BENCH_PCAP"); p != "" {
		m["env"] = p
	}
	return m
}

// h2Event is one recorded h2decode event with the connection's exported
// state at that moment.
type h2Event struct {
	conn     int
	kind     uint8 // 0 headers, 1 data, 2 reset, 3 goaway, 4 lost, 5 end
	connKind h2decode.Kind
	client   capture.Side
	clientBy h2decode.ClientEvidence
	headers  h2decode.HeadersEvent
	data     h2decode.DataEvent
	side     capture.Side
	id       uint32
	code     http2.ErrCode
	reason   capture.EndReason
	t        time.Time
}

type h2Recording struct {
	conns  map[*h2decode.Conn]int
	infos  []capture.ConnInfo
	events []h2Event
	bytes  int64 // DATA payload bytes
}

func (r *h2Recording) add(c *h2decode.Conn, ev h2Event) {
	i, ok := r.conns[c]
	if !ok {
		i = len(r.infos)
		r.conns[c] = i
		r.infos = append(r.infos, *c.Info)
	}
	ev.conn, ev.connKind = i, c.Kind
	ev.client, ev.clientBy = c.Client, c.ClientBy
	r.events = append(r.events, ev)
}

func (r *h2Recording) Headers(c *h2decode.Conn, ev *h2decode.HeadersEvent) {
	hev := *ev
	hev.Fields = slices.Clone(ev.Fields) // lent for the call only
	r.add(c, h2Event{kind: 0, headers: hev, t: ev.Time})
}

func (r *h2Recording) Data(c *h2decode.Conn, ev *h2decode.DataEvent) {
	d := *ev
	d.Data = append([]byte(nil), ev.Data...)
	r.bytes += int64(len(d.Data))
	r.add(c, h2Event{kind: 1, data: d, t: ev.Time})
}

func (r *h2Recording) Reset(c *h2decode.Conn, side capture.Side, id uint32, code http2.ErrCode, t time.Time) {
	r.add(c, h2Event{kind: 2, side: side, id: id, code: code, t: t})
}

func (r *h2Recording) GoAway(c *h2decode.Conn, side capture.Side, last uint32, code http2.ErrCode, debug []byte, t time.Time) {
	r.add(c, h2Event{kind: 3, side: side, id: last, code: code, t: t})
}

func (r *h2Recording) Lost(c *h2decode.Conn, side capture.Side, t time.Time) {
	r.add(c, h2Event{kind: 4, side: side, t: t})
}

func (r *h2Recording) End(c *h2decode.Conn, reason capture.EndReason, t time.Time) {
	r.add(c, h2Event{kind: 5, reason: reason, t: t})
}

func recordH2(b testing.TB, path string) *h2Recording {
	src, err := capture.OpenFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	rec := &h2Recording{conns: map[*h2decode.Conn]int{}}
	a := capture.NewAssembler(h2decode.NewFactory(rec, h2decode.Options{}), capture.Options{})
	if err := a.ReadAll(src); err != nil {
		b.Fatal(err)
	}
	return rec
}

// replay hands the recorded events to a, on fresh connections.
func (r *h2Recording) replay(a *Assembler) {
	conns := make([]*h2decode.Conn, len(r.infos))
	for i := range r.events {
		ev := &r.events[i]
		c := conns[ev.conn]
		if c == nil {
			info := r.infos[ev.conn]
			c = &h2decode.Conn{Info: &info}
			conns[ev.conn] = c
		}
		c.Kind, c.Client, c.ClientBy = ev.connKind, ev.client, ev.clientBy
		switch ev.kind {
		case 0:
			hev := ev.headers
			a.Headers(c, &hev)
		case 1:
			dev := ev.data
			a.Data(c, &dev)
		case 2:
			a.Reset(c, ev.side, ev.id, ev.code, ev.t)
		case 3:
			a.GoAway(c, ev.side, ev.id, ev.code, nil, ev.t)
		case 4:
			a.Lost(c, ev.side, ev.t)
		case 5:
			a.End(c, ev.reason, ev.t)
		}
	}
	a.Close()
}

// BenchmarkAssemblerReplay assembles the calls of real captures from their
// recorded HTTP/2 events (header blocks already decoded); MB/s is of DATA
// payload.
func BenchmarkAssemblerReplay(b *testing.B) {
	benchReplay(b, false, func(func(*Call)) Options { return Options{} })
}

// BenchmarkAssemblerReplayRecycled is BenchmarkAssemblerReplay as --stats
// runs it: no message bytes kept, every call counted and recycled as it
// finishes (Options.Tally), so that calls are built in reused memory.
func BenchmarkAssemblerReplayRecycled(b *testing.B) {
	benchReplay(b, true, func(count func(*Call)) Options {
		return Options{KeepPayload: func(*Call) bool { return false }, Tally: count}
	})
}

// benchReplay replays each capture's events into assemblers with the
// options opts gives, counting (and, with recycle, recycling) the calls
// handed on or tallied.
func benchReplay(b *testing.B, recycle bool, opts func(count func(*Call)) Options) {
	for name, path := range benchCaptures() {
		b.Run(name, func(b *testing.B) {
			rec := recordH2(b, path)
			calls := 0
			count := func(c *Call) {
				calls++
				if recycle {
					Recycle(c)
				}
			}
			o := opts(count)
			rec.replay(NewAssembler(SinkFunc(count), o))
			if calls == 0 {
				b.Fatal("no calls")
			}
			perOp := calls
			b.SetBytes(rec.bytes)
			b.ReportAllocs()
			for b.Loop() {
				rec.replay(NewAssembler(SinkFunc(count), o))
			}
			b.ReportMetric(float64(perOp), "calls/op")
		})
	}
}
