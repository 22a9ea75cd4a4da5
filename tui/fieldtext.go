package tui

import (
	"math"
	"strconv"
	"strings"

	"github.com/grpcsniff/grpcsniff/pbdecode"
	"google.golang.org/protobuf/encoding/protowire"
)

// maxValue bounds the text of one value on a line; the hex pane has the rest.
const maxValue = 60

func wireText(f *pbdecode.Field) string {
	switch f.Wire {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "i32"
	case protowire.Fixed64Type:
		return "i64"
	case protowire.StartGroupType:
		return "group"
	}
	return "len " + f.As.String()
}

// fieldValue renders a field's value the way the raw decoding reads it;
// extra holds the other numeric readings a user might need (signed,
// zigzag, float), which go at the end of the line.
func fieldValue(f *pbdecode.Field, open bool) (v, extra string) {
	switch f.Wire {
	case protowire.VarintType:
		extra = "sint " + strconv.FormatInt(protowire.DecodeZigZag(f.Varint), 10)
		if int64(f.Varint) < 0 {
			// A negative int32 or int64 (ten bytes on the wire) is far more
			// common than a uint64 of 2^63 or more.
			return strconv.FormatInt(int64(f.Varint), 10), "uint " + strconv.FormatUint(f.Varint, 10) + ", " + extra
		}
		return strconv.FormatUint(f.Varint, 10), extra
	case protowire.Fixed32Type:
		if !pbdecode.OffersFloat32(uint32(f.Fixed)) {
			return "0x" + strconv.FormatUint(f.Fixed, 16), "int " + strconv.Itoa(int(int32(uint32(f.Fixed))))
		}
		return "0x" + strconv.FormatUint(f.Fixed, 16), "float " + strconv.FormatFloat(float64(math.Float32frombits(uint32(f.Fixed))), 'g', -1, 32)
	case protowire.Fixed64Type:
		if !pbdecode.OffersFloat64(f.Fixed) {
			return "0x" + strconv.FormatUint(f.Fixed, 16), "int " + strconv.FormatInt(int64(f.Fixed), 10)
		}
		return "0x" + strconv.FormatUint(f.Fixed, 16), "double " + strconv.FormatFloat(math.Float64frombits(f.Fixed), 'g', -1, 64)
	}
	switch f.As {
	case pbdecode.ReadingString:
		return clip(strconv.Quote(string(f.Bytes))), ""
	case pbdecode.ReadingMessage:
		if open {
			return "{", ""
		}
		return clip("{" + preview(f.Sub) + "}"), ""
	case pbdecode.ReadingEmpty:
		return `""`, ""
	case pbdecode.ReadingPacked, pbdecode.ReadingPackedFixed32, pbdecode.ReadingPackedFixed64:
		parts := make([]string, 0, len(f.Packed))
		for _, v := range f.Packed {
			switch {
			case f.PackedInts && f.As == pbdecode.ReadingPackedFixed32:
				parts = append(parts, strconv.Itoa(int(int32(uint32(v)))))
			case f.PackedInts:
				parts = append(parts, strconv.FormatInt(int64(v), 10))
			case f.As == pbdecode.ReadingPackedFixed32:
				parts = append(parts, strconv.FormatFloat(float64(math.Float32frombits(uint32(v))), 'g', -1, 32))
			case f.As == pbdecode.ReadingPackedFixed64:
				parts = append(parts, strconv.FormatFloat(math.Float64frombits(v), 'g', -1, 64))
			default:
				parts = append(parts, strconv.FormatUint(v, 10))
			}
		}
		return clip("[" + strings.Join(parts, ", ") + "]"), ""
	}
	return clip(hexBytes(f.Bytes)), ""
}

func hexBytes(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i == 24 {
			sb.WriteString("…")
			break
		}
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(strconv.FormatUint(uint64(c)|0x100, 16)[1:])
	}
	return sb.String()
}

// clip shortens long values; the full bytes are in the hex pane.
func clip(s string) string {
	r := []rune(s)
	if len(r) > maxValue {
		return string(r[:maxValue-1]) + "…"
	}
	return s
}

// preview is a one-line summary of a message's top-level fields, shown on
// collapsed lines: `1:"you" 2:300`.
func preview(m *pbdecode.Message) string {
	var b strings.Builder
	for i := range m.Fields {
		if b.Len() > 2*maxValue {
			b.WriteString(" …")
			break
		}
		f := &m.Fields[i]
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(int(f.Number)) + ":")
		switch {
		case f.Wire == protowire.VarintType:
			v, _ := fieldValue(f, false)
			b.WriteString(v)
		case f.As == pbdecode.ReadingMessage:
			b.WriteString("{" + preview(f.Sub) + "}")
		default:
			v, _ := fieldValue(f, false)
			b.WriteString(v)
		}
	}
	if m.Err != "" {
		b.WriteString(" ! " + m.Err)
	}
	if len(m.Fields) == 0 && m.Err == "" {
		return "(empty)"
	}
	return clip(b.String())
}
