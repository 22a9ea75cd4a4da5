package h2decode

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// decodeBoth decodes block with decodeBlock on cached (which may serve it
// from the blocks it keeps) and with decode on plain, and fails unless both
// give the same fields, limit flag and error.
func decodeBoth(t *testing.T, cached, plain *hpackDecoder, block []byte, maxList int) []HeaderField {
	t.Helper()
	got, gotOver, gotErr := cached.decodeBlock(block, maxList)
	want, wantOver, wantErr := plain.decode(nil, block, maxList)
	if len(want) == 0 {
		want = nil
	}
	if len(got) == 0 {
		got = nil
	}
	if !reflect.DeepEqual(got, want) || gotOver != wantOver || (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("block % x (list limit %d):\ndecodeBlock: %+v over=%v err=%v\ndecode:      %+v over=%v err=%v",
			block, maxList, got, gotOver, gotErr, want, wantOver, wantErr)
	}
	return got
}

// A block seen again is served from the kept ones only while the table is
// as it was: the same bytes read the new entry once an insertion moved the
// indices, and a smaller list limit is still applied.
func TestHPACKBlockCache(t *testing.T) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	block := func(fs ...hpack.HeaderField) []byte {
		buf.Reset()
		for _, f := range fs {
			enc.WriteField(f)
		}
		return bytes.Clone(buf.Bytes())
	}
	cached, plain := newHPACKDecoder(1, 0, true, 1<<20, nil), newHPACKDecoder(1, 0, true, 1<<20, nil)
	first := block(hpack.HeaderField{Name: "x-a", Value: "1"}) // inserts x-a: 1
	again := block(hpack.HeaderField{Name: "x-a", Value: "1"}) // indexed: 0xbe
	if len(again) != 1 || again[0] != 0xbe {
		t.Fatalf("the encoder wrote % x, want be", again)
	}
	decodeBoth(t, cached, plain, first, 1<<20)
	decodeBoth(t, cached, plain, again, 1<<20)
	if !cached.blocks[0].ok && !cached.blocks[1].ok {
		t.Fatal("a block that left the table as it was is not kept")
	}
	hit := decodeBoth(t, cached, plain, again, 1<<20)
	if &hit[0] != &cached.blocks[cached.lastHit].fields[0] {
		t.Fatal("a block seen again was decoded again")
	}
	// Inserting x-b moves x-a to 63: the same byte 0xbe now reads x-b.
	decodeBoth(t, cached, plain, block(hpack.HeaderField{Name: "x-b", Value: "2"}), 1<<20)
	if fs := decodeBoth(t, cached, plain, []byte{0xbe}, 1<<20); fs[0].Name != "x-b" {
		t.Fatalf("after an insertion 0xbe reads %+v, want x-b", fs[0])
	}
	// Kept with a limit it fits, seen again under a limit it does not fit.
	long := block(hpack.HeaderField{Name: ":method", Value: "POST"}, hpack.HeaderField{Name: ":path", Value: "/"})
	decodeBoth(t, cached, plain, long, 1<<20)
	if _, over, _ := cached.decodeBlock(long, 40); !over {
		t.Fatal("the list limit was not applied to a kept block")
	}
	// A size update changes the table, and a lost table starts anew.
	decodeBoth(t, cached, plain, []byte{0x20}, 1<<20)
	decodeBoth(t, cached, plain, []byte{0xbe}, 1<<20)
	cached.lose()
	plain.lose()
	decodeBoth(t, cached, plain, []byte{0xbe}, 1<<20)
}

