package pbdecode

import (
	"encoding/json"
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
	})
}
