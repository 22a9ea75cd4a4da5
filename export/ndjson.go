package export

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"strings"
	"unicode/utf8"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
)

// UnknownHeaderName is the key under which header fields whose name could
// not be recovered (HPACK) are listed. Parentheses cannot occur in a real
// header name, so it never collides with one.
const UnknownHeaderName = "(unknown)"

// Options say how messages are decoded in the JSON.
type Options struct {
	// Raw bounds the schema-less decoding, which is always written.
	Raw pbdecode.Options
	// Schema, when set, adds the decoding with the user's schemas.
	Schema *schema.Registry
	// MaxCallBytes bounds the JSON of one call, roughly: once a call's
	// object has grown past it, its later messages are written without
	// "data", "raw" and the schema decoding ("output_dropped": true on each),
	// and the call gets "truncated_output": true and a note. 0 means
	// DefaultMaxCallBytes; negative, no limit.
	MaxCallBytes int
	// MaxCallBytesHint, when set, ends that note: how the reader may raise
	// the limit (the command line says "see --max-call-bytes").
	MaxCallBytesHint string
	// Hints, when set, are the readings of each method's fields learnt
	// from the whole capture: the schema-less decoding follows them.
	Hints *ReadingHints
}

// DefaultMaxCallBytes is the default of Options.MaxCallBytes.
const DefaultMaxCallBytes = 64 << 20

// budget follows the size of one call's JSON.
type budget struct {
	start, max int
	dropped    int    // messages whose contents were left out
	hint       string // Options.MaxCallBytesHint
}

// fits reports whether n more bytes keep the call within its limit.
func (u *budget) fits(b []byte, n int) bool {
	return u.max < 0 || len(b)-u.start+n <= u.max
}

// NDJSON writes one JSON object per call, one per line.
type NDJSON struct {
	w   *bufio.Writer
	buf []byte
	// Options say how messages are decoded.
	Options Options
	// Flush after every call (live capture, so that `| jq` sees calls as they end).
	FlushEach bool
	err       error
	cache     encodeCache
}

// NewNDJSON returns an NDJSON writer on w.
func NewNDJSON(w io.Writer) *NDJSON {
	return &NDJSON{w: bufio.NewWriterSize(w, 256<<10)}
}

// Call writes one call; it implements grpcframe.Sink. Write errors are kept
// for Close.
func (j *NDJSON) Call(c *grpcframe.Call) {
	if j.err != nil {
		return
	}
	j.writeLine(appendCall(j.buf[:0], c, j.Options, &j.cache))
}

// writeLine writes b (j.buf, grown) as one line.
func (j *NDJSON) writeLine(b []byte) {
	j.buf = append(b, '\n')
	if _, err := j.w.Write(j.buf); err != nil {
		j.err = err
		return
	}
	if j.FlushEach {
		j.err = j.w.Flush()
	}
}

// Flush writes out what is buffered (a live capture flushes after each
// batch of calls rather than each line). Errors are kept for Close.
func (j *NDJSON) Flush() {
	if j.err == nil {
		j.err = j.w.Flush()
	}
}

// Close flushes and returns the first write error.
func (j *NDJSON) Close() error {
	if j.err != nil {
		return j.err
	}
	return j.w.Flush()
}

// AppendCallJSON appends the JSON object for one call, decoded without a
// schema.
func AppendCallJSON(b []byte, c *grpcframe.Call, opt pbdecode.Options) []byte {
	return AppendCall(b, c, Options{Raw: opt})
}

// AppendCall appends the JSON object for one call (docs/ndjson.md lists its
// keys).
func AppendCall(b []byte, c *grpcframe.Call, opt Options) []byte {
	return appendCall(b, c, opt, nil)
}

