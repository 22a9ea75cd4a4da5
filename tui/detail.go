package tui

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/grpcsniff/grpcsniff/export"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// wireMsg is one message of a call in wire order.
type wireMsg struct {
	m    *grpcframe.Message
	resp bool
	n    int // 1-based index within its direction
}

// item is one line of the detail tree.
type item struct {
	text  string
	kind  itemKind
	depth int
	msg   int             // index into detail.msgs; -1 for lines outside messages
	field *pbdecode.Field // the field on this line, if any
	base  int             // offset of the field's enclosing message within the message bytes
	key   string          // expansion key for expandable lines
	open  bool
}

type itemKind uint8

const (
	kindSection itemKind = iota
	kindText
	kindMessage
	kindField
)

func (it *item) expandable() bool { return it.key != "" }

// detail is the state of the call detail screen.
type detail struct {
	call    *grpcframe.Call
	msgs    []wireMsg
	decoded []*pbdecode.Message // decoded on first use
	open    map[string]bool
	items   []item
	cursor  int
	top     int
	hexTop  int
	focus   int          // 0 the tree, 1 the hex pane
	schemas []*msgSchema // read through the registry on first use
	opt     pbdecode.Options
	loc     *time.Location
	reg     *schema.Registry
	cut     map[*grpcframe.Message]int // messages the UI cut: their full size
	limit   int                        // MaxMessageBytes, for the cut note
	width   int                        // of the tree pane, to wrap long text lines
}

func newDetail(c *grpcframe.Call, m *Model) *detail {
	d := &detail{call: c, open: map[string]bool{}, opt: m.opts.Decode, loc: m.opts.Location,
		reg: m.opts.Registry, cut: m.cut, limit: m.opts.MaxMessageBytes, width: m.treeWidth()}
	d.setMessages()
	d.build()
	// Start on the first message: that is what a user opens a call for.
	for i, it := range d.items {
		if it.kind == kindMessage {
			d.cursor = i
			break
		}
	}
	return d
}

// setMessages lists the call's messages in wire order: requests and
// responses interleaved by the time they completed, a request first when
// the times are equal, as it was sent first. The decodings already made of
// messages that were listed before are kept.
func (d *detail) setMessages() {
	had := make(map[*grpcframe.Message]int, len(d.msgs))
	for i, w := range d.msgs {
		had[w.m] = i
	}
	oldDecoded, oldSchemas := d.decoded, d.schemas
	d.msgs = d.msgs[:0:0]
	for i, r := range d.call.Requests {
		d.msgs = append(d.msgs, wireMsg{m: r, n: i + 1})
	}
	for i, r := range d.call.Responses {
		d.msgs = append(d.msgs, wireMsg{m: r, resp: true, n: i + 1})
	}
	slices.SortStableFunc(d.msgs, func(a, b wireMsg) int { return a.m.Time.Compare(b.m.Time) })
	d.decoded = make([]*pbdecode.Message, len(d.msgs))
	d.schemas = make([]*msgSchema, len(d.msgs))
	for i, w := range d.msgs {
		if j, ok := had[w.m]; ok {
			d.decoded[i], d.schemas[i] = oldDecoded[j], oldSchemas[j]
		}
	}
}

// replaceCall shows a later copy of the call (it is still open, or has
// ended), its new messages below, the cursor where it was.
func (d *detail) replaceCall(c *grpcframe.Call) {
	d.call = c
	d.setMessages()
	d.reflow()
}

func (d *detail) decode(i int) *pbdecode.Message {
	if d.decoded[i] == nil {
		d.decoded[i] = pbdecode.Decode(d.msgs[i].m.Data, d.opt)
	}
	return d.decoded[i]
}

// add appends a line outside the messages. Long text (notes, header
// values) wraps onto continuation lines rather than being cut, because
// those are the lines that explain what went wrong.
func (d *detail) add(kind itemKind, depth int, text string) {
	avail := d.width - 4 - 2*depth
	if kind != kindText || avail < 20 || ansi.StringWidth(text) <= avail {
		d.items = append(d.items, item{kind: kind, depth: depth, text: text, msg: -1})
		return
	}
	for i, l := range strings.Split(ansi.Wrap(text, avail-2, ""), "\n") {
		if i > 0 {
			l = "  " + l
		}
		d.items = append(d.items, item{kind: kind, depth: depth, text: l, msg: -1})
	}
}