// The kept blocks of all the decoders of a factory stay within their
// budget, and an ended connection's go back to it.
func TestHPACKBlockCacheBudget(t *testing.T) {
	sh := newHPACKShared()
	block := []byte{0x82, 0x84, 0x86} // :method GET, :path /, :scheme http
	other := []byte{0x83, 0x84, 0x86}
	var ds []*hpackDecoder
	// What one decoder keeps of these two blocks: slots sized to them.
	probe := newHPACKDecoder(0, 0, true, 1<<20, newHPACKShared())
	probe.decodeBlock(block, 1<<20)
	probe.decodeBlock(other, 1<<20)
	per := probe.sh.blockBytes
	if per == 0 || per > 2*(64+3*64) {
		t.Fatalf("two blocks of 3 bytes and 3 fields take %d bytes", per)
	}
	n := maxCachedBlockBytes/per + 10
	for i := range n {
		d := newHPACKDecoder(uint64(i), 0, true, 1<<20, sh)
		d.decodeBlock(block, 1<<20)
		d.decodeBlock(other, 1<<20)
		ds = append(ds, d)
		if sh.blockBytes > maxCachedBlockBytes {
			t.Fatalf("%d decoders keep %d bytes of blocks, over the %d budget", i+1, sh.blockBytes, maxCachedBlockBytes)
		}
	}
	if last := ds[len(ds)-1]; last.blocks[0].ok || last.blocks[1].ok {
		t.Fatal("a decoder beyond the budget kept a block")
	}
	// A larger block (a literal without indexing changes no table) grows
	// a slot, within the budget given back by an ended connection.
	ds[1].dropBlocks()
	large := append([]byte{0x00, 3, 'x', '-', 'a', 100}, bytes.Repeat([]byte{'v'}, 100)...)
	before := sh.blockBytes
	ds[0].decodeBlock(large, 1<<20)
	if c := ds[0].blocks[ds[0].lastHit]; !c.ok || len(c.block) != len(large) || sh.blockBytes <= before || sh.blockBytes > maxCachedBlockBytes {
		t.Fatalf("the larger block is not kept in a grown slot (%d -> %d bytes counted)", before, sh.blockBytes)
	}
	for _, d := range ds {
		d.dropBlocks()
	}
	if sh.blockBytes != 0 {
		t.Fatalf("%d bytes still counted after every connection ended", sh.blockBytes)
	}
	d := newHPACKDecoder(0, 0, true, 1<<20, sh)
	d.decodeBlock(block, 1<<20)
	if !d.blocks[0].ok && !d.blocks[1].ok {
		t.Fatal("the budget given back is not used again")
	}
}

// Like TestHPACKMatchesReference, with blocks sent again as peers do:
// decodeBlock, which keeps blocks, reads every block as decode does.
func TestHPACKBlockCacheRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	cached, plain := newHPACKDecoder(1, 0, true, 1<<20, nil), newHPACKDecoder(1, 0, true, 1<<20, nil)
	names := []string{":path", ":authority", "content-type", "grpc-timeout", "x-a", "grpc-status"}
	var sent [][]byte
	for range 5000 {
		if len(sent) > 0 && rng.IntN(2) == 0 {
			decodeBoth(t, cached, plain, sent[rng.IntN(len(sent))], 1<<20)
			continue
		}
		buf.Reset()
		if rng.IntN(50) == 0 {
			size := uint32(rng.IntN(5000))
			enc.SetMaxDynamicTableSizeLimit(size)
			enc.SetMaxDynamicTableSize(size)
		}
		for range 1 + rng.IntN(6) {
			enc.WriteField(hpack.HeaderField{Name: names[rng.IntN(len(names))], Value: fmt.Sprint(rng.IntN(8))})
		}
		b := bytes.Clone(buf.Bytes())
		sent = append(sent[max(0, len(sent)-3):], b)
		decodeBoth(t, cached, plain, b, 1<<20)
	}
}

// FuzzHPACKBlockCache decodes arbitrary blocks, some of them again, with a
// decoder that keeps blocks and one that does not: the same fields.
func FuzzHPACKBlockCache(f *testing.F) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	enc.WriteField(hpack.HeaderField{Name: ":path", Value: "/helloworld.Greeter/SayHello"})
	enc.WriteField(hpack.HeaderField{Name: "x-a", Value: "1"})
	f.Add(append([]byte{0, byte(buf.Len())}, append(buf.Bytes(), 1, 0, 0, 1, 0xbe, 2, 0, 1, 0)...), false)
	f.Add([]byte{0, 1, 0xbe, 1, 0, 0, 3, 0x40, 0x01, 'a', 1, 0}, false)
	f.Fuzz(func(t *testing.T, script []byte, complete bool) {
		cached := newHPACKDecoder(1, 0, complete, 1<<16, nil)
		plain := newHPACKDecoder(1, 0, complete, 1<<16, nil)
		var last [2][]byte
		for len(script) >= 2 {
			op, n := script[0], int(script[1])
			script = script[2:]
			limit := 1 << 16
			if op&4 != 0 {
				limit = 64
			}
			var b []byte
			switch op % 4 {
			case 1, 2:
				b = last[op%2]
			default:
				b = script[:min(n, len(script))]
				script = script[len(b):]
				last[0], last[1] = b, last[0]
			}
			decodeBoth(t, cached, plain, b, limit)
		}
	})
}

