package pbdecode

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// Packed values count against the field limit, as fields do, so that a
// run of one-byte varints (eight bytes a value once decoded) stays
// bounded: past the limit the payload is bytes, and says why.
func TestPackedValuesCountAgainstFieldLimit(t *testing.T) {
	var vals []byte
	for i := range 200 {
		vals = protowire.AppendVarint(vals, uint64(i%100+1))
	}
	msg := protowire.AppendTag(nil, 1, protowire.BytesType)
	msg = protowire.AppendBytes(msg, vals)
	for _, tc := range []struct {
		max    int
		as     Reading
		values int
	}{
		{1000, ReadingPacked, 200},
		{100, ReadingBytes, 0},
	} {
		m := Decode(msg, Options{MaxFields: tc.max})
		if len(m.Fields) != 1 {
			t.Fatalf("max %d: %d fields (%s)", tc.max, len(m.Fields), m.Err)
		}
		f := m.Fields[0]
		if f.As != tc.as || len(f.Packed) != tc.values || (tc.as == ReadingBytes && f.Why != whyPackedOverLimit) {
			t.Errorf("max %d: read as %v with %d values, why %q", tc.max, f.As, len(f.Packed), f.Why)
		}
	}
}