// build flattens the call into lines, expanding what is open.
func (d *detail) build() {
	d.items = d.items[:0]
	c := d.call
	d.add(kindSection, 0, "Call")
	line := fmt.Sprintf("%s → %s · conn %d · stream %d · %s", c.Client, c.Server, c.ConnID, c.StreamID, c.Transport)
	if c.Protocol != grpcframe.ProtoGRPC {
		line += " · " + c.Protocol.String()
	}
	d.add(kindText, 1, line)
	if (c.Protocol == grpcframe.ProtoHTTP || c.Protocol.OverHTTP()) && c.HTTPMethod != "" {
		line := export.Printable(c.HTTPMethod + " " + c.Method)
		if c.HTTPStatus != 0 {
			line += " → " + strconv.Itoa(c.HTTPStatus)
		}
		if c.CORSPreflight {
			line += " (CORS preflight)"
		}
		d.add(kindText, 1, line)
	}
	if c.MethodUnknown && (c.MethodInferred != "" || len(c.MethodCandidates) > 0) {
		d.add(kindText, 1, export.Printable(export.UnknownMethod(c))+": inferred from the messages, not read from the :path (which was not recovered)")
	}
	if p := c.Preflight; p != nil {
		d.add(kindText, 1, fmt.Sprintf("after a CORS preflight: conn %d · stream %d · HTTP %d", p.ConnID, p.StreamID, p.HTTPStatus))
	}
	if c.TLS != nil {
		// Version, cipher suite, SNI, ALPN, and whether it was decrypted.
		d.add(kindText, 1, c.TLS.String())
	}
	if c.RolesGuessed() {
		d.add(kindText, 1, "client and server guessed from the port numbers (the capture does not show who opened the connection)")
	}
	when := "started " + c.Start.In(d.loc).Format("15:04:05.000000")
	if c.StartedBeforeCapture {
		when = "started before the capture; first seen " + c.Start.In(d.loc).Format("15:04:05.000000")
	}
	if !c.End.IsZero() || c.State == 0 {
		when += " · duration " + callDurationText(c)
	}
	if !c.FirstResponse.IsZero() {
		when += " · first response after " + export.FormatDuration(c.FirstResponse.Sub(c.Start))
	}
	d.add(kindText, 1, when)
	d.headers("Request headers", c.RequestHeaders)
	if !c.TrailersOnly {
		d.headers("Response headers", c.ResponseHeaders)
	}
	name := "Trailers"
	if c.TrailersOnly {
		name = "Trailers (Trailers-Only response)"
	}
	d.headers(name, c.Trailers)
	d.status()
	if len(c.Notes) > 0 {
		d.add(kindSection, 0, "Notes")
		for _, n := range c.Notes {
			d.add(kindText, 1, n.Text)
		}
	}
	d.add(kindSection, 0, fmt.Sprintf("Messages  ↑%d ↓%d", len(c.Requests), len(c.Responses)))
	if len(d.msgs) == 0 {
		d.add(kindText, 1, "(none)")
	}
	d.timeline()
	for i := range d.msgs {
		d.message(i)
	}
}

func (d *detail) headers(title string, hs []h2decode.HeaderField) {
	d.add(kindSection, 0, title)
	if len(hs) == 0 {
		d.add(kindText, 1, "(none)")
	}
	for i := range hs {
		d.add(kindText, 1, headerText(&hs[i]))
	}
}

func headerText(h *h2decode.HeaderField) string {
	name, value := h.Name, h.Value
	if h.NameUnknown {
		name = "(unknown name " + h.Ref.String() + ")"
	}
	if h.ValueUnknown {
		value = "(unknown value " + h.Ref.String() + ")"
	}
	if !h.ValueUnknown && !h.NameUnknown && strings.HasSuffix(name, "-bin") {
		value = binText(value)
	}
	s := export.Printable(name) + ": " + export.Printable(value)
	if !h.ValueUnknown && name == "grpc-status" {
		if n, err := strconv.Atoi(value); err == nil {
			s += " (" + grpcframe.CodeName(n) + ")"
		}
	}
	if h.Sensitive {
		s += "  (never indexed)"
	}
	return s
}

// binText shows a binary header's bytes in hex (with how they came: the
// C core's true-binary form, or base64 that did not decode, is said).
func binText(v string) string {
	raw, err := grpcframe.DecodeBinHeader(v)
	switch {
	case err != nil:
		return hex.EncodeToString([]byte(v)) + " (not base64; its bytes in hex)"
	case len(v) > 0 && v[0] == 0:
		return hex.EncodeToString(raw) + " (true binary)"
	}
	return hex.EncodeToString(raw)
}

