package pbdecode

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Builders for hand-made wire bytes.

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	if b == nil {
		b = []byte{}
	}
	return b
}

func vint(num protowire.Number, v uint64) []byte {
	b := protowire.AppendTag(nil, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func fix32(num protowire.Number, v uint32) []byte {
	b := protowire.AppendTag(nil, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, v)
}

func fix64(num protowire.Number, v uint64) []byte {
	b := protowire.AppendTag(nil, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, v)
}

func flt(num protowire.Number, v float32) []byte { return fix32(num, math.Float32bits(v)) }
func dbl(num protowire.Number, v float64) []byte { return fix64(num, math.Float64bits(v)) }

func lenf(num protowire.Number, parts ...[]byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, cat(parts...))
}

func str(num protowire.Number, s string) []byte { return lenf(num, []byte(s)) }

func group(num protowire.Number, parts ...[]byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.StartGroupType)
	b = append(b, cat(parts...)...)
	return protowire.AppendTag(b, num, protowire.EndGroupType)
}

func packedVarints(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendVarint(b, v)
	}
	return b
}

func packedFixed32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendFixed32(b, v)
	}
	return b
}

func packedFixed64(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendFixed64(b, v)
	}
	return b
}

func packedFloats(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendFixed32(b, math.Float32bits(v))
	}
	return b
}

func packedDoubles(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendFixed64(b, math.Float64bits(v))
	}
	return b
}

// checkTree verifies the structural invariants of a decoded message m:
// fields are contiguous from 0, offsets are in bounds and agree with the
// bytes, Bytes and Rest alias the input, readings are consistent, and
// message readings of LEN payloads have no error. b holds the bytes from the
// message's start to the end of the buffer it was parsed from; when m.Err is
// empty its fields end at want.
func checkTree(t testing.TB, m *Message, b []byte, want int, path string) {
	t.Helper()
	checkTreeG(t, m, b, want, path, false)
}

// checkTreeG is checkTree for a message that is a group's content when
// inGroup is set.
func checkTreeG(t testing.TB, m *Message, b []byte, want int, path string, inGroup bool) {
	t.Helper()
	if m == nil {
		t.Fatalf("%s: nil message", path)
	}
	off := 0
	for i := range m.Fields {
		f := &m.Fields[i]
		checkFieldTag(t, f, b, off, path, i)
		switch f.Wire {
		case protowire.VarintType, protowire.Fixed32Type, protowire.Fixed64Type:
			checkScalar(t, f, b, path, i)
		case protowire.BytesType:
			l, n := protowire.ConsumeVarint(b[f.Offset+tagLen(b[f.Offset:]):])
			if n < 0 || int(l) != len(f.Bytes) || f.ValueOffset+len(f.Bytes) != f.End {
				t.Fatalf("%s field %d: length mismatch", path, i)
			}
			if !aliases(f.Bytes, b[f.ValueOffset:]) {
				t.Fatalf("%s field %d: Bytes does not alias the input", path, i)
			}
			checkReading(t, f, path, i)
		case protowire.StartGroupType:
			checkGroup(t, m, f, b, path, i)
		default:
			t.Fatalf("%s field %d: wire type %d", path, i, f.Wire)
		}
		off = f.End
	}
	checkMessageEnd(t, m, b, off, want, path, inGroup)
}

// checkFieldTag checks that field i of a message, f, starts where the field
// before it ended (off), that its offsets are in order within b, that its
// tag is what the bytes say, and that a field other than LEN or a group has
// no reading.
func checkFieldTag(t testing.TB, f *Field, b []byte, off int, path string, i int) {
	t.Helper()
	if f.Offset != off {
		t.Fatalf("%s field %d: offset %d, want %d", path, i, f.Offset, off)
	}
	if f.Offset >= f.ValueOffset || f.ValueOffset > f.End || f.End > len(b) {
		t.Fatalf("%s field %d: offsets %d/%d/%d out of order or beyond %d", path, i, f.Offset, f.ValueOffset, f.End, len(b))
	}
	num, typ, n := protowire.ConsumeTag(b[f.Offset:])
	if n < 0 || int32(num) != f.Number || typ != f.Wire || f.Number < 1 || int64(f.Number) > int64(protowire.MaxValidNumber) {
		t.Fatalf("%s field %d: tag mismatch", path, i)
	}
	if f.Wire != protowire.BytesType && f.Wire != protowire.StartGroupType &&
		(f.As != ReadingNone || f.Sub != nil || f.Bytes != nil || f.Packed != nil || f.Also != nil || f.Why != "") {
		t.Fatalf("%s field %d: scalar with a reading", path, i)
	}
}

