package pbdecode

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestJSON(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"HelloRequest", []byte{0x0a, 0x03, 0x79, 0x6f, 0x75},
			`{"fields":[{"field":1,"wire":"len","offset":0,"end":5,"length":3,"as":"string","string":"you","fits":["packed_varint"]}]}`},
		{"bool-like varint 08 01", []byte{0x08, 0x01},
			`{"fields":[{"field":1,"wire":"varint","offset":0,"end":2,"value":1,"sint":-1}]}`},
		{"varints", cat(vint(1, 150), vint(2, math.MaxUint64), vint(3, 1<<53), vint(4, 1<<53+1)),
			`{"fields":[` +
				`{"field":1,"wire":"varint","offset":0,"end":3,"value":150,"sint":75},` +
				`{"field":2,"wire":"varint","offset":3,"end":14,"value":"18446744073709551615","int":-1,"sint":"-9223372036854775808"},` +
				`{"field":3,"wire":"varint","offset":14,"end":23,"value":9007199254740992,"sint":4503599627370496},` +
				`{"field":4,"wire":"varint","offset":23,"end":32,"value":"9007199254740993","sint":-4503599627370497}]}`},
		// NaN, the infinities and denormals are not offered as floats:
		// integers look like that far more often than computed values.
		{"i32", cat(flt(1, 1.5), fix32(2, 0xffffffff), fix32(3, 0x7f800000), fix32(4, 0xff800000), flt(5, 1e-7), flt(6, 1e21)),
			`{"fields":[` +
				`{"field":1,"wire":"i32","offset":0,"end":5,"value":1069547520,"float":1.5},` +
				`{"field":2,"wire":"i32","offset":5,"end":10,"value":4294967295,"int":-1},` +
				`{"field":3,"wire":"i32","offset":10,"end":15,"value":2139095040},` +
				`{"field":4,"wire":"i32","offset":15,"end":20,"value":4286578688,"int":-8388608},` +
				`{"field":5,"wire":"i32","offset":20,"end":25,"value":869711765,"float":1e-7},` +
				`{"field":6,"wire":"i32","offset":25,"end":30,"value":1649989415,"float":1e+21}]}`},
		{"i64", cat(dbl(1, 3.14159), fix64(2, math.MaxUint64), dbl(3, math.Copysign(0, -1)), dbl(4, 123456789.125), fix64(5, 7)),
			`{"fields":[` +
				`{"field":1,"wire":"i64","offset":0,"end":9,"value":"4614256650576692846","double":3.14159},` +
				`{"field":2,"wire":"i64","offset":9,"end":18,"value":"18446744073709551615","int":-1},` +
				`{"field":3,"wire":"i64","offset":18,"end":27,"value":"9223372036854775808","int":"-9223372036854775808","double":-0},` +
				`{"field":4,"wire":"i64","offset":27,"end":36,"value":"4728057454355546112","double":123456789.125},` +
				`{"field":5,"wire":"i64","offset":36,"end":45,"value":7}]}`},
		{"len readings", cat(str(1, "hi"), lenf(2), lenf(3, []byte{0, 0, 0}), lenf(4, packedVarints(1, 2, 3, math.MaxUint64)),
			lenf(5, packedFloats(1, 2, 3)), lenf(6, packedDoubles(1, 2.5)), lenf(7, vint(1, 1))),
			`{"fields":[` +
				`{"field":1,"wire":"len","offset":0,"end":4,"length":2,"as":"string","string":"hi","also":["message"],"why":"valid UTF-8 and printable; also parses as a message","fits":["packed_varint"]},` +
				`{"field":2,"wire":"len","offset":4,"end":6,"length":0,"as":"empty"},` +
				`{"field":3,"wire":"len","offset":6,"end":11,"length":3,"as":"bytes","bytes":"AAAA","fits":["packed_varint"]},` +
				`{"field":4,"wire":"len","offset":11,"end":26,"length":13,"as":"packed_varint","packed_as":"int","packed":[1,2,3,-1],"packed_uint":[1,2,3,"18446744073709551615"],"packed_sint":[-1,1,-2,"-9223372036854775808"]},` +
				`{"field":5,"wire":"len","offset":26,"end":40,"length":12,"as":"packed_fixed32","packed_as":"float","packed":[1,2,3],"also":["packed_varint"],"why":"every 4-byte value is a plausible float"},` +
				`{"field":6,"wire":"len","offset":40,"end":58,"length":16,"as":"packed_fixed64","packed_as":"double","packed":[1,2.5],"also":["packed_fixed32","packed_varint"],"why":"every 8-byte value is a plausible double"},` +
				`{"field":7,"wire":"len","offset":58,"end":62,"length":2,"as":"message","message":{"fields":[{"field":1,"wire":"varint","offset":0,"end":2,"value":1,"sint":-1}]},"fits":["packed_varint"]}]}`},
		{"packed integers", cat(lenf(1, packedVarints(7, math.MaxUint64, 150000)), lenf(2, packedFixed32(1, 2, 3000000000, math.MaxUint32)), lenf(3, packedFixed64(5, math.MaxUint64-4))),
			`{"fields":[` +
				`{"field":1,"wire":"len","offset":0,"end":16,"length":14,"as":"packed_varint","packed_as":"int","packed":[7,-1,150000],"packed_uint":[7,"18446744073709551615",150000],"packed_sint":[-4,"-9223372036854775808",75000]},` +
				`{"field":2,"wire":"len","offset":16,"end":34,"length":16,"as":"packed_fixed32","packed_as":"int","packed":[1,2,-1294967296,-1],"packed_uint":[1,2,3000000000,4294967295],"also":["packed_fixed64"],"why":"most 4-byte values are integers of small magnitude (top byte 00 or ff)"},` +
				`{"field":3,"wire":"len","offset":34,"end":52,"length":16,"as":"packed_fixed64","packed_as":"int","packed":[5,-5],"packed_uint":[5,"18446744073709551611"],"also":["packed_fixed32"],"why":"most 8-byte values are integers of small magnitude (top two bytes 0000 or ffff)"}]}`},
		{"string escaping", str(1, "say \"hi\"\\ \ttab\nnew\u2028sep é ✓ \x1b[0m bell"),
			`{"fields":[{"field":1,"wire":"len","offset":0,"end":43,"length":41,"as":"string","string":"say \"hi\"\\ \ttab\nnew\u2028sep é ✓ \u001b[0m bell"}]}`},
		{"group then error", cat(group(1, vint(2, 3)), []byte{0x10, 0x80}),
			`{"fields":[{"field":1,"wire":"group","offset":0,"end":4,"message":{"fields":[{"field":2,"wire":"varint","offset":0,"end":2,"value":3,"sint":-2}]}}],` +
				`"error":"field 2 (varint): truncated varint","error_offset":4,"rest":"EIA="}`},
		{"broken group", []byte{0x0b, 0x10, 0x03, 0x10},
			`{"fields":[{"field":1,"wire":"group","offset":0,"end":3,"message":{"fields":[{"field":2,"wire":"varint","offset":0,"end":2,"value":3,"sint":-2}],` +
				`"error":"field 2 (varint): truncated varint","error_offset":2,"rest":""}}],` +
				`"error":"in group 1: field 2 (varint): truncated varint","error_offset":3,"rest":"EA=="}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := checkAll(t, tt.in, Options{})
			got := string(m.AppendJSON(nil))
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			// AppendJSON appends.
			if got2 := string(m.AppendJSON([]byte("x"))); got2 != "x"+tt.want {
				t.Errorf("AppendJSON does not append")
			}
		})
	}
}

func TestJSONStringRoundTrip(t *testing.T) {
	inputs := []string{
		"", "plain", "\x00\x01\x1f\x7f", "\"\\/", "é✓😀", "\u2028\u2029",
		"bad \xff utf8 \xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\x80",
	}
	for _, in := range inputs {
		out := AppendJSONString(nil, in)
		var s string
		if err := json.Unmarshal(out, &s); err != nil {
			t.Errorf("%q: %s: %v", in, out, err)
			continue
		}
		if want := strings.ToValidUTF8(in, "\uFFFD"); utf8.ValidString(in) && s != in || !utf8.ValidString(in) && !utf8.ValidString(s) {
			t.Errorf("%q: round trip gave %q (want %q)", in, s, want)
		}
		if b := AppendJSONString(nil, []byte(in)); !bytes.Equal(b, out) {
			t.Errorf("%q: string and []byte forms differ", in)
		}
	}
}

func TestDecodeRune(t *testing.T) {
	var buf [4]byte
	check := func(b []byte) {
		r1, n1 := utf8.DecodeRune(b)
		r2, n2 := decodeRune(b)
		r3, n3 := decodeRune(string(b))
		if r1 != r2 || n1 != n2 || r2 != r3 || n2 != n3 {
			t.Fatalf("% x: utf8 %U/%d, decodeRune %U/%d, string %U/%d", b, r1, n1, r2, n2, r3, n3)
		}
	}
	for c0 := 0; c0 < 256; c0++ {
		for c1 := 0; c1 < 256; c1++ {
			buf[0], buf[1], buf[2], buf[3] = byte(c0), byte(c1), 0x80, 0xbf
			check(buf[:])
			check(buf[:2])
			check(buf[:1])
			buf[2], buf[3] = 0xbf, 0x41
			check(buf[:])
			check(buf[:3])
		}
	}
	check(nil)
}

func TestFloatFormat(t *testing.T) {
	tests := []struct {
		f    float64
		bits int
		want string
	}{
		{0, 64, "0"}, {math.Copysign(0, -1), 64, "-0"}, {1, 64, "1"}, {-2.5, 64, "-2.5"},
		{1e20, 64, "100000000000000000000"}, {1e21, 64, "1e+21"}, {1e-6, 64, "0.000001"}, {1e-7, 64, "1e-7"},
		{float64(float32(0.1)), 32, "0.1"}, {float64(float32(3.14159)), 32, "3.14159"},
		{math.NaN(), 64, `"NaN"`}, {math.Inf(1), 32, `"Infinity"`}, {math.Inf(-1), 64, `"-Infinity"`},
		{5e-324, 64, "5e-324"}, {math.MaxFloat64, 64, "1.7976931348623157e+308"},
	}
	for _, tt := range tests {
		got := string(appendFloat(nil, tt.f, tt.bits))
		if got != tt.want {
			t.Errorf("appendFloat(%v, %d) = %s, want %s", tt.f, tt.bits, got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("appendFloat(%v) = %s is not JSON", tt.f, got)
		}
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"scalars", cat(vint(1, 150), vint(2, math.MaxUint64), flt(3, 1.5), fix32(4, 0xffffffff), dbl(5, 123456789.125), fix64(6, 7)),
			`1: 150
2: 18446744073709551615  # int: -1
3: 0x3fc00000  # float: 1.5
4: 0xffffffff
5: 0x419d6f3454800000  # double: 123456789.125
6: 0x0000000000000007
`},
		{"readings", cat(str(1, "hi"), lenf(2), lenf(3, []byte{0, 0xff, '\'', '"', '\\', '\n', 0x80}), lenf(4, packedVarints(1, 2, 3, math.MaxUint64)),
			lenf(5, packedFloats(1, 2, 3)), lenf(6, packedDoubles(1, 2.5)), lenf(7, vint(1, 1)), str(8, "héllo\t✓")),
			`1: "hi"  # also: message
2: ""
3: "\000\377\'\"\\\n\200"
4: [1, 2, 3, -1]  # packed_varint
5: [1, 2, 3]  # packed_fixed32; also: packed_varint
6: [1, 2.5]  # packed_fixed64; also: packed_fixed32, packed_varint
7 {
  1: 1
}
8: "héllo\t✓"
`},
		{"message over printable string", str(1, "\n("+strings.Repeat("abcdefghij", 4)),
			"1 {  # also: string\n  1: \"" + strings.Repeat("abcdefghij", 4) + "\"\n}\n"},
		{"error", cat(vint(1, 1), []byte{0x12, 0x64}, bytes.Repeat([]byte{0xab}, 40)),
			"1: 1\n# error at offset 2: field 2 (len): length 100 exceeds the remaining 40 bytes\n" +
				"# unparsed 42 bytes: 12 64" + strings.Repeat(" ab", 30) + " ...\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := checkAll(t, tt.in, Options{})
			if got := m.Text(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestProtocDecodeRaw compares Text with protoc --decode_raw, when protoc is
// installed, on inputs where the two should agree once comments are removed:
// no UTF-8 beyond ASCII, no packed readings, no text that parses as a
// message.
func TestProtocDecodeRaw(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Skip("protoc not installed")
	}
	inputs := map[string][]byte{
		"scalars":       cat(vint(1, 150), vint(2, math.MaxUint64), flt(3, 1.5), fix32(4, 0xffffffff), dbl(5, 3.14159), fix64(6, 7)),
		"HelloRequest":  {0x0a, 0x03, 0x79, 0x6f, 0x75},
		"demo Request":  cat(vint(1, 1), str(2, "called by Python client")),
		"SimpleRequest": cat(vint(1, 0), vint(2, 1), lenf(3, lenf(2, make([]byte, 8))), vint(4, 1)),
		"Status": cat(vint(1, 3), str(2, "invalid argument"),
			lenf(3, str(1, "type.googleapis.com/google.rpc.BadRequest"),
				lenf(2, lenf(1, str(1, "name"), str(2, "must not be empty"))))),
		"groups":  cat(vint(1, 1), group(2, vint(3, 4), group(5, str(6, "xyz"))), vint(7, 8)),
		"escapes": str(1, "quote\" apostrophe' backslash\\ tab\t"),
		"bytes":   lenf(1, []byte{0, 0xff, 0x80, 1, 0x7f}),
		"deep":    nestLen(10, cat(vint(1, 1), str(2, "leaf"))),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(protoc, "--decode_raw")
			cmd.Stdin = bytes.NewReader(in)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("protoc: %v", err)
			}
			got := stripComments(Decode(in, Options{}).Text())
			if got != string(out) {
				t.Errorf("Text:\n%s\nprotoc --decode_raw:\n%s", got, out)
			}
		})
	}
}

func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if i := strings.Index(line, "  # "); i >= 0 {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}
