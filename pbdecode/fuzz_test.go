package pbdecode

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

func FuzzDecode(f *testing.F) {
	seeds := [][]byte{
		{},
		{0x08, 0x96, 0x01},
		{0x0a, 0x03, 0x79, 0x6f, 0x75},
		cat(vint(1, 1), str(2, "called by Python client")),
		cat(vint(2, 314159), lenf(3, lenf(2, make([]byte, 64))), vint(4, 1)),
		cat(vint(1, 3), str(2, "invalid argument"),
			lenf(3, str(1, "type.googleapis.com/google.rpc.BadRequest"),
				lenf(2, lenf(1, str(1, "name"), str(2, "must not be empty"))))),
		cat(lenf(1, packedVarints(1, 2, 3, 150)), lenf(2, packedFloats(1.5, 2, 3)), lenf(3, packedDoubles(1, 2.5))),
		cat(flt(1, 1.5), dbl(2, 3.14159), fix32(3, 0xffffffff), fix64(4, 1)),
		cat(group(1, vint(2, 3), group(4, str(5, "x"))), vint(6, 7)),
		str(1, "\n("+strings.Repeat("abcdefghij", 4)),
		nestLen(70, vint(1, 1)),
		{0x0b, 0x0b, 0x0b, 0x0c},
		{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f},
		{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		cat(lenf(6, packedVarints(7, math.MaxUint64, 150000)), lenf(9, packedFixed32(10, 20, 30000, 4000000000)),
			lenf(14, packedFixed64(1700000000, math.MaxUint64)), fix32(12, 0xfffffffb)),
	}
	for _, s := range seeds {
		f.Add(s, int8(0))
	}
	f.Add(nestLen(5, vint(1, 1)), int8(2))
	f.Add(group(1, group(1, group(1))), int8(-1))
	f.Fuzz(func(t *testing.T, b []byte, depth int8) {
		opt := Options{MaxDepth: int(depth)}
		if got, want := scan(b, opt.maxDepth()), scanGroups(b, 0, opt.maxDepth(), scanResult{}); got != want {
			t.Fatalf("scan = %+v, general loop: %+v", got, want)
		}
		m := Decode(b, opt)
		checkTree(t, m, b, len(b), "")
		js := m.AppendJSON(nil)
		if !json.Valid(js) {
			t.Fatalf("invalid JSON: %s", js)
		}
		_ = m.Text()
		// Decoding is deterministic.
		if js2 := Decode(b, opt).AppendJSON(nil); string(js2) != string(js) {
			t.Fatalf("non-deterministic output")
		}
		// So is decoding with reused slabs.
		if js3 := AppendDecodeJSON(nil, b, opt); string(js3) != string(js) {
			t.Fatalf("AppendDecodeJSON differs from Decode and AppendJSON:\n%s\n%s", js3, js)
		}
		// Hints, here those the message itself teaches, keep the tree
		// whole and the readings consistent.
		var tally Tally
		tally.Add(m)
		opt.Hints = tally.Hints()
		mh := Decode(b, opt)
		checkTree(t, mh, b, len(b), "")
		if js4, js5 := mh.AppendJSON(nil), AppendDecodeJSON(nil, b, opt); !json.Valid(js4) || string(js4) != string(js5) {
			t.Fatalf("with hints: invalid JSON, or AppendDecodeJSON differs:\n%s\n%s", js4, js5)
		}
	})
}

// FuzzPackedReadings reads the fuzzed bytes as the payload of a
// length-delimited field and checks the packed readings offered: each one
// listed as the reading, in Also or in Fits is one the bytes parse as
// exactly, none is listed twice, PackedInts goes only with a fixed-size
// reading, no float reading holds NaN, an infinity or a denormal, and the
// JSON's packed arrays hold one value per packed value.
func FuzzPackedReadings(f *testing.F) {
	for _, s := range [][]byte{
		packedVarints(7, math.MaxUint64, 150000),
		packedVarints(1, 300, math.MaxUint64),
		packedVarints(5, 10, 0, 1, 2000000, 4),
		packedFixed32(10, 20, 30000, 4000000000),
		packedFixed64(1700000000, math.MaxUint64),
		packedFloats(0.25, 1.5, -0.1),
		packedDoubles(21.5, -3.25, 1013.25),
		[]byte("name"),
		{0x08, 0x01},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		m := Decode(lenf(1, p), Options{})
		if len(m.Fields) != 1 {
			t.Fatalf("%d fields for one payload", len(m.Fields))
		}
		fd := &m.Fields[0]
		offered := append(append([]Reading{fd.As}, fd.Also...), fd.Fits()...)
		for i, r := range offered {
			if slices.Contains(offered[:i], r) {
				t.Fatalf("%v offered twice: %v", r, offered)
			}
			if !parsesExactly(p, r, fd) {
				t.Fatalf("%v offered for bytes that do not parse as it: % x", r, p)
			}
		}
		checkPackedValues(t, fd)
	})
}

// checkPackedValues checks f's packed values against its reading and
// their JSON.
func checkPackedValues(t *testing.T, f *Field) {
	t.Helper()
	isFixed := f.As == ReadingPackedFixed32 || f.As == ReadingPackedFixed64
	if f.PackedInts && !isFixed {
		t.Fatalf("PackedInts with reading %v", f.As)
	}
	for _, v := range f.Packed {
		if f.As == ReadingPackedFixed32 && !f.PackedInts && !OffersFloat32(uint32(v)) ||
			f.As == ReadingPackedFixed64 && !f.PackedInts && !OffersFloat64(v) {
			t.Fatalf("float reading holds %#x", v)
		}
	}
	var js struct {
		Fields []map[string]json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(Decode(lenf(1, f.Bytes), Options{}).AppendJSON(nil), &js); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"packed", "packed_uint", "packed_sint"} {
		raw, ok := js.Fields[0][key]
		if !ok {
			continue
		}
		var vs []json.RawMessage
		if err := json.Unmarshal(raw, &vs); err != nil || len(vs) != len(f.Packed) {
			t.Fatalf("%s: %s holds %d values, want %d (%v)", key, raw, len(vs), len(f.Packed), err)
		}
	}
}
