package tui

import (
	"strings"
	"unicode/utf8"

	"github.com/grpcsniff/grpcsniff/pbdecode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// msgSchema is a message read through the registry. md is set only when
// the bytes fit the type, so that names are shown only where they hold.
type msgSchema struct {
	dec  schema.Decoded
	md   protoreflect.MessageDescriptor
	skip string // why the schema was not applied, when it was known
}

// schemaOf reads message i through the registry, once.
func (d *detail) schemaOf(i int) *msgSchema {
	if d.schemas[i] != nil {
		return d.schemas[i]
	}
	ms := &msgSchema{}
	d.schemas[i] = ms
	c, w := d.call, d.msgs[i]
	if d.reg == nil || c.MethodUnknown {
		return ms
	}
	in, out, ok := d.reg.Method(c.Method)
	if !ok {
		return ms
	}
	md := in
	if w.resp {
		md = out
	}
	// Part of a message never fits its type: say why instead of showing
	// the schema_error that decoding the part would give.
	switch {
	case d.cut[w.m] > 0:
		ms.skip = string(md.FullName()) + ": schema not applied, only the " + keptText(d.limit) + " of the message kept"
		return ms
	case w.m.Truncated:
		ms.skip = string(md.FullName()) + ": schema not applied, the message is incomplete"
		return ms
	}
	ms.dec = d.reg.Decode(c.Method, !w.resp, w.m.Data)
	if ms.dec.Type != "" && ms.dec.Err == "" {
		ms.md = md
	}
	return ms
}

// schemaNotes adds, under an open message, what the schema could not
// account for: why it was not applied, the schema_error, unknown fields.
func (d *detail) schemaNotes(i int, ms *msgSchema) {
	if ms.skip != "" {
		d.addMsgText(i, ms.skip)
	}
	if ms.dec.Err != "" {
		d.addMsgText(i, "! "+ms.dec.Err+" (fields below as read from the wire)")
	}
	if len(ms.dec.Unknown) > 0 {
		d.addMsgText(i, "unknown fields (not in "+ms.dec.Type+"): "+strings.Join(ms.dec.Unknown, ", "))
	}
}

// addMsgText adds a wrapped note line that belongs to message i (so that
// the hex pane keeps showing its bytes).
func (d *detail) addMsgText(i int, text string) {
	n := len(d.items)
	d.add(kindText, 1, text)
	for k := n; k < len(d.items); k++ {
		d.items[k].msg = i
	}
}

// detailText renders a status detail: JSON through the registry when it
// knows the type, else the wire decoding's preview.
func (d *detail) detailText(typeURL string, value []byte) string {
	if d.reg != nil {
		if dec := d.reg.DecodeAny(typeURL, value); dec.Type != "" && dec.Err == "" {
			return clipWidth(string(dec.JSON), 4*maxValue)
		}
	}
	return preview(pbdecode.Decode(value, d.opt))
}

// unknownFieldText is a field the schema does not define (or that came
// with another wire type), in its wire reading, marked with "?".
func unknownFieldText(f *pbdecode.Field, base int, open bool, md protoreflect.MessageDescriptor) string {
	t := fieldText(f, base, open)
	if f.Sub == nil {
		t = "? " + strings.TrimPrefix(t, "  ")
	} else {
		t = t[:len(arrow(open))+1] + "? " + t[len(arrow(open))+1:]
	}
	return t + "  (unknown field: not in " + string(md.Name()) + ")"
}

// shortType drops the package: "helloworld.HelloRequest" → "HelloRequest",
// as the method column drops it; the expanded message names the full type.
func shortType(full string) string {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[i+1:]
	}
	return full
}

// clipWidth shortens s to n runes with an ellipsis. It stops reading at
// the cut, so a large message's JSON costs no more than a small one's.
func clipWidth(s string, n int) string {
	k := 0
	for i := range s {
		if k == n-1 {
			// Room for one more rune: keep it if it is the last.
			if _, size := utf8.DecodeRuneInString(s[i:]); i+size < len(s) {
				return s[:i] + "…"
			}
			return s
		}
		k++
	}
	return s
}
