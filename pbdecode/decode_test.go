package pbdecode

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestScalars(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Field
	}{
		{"varint 150", []byte{0x08, 0x96, 0x01},
			Field{Number: 1, Wire: protowire.VarintType, Offset: 0, ValueOffset: 1, End: 3, Varint: 150}},
		{"varint max", vint(2, math.MaxUint64),
			Field{Number: 2, Wire: protowire.VarintType, ValueOffset: 1, End: 11, Varint: math.MaxUint64}},
		{"varint zero", vint(15, 0),
			Field{Number: 15, Wire: protowire.VarintType, ValueOffset: 1, End: 2}},
		{"two-byte tag", vint(16, 1),
			Field{Number: 16, Wire: protowire.VarintType, ValueOffset: 2, End: 3, Varint: 1}},
		{"max field number", vint(protowire.MaxValidNumber, 7),
			Field{Number: int32(protowire.MaxValidNumber), Wire: protowire.VarintType, ValueOffset: 5, End: 6, Varint: 7}},
		{"fixed32", fix32(3, 0xdeadbeef),
			Field{Number: 3, Wire: protowire.Fixed32Type, ValueOffset: 1, End: 5, Fixed: 0xdeadbeef}},
		{"fixed64", fix64(4, 0x0102030405060708),
			Field{Number: 4, Wire: protowire.Fixed64Type, ValueOffset: 1, End: 9, Fixed: 0x0102030405060708}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := checkAll(t, tt.in, Options{})
			if m.Err != "" || len(m.Fields) != 1 {
				t.Fatalf("got %d fields, err %q", len(m.Fields), m.Err)
			}
			got := m.Fields[0]
			if got.Number != tt.want.Number || got.Wire != tt.want.Wire || got.Offset != tt.want.Offset ||
				got.ValueOffset != tt.want.ValueOffset || got.End != tt.want.End ||
				got.Varint != tt.want.Varint || got.Fixed != tt.want.Fixed {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestEmptyInput(t *testing.T) {
	for _, in := range [][]byte{nil, {}} {
		m := checkAll(t, in, Options{})
		if len(m.Fields) != 0 || m.Err != "" {
			t.Errorf("Decode(%v) = %+v", in, m)
		}
		if got := string(m.AppendJSON(nil)); got != `{"fields":[]}` {
			t.Errorf("JSON = %s", got)
		}
		if got := m.Text(); got != "" {
			t.Errorf("Text = %q", got)
		}
	}
	var nilMsg *Message
	if got := string(nilMsg.AppendJSON(nil)); got != "null" {
		t.Errorf("nil JSON = %s", got)
	}
	if got := nilMsg.Text(); got != "" {
		t.Errorf("nil Text = %q", got)
	}
}

// TestReadings checks the reading chosen for a payload in field 1.
func TestReadings(t *testing.T) {
	long := strings.Repeat("abcdefghij", 4) // 40 printable characters
	tests := []struct {
		name    string
		payload []byte
		as      Reading
		also    []Reading
	}{
		{"empty", nil, ReadingEmpty, nil},
		{"you", []byte("you"), ReadingString, nil},
		{"hi parses as {13: 105}", []byte("hi"), ReadingString, []Reading{ReadingMessage}},
		{"sentence", []byte("called by Python client"), ReadingString, nil},
		{"type url", []byte("type.googleapis.com/google.rpc.BadRequest"), ReadingString, nil},
		{"utf-8 text", []byte("héllo wörld ✓"), ReadingString, nil},
		{"text with newlines and tabs", []byte("line one\n\tline two\r\n"), ReadingString, nil},
		{"mostly printable text", []byte("\x1b[1mbold text here\x1b[0m and more text"), ReadingString, nil},
		{"small message", vint(1, 1), ReadingMessage, nil},
		{"message with string", cat(vint(1, 1), str(2, "abc")), ReadingMessage, nil},
		{"printable message with long text", str(1, long), ReadingMessage, []Reading{ReadingString}},
		{"printable message with nested long text", lenf(4, str(4, long)), ReadingMessage, []Reading{ReadingString}},
		{"printable text parsing as scalars", []byte("hihihi"), ReadingString, []Reading{ReadingMessage}},
		{"group message", group(1, vint(1, 2)), ReadingMessage, nil},
		{"zeros", make([]byte, 100), ReadingBytes, nil},
		{"one zero", []byte{0}, ReadingBytes, nil},
		{"packed small", packedVarints(1, 2, 3), ReadingPacked, nil},
		{"packed with 150", packedVarints(150, 300), ReadingPacked, nil},
		{"packed enums", packedVarints(0, 1, 2, 1, 0, 3, 200), ReadingPacked, nil},
		{"packed negative int32", packedVarints(math.MaxUint64, math.MaxUint64-1), ReadingPacked, []Reading{ReadingPackedFixed32}},
		{"packed ids same length", packedVarints(1700000000000, 1700000000123, 1700000009999), ReadingPacked, nil},
		{"packed floats", packedFloats(1.5, -2.25, 3), ReadingPackedFixed32, nil},
		{"packed round floats", packedFloats(1, 2, 3), ReadingPackedFixed32, []Reading{ReadingPacked}},
		{"packed floats parsing as a message", packedFloats(3.14159, 2.71828, 0.1, 1e-3), ReadingPackedFixed32, []Reading{ReadingMessage}},
		{"message with a huge field number", cat(vint(1, 1), vint(1<<22, 1)), ReadingPacked, []Reading{ReadingMessage}},
		{"single round float", packedFloats(1), ReadingPackedFixed32, nil},
		{"packed round doubles", packedDoubles(1, 2.5, 100), ReadingPackedFixed64, []Reading{ReadingPackedFixed32, ReadingPacked}},
		{"packed doubles computed", packedDoubles(3.141592653589793, 2.718281828459045), ReadingPackedFixed64, []Reading{ReadingPacked}},
		{"packed mixed magnitudes", packedVarints(5, 300, 800), ReadingBytes, []Reading{ReadingPacked}},
		{"packed large same-size", packedVarints(300, 800, 1000, 16000), ReadingPacked, nil},
		{"packed int32 of mixed magnitudes with a negative", packedVarints(7, math.MaxUint64, 150000), ReadingPacked, nil},
		{"packed uint64 with the maximum", packedVarints(1, 300, math.MaxUint64), ReadingPacked, nil},
		{"packed small fixed32", packedFixed32(1, 2, 3), ReadingPackedFixed32, []Reading{ReadingPacked}},
		{"packed fixed32 mostly small", packedFixed32(1, 2, 3000000000, math.MaxUint32), ReadingPackedFixed32, []Reading{ReadingPackedFixed64}},
		{"packed small fixed64", packedFixed64(1, 2, math.MaxUint64-4), ReadingPackedFixed64, []Reading{ReadingPackedFixed32}},
		{"packed fixed32 hashes", packedFixed32(0x9e3779b9, 0x85ebca6b, 0xc2b2ae35), ReadingBytes, nil},
		{"non-canonical varints", []byte{0x81, 0x00, 0x05}, ReadingBytes, nil},
		{"random bytes", []byte{0x9f, 0x86, 0xd0, 0x81, 0x88, 0x4c, 0x7d, 0x65, 0x9a, 0x2f, 0xea, 0xa0, 0xc5, 0x5a, 0xd0, 0x15}, ReadingBytes, nil},
		{"invalid utf-8", []byte{0xff, 0xfe, 0xfd}, ReadingBytes, nil},
		{"truncated message", []byte{0x08, 0x96}, ReadingBytes, nil},
		{"varint too long", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, ReadingBytes, nil},
		{"lone end group", []byte{0x8c, 0x01, 0x82}, ReadingBytes, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := lenf(1, tt.payload)
			m := checkAll(t, in, Options{})
			if m.Err != "" || len(m.Fields) != 1 {
				t.Fatalf("got %d fields, err %q", len(m.Fields), m.Err)
			}
			f := m.Fields[0]
			if f.As != tt.as || !slices.Equal(f.Also, tt.also) {
				t.Errorf("As %v, Also %v (why %q); want %v, %v", f.As, f.Also, f.Why, tt.as, tt.also)
			}
			if len(f.Also) > 0 && f.Why == "" {
				t.Errorf("no Why for an ambiguous choice")
			}
		})
	}
}

func TestWhy(t *testing.T) {
	m := Decode(str(2, "hi"), Options{})
	if got := m.Fields[0].Why; got != "valid UTF-8 and printable; also parses as a message" {
		t.Errorf("Why = %q", got)
	}
}

// grpc.testing.SimpleRequest as sent by the interop large_unary test:
// response_size = 314159, payload = {body = 271828 zeros}, fill_username =
// true.
func largeUnaryRequest() []byte {
	return cat(
		vint(2, 314159),
		lenf(3, lenf(2, make([]byte, 271828))),
		vint(4, 1),
	)
}

func TestRealMessages(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		text string
	}{
		{"helloworld.HelloRequest", []byte{0x0a, 0x03, 0x79, 0x6f, 0x75}, `1: "you"` + "\n"},
		{"helloworld.HelloReply", str(1, "Hello you"), `1: "Hello you"` + "\n"},
		{"demo Request", cat(vint(1, 1), str(2, "called by Python client")),
			"1: 1\n2: \"called by Python client\"\n"},
		{"grpc.testing.SimpleRequest small", cat(
			vint(1, 0),
			vint(2, 1),
			lenf(3, lenf(2, make([]byte, 8))),
			vint(4, 1),
			vint(5, 1),
		), "1: 0\n2: 1\n3 {\n  2: \"\\000\\000\\000\\000\\000\\000\\000\\000\"\n}\n4: 1\n5: 1\n"},
		{"grpc.testing.SimpleResponse", cat(
			lenf(1, lenf(2, make([]byte, 4))),
			str(2, "test@example.com"),
			str(3, "https://www.googleapis.com/auth/xapi.zoo"),
		), "1 {\n  2: \"\\000\\000\\000\\000\"\n}\n2: \"test@example.com\"\n3: \"https://www.googleapis.com/auth/xapi.zoo\"\n"},
		{"google.rpc.Status with Any details", cat(
			vint(1, 3),
			str(2, "invalid argument"),
			lenf(3,
				str(1, "type.googleapis.com/google.rpc.BadRequest"),
				lenf(2, lenf(1, str(1, "name"), str(2, "must not be empty"))),
			),
		), `1: 3
2: "invalid argument"
3 {
  1: "type.googleapis.com/google.rpc.BadRequest"
  2 {
    1 {
      1: "name"
      2: "must not be empty"
    }
  }
}
`},
		{"repeated packed and floats", cat(
			lenf(1, packedVarints(1, 2, 3, 4, 5, 150)),
			flt(2, 1.5),
			dbl(3, 3.14159),
			lenf(4, packedFloats(0.5, 1.5, -2)),
			vint(5, uint64(1<<64-5)), // int32 -5
		), `1: [1, 2, 3, 4, 5, 150]  # packed_varint
2: 0x3fc00000  # float: 1.5
3: 0x400921f9f01b866e  # double: 3.14159
4: [0.5, 1.5, -2]  # packed_fixed32
5: 18446744073709551611  # int: -5
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := checkAll(t, tt.in, Options{})
			if got := m.Text(); got != tt.text {
				t.Errorf("Text:\n%s\nwant:\n%s", got, tt.text)
			}
		})
	}
}

func TestLargeUnary(t *testing.T) {
	in := largeUnaryRequest()
	m := checkAll(t, in, Options{})
	if len(m.Fields) != 3 || m.Err != "" {
		t.Fatalf("fields %d, err %q", len(m.Fields), m.Err)
	}
	p := m.Fields[1]
	if p.As != ReadingMessage || len(p.Sub.Fields) != 1 {
		t.Fatalf("payload As %v", p.As)
	}
	body := p.Sub.Fields[0]
	if body.As != ReadingBytes || len(body.Bytes) != 271828 || body.Number != 2 {
		t.Fatalf("body As %v len %d", body.As, len(body.Bytes))
	}
	// Offsets: tag 0x10 + 3-byte varint; then tag 0x1a at 4, length
	// varint (3 bytes), payload at 8; body tag at 0, 3-byte length, value at 4.
	if p.Offset != 4 || p.ValueOffset != 8 || body.Offset != 0 || body.ValueOffset != 4 || body.End != 4+271828 {
		t.Errorf("offsets: payload %d/%d body %d/%d/%d", p.Offset, p.ValueOffset, body.Offset, body.ValueOffset, body.End)
	}
}

func TestNestedOffsets(t *testing.T) {
	// {1: 1, 2: {3: {4: "deep"}, 5: 7}}
	in := cat(vint(1, 1), lenf(2, lenf(3, str(4, "deep")), vint(5, 7)))
	m := checkAll(t, in, Options{})
	f2 := m.Fields[1]
	if f2.Offset != 2 || f2.ValueOffset != 4 || f2.End != len(in) {
		t.Errorf("field 2 offsets %d/%d/%d", f2.Offset, f2.ValueOffset, f2.End)
	}
	f3 := f2.Sub.Fields[0]
	if f3.Offset != 0 || f3.ValueOffset != 2 || f3.End != 8 || f3.As != ReadingMessage {
		t.Errorf("field 3 offsets %d/%d/%d as %v", f3.Offset, f3.ValueOffset, f3.End, f3.As)
	}
	f4 := f3.Sub.Fields[0]
	if f4.Offset != 0 || f4.ValueOffset != 2 || f4.End != 6 || string(f4.Bytes) != "deep" {
		t.Errorf("field 4 offsets %d/%d/%d %q", f4.Offset, f4.ValueOffset, f4.End, f4.Bytes)
	}
	f5 := f2.Sub.Fields[1]
	if f5.Offset != 8 || f5.ValueOffset != 9 || f5.End != 10 || f5.Varint != 7 {
		t.Errorf("field 5 offsets %d/%d/%d", f5.Offset, f5.ValueOffset, f5.End)
	}
	// Absolute position of "deep" in the input.
	abs := f2.ValueOffset + f3.ValueOffset + f4.ValueOffset
	if string(in[abs:abs+4]) != "deep" {
		t.Errorf("absolute offset %d does not point at the string", abs)
	}
}

func TestGroups(t *testing.T) {
	// {1: 1, 2 (group) {3: 4, 5 (group) {6: "x"}}, 7: 8}
	in := cat(vint(1, 1), group(2, vint(3, 4), group(5, str(6, "x"))), vint(7, 8))
	m := checkAll(t, in, Options{})
	if m.Err != "" || len(m.Fields) != 3 {
		t.Fatalf("fields %d err %q", len(m.Fields), m.Err)
	}
	g := m.Fields[1]
	if g.Wire != protowire.StartGroupType || g.Offset != 2 || g.ValueOffset != 3 || g.End != 11 || len(g.Bytes) != 7 {
		t.Errorf("group offsets %d/%d/%d len %d", g.Offset, g.ValueOffset, g.End, len(g.Bytes))
	}
	inner := g.Sub.Fields[1]
	if inner.Offset != 2 || inner.ValueOffset != 3 || inner.End != 7 || inner.Sub.Fields[0].As != ReadingString {
		t.Errorf("inner group offsets %d/%d/%d", inner.Offset, inner.ValueOffset, inner.End)
	}
	want := "1: 1\n2 {\n  3: 4\n  5 {\n    6: \"x\"\n  }\n}\n7: 8\n"
	if got := m.Text(); got != want {
		t.Errorf("Text:\n%s\nwant:\n%s", got, want)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		fields  int
		err     string
		offset  int
		restLen int
	}{
		{"truncated tag", cat(vint(1, 1), []byte{0x80}), 1, "tag: truncated varint", 2, 1},
		{"tag overflow", cat(vint(1, 1), bytes.Repeat([]byte{0xff}, 10), []byte{0x01}), 1, "tag: varint overflows 64 bits", 2, 11},
		{"field number 0", []byte{0x00, 0x01}, 0, "invalid field number 0", 0, 2},
		{"field number too large", protowire.AppendVarint(nil, uint64(protowire.MaxValidNumber+1)<<3), 0, "field number 536870912 out of range", 0, 5},
		{"wire type 6", cat(vint(1, 1), []byte{0x0e, 0x01}), 1, "field 1: invalid wire type 6", 2, 2},
		{"wire type 7", []byte{0x0f}, 0, "field 1: invalid wire type 7", 0, 1},
		{"truncated varint value", cat(vint(1, 1), []byte{0x10, 0x96}), 1, "field 2 (varint): truncated varint", 2, 2},
		{"11-byte varint", cat([]byte{0x08}, bytes.Repeat([]byte{0xff}, 10), []byte{0x01}), 0, "field 1 (varint): varint overflows 64 bits", 0, 12},
		{"truncated fixed32", cat(vint(1, 1), []byte{0x15, 1, 2, 3}), 1, "field 2 (i32): truncated: need 4 bytes, have 3", 2, 4},
		{"truncated fixed64", []byte{0x09, 1, 2, 3, 4, 5, 6, 7}, 0, "field 1 (i64): truncated: need 8 bytes, have 7", 0, 8},
		{"length lies", cat(str(1, "ok"), []byte{0x12, 0x64, 'a', 'b'}), 1, "field 2 (len): length 100 exceeds the remaining 2 bytes", 4, 4},
		{"huge length", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'x'}, 0, "field 1 (len): length 4294967295 exceeds the remaining 1 bytes", 0, 7},
		{"truncated length", []byte{0x0a, 0x80}, 0, "field 1 (len): length: truncated varint", 0, 2},
		{"unexpected end group", cat(vint(1, 1), []byte{0x1c}), 1, "unexpected end-group tag for field 3", 2, 1},
		{"missing end group", cat(vint(1, 1), []byte{0x13}, vint(1, 2)), 2, "in group 2: missing end-group tag for group 2", 5, 0},
		{"mismatched end group", []byte{0x13, 0x08, 0x01, 0x24}, 1, "in group 2: end-group tag for field 4 does not match start-group field 2", 3, 1},
		{"error inside group", []byte{0x13, 0x08, 0x01, 0x10}, 1, "in group 2: field 2 (varint): truncated varint", 3, 1},
		{"error inside nested group", []byte{0x13, 0x1b, 0x08}, 1, "in group 2: field 1 (varint): truncated varint", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := checkAll(t, tt.in, Options{})
			if m.Err != tt.err || m.ErrOffset != tt.offset || len(m.Rest) != tt.restLen || len(m.Fields) != tt.fields {
				t.Errorf("got err %q at %d, rest %d, fields %d; want %q at %d, rest %d, fields %d",
					m.Err, m.ErrOffset, len(m.Rest), len(m.Fields), tt.err, tt.offset, tt.restLen, tt.fields)
			}
		})
	}
}

func TestErrorInsideGroupKeepsPartialGroup(t *testing.T) {
	in := []byte{0x08, 0x01, 0x13, 0x08, 0x02, 0x10}
	m := checkAll(t, in, Options{})
	g := m.Fields[1]
	if g.Sub == nil || len(g.Sub.Fields) != 1 || g.Sub.Fields[0].Varint != 2 {
		t.Fatalf("partial group lost: %+v", g)
	}
	if g.Sub.ErrOffset != 2 || m.ErrOffset != 5 || g.End != 5 {
		t.Errorf("group sub err at %d, parent at %d, group end %d", g.Sub.ErrOffset, m.ErrOffset, g.End)
	}
	want := "1: 1\n2 {\n  1: 2\n  # error at offset 2: field 2 (varint): truncated varint\n}\n" +
		"# error at offset 5: in group 2: field 2 (varint): truncated varint\n# unparsed 1 bytes: 10\n"
	if got := m.Text(); got != want {
		t.Errorf("Text:\n%s\nwant:\n%s", got, want)
	}
}

// nestLen wraps payload in depth levels of field 1.
func nestLen(depth int, payload []byte) []byte {
	b := payload
	for range depth {
		b = lenf(1, b)
	}
	return b
}

func TestDepthLimit(t *testing.T) {
	leaf := cat(vint(1, 1), vint(2, 2))
	in := nestLen(5, leaf)
	for _, tt := range []struct {
		maxDepth int
		expanded int // levels decoded as messages
	}{
		{0, 5}, {-1, 0}, {1, 1}, {3, 3}, {5, 5}, {6, 5},
	} {
		m := checkAll(t, in, Options{MaxDepth: tt.maxDepth})
		levels := 0
		f := &m.Fields[0]
		for f.As == ReadingMessage {
			levels++
			f = &f.Sub.Fields[0]
		}
		if levels != tt.expanded {
			t.Errorf("MaxDepth %d: %d levels expanded, want %d", tt.maxDepth, levels, tt.expanded)
		}
		if f.Wire == protowire.BytesType && levels < 5 {
			if f.As != ReadingBytes || !slices.Equal(f.Also, []Reading{ReadingMessage}) || f.Why != whyDepthLimit {
				t.Errorf("MaxDepth %d: frontier As %v Also %v Why %q", tt.maxDepth, f.As, f.Also, f.Why)
			}
		}
	}
}

func TestGroupDepthLimit(t *testing.T) {
	in := group(1, group(1, group(1, vint(1, 1))))
	m := checkAll(t, in, Options{MaxDepth: 2})
	if m.Err != "in group 1: group 1 nested deeper than MaxDepth 2" || m.ErrOffset != 2 {
		t.Errorf("err %q at %d", m.Err, m.ErrOffset)
	}
	m = checkAll(t, in, Options{MaxDepth: 3})
	if m.Err != "" {
		t.Errorf("MaxDepth 3: err %q", m.Err)
	}
	// Inside a LEN payload the same group is not a message at depth 2.
	m = checkAll(t, lenf(1, in), Options{MaxDepth: 3})
	if f := m.Fields[0]; f.As == ReadingMessage || slices.Contains(f.Also, ReadingMessage) {
		t.Errorf("LEN with too-deep groups: As %v", f.As)
	}
	m = checkAll(t, lenf(1, in), Options{MaxDepth: 4})
	if f := m.Fields[0]; f.As != ReadingMessage {
		t.Errorf("LEN with groups within MaxDepth: As %v", f.As)
	}
}

func TestDeepNesting(t *testing.T) {
	const depth = 10000
	in := nestLen(depth, []byte("x"))
	start := time.Now()
	m := checkAll(t, in, Options{})
	levels := 0
	for f := &m.Fields[0]; f.As == ReadingMessage; f = &f.Sub.Fields[0] {
		levels++
	}
	if levels != DefaultMaxDepth {
		t.Errorf("%d levels expanded, want %d", levels, DefaultMaxDepth)
	}
	// Groups: 10000 start-group tags and no end.
	gin := bytes.Repeat([]byte{0x0b}, depth)
	m = checkAll(t, gin, Options{})
	if m.Err == "" {
		t.Errorf("deep groups: no error")
	}
	m = checkAll(t, gin, Options{MaxDepth: 1 << 30})
	if m.Err == "" {
		t.Errorf("deep groups with a huge MaxDepth: no error")
	}
	// Balanced deep groups.
	gin = append(bytes.Repeat([]byte{0x0b}, depth), bytes.Repeat([]byte{0x0c}, depth)...)
	checkAll(t, gin, Options{})
	checkAll(t, lenf(1, gin), Options{MaxDepth: HardMaxDepth})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("deep nesting took %v", d)
	}
}

// TestWorkIsBounded decodes inputs built to make a naive decoder try the
// same bytes as a message at every level, and checks the time grows about
// linearly with the size.
func TestWorkIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	build := func(n int) []byte {
		// Many levels, each holding a long run of small fields and a
		// nested level: every level's payload parses as a message.
		var b []byte
		filler := bytes.Repeat(vint(1, 1), n/(2*DefaultMaxDepth*2))
		for range 2 * DefaultMaxDepth {
			b = cat(filler, lenf(2, b))
		}
		return b
	}
	small, large := build(1<<16), build(1<<20)
	timeIt := func(b []byte) time.Duration {
		best := time.Duration(math.MaxInt64)
		for range 3 {
			start := time.Now()
			Decode(b, Options{})
			best = min(best, time.Since(start))
		}
		return best
	}
	ts, tl := timeIt(small), timeIt(large)
	ratio := float64(tl) / float64(ts) / (float64(len(large)) / float64(len(small)))
	t.Logf("%d bytes: %v; %d bytes: %v; normalized ratio %.2f", len(small), ts, len(large), tl, ratio)
	if ratio > 4 {
		t.Errorf("work grows faster than linearly: normalized ratio %.2f", ratio)
	}
}

func TestNoAllocationForClaimedLength(t *testing.T) {
	in := []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'x'}
	allocs := testing.AllocsPerRun(100, func() { Decode(in, Options{}) })
	if allocs > 4 {
		t.Errorf("%v allocations", allocs)
	}
}

func TestReadingString(t *testing.T) {
	want := []string{"none", "bytes", "string", "message", "packed_varint", "packed_fixed32", "packed_fixed64", "empty"}
	for i, w := range want {
		if got := Reading(i).String(); got != w {
			t.Errorf("Reading(%d) = %q, want %q", i, got, w)
		}
	}
	if got := Reading(99).String(); got != "Reading(99)" {
		t.Errorf("Reading(99) = %q", got)
	}
}

func TestTextInfo(t *testing.T) {
	tests := []struct {
		in                string
		printable, mostly bool
	}{
		{"hello", true, true},
		{"tab\tnew\nline\r", true, true},
		{"héllo ✓ 😀", true, true},
		{"\x00", false, false},
		{"abcdefg\x00", false, true},
		{"abcdef\x00\x00", false, false},
		{"abcdefg\x7f", false, true},
		{"abcdefg\u0085", false, true}, // C1 control (NEL)
		{"\xff", false, false},
		{"abc\xc3", false, false},
		{"\xed\xa0\x80", false, false}, // surrogate
	}
	for _, tt := range tests {
		p, m, _ := textInfo([]byte(tt.in))
		if p != tt.printable || m != tt.mostly {
			t.Errorf("textInfo(%q) = %v, %v; want %v, %v", tt.in, p, m, tt.printable, tt.mostly)
		}
	}
}

// TestSlabIsolation checks that appending to a decoded slice does not
// overwrite a neighbour carved from the same slab.
func TestSlabIsolation(t *testing.T) {
	in := cat(lenf(1, vint(1, 1), vint(2, 2)), lenf(2, vint(3, 3)), lenf(3, packedVarints(1, 2, 3)), lenf(4, packedVarints(4, 5)))
	m := checkAll(t, in, Options{})
	before := string(m.AppendJSON(nil))
	a := m.Fields[0].Sub
	a.Fields = append(a.Fields, Field{Number: 99})
	m.Fields[2].Packed = append(m.Fields[2].Packed, 99)
	m.Fields[0].Sub.Fields = m.Fields[0].Sub.Fields[:2]
	m.Fields[2].Packed = m.Fields[2].Packed[:3]
	if after := string(m.AppendJSON(nil)); after != before {
		t.Errorf("append clobbered a neighbour:\n%s\n%s", before, after)
	}
}

// MaxFields stops the decoding at the field beyond it, keeping the rest.
func TestMaxFields(t *testing.T) {
	b := bytes.Repeat([]byte{0x08, 0x01}, 10)
	m := Decode(b, Options{MaxFields: 4})
	if len(m.Fields) != 4 || m.ErrOffset != 8 || len(m.Rest) != 12 || !strings.Contains(m.Err, "MaxFields") {
		t.Errorf("fields %d, error %q at %d, rest %d", len(m.Fields), m.Err, m.ErrOffset, len(m.Rest))
	}
	if m := Decode(b, Options{MaxFields: -1}); len(m.Fields) != 10 || m.Err != "" {
		t.Errorf("no limit: fields %d, error %q", len(m.Fields), m.Err)
	}
}