// appendCall appends the JSON object of c (the README lists its keys). It
// writes the keys every call has, in the order they come; the keys of the
// rarer cases (TLS, an inferred method, plain HTTP and the protocols beside
// gRPC, a reset, notes) are written by functions of their own, called only
// in those cases: a call to a function for each group of keys, whatever the
// call, measured 0.5% more instructions for a capture's --json.
func appendCall(b []byte, c *grpcframe.Call, opt Options, ec *encodeCache) []byte {
	u := budget{start: len(b), max: opt.MaxCallBytes, hint: opt.MaxCallBytesHint}
	if u.max == 0 {
		u.max = DefaultMaxCallBytes
	}
	b = append(b, '{')
	b = ec.appendEndpoints(b, c)
	if c.RolesGuessed() {
		b = appendKey(b, "roles_guessed")
		b = append(b, "true"...)
	}
	b = appendKey(b, "transport")
	b = appendName(b, transportJSON, c.Transport)
	b = appendKey(b, "protocol")
	b = appendName(b, protocolJSON, c.Protocol)
	if c.TLS != nil {
		b = appendTLS(b, c)
	}
	b = appendKey(b, "stream_id")
	b = appendInt(b, int64(c.StreamID))
	b = appendKey(b, "method")
	if c.MethodUnknown {
		b = append(b, "null"...)
	} else {
		b = ec.appendString(b, c.Method)
	}
	if c.MethodInferred != "" || len(c.MethodCandidates) > 1 {
		b = appendMethodInference(b, c)
	}
	if c.Protocol != grpcframe.ProtoGRPC || c.CORSPreflight || c.Preflight != nil {
		b = appendHTTPKeys(b, c)
	}
	b = appendKey(b, "state")
	b = appendName(b, stateJSON, c.State)
	if c.State == grpcframe.StateReset {
		b = appendReset(b, c)
	}
	if c.StartedBeforeCapture {
		b = appendKey(b, "started_before_capture")
		b = append(b, "true"...)
	}
	if c.LostBytes {
		b = appendKey(b, "lost_bytes")
		b = append(b, "true"...)
	}
	b = appendKey(b, "start")
	b = ec.appendTime(b, c.Start)
	b = appendKey(b, "first_response")
	b = ec.appendTime(b, c.FirstResponse)
	b = appendKey(b, "end")
	b = ec.appendTime(b, c.End)
	b = appendKey(b, "duration_us")
	b = appendInt(b, c.Duration().Microseconds())
	b = appendKey(b, "status")
	b = appendStatus(b, c.Status, opt)
	if c.StatusUnknown {
		b = appendKey(b, "status_unknown")
		b = append(b, "true"...)
	}
	b = appendKey(b, "request_headers")
	req, resp, tr := c.HeadersShared()
	hc := ec.headerCache()
	b = hc.appendList(b, c.RequestHeaders, req)
	b = appendKey(b, "response_headers")
	b = hc.appendList(b, c.ResponseHeaders, resp)
	b = appendKey(b, "trailers")
	b = hc.appendList(b, c.Trailers, tr)
	if c.TrailersOnly {
		b = appendKey(b, "trailers_only")
		b = append(b, "true"...)
	}
	b = appendKey(b, "requests")
	b = appendMessages(b, c, true, opt, &u, ec)
	b = appendKey(b, "responses")
	b = appendMessages(b, c, false, opt, &u, ec)
	if u.dropped > 0 || len(c.Notes) > 0 {
		b = appendNotes(b, c.Notes, &u)
	}
	return append(b, '}')
}

// appendTLS adds the key tls: what c's connection's TLS was.
func appendTLS(b []byte, c *grpcframe.Call) []byte {
	// Rare and small: encoding/json is fine here.
	if js, err := json.Marshal(c.TLS); err == nil {
		b = appendKey(b, "tls")
		b = append(b, js...)
	}
	return b
}

// appendMethodInference adds the keys that say which method c's messages
// suggest when its :path was not recovered: method_inferred, and
// method_candidates when more than one fits.
func appendMethodInference(b []byte, c *grpcframe.Call) []byte {
	if c.MethodInferred != "" {
		b = appendKey(b, "method_inferred")
		b = appendString(b, c.MethodInferred)
	}
	if len(c.MethodCandidates) > 1 {
		b = appendKey(b, "method_candidates")
		b = appendStrings(b, c.MethodCandidates)
	}
	return b
}

// appendHTTPKeys adds the keys of calls other than plain gRPC: for plain
// HTTP, http_method and path; for Connect and Twirp, http_method; for every protocol beside gRPC, http_status;
// and the CORS preflight keys, cors_preflight and preflight.
func appendHTTPKeys(b []byte, c *grpcframe.Call) []byte {
	if c.Protocol == grpcframe.ProtoHTTP || (c.Protocol.OverHTTP() && c.HTTPMethod != "") {
		b = appendKey(b, "http_method")
		b = appendString(b, c.HTTPMethod)
	}
	if c.Protocol == grpcframe.ProtoHTTP {
		b = appendKey(b, "path")
		if c.MethodUnknown {
			b = append(b, "null"...)
		} else {
			b = appendString(b, c.Method)
		}
	}
	if c.Protocol != grpcframe.ProtoGRPC && c.HTTPStatus != 0 {
		b = appendKey(b, "http_status")
		b = appendInt(b, int64(c.HTTPStatus))
	}
	if c.CORSPreflight {
		b = appendKey(b, "cors_preflight")
		b = append(b, "true"...)
	}
	if p := c.Preflight; p != nil {
		b = appendKey(b, "preflight")
		b = append(b, '{')
		b = appendKey(b, "conn")
		b = appendInt(b, int64(p.ConnID))
		b = appendKey(b, "stream_id")
		b = appendInt(b, int64(p.StreamID))
		b = appendKey(b, "start")
		b = appendTime(b, p.Start)
		if p.HTTPStatus != 0 {
			b = appendKey(b, "http_status")
			b = appendInt(b, int64(p.HTTPStatus))
		}
		b = append(b, '}')
	}
	return b
}

