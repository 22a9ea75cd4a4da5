package pbdecode

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// poolInputs are messages of every shape, small and large, so that reused
// slabs see trees of other sizes and readings than the one before.
func poolInputs() [][]byte {
	ins := [][]byte{
		{},
		{0x0a, 0x03, 0x79, 0x6f, 0x75},
		cat(lenf(1, packedVarints(1, 2, 3, 150)), lenf(2, packedFloats(1.5, 2, 3)), lenf(3, packedDoubles(1, 2.5))),
		cat(group(1, vint(2, 3), group(4, str(5, "x"))), vint(6, 7)),
		cat(vint(1, 3), str(2, "invalid argument"),
			lenf(3, str(1, "type.googleapis.com/google.rpc.BadRequest"),
				lenf(2, lenf(1, str(1, "name"), str(2, "must not be empty"))))),
		{0x0b, 0x0b, 0x0b, 0x0c},
		{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f},
		nestLen(70, vint(1, 1)),
		bytes.Repeat(vint(1, 1), 3*slabKeep), // more fields than a slab keeps
		bytes.Repeat(vint(1, 1), slabKeep-1),
		lenf(1, randomBytes(300)),
		cat(vint(2, 1024), lenf(3, str(2, strings.Repeat("a", 1024)))),
	}
	for _, bi := range benchInputs() {
		ins = append(ins, bi.in)
	}
	return ins
}

// TestAppendDecodeJSON checks that decoding with pooled slabs writes what
// Decode and AppendJSON write, whatever was decoded before.
func TestAppendDecodeJSON(t *testing.T) {
	ins := poolInputs()
	for round := range 3 {
		for i, in := range ins {
			for _, opt := range []Options{{}, {MaxDepth: 2}, {MaxFields: 7}, {MaxDepth: -1}} {
				want := Decode(in, opt).AppendJSON([]byte("x"))
				if got := AppendDecodeJSON([]byte("x"), in, opt); !bytes.Equal(got, want) {
					t.Fatalf("round %d, input %d, %+v:\ngot  %s\nwant %s", round, i, opt, got, want)
				}
			}
		}
	}
}

// TestAppendDecodeJSONConcurrent decodes from several goroutines at once,
// as the export does when it encodes calls in parallel (run with -race).
func TestAppendDecodeJSONConcurrent(t *testing.T) {
	ins := poolInputs()
	want := make([][]byte, len(ins))
	for i, in := range ins {
		want[i] = Decode(in, Options{}).AppendJSON(nil)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			var buf []byte
			for k := range 50 {
				i := (g*7 + k) % len(ins)
				buf = AppendDecodeJSON(buf[:0], ins[i], Options{})
				if !bytes.Equal(buf, want[i]) {
					t.Errorf("goroutine %d, input %d: output differs", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestAppendDecodeJSONReleasesInput checks that a pooled decoder keeps no
// reference to the bytes it decoded.
func TestAppendDecodeJSONReleasesInput(t *testing.T) {
	d := new(decoder)
	d.maxDepth, d.fieldsLeft = DefaultMaxDepth, DefaultMaxFields
	d.decode(poolInputs()[4]).AppendJSON(nil)
	d.fields.reset()
	d.msgs.reset()
	d.words.reset()
	for i, f := range d.fields.buf {
		if f.Bytes != nil || f.Sub != nil || f.Packed != nil {
			t.Fatalf("field %d of the kept slab still refers to the tree: %+v", i, f)
		}
	}
	for i, m := range d.msgs.buf {
		if m.Fields != nil || m.Rest != nil || m.Err != "" {
			t.Fatalf("message %d of the kept slab is not cleared: %+v", i, m)
		}
	}
}

// TestAppendDecodeJSONAllocs checks that, once warm, decoding a run of
// similar messages allocates nothing.
func TestAppendDecodeJSONAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	in := cat(vint(2, 1024), lenf(3, str(2, strings.Repeat("a", 1024))))
	buf := AppendDecodeJSON(nil, in, Options{})
	if n := testing.AllocsPerRun(100, func() { buf = AppendDecodeJSON(buf[:0], in, Options{}) }); n != 0 {
		t.Errorf("%v allocations per message", n)
	}
}
