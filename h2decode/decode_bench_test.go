package h2decode

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// A recorded capture: the in-order byte streams that capture.Assembler
// delivered for each connection, replayed into h2decode without the TCP
// layer.

type tcpEvent struct {
	conn   int
	kind   uint8 // 0 data, 1 gap, 2 end
	side   capture.Side
	data   []byte
	n      int64
	t      time.Time
	reason capture.EndReason
}

type tcpRecording struct {
	infos  []capture.ConnInfo
	events []tcpEvent
	bytes  int64
}

type tcpRecorder struct {
	r    *tcpRecording
	conn int
}

func (r *tcpRecording) NewConn(info *capture.ConnInfo) capture.ConnHandler {
	r.infos = append(r.infos, *info)
	return &tcpRecorder{r: r, conn: len(r.infos) - 1}
}

func (c *tcpRecorder) Data(s capture.Side, data []byte, t time.Time) {
	c.r.events = append(c.r.events, tcpEvent{conn: c.conn, side: s, data: append([]byte(nil), data...), t: t})
	c.r.bytes += int64(len(data))
}

func (c *tcpRecorder) Gap(s capture.Side, n int64, t time.Time) {
	c.r.events = append(c.r.events, tcpEvent{conn: c.conn, kind: 1, side: s, n: n, t: t})
}

func (c *tcpRecorder) End(reason capture.EndReason, t time.Time) {
	c.r.events = append(c.r.events, tcpEvent{conn: c.conn, kind: 2, reason: reason, t: t})
}

func recordTCP(b *testing.B, path string) *tcpRecording {
	src, err := capture.OpenFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	rec := &tcpRecording{}
	a := capture.NewAssembler(rec, capture.Options{})
	if err := a.ReadAll(src); err != nil {
		b.Fatal(err)
	}
	return rec
}

// replay feeds the recording to fresh connections of f.
func (r *tcpRecording) replay(f capture.HandlerFactory) {
	conns := make([]capture.ConnHandler, len(r.infos))
	for i := range r.events {
		ev := &r.events[i]
		c := conns[ev.conn]
		if c == nil {
			info := r.infos[ev.conn]
			c = f.NewConn(&info)
			conns[ev.conn] = c
		}
		switch ev.kind {
		case 0:
			c.Data(ev.side, ev.data, ev.t)
		case 1:
			c.Gap(ev.side, ev.n, ev.t)
		case 2:
			c.End(ev.reason, ev.t)
		}
	}
}

// countHandler counts events and keeps nothing.
type countHandler struct{ headers, fields, data int }

func (h *countHandler) Headers(c *Conn, ev *HeadersEvent) { h.headers++; h.fields += len(ev.Fields) }
func (h *countHandler) Data(c *Conn, ev *DataEvent)       { h.data += len(ev.Data) }
func (h *countHandler) Reset(*Conn, capture.Side, uint32, http2.ErrCode, time.Time) {
}
func (h *countHandler) GoAway(*Conn, capture.Side, uint32, http2.ErrCode, []byte, time.Time) {
}
func (h *countHandler) Lost(*Conn, capture.Side, time.Time)     {}
func (h *countHandler) End(*Conn, capture.EndReason, time.Time) {}

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

// BenchmarkConnReplay decodes the HTTP/2 frames and HPACK blocks of real
// connections (both directions, as the TCP layer delivered them); MB/s is
// of TCP payload.
func BenchmarkConnReplay(b *testing.B) {
	for name, path := range benchCaptures() {
		b.Run(name, func(b *testing.B) {
			rec := recordTCP(b, path)
			h := &countHandler{}
			rec.replay(NewFactory(h, Options{}))
			if h.headers == 0 {
				b.Fatal("no header blocks decoded")
			}
			b.SetBytes(rec.bytes)
			b.ReportAllocs()
			for b.Loop() {
				rec.replay(NewFactory(h, Options{}))
			}
			b.ReportMetric(float64(h.headers)/float64(b.N+1), "blocks/op")
		})
	}
}

