package pbdecode

import (
	"math"
	"slices"
	"testing"
)

// TestHints learns the readings of a message type from four messages and
// decodes a fifth with them: a packed field whose one value reads alone as
// the text "z" is packed varints, with the text in Also and Why saying so;
// a nested message's packed field follows its own hint; a field whose
// payloads are all random bytes stays bytes.
func TestHints(t *testing.T) {
	msg := func(values []uint64, inner []uint64, blob []byte) []byte {
		return cat(str(1, "name"), lenf(2, packedVarints(values...)), lenf(3, lenf(4, packedVarints(inner...))), lenf(5, blob))
	}
	var tally Tally
	for _, m := range [][]byte{
		msg([]uint64{1, 2, 3}, []uint64{7, math.MaxUint64}, []byte{0x9f, 0x86, 0xd0, 0x81}),
		msg([]uint64{300, 5}, []uint64{1, 2}, []byte{0xea, 0xa0, 0xc5, 0x5a, 0xd0}),
		msg([]uint64{math.MaxUint64, 8}, []uint64{3}, []byte{0x88, 0x4c, 0x7d, 0x65, 0x9a}),
		msg([]uint64{9, 9, 9, 1}, []uint64{4, 4}, []byte{0x2f, 0xea, 0xa0}),
	} {
		tally.Add(Decode(m, Options{}))
	}
	hints := tally.Hints()
	if fh := hints.Field(2); fh == nil || fh.As != ReadingPacked || fh.Agree != 3 || fh.Seen != 4 {
		t.Fatalf("field 2 hint %+v, want packed_varint from 3 of 4 (300, 5 alone is bytes)", fh)
	}
	in := msg([]uint64{'z'}, []uint64{'a', 'b'}, []byte{0xff, 0x01})
	alone := Decode(in, Options{})
	if alone.Fields[1].As != ReadingString || alone.Fields[2].Sub.Fields[0].As != ReadingString {
		t.Fatalf("alone: %v and %v, want the string readings this test overrides", alone.Fields[1].As, alone.Fields[2].Sub.Fields[0].As)
	}
	m := checkAll(t, in, Options{Hints: hints})
	f := m.Fields[1]
	if f.As != ReadingPacked || !slices.Equal(f.Packed, []uint64{'z'}) || !slices.Equal(f.Also, []Reading{ReadingString}) {
		t.Errorf("field 2: %v %v also %v, want packed_varint [122] also [string]", f.As, f.Packed, f.Also)
	}
	if want := "the reading of this field in 3 of 4 messages of its type; alone it reads as string"; f.Why != want {
		t.Errorf("field 2 why %q, want %q", f.Why, want)
	}
	if g := m.Fields[2].Sub.Fields[0]; g.As != ReadingPacked {
		t.Errorf("nested field 3.4: %v, want packed_varint", g.As)
	}
	if m.Fields[0].As != ReadingString || m.Fields[3].As != ReadingBytes {
		t.Errorf("fields 1 and 5: %v, %v; want string, bytes", m.Fields[0].As, m.Fields[3].As)
	}
}

// TestHintNotFitting checks that a payload that does not parse as its
// field's hinted reading keeps its own.
func TestHintNotFitting(t *testing.T) {
	var tally Tally
	for _, vs := range [][]uint64{{1, 2}, {3, 4}} {
		tally.Add(Decode(lenf(1, packedVarints(vs...)), Options{}))
	}
	m := Decode(lenf(1, []byte{0xff, 0xfe}), Options{Hints: tally.Hints()})
	if f := m.Fields[0]; f.As != ReadingBytes || f.Why != "" {
		t.Errorf("truncated varints: %v (why %q), want bytes", f.As, f.Why)
	}
}