func (d *detail) status() {
	c := d.call
	d.add(kindSection, 0, "Status")
	switch {
	case c.Status != nil:
		s := fmt.Sprintf("%s (%d)", c.Status.Name, c.Status.Code)
		if c.Status.Message != "" {
			s += "  " + strconv.Quote(c.Status.Message)
		}
		if pc := c.Status.ProtocolCode; pc != "" {
			s += fmt.Sprintf("  (%s code %q)", c.Protocol, pc)
		}
		d.add(kindText, 1, s)
		for _, a := range c.Status.Details {
			d.add(kindText, 1, fmt.Sprintf("detail %s (%d bytes) %s", a.TypeURL, len(a.Value), d.detailText(a.TypeURL, a.Value)))
		}
		if c.Status.DetailsErr != "" {
			d.add(kindText, 1, "details: "+c.Status.DetailsErr)
		}
	case c.StatusUnknown:
		d.add(kindText, 1, "? trailers were seen but HPACK could not recover them")
	case c.Protocol == grpcframe.ProtoHTTP && c.HTTPStatus != 0:
		d.add(kindText, 1, fmt.Sprintf("HTTP %d (not a gRPC call: no grpc-status)", c.HTTPStatus))
	case c.Protocol.OverHTTP():
		d.add(kindText, 1, "none: the response's end was not seen")
	default:
		d.add(kindText, 1, "none: no grpc-status was seen")
	}
	var end string
	switch c.State {
	case grpcframe.StateReset:
		end = fmt.Sprintf("reset %v by %s", c.ResetCode, c.ResetBy)
	default:
		end = c.State.String()
	}
	d.add(kindText, 1, "ended: "+end)
}

// message adds a message line and, when open, its field tree.
func (d *detail) message(i int) {
	w := d.msgs[i]
	dir, name := "↑", "req"
	if w.resp {
		dir, name = "↓", "resp"
	}
	key := "m" + strconv.Itoa(i)
	open := d.open[key]
	size := strconv.Itoa(int(w.m.Length)) + "B"
	if w.m.Compressed {
		size += " " + w.m.Encoding + "→" + strconv.Itoa(len(w.m.Data)) + "B"
	}
	text := fmt.Sprintf("%s %s %-4s %-3d +%s  %5s", arrow(open), dir, name, w.n,
		relTime(w.m.Time.Sub(d.call.Start)), size)
	if d.cut[w.m] > 0 {
		text += " (" + keptText(d.limit) + " kept)"
	}
	if w.m.Format != grpcframe.FormatProto {
		// JSON, text or other bytes: not protobuf.
		d.textMessage(i, text, key, open)
		return
	}
	pm := d.decode(i)
	ms := d.schemaOf(i)
	switch {
	case ms.md != nil && open:
		text += "  " + ms.dec.Type
	case ms.md != nil:
		text += "  " + shortType(ms.dec.Type) + " " + clipWidth(string(ms.dec.JSON), 4*maxValue)
		if len(ms.dec.Unknown) > 0 {
			// The JSON leaves them out; say so where it is shown.
			text += "  +unknown " + strings.Join(ms.dec.Unknown, ",")
		}
	case !open:
		text += "  " + preview(pm)
	}
	if ms.dec.Err != "" && !open {
		text += "  ! schema_error"
	}
	if w.m.Err != "" && !(d.cut[w.m] > 0 && w.m.Err == cutReason(d.limit)) {
		text += "  ! " + w.m.Err
	}
	d.items = append(d.items, item{kind: kindMessage, depth: 0, text: text, msg: i, key: key, open: open})
	if open {
		d.schemaNotes(i, ms)
		d.fields(i, pm, ms.md, 1, 0, key)
	}
}

// textMessage shows a JSON message or an HTTP body: one line closed, the
// indented JSON (or the text) open.
func (d *detail) textMessage(i int, text, key string, open bool) {
	m := d.msgs[i].m
	var body string
	switch {
	case m.Format == grpcframe.FormatJSON && json.Valid(m.Data):
		var buf bytes.Buffer
		if open {
			json.Indent(&buf, m.Data, "", "  ")
		} else {
			json.Compact(&buf, m.Data)
		}
		body = buf.String()
	case utf8.Valid(m.Data) && m.Format != grpcframe.FormatBinary:
		body = string(m.Data)
	default:
		body = fmt.Sprintf("(%d bytes)", len(m.Data))
	}
	if !open {
		text += "  " + clipWidth(strings.Join(strings.Fields(body), " "), 4*maxValue)
	}
	if m.Err != "" {
		text += "  ! " + m.Err
	}
	d.items = append(d.items, item{kind: kindMessage, depth: 0, text: text, msg: i, key: key, open: open})
	if open {
		for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
			d.add(kindText, 1, l)
		}
	}
}