// appendReset adds the keys of a reset call: reset_code and reset_by.
func appendReset(b []byte, c *grpcframe.Call) []byte {
	b = appendKey(b, "reset_code")
	b = appendString(b, c.ResetCode.String())
	b = appendKey(b, "reset_by")
	return appendString(b, c.ResetBy.String())
}

// appendNotes adds the texts of the call's notes, and truncated_output with
// a note of its own when u says the contents of messages were left out.
func appendNotes(b []byte, notes []h2decode.Note, u *budget) []byte {
	if u.dropped > 0 {
		b = appendKey(b, "truncated_output")
		b = append(b, "true"...)
	}
	if len(notes) == 0 && u.dropped == 0 {
		return b
	}
	b = appendKey(b, "notes")
	b = append(b, '[')
	for i := range notes {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, notes[i].Text)
	}
	if u.dropped > 0 {
		note := fmt.Sprintf("output truncated: the contents of %d messages were left out to keep this call's JSON under %d bytes", u.dropped, u.max)
		if u.hint != "" {
			note += " (" + u.hint + ")"
		}
		if len(notes) > 0 {
			b = append(b, ',')
		}
		b = appendString(b, note)
	}
	return append(b, ']')
}

// appendEndpoints adds the keys that say where a call ran: conn, client,
// server.
func appendEndpoints(b []byte, c *grpcframe.Call) []byte {
	b = appendKey(b, "conn")
	b = appendInt(b, int64(c.ConnID))
	b = appendKey(b, "client")
	b = appendAddrPort(b, c.Client)
	b = appendKey(b, "server")
	return appendAddrPort(b, c.Server)
}

