package infer

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func msg(build func(b []byte) []byte) []byte { return build(nil) }

func TestInferredTypes(t *testing.T) {
	s := New()
	for _, v := range []uint64{1, 300, 1 << 63} {
		req := msg(func(b []byte) []byte {
			b = protowire.AppendTag(b, 1, protowire.VarintType)
			b = protowire.AppendVarint(b, v)
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			b = protowire.AppendString(b, "hello")
			b = protowire.AppendTag(b, 3, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, 0x3fc00000) // 1.5
			b = protowire.AppendTag(b, 4, protowire.BytesType)
			b = protowire.AppendBytes(b, []byte{0xff, 0xfe, 0x00})
			b = protowire.AppendTag(b, 5, protowire.BytesType)
			b = protowire.AppendBytes(b, nil)
			// Field 6 twice: repeated.
			for i := 0; i < 2; i++ {
				b = protowire.AppendTag(b, 6, protowire.BytesType)
				b = protowire.AppendString(b, "x")
			}
			return b
		})
		s.AddCall("/p.S/M", [][]byte{req}, [][]byte{req, req})
	}
	// A method name that is not an identifier is left out.
	s.AddCall("/p.S/bad-name", [][]byte{{}}, nil)
	files := s.Files()
	got := files["p.proto"]
	for _, want := range []string{
		"package p;",
		"rpc M(MRequest) returns (stream MResponse);",
		"int64 field_1 = 1;", "negative values seen",
		"string field_2 = 2;", `e.g. "hello"`,
		"float field_3 = 3;",
		"bytes field_4 = 4;",
		"string field_5 = 5;", "always empty",
		"repeated string field_6 = 6;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if len(files) != 1 || strings.Contains(got, "bad-name") {
		t.Errorf("files %v", files)
	}
}

// TestInferredPacked checks the types inferred for packed fixed-size
// fields: doubles, floats, fixed32 (4000000000 is a large unsigned value,
// not a negative one), sfixed64 (-1), and sfixed32 for a scalar of -5.
func TestInferredPacked(t *testing.T) {
	s := New()
	for i := range 3 {
		b := protowire.AppendTag(nil, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, fixedValues(8, math.Float64bits(21.5), math.Float64bits(-3.25+float64(i))))
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, fixedValues(4, uint64(math.Float32bits(0.25)), uint64(math.Float32bits(1.5))))
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendBytes(b, fixedValues(4, 10, 20, 30000, 4000000000))
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendBytes(b, fixedValues(8, 1700000000, math.MaxUint64))
		b = protowire.AppendTag(b, 5, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, uint32(0xfffffffb))
		s.AddCall("/p.S/M", [][]byte{b}, nil)
	}
	got := s.Files()["p.proto"]
	for _, want := range []string{
		"repeated double field_1 = 1;", "repeated float field_2 = 2;",
		"repeated fixed32 field_3 = 3;", "repeated sfixed64 field_4 = 4;",
		"sfixed32 field_5 = 5;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

// fixedValues packs vs as fixed-size values of size bytes (4 or 8).
func fixedValues(size int, vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		if size == 4 {
			b = protowire.AppendFixed32(b, uint32(v))
		} else {
			b = protowire.AppendFixed64(b, v)
		}
	}
	return b
}