// checkScalar checks the value and the extent of a varint or fixed-size
// field f, field i of its message, against the bytes b.
func checkScalar(t testing.TB, f *Field, b []byte, path string, i int) {
	t.Helper()
	switch f.Wire {
	case protowire.VarintType:
		v, n := protowire.ConsumeVarint(b[f.ValueOffset:])
		if n < 0 || v != f.Varint || f.ValueOffset+n != f.End || f.ValueOffset != f.Offset+tagLen(b[f.Offset:]) {
			t.Fatalf("%s field %d: varint mismatch", path, i)
		}
	case protowire.Fixed32Type:
		if f.End-f.ValueOffset != 4 || protowireFixed32(b[f.ValueOffset:]) != f.Fixed {
			t.Fatalf("%s field %d: fixed32 mismatch", path, i)
		}
	case protowire.Fixed64Type:
		if f.End-f.ValueOffset != 8 || protowireFixed64(b[f.ValueOffset:]) != f.Fixed {
			t.Fatalf("%s field %d: fixed64 mismatch", path, i)
		}
	}
}

// checkGroup checks the group f, field i of m: its content's tree, and
// either its end-group tag or, when it broke, that it ends m.
func checkGroup(t testing.TB, m *Message, f *Field, b []byte, path string, i int) {
	t.Helper()
	if f.As != ReadingMessage || f.Sub == nil {
		t.Fatalf("%s field %d: group without message", path, i)
	}
	content := b[f.ValueOffset:]
	if !aliases(f.Bytes, content) {
		t.Fatalf("%s field %d: group Bytes does not alias the input", path, i)
	}
	checkTreeG(t, f.Sub, content, len(f.Bytes), path+"/"+itoa(int(f.Number)), true)
	if f.Sub.Err != "" {
		if i != len(m.Fields)-1 || m.Err == "" || m.ErrOffset != f.End || f.End != f.ValueOffset+f.Sub.ErrOffset {
			t.Fatalf("%s field %d: failed group does not end its parent", path, i)
		}
		return
	}
	num, typ, n := protowire.ConsumeTag(b[f.ValueOffset+len(f.Bytes):])
	if n < 0 || int32(num) != f.Number || typ != protowire.EndGroupType || f.ValueOffset+len(f.Bytes)+n != f.End {
		t.Fatalf("%s field %d: group end tag mismatch", path, i)
	}
}

// checkMessageEnd checks what follows m's fields, which end at off: the end
// of its bytes (want) when m has no error, else the error's offset and the
// unparsed bytes, which a group's content leaves to the outermost message.
func checkMessageEnd(t testing.TB, m *Message, b []byte, off, want int, path string, inGroup bool) {
	t.Helper()
	if m.Err == "" {
		if off != want || m.Rest != nil || m.ErrOffset != 0 {
			t.Fatalf("%s: fields end at %d, want %d (err %q)", path, off, want, m.Err)
		}
		return
	}
	if inGroup {
		if m.ErrOffset != off || m.ErrOffset > len(b) || m.Rest != nil {
			t.Fatalf("%s: broken group: error offset %d, fields end at %d, rest %d bytes", path, m.ErrOffset, off, len(m.Rest))
		}
		return
	}
	if m.ErrOffset != off || m.ErrOffset > len(b) || !bytes.Equal(m.Rest, b[m.ErrOffset:]) || !aliases(m.Rest, b[m.ErrOffset:]) || m.Rest == nil {
		t.Fatalf("%s: error offset %d / rest %d bytes inconsistent with fields ending at %d in %d bytes", path, m.ErrOffset, len(m.Rest), off, len(b))
	}
}