// blockRecorder records every event with all of its fields (Block aside).
type blockRecorder struct{ log []string }

func (r *blockRecorder) Headers(c *Conn, ev *HeadersEvent) {
	r.log = append(r.log, fmt.Sprintf("headers %d %d %v %+v %v %v", ev.Side, ev.StreamID, ev.EndStream, ev.Fields, ev.Err, ev.Truncated))
}
func (r *blockRecorder) Data(c *Conn, ev *DataEvent) {
	r.log = append(r.log, fmt.Sprintf("data %d %d %d %q %v", ev.Side, ev.StreamID, ev.Lost, ev.Data, ev.EndStream))
}
func (r *blockRecorder) Reset(c *Conn, side capture.Side, id uint32, code http2.ErrCode, t time.Time) {
	r.log = append(r.log, fmt.Sprintf("reset %d %d %v", side, id, code))
}
func (r *blockRecorder) GoAway(c *Conn, side capture.Side, last uint32, code http2.ErrCode, debug []byte, t time.Time) {
	r.log = append(r.log, fmt.Sprintf("goaway %d %d %v", side, last, code))
}
func (r *blockRecorder) Lost(c *Conn, side capture.Side, t time.Time) {
	r.log = append(r.log, fmt.Sprintf("lost %d", side))
}
func (r *blockRecorder) End(c *Conn, reason capture.EndReason, t time.Time) {
	r.log = append(r.log, fmt.Sprintf("end %v", reason))
}

// FuzzConnBlocks decodes arbitrary connection bytes, cut and with gaps,
// once with the decoders keeping header blocks and once without: the same
// events, field for field, and the same notes (the lazy decoder, gaps and
// tables lost in them included).
func FuzzConnBlocks(f *testing.F) {
	for _, ch := range conversation() {
		f.Add(ch.b, []byte{byte(ch.side), 7, 200, 3})
	}
	// A client sending the same request on streams 1, 3, 5 and 7: the
	// first inserts :authority, the others repeat one block; a gap loses
	// the table between them in the second seed.
	frame := func(stream uint32, block ...byte) []byte {
		b := []byte{0, 0, byte(len(block)), byte(http2.FrameHeaders), byte(http2.FlagHeadersEndHeaders | http2.FlagHeadersEndStream)}
		return append(append(b, byte(stream>>24), byte(stream>>16), byte(stream>>8), byte(stream)), block...)
	}
	conn := []byte(clientPreface + "\x00\x00\x00\x04\x00\x00\x00\x00\x00")
	conn = append(conn, frame(1, 0x83, 0x86, 0x84, 0x41, 0x01, 'a')...)
	for _, id := range []uint32{3, 5, 7} {
		conn = append(conn, frame(id, 0x83, 0x86, 0x84, 0xbe)...)
	}
	f.Add(conn, []byte{})
	f.Add(conn, []byte{byte(len(clientPreface)+9+15+13) << 1, 0x80 | 3<<1})
	data, cuts := streamLoss(true).cuts() // a gap recovered (TestGapProofFuzzSeed)
	f.Add(data, cuts)
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		var logs, notes [2][]string
		for i, keepNone := range []bool{false, true} {
			r := &blockRecorder{}
			setHooks(t, testHooks{keepNoBlocks: keepNone})
			c := NewFactory(r, Options{}).NewConn(&capture.ConnInfo{ID: 1, Addr: testAddrs, SYNSeen: len(cuts)%2 == 0}).(*Conn)
			feedCuts(c, data, cuts)
			logs[i], notes[i] = r.log, noteLines(c.Notes)
		}
		if !slices.Equal(logs[0], logs[1]) || !slices.Equal(notes[0], notes[1]) {
			t.Fatalf("keeping blocks:\n%s\n%s\nkeeping none:\n%s\n%s", strings.Join(logs[0], "\n"), strings.Join(notes[0], "\n"),
				strings.Join(logs[1], "\n"), strings.Join(notes[1], "\n"))
		}
	})
}