func arrow(open bool) string {
	if open {
		return "▾"
	}
	return "▸"
}

// fields adds the lines of a decoded message; base is the message's
// offset within the gRPC message bytes; md is its schema type, nil when
// there is none (or the bytes did not fit it).
func (d *detail) fields(i int, pm *pbdecode.Message, md protoreflect.MessageDescriptor, depth, base int, key string) {
	for k := range pm.Fields {
		f := &pm.Fields[k]
		fk := key + "." + strconv.Itoa(k)
		it := item{kind: kindField, depth: depth, msg: i, field: f, base: base}
		fd := fieldDesc(md, f)
		sub, subMD := f.Sub, protoreflect.MessageDescriptor(nil)
		if fd != nil {
			// The schema decides whether the bytes are a message.
			sub = nil
			if subMD = fd.Message(); subMD != nil {
				sub = subMessage(f, d.opt)
			}
		}
		open := false
		if sub != nil {
			it.key, open = fk, d.open[fk]
			it.open = open
		}
		switch {
		case fd != nil:
			it.text = namedFieldText(f, fd, sub, base, open)
		case md != nil:
			it.text = unknownFieldText(f, base, open, md)
		default:
			it.text = fieldText(f, base, open)
		}
		d.items = append(d.items, it)
		if open {
			d.fields(i, sub, subMD, depth+1, base+f.ValueOffset, fk)
		}
	}
	if pm.Err != "" {
		d.items = append(d.items, item{kind: kindText, depth: depth, msg: i,
			text: fmt.Sprintf("! broken at %d: %s (%d bytes left)", base+pm.ErrOffset, pm.Err, len(pm.Rest))})
	}
}

// byteRange names the bytes [lo, hi) of a message as the whole view does,
// first and last included: "@0-4" is five bytes, as the hex pane's "bytes
// 0-4".
func byteRange(lo, hi int) string { return "@" + strconv.Itoa(lo) + "-" + strconv.Itoa(hi-1) }

// fieldText is "1: "you"  len string @0-4", with the alternative readings
// when the choice was ambiguous.
func fieldText(f *pbdecode.Field, base int, open bool) string {
	var b strings.Builder
	if f.Sub != nil {
		b.WriteString(arrow(open) + " ")
	} else {
		b.WriteString("  ")
	}
	v, extra := fieldValue(f, open)
	fmt.Fprintf(&b, "%d: %s  %s %s", f.Number, v, wireText(f), byteRange(base+f.Offset, base+f.End))
	if extra != "" {
		b.WriteString("  (" + extra + ")")
	}
	if len(f.Also) > 0 {
		also := make([]string, len(f.Also))
		for i, r := range f.Also {
			also[i] = r.String()
		}
		b.WriteString("  (ambiguous: also " + strings.Join(also, ", "))
		if f.Why != "" {
			b.WriteString("; " + f.Why)
		}
		b.WriteString(")")
	} else if f.Why != "" {
		b.WriteString("  (" + f.Why + ")")
	}
	return b.String()
}

// timeline draws the messages of a streaming call on its time axis, one
// lane a direction, so that interleaving and stalls show; a call of one
// message each way has nothing to draw.
func (d *detail) timeline() {
	c := d.call
	if len(c.Requests) <= 1 && len(c.Responses) <= 1 {
		return
	}
	end := lastActivity(c)
	total := end.Sub(c.Start)
	width := max(d.width-14, 10)
	at := func(ms []*grpcframe.Message) []time.Duration {
		out := make([]time.Duration, len(ms))
		for i, m := range ms {
			out[i] = m.Time.Sub(c.Start)
		}
		return out
	}
	d.items = append(d.items,
		item{kind: kindText, depth: 1, text: "↑ req  " + lane(at(c.Requests), total, width), msg: -1},
		item{kind: kindText, depth: 1, text: "↓ resp " + lane(at(c.Responses), total, width), msg: -1},
		item{kind: kindText, depth: 1, text: "       0" + strings.Repeat(" ", max(width-1-len(export.FormatDuration(total)), 1)) + export.FormatDuration(total), msg: -1})
}