// checkReading checks that the reading of the LEN field f, field i of its
// message, agrees with its bytes and with the other fields of f.
func checkReading(t testing.TB, f *Field, path string, i int) {
	t.Helper()
	p := f.Bytes
	if (f.As == ReadingMessage) != (f.Sub != nil) {
		t.Fatalf("%s field %d: As %v with Sub %v", path, i, f.As, f.Sub != nil)
	}
	isPacked := f.As == ReadingPacked || f.As == ReadingPackedFixed32 || f.As == ReadingPackedFixed64
	if isPacked != (f.Packed != nil) {
		t.Fatalf("%s field %d: As %v with Packed %v", path, i, f.As, f.Packed != nil)
	}
	for _, r := range f.Also {
		if r == f.As || r == ReadingBytes || r == ReadingNone || r == ReadingEmpty {
			t.Fatalf("%s field %d: Also %v with As %v", path, i, f.Also, f.As)
		}
	}
	if len(f.Also) > 0 && f.Why == "" {
		t.Fatalf("%s field %d: Also without Why", path, i)
	}
	switch f.As {
	case ReadingEmpty:
		if len(p) != 0 {
			t.Fatalf("%s field %d: empty with %d bytes", path, i, len(p))
		}
	case ReadingString:
		if !utf8.Valid(p) || len(p) == 0 {
			t.Fatalf("%s field %d: string reading of invalid UTF-8", path, i)
		}
	case ReadingMessage:
		if f.Sub.Err != "" {
			t.Fatalf("%s field %d: message reading with error %q", path, i, f.Sub.Err)
		}
		checkTree(t, f.Sub, p, len(p), path+"/"+itoa(int(f.Number)))
	case ReadingPacked, ReadingPackedFixed32, ReadingPackedFixed64:
		checkPacked(t, f, path, i)
	case ReadingBytes:
	default:
		t.Fatalf("%s field %d: LEN with reading %v", path, i, f.As)
	}
}

// checkPacked checks the values of f, field i of its message, read as
// packed: the varints or the count of fixed-size values its bytes hold.
func checkPacked(t testing.TB, f *Field, path string, i int) {
	t.Helper()
	p := f.Bytes
	switch f.As {
	case ReadingPacked:
		var vs []uint64
		for q := p; len(q) > 0; {
			v, n := protowire.ConsumeVarint(q)
			if n < 0 {
				t.Fatalf("%s field %d: bad packed varints", path, i)
			}
			vs = append(vs, v)
			q = q[n:]
		}
		if !equalU64(vs, f.Packed) {
			t.Fatalf("%s field %d: packed %v, want %v", path, i, f.Packed, vs)
		}
	case ReadingPackedFixed32:
		if len(p)%4 != 0 || len(f.Packed) != len(p)/4 {
			t.Fatalf("%s field %d: bad packed fixed32", path, i)
		}
	case ReadingPackedFixed64:
		if len(p)%8 != 0 || len(f.Packed) != len(p)/8 {
			t.Fatalf("%s field %d: bad packed fixed64", path, i)
		}
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func protowireFixed32(b []byte) uint64 {
	v, _ := protowire.ConsumeFixed32(b)
	return uint64(v)
}

func protowireFixed64(b []byte) uint64 {
	v, _ := protowire.ConsumeFixed64(b)
	return v
}

func tagLen(b []byte) int {
	_, n := protowire.ConsumeVarint(b)
	return n
}

// aliases reports whether sub is a prefix of b sharing its memory (trivially
// true for an empty sub).
func aliases(sub, b []byte) bool {
	if len(sub) == 0 {
		return true
	}
	return len(sub) <= len(b) && &sub[0] == &b[0]
}

func itoa(n int) string { return strconv.Itoa(n) }

// checkAll decodes b with opt and checks the tree, the JSON and the text.
func checkAll(t testing.TB, b []byte, opt Options) *Message {
	t.Helper()
	m := Decode(b, opt)
	checkTree(t, m, b, len(b), "")
	js := m.AppendJSON(nil)
	if !json.Valid(js) {
		t.Fatalf("invalid JSON: %s", js)
	}
	_ = m.Text()
	return m
}
