package schema

import (
	"fmt"
	"sort"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// unknownFields lists the paths of the fields of m, and of the messages in
// it, that the schema does not define. protojson leaves them out of the JSON
// without a word; listing them keeps "the schema did not know this field"
// visible instead of silently showing less than the wire carried.
func unknownFields(m protoreflect.Message, types *dynamicpb.Types, prefix string, out []string, depth int) []string {
	if depth > maxDepth {
		return out
	}
	if m.Descriptor().FullName() == "google.protobuf.Any" {
		return unknownInAny(m, types, prefix, out, depth)
	}
	b := m.GetUnknown()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			break
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			break
		}
		b = b[n+m:]
		out = appendOnce(out, prefix+strconv.Itoa(int(num)))
	}
	// Fields in declaration order, then extensions by number: Range's
	// order is unspecified (a map for dynamic messages), and the list must
	// be the same on every run.
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		if fd := fds.Get(i); m.Has(fd) {
			out = unknownIn(fd, m.Get(fd), types, prefix, out, depth)
		}
	}
	var exts []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if fd.IsExtension() {
			exts = append(exts, fd)
		}
		return true
	})
	sort.Slice(exts, func(i, j int) bool { return exts[i].Number() < exts[j].Number() })
	for _, fd := range exts {
		out = unknownIn(fd, m.Get(fd), types, prefix, out, depth)
	}
	return out
}

// unknownIn looks for unknown fields in the messages held by field fd.
func unknownIn(fd protoreflect.FieldDescriptor, v protoreflect.Value, types *dynamicpb.Types, prefix string, out []string, depth int) []string {
	name := prefix + fieldName(fd)
	switch {
	case fd.IsMap():
		if fd.MapValue().Message() == nil {
			return out
		}
		var keys []protoreflect.MapKey
		v.Map().Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			keys = append(keys, k)
			return true
		})
		sort.Slice(keys, func(i, j int) bool { return lessKey(keys[i], keys[j]) })
		for _, k := range keys {
			out = unknownFields(v.Map().Get(k).Message(), types, fmt.Sprintf("%s[%s].", name, mapKey(k)), out, depth+1)
		}
	case fd.IsList():
		if fd.Message() == nil {
			return out
		}
		l := v.List()
		for i := 0; i < l.Len(); i++ {
			out = unknownFields(l.Get(i).Message(), types, fmt.Sprintf("%s[%d].", name, i), out, depth+1)
		}
	case fd.Message() != nil:
		out = unknownFields(v.Message(), types, name+".", out, depth+1)
	}
	return out
}

// lessKey orders map keys as protojson does: numerically for integers,
// false before true, by bytes for strings.
func lessKey(a, b protoreflect.MapKey) bool {
	switch x := a.Interface().(type) {
	case string:
		return x < b.Interface().(string)
	case bool:
		return !x && b.Interface().(bool)
	case int32, int64:
		return a.Int() < b.Int()
	default:
		return a.Uint() < b.Uint()
	}
}

// fieldName is the field's name as in the .proto, matching the JSON keys
// (UseProtoNames); extensions are bracketed as in the JSON.
func fieldName(fd protoreflect.FieldDescriptor) string {
	if fd.IsExtension() {
		return "[" + string(fd.FullName()) + "]"
	}
	return string(fd.Name())
}

func mapKey(k protoreflect.MapKey) string {
	if s, ok := k.Interface().(string); ok {
		return strconv.Quote(s)
	}
	return k.String()
}

// appendOnce adds s unless it is already listed: a repeated unknown field
// is listed once.
func appendOnce(out []string, s string) []string {
	for _, x := range out {
		if x == s {
			return out
		}
	}
	return append(out, s)
}
