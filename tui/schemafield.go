package tui

import (
	"math"
	"strconv"
	"strings"

	"github.com/grpcsniff/grpcsniff/pbdecode"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The detail tree with a schema keeps the wire decoding's fields, offsets
// and order (so that the hex pane highlights the bytes actually read) and
// puts the schema's name and type next to each number, reading the value
// the way the type says: `name (1) string "you"`. A field the schema does
// not define, or sent with another wire type, keeps its wire reading and
// is marked unknown: the schema is never trusted over the bytes.

// fieldDesc is the schema's field for f in md, or nil when md is nil, does
// not define the number, or expects another wire type.
func fieldDesc(md protoreflect.MessageDescriptor, f *pbdecode.Field) protoreflect.FieldDescriptor {
	if md == nil {
		return nil
	}
	fd := md.Fields().ByNumber(protowire.Number(f.Number))
	if fd == nil {
		return nil
	}
	want := kindWire(fd.Kind())
	if f.Wire == want || f.Wire == protowire.BytesType && fd.IsList() && want != protowire.BytesType && want != protowire.StartGroupType {
		return fd
	}
	return nil
}

// kindWire is the wire type a field of kind k is sent with (unpacked).
func kindWire(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	}
	return protowire.VarintType
}

// packed reports whether f holds a packed repeated scalar field.
func packed(fd protoreflect.FieldDescriptor, f *pbdecode.Field) bool {
	return f.Wire == protowire.BytesType && kindWire(fd.Kind()) != protowire.BytesType
}

// typeName is the field's type as a user wrote it in the .proto: "string",
// "Point", "map<string, int32>", "repeated int32" for a packed field.
func typeName(fd protoreflect.FieldDescriptor, f *pbdecode.Field) string {
	if fd.IsMap() {
		return "map<" + kindName(fd.MapKey()) + ", " + kindName(fd.MapValue()) + ">"
	}
	if packed(fd, f) {
		return "repeated " + kindName(fd)
	}
	return kindName(fd)
}

func kindName(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.Message() != nil:
		return string(fd.Message().Name())
	case fd.Enum() != nil:
		return string(fd.Enum().Name())
	}
	return fd.Kind().String()
}

// namedFieldText is one tree line for a field the schema defines.
func namedFieldText(f *pbdecode.Field, fd protoreflect.FieldDescriptor, sub *pbdecode.Message, base int, open bool) string {
	var b strings.Builder
	if sub != nil {
		b.WriteString(arrow(open) + " ")
	} else {
		b.WriteString("  ")
	}
	b.WriteString(string(fd.Name()) + " (" + strconv.Itoa(int(f.Number)) + ") " + typeName(fd, f) + " ")
	b.WriteString(namedValue(f, fd, sub, open))
	b.WriteString("  " + byteRange(base+f.Offset, base+f.End))
	return b.String()
}

// namedValue reads f's value as fd's type.
func namedValue(f *pbdecode.Field, fd protoreflect.FieldDescriptor, sub *pbdecode.Message, open bool) string {
	switch {
	case fd.Message() != nil:
		if open {
			return "{"
		}
		if sub == nil {
			return "{}"
		}
		return clip("{" + namedPreview(sub, fd.Message()) + "}")
	case packed(fd, f):
		vals := unpack(fd.Kind(), f.Bytes)
		parts := make([]string, 0, len(vals))
		for _, v := range vals {
			parts = append(parts, scalarText(fd, v))
		}
		return clip("[" + strings.Join(parts, ", ") + "]")
	case fd.Kind() == protoreflect.StringKind:
		return clip(strconv.Quote(string(f.Bytes)))
	case fd.Kind() == protoreflect.BytesKind:
		if len(f.Bytes) == 0 {
			return `""`
		}
		return clip(hexBytes(f.Bytes))
	case f.Wire == protowire.VarintType:
		return scalarText(fd, f.Varint)
	}
	return scalarText(fd, f.Fixed)
}

// unpack splits a packed field's bytes into raw values.
func unpack(k protoreflect.Kind, b []byte) []uint64 {
	var out []uint64
	for len(b) > 0 {
		var v uint64
		n := -1
		switch kindWire(k) {
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			v = uint64(u)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		default:
			v, n = protowire.ConsumeVarint(b)
		}
		if n < 0 {
			break
		}
		out = append(out, v)
		b = b[n:]
	}
	return out
}

// scalarText renders a numeric value as fd's kind reads it; an enum value
// the schema does not name stays a number, said to be outside the enum.
func scalarText(fd protoreflect.FieldDescriptor, u uint64) string {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.FormatBool(u != 0)
	case protoreflect.EnumKind:
		if v := fd.Enum().Values().ByNumber(protoreflect.EnumNumber(int32(u))); v != nil {
			return string(v.Name())
		}
		return strconv.Itoa(int(int32(u))) + " (not in the enum)"
	case protoreflect.Int32Kind, protoreflect.Sfixed32Kind:
		return strconv.Itoa(int(int32(u)))
	case protoreflect.Int64Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(int64(u), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.FormatUint(uint64(uint32(u)), 10)
	case protoreflect.Sint32Kind:
		return strconv.Itoa(int(int32(protowire.DecodeZigZag(u & math.MaxUint32))))
	case protoreflect.Sint64Kind:
		return strconv.FormatInt(protowire.DecodeZigZag(u), 10)
	case protoreflect.FloatKind:
		return strconv.FormatFloat(float64(math.Float32frombits(uint32(u))), 'g', -1, 32)
	case protoreflect.DoubleKind:
		return strconv.FormatFloat(math.Float64frombits(u), 'g', -1, 64)
	}
	return strconv.FormatUint(u, 10)
}

// namedPreview is preview with the schema's names: `name:"you" n:3`.
func namedPreview(m *pbdecode.Message, md protoreflect.MessageDescriptor) string {
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
		fd := fieldDesc(md, f)
		if fd == nil {
			v, _ := fieldValue(f, false)
			b.WriteString("?" + strconv.Itoa(int(f.Number)) + ":" + v)
			continue
		}
		var sub *pbdecode.Message
		if fd.Message() != nil {
			sub = subMessage(f, pbdecode.Options{})
		}
		b.WriteString(string(fd.Name()) + ":" + namedValue(f, fd, sub, false))
	}
	if m.Err != "" {
		b.WriteString(" ! " + m.Err)
	}
	if len(m.Fields) == 0 && m.Err == "" {
		return ""
	}
	return clip(b.String())
}

// subMessage is the message inside f for a field the schema says is a
// message: the wire decoding's own when it read the bytes as one, else the
// bytes decoded now (it may have preferred a string for short payloads).
// Offsets are relative to f's value, as for Sub.
func subMessage(f *pbdecode.Field, opt pbdecode.Options) *pbdecode.Message {
	if f.Sub != nil {
		return f.Sub
	}
	return pbdecode.Decode(f.Bytes, opt)
}