func appendStatus(b []byte, s *grpcframe.Status, opt Options) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	b = appendKey(b, "code")
	b = appendInt(b, int64(s.Code))
	b = appendKey(b, "name")
	b = appendString(b, s.Name)
	b = appendKey(b, "message")
	b = appendString(b, s.Message)
	if s.ProtocolCode != "" {
		b = appendKey(b, "protocol_code")
		b = appendString(b, s.ProtocolCode)
	}
	if len(s.Details) > 0 {
		b = appendKey(b, "details")
		b = append(b, '[')
		for i, d := range s.Details {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			b = appendKey(b, "type_url")
			b = appendString(b, d.TypeURL)
			b = appendKey(b, "value")
			b = appendBase64(b, d.Value)
			if opt.Schema != nil {
				b = appendDecoded(b, opt.Schema.DecodeAny(d.TypeURL, d.Value))
			}
			b = appendKey(b, "raw")
			b = pbdecode.AppendDecodeJSON(b, d.Value, opt.Raw)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if s.DetailsErr != "" {
		b = appendKey(b, "details_error")
		b = appendString(b, s.DetailsErr)
	}
	return append(b, '}')
}

// appendHeaders writes a header list as name → [values], in the order names
// first appear. A value HPACK could not recover is an object
// {"unknown":"hpack","entry":"…"} naming the table entry it came from.
func appendHeaders(b []byte, hs []h2decode.HeaderField) []byte {
	if len(hs) > 64 {
		return appendHeadersSlow(b, hs)
	}
	// Mark the fields whose name came before, comparing each pair once;
	// then each name's values are gathered from the marked fields only.
	// Names rarely repeat, so most lists are written in one pass.
	// A signature of each name (its length, first and last bytes) rules
	// out almost every pair without comparing the strings.
	var sig [64]uint32
	for i := range hs {
		sig[i] = nameSig(headerKey(&hs[i]))
	}
	var later uint64
	for i := 1; i < len(hs); i++ {
		for j := range i {
			if sig[j] == sig[i] && headerKey(&hs[j]) == headerKey(&hs[i]) {
				later |= 1 << i
				break
			}
		}
	}
	b = append(b, '{')
	for i := range hs {
		if later&(1<<i) != 0 {
			continue
		}
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		name := headerKey(&hs[i])
		b = appendString(b, name)
		b = append(b, ':', '[')
		b = appendHeaderValue(b, &hs[i])
		for rest := later >> (i + 1); rest != 0; rest &= rest - 1 {
			j := i + 1 + bits.TrailingZeros64(rest)
			if sig[j] == sig[i] && headerKey(&hs[j]) == name {
				b = append(b, ',')
				b = appendHeaderValue(b, &hs[j])
			}
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendHeadersSlow is appendHeaders for lists too long for its bit mask.
func appendHeadersSlow(b []byte, hs []h2decode.HeaderField) []byte {
	b = append(b, '{')
	for i := range hs {
		name := headerKey(&hs[i])
		if seenBefore(hs[:i], name) {
			continue
		}
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = appendString(b, name)
		b = append(b, ':', '[')
		first := true
		for j := i; j < len(hs); j++ {
			if headerKey(&hs[j]) != name {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendHeaderValue(b, &hs[j])
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// nameSig is a header name's length, first and last bytes: equal names
// have equal signatures.
func nameSig(name string) uint32 {
	if name == "" {
		return 0
	}
	return uint32(len(name))<<16 | uint32(name[0])<<8 | uint32(name[len(name)-1])
}

func headerKey(f *h2decode.HeaderField) string {
	if f.NameUnknown {
		return UnknownHeaderName
	}
	return f.Name
}

func seenBefore(hs []h2decode.HeaderField, name string) bool {
	for i := range hs {
		if headerKey(&hs[i]) == name {
			return true
		}
	}
	return false
}

func appendHeaderValue(b []byte, f *h2decode.HeaderField) []byte {
	if f.Unknown() {
		// The name, or name and value, came from a table entry that was
		// never seen: say which entry, and what is known.
		b = append(b, `{"unknown":"hpack","entry":`...)
		b = appendString(b, f.Ref.String())
		if !f.ValueUnknown {
			b = append(b, `,"value":`...)
			b = appendString(b, f.Value)
		}
		return append(b, '}')
	}
	if strings.HasSuffix(f.Name, "-bin") && !f.NameUnknown {
		return appendBinValue(b, f.Value)
	}
	return appendString(b, f.Value)
}

// appendBinValue appends a binary header's value, losslessly: its bytes in
// canonical base64, so that unpadded senders, padded ones and the C core's
// true-binary form (a 0x00, then the bytes) read alike; and a value that is
// none of those as {"not_base64": the bytes it holds, in base64}.
func appendBinValue(b []byte, v string) []byte {
	if raw, ok := grpcframe.TrueBinary(v); ok {
		return appendBase64(b, raw)
	}
	if b, ok := appendBinHeader(b, v); ok {
		return b
	}
	b = append(b, `{"not_base64":`...)
	b = appendBase64(b, []byte(v))
	return append(b, '}')
}

// appendBinHeader appends the value of a binary header in canonical base64:
// the bytes grpcframe.DecodeBinHeader decodes, encoded again. ok is false,
// and b unchanged, when v is not base64. Values of up to 256 bytes, most of
// them, are decoded on the stack rather than into a new slice per header.
func appendBinHeader(b []byte, v string) (_ []byte, ok bool) {
	v = strings.TrimRight(v, "=")
	var src [344]byte // the base64 of 258 bytes
	var dst [258]byte
	if len(v) > len(src) {
		p, err := grpcframe.DecodeBinHeader(v)
		if err != nil {
			return b, false
		}
		return appendBase64(b, p), true
	}
	// DecodeBinHeader's DecodeString is Decode on a copy of the string.
	n, err := base64.RawStdEncoding.Decode(dst[:], src[:copy(src[:], v)])
	if err != nil {
		return b, false
	}
	// encoding/base64, not appendBase64: the assembly behind that one
	// would make dst escape to the heap, and these values are short.
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, dst[:n])
	return append(b, '"'), true
}

func appendMessages(b []byte, c *grpcframe.Call, requests bool, opt Options, u *budget, ec *encodeCache) []byte {
	ms := c.Responses
	if requests {
		ms = c.Requests
	}
	b = append(b, '[')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if m.Body {
			b = appendKey(b, "body")
			b = append(b, "true"...)
		}
		b = appendKey(b, "length")
		b = appendInt(b, int64(m.Length))
		b = appendKey(b, "compressed")
		if m.Compressed {
			b = append(b, "true"...)
		} else {
			b = append(b, "false"...)
		}
		if m.Encoding != "" {
			b = appendKey(b, "encoding")
			b = appendString(b, m.Encoding)
			b = appendKey(b, "decompressed_length")
			b = appendInt(b, int64(len(m.Data)))
		}
		b = appendKey(b, "time")
		b = ec.appendTime(b, m.Time)
		if m.Truncated {
			b = appendKey(b, "truncated")
			b = append(b, "true"...)
		}
		if m.Resynced {
			b = appendKey(b, "resynced")
			b = append(b, "true"...)
		}
		if m.Err != "" {
			b = appendKey(b, "error")
			b = appendString(b, m.Err)
		}
		mark := len(b)
		if u.fits(b, (len(m.Data)+2)/3*4+16) {
			b = appendKey(b, "data")
			b = appendBase64(b, m.Data)
			if !m.Compressed || m.Encoding != "" {
				switch m.Format {
				case grpcframe.FormatProto:
					if method := decodeMethod(c); opt.Schema != nil && method != "" && !m.Truncated && !m.Body {
						b = appendDecoded(b, opt.Schema.Decode(method, requests, m.Data))
					}
					raw := opt.Raw
					raw.Hints = opt.Hints.For(decodeMethod(c), requests)
					b = appendKey(b, "raw")
					b = pbdecode.AppendDecodeJSON(b, m.Data, raw)
				case grpcframe.FormatJSON:
					b = appendJSONValue(b, m.Data, m.Truncated)
				case grpcframe.FormatText:
					if utf8.Valid(m.Data) {
						b = appendKey(b, "text")
						b = appendString(b, string(m.Data))
					}
				}
			}
		}
		if !u.fits(b, 0) {
			b = b[:mark]
			b = appendKey(b, "output_dropped")
			b = append(b, "true"...)
			u.dropped++
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONValue adds a JSON message or body: "json" with the value
// (compacted onto one line) when it parses, else "json_error".
func appendJSONValue(b []byte, data []byte, truncated bool) []byte {
	if len(data) == 0 {
		return b
	}
	if truncated {
		b = appendKey(b, "json_error")
		return appendString(b, "not shown: the message is not whole")
	}
	mark := len(b)
	b = appendKey(b, "json")
	buf := bytes.NewBuffer(b)
	err := json.Compact(buf, data)
	if err == nil {
		return buf.Bytes()
	}
	b = b[:mark]
	if seq, ok := appendJSONSeq(b, data); ok {
		return seq
	}
	b = appendKey(b, "json_error")
	return appendString(b, err.Error())
}

// appendJSONSeq writes a body of several JSON values one after the other
// (newline-delimited JSON, as grpc-gateway streams a server-streaming
// method's replies) as "json_seq": [values].
func appendJSONSeq(b []byte, data []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	mark := len(b)
	b = appendKey(b, "json_seq")
	b = append(b, '[')
	n := 0
	for {
		var v json.RawMessage
		if err := dec.Decode(&v); err == io.EOF {
			break
		} else if err != nil {
			return b[:mark], false
		}
		if n > 0 {
			b = append(b, ',')
		}
		buf := bytes.NewBuffer(b)
		if json.Compact(buf, v) != nil {
			return b[:mark], false
		}
		b = buf.Bytes()
		n++
	}
	if n < 2 {
		return b[:mark], false
	}
	return append(b, ']'), true
}

// appendDecoded adds a schema decoding's keys: "type", then "json" or
// "schema_error", and "unknown_fields" (fields the schema does not have,
// whose values are in "raw"). Nothing when no schema covers the message.
func appendDecoded(b []byte, d schema.Decoded) []byte {
	if d.Type == "" {
		return b
	}
	b = appendKey(b, "type")
	b = appendString(b, d.Type)
	if d.Err != "" {
		b = appendKey(b, "schema_error")
		return appendString(b, d.Err)
	}
	b = appendKey(b, "json")
	b = append(b, d.JSON...)
	if len(d.Unknown) > 0 {
		b = appendKey(b, "unknown_fields")
		b = appendStrings(b, d.Unknown)
	}
	return b
}

// decodeMethod is the method whose types decode a call's messages: its :path,
// or the inferred one (the call says it is inferred).
func decodeMethod(c *grpcframe.Call) string {
	if !c.MethodUnknown {
		return c.Method
	}
	return c.MethodInferred
}