// headerBlocks extracts the header blocks of a recording, per direction
// in order, with x/net/http2's Framer over each direction's byte stream:
// dirs[i] is 2*connection+side of blocks[i], and a direction's blocks are
// consecutive.
func headerBlocks(b *testing.B, rec *tcpRecording) (blocks [][]byte, dirs []int) {
	streams := map[[2]int][]byte{}
	var order [][2]int
	for _, ev := range rec.events {
		if ev.kind != 0 {
			continue
		}
		k := [2]int{ev.conn, int(ev.side)}
		if _, ok := streams[k]; !ok {
			order = append(order, k)
		}
		streams[k] = append(streams[k], ev.data...)
	}
	for _, k := range order {
		data := bytes.TrimPrefix(streams[k], []byte(http2.ClientPreface))
		fr := http2.NewFramer(nil, bytes.NewReader(data))
		fr.SetMaxReadFrameSize(1 << 24)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				break
			}
			if h, ok := f.(*http2.HeadersFrame); ok && h.HeadersEnded() {
				blocks = append(blocks, append([]byte(nil), h.HeaderBlockFragment()...))
				dirs = append(dirs, 2*k[0]+k[1])
			}
		}
	}
	if len(blocks) == 0 {
		b.Fatal("no header blocks")
	}
	return blocks, dirs
}

// BenchmarkHPACKDecode decodes the header blocks of real captures in
// order, one decoder per direction of each connection, as the connection
// decoder calls it. The decoders share one hpackShared, made once as a
// factory's is: a long capture runs with a warm string cache.
func BenchmarkHPACKDecode(b *testing.B) {
	for name, path := range benchCaptures() {
		b.Run(name, func(b *testing.B) {
			rec := recordTCP(b, path)
			blocks, dirs := headerBlocks(b, rec)
			var n int64
			for _, bl := range blocks {
				n += int64(len(bl))
			}
			sh := newHPACKShared()
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				var d *hpackDecoder
				for i, bl := range blocks {
					if i == 0 || dirs[i] != dirs[i-1] {
						d = newHPACKDecoder(uint64(dirs[i]/2), capture.Side(dirs[i]&1), true, 1<<20, sh)
					}
					if _, _, err := d.decodeBlock(bl, 1<<20); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(blocks)), "blocks/op")
		})
	}
}

// TestDecodeBlockScratch: decodeBlock decodes every block into the same
// scratch slice (the handler copies what it keeps), an empty block gives
// nil as decode does, and a block larger than maxScratchFields is not kept
// as scratch.
func TestDecodeBlockScratch(t *testing.T) {
	var enc bytes.Buffer
	e := hpack.NewEncoder(&enc)
	block := func(kv ...string) []byte {
		enc.Reset()
		for i := 0; i < len(kv); i += 2 {
			e.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return append([]byte(nil), enc.Bytes()...)
	}
	d := newHPACKDecoder(1, capture.SideA, true, 1<<20, nil)
	first, _, err := d.decodeBlock(block(":method", "POST", ":path", "/a.B/C", "x-k", "v1"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got := fieldsText(first); got != ":method=POST :path=/a.B/C x-k=v1" {
		t.Fatalf("first block reads %q", got)
	}
	second, _, err := d.decodeBlock(block(":method", "GET", "x-k", "v2"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got := fieldsText(second); got != ":method=GET x-k=v2" {
		t.Fatalf("second block reads %q", got)
	}
	if &first[0] != &second[0] {
		t.Fatal("the second block was not decoded into the first one's memory")
	}
	empty, _, err := d.decodeBlock(nil, 1<<20)
	if err != nil || empty != nil {
		t.Fatalf("empty block: %v, %v", empty, err)
	}
	var kv []string
	for i := range maxScratchFields + 1 {
		kv = append(kv, fmt.Sprintf("x-%d", i), "v")
	}
	many, _, err := d.decodeBlock(block(kv...), 1<<20)
	if err != nil || len(many) != maxScratchFields+1 {
		t.Fatalf("large block: %d fields, err %v", len(many), err)
	}
	if cap(d.sh.scratch) > maxScratchFields {
		t.Fatalf("the scratch slice kept room for %d fields", cap(d.sh.scratch))
	}
	third, _, err := d.decodeBlock(block(":method", "PUT"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got := fieldsText(third); got != ":method=PUT" {
		t.Fatalf("third block reads %q", got)
	}
}
