package pbdecode

import (
	"encoding/binary"
	"io"
	"strconv"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
)

// DefaultMaxDepth is the nesting depth used when Options.MaxDepth is 0.
const DefaultMaxDepth = 64

// HardMaxDepth caps Options.MaxDepth; larger values are clamped to it. Each
// level of nesting is three levels of JSON nesting (object, fields array,
// field object), and common JSON readers stop at 10000 levels.
const HardMaxDepth = 1000

// Options bound the work done on one message.
type Options struct {
	// MaxDepth is the nesting depth of sub-messages tried: a length-delimited
	// payload at depth MaxDepth+1 or deeper is not tried as a message, and a
	// group nested that deep is a parse error. The top-level message is at
	// depth 0. 0 means DefaultMaxDepth; a negative value means no nesting at
	// all; values above HardMaxDepth are clamped.
	MaxDepth int
	// MaxFields bounds the fields decoded in one message tree (every level,
	// and the readings tried as sub-messages, count): decoding stops with an
	// error at the field beyond it, the rest kept unparsed. 0 means
	// DefaultMaxFields; negative, no limit.
	MaxFields int
	// Hints, when not nil, are the readings other messages of the same
	// type gave their fields (see [Tally]): a payload that parses as its
	// field's hinted reading is read so, the reading it would have had
	// alone going to Also, with Why saying so.
	Hints *Hints
}

// DefaultMaxFields is the field count used when Options.MaxFields is 0: a
// message of a few million one-byte fields would otherwise cost hundreds of
// bytes of memory per byte of input.
const DefaultMaxFields = 100_000

func (o Options) maxFields() int {
	switch {
	case o.MaxFields == 0:
		return DefaultMaxFields
	case o.MaxFields < 0:
		return int(^uint(0) >> 1)
	}
	return o.MaxFields
}

func (o Options) maxDepth() int {
	switch {
	case o.MaxDepth == 0:
		return DefaultMaxDepth
	case o.MaxDepth < 0:
		return 0
	case o.MaxDepth > HardMaxDepth:
		return HardMaxDepth
	}
	return o.MaxDepth
}

// Message is one decoded message: the fields that parsed, in input order, and
// the bytes that did not.
type Message struct {
	Fields []Field
	// Err is non-empty when the bytes stopped parsing at ErrOffset (relative
	// to this message's start); Rest holds the unparsed bytes from ErrOffset
	// on. Fields then cover exactly the bytes before ErrOffset. In the Sub of
	// a group that broke, Rest is nil: the unparsed bytes run past the group
	// and are reported by the outermost message.
	Err       string
	ErrOffset int
	Rest      []byte

	inner string // for a message broken inside a group: the innermost error
}

// cause returns the innermost error of a message broken inside groups.
func (m *Message) cause() string {
	if m.inner != "" {
		return m.inner
	}
	return m.Err
}

// Reading is how the payload of a length-delimited field was read.
type Reading uint8

// Readings of a length-delimited payload. ReadingNone is the zero value, used
// for fields that are not length-delimited (groups use ReadingMessage).
const (
	ReadingNone          Reading = iota
	ReadingBytes                 // opaque bytes
	ReadingString                // UTF-8 text
	ReadingMessage               // a nested message, in Field.Sub
	ReadingPacked                // packed varints, in Field.Packed
	ReadingPackedFixed32         // packed 4-byte values (floats, or integers: Field.PackedInts), raw bits in Field.Packed
	ReadingPackedFixed64         // packed 8-byte values (doubles, or integers: Field.PackedInts), raw bits in Field.Packed
	ReadingEmpty                 // zero-length payload
)

var readingNames = [...]string{
	ReadingNone:          "none",
	ReadingBytes:         "bytes",
	ReadingString:        "string",
	ReadingMessage:       "message",
	ReadingPacked:        "packed_varint",
	ReadingPackedFixed32: "packed_fixed32",
	ReadingPackedFixed64: "packed_fixed64",
	ReadingEmpty:         "empty",
}

// String returns the name used in JSON: "bytes", "string", "message",
// "packed_varint", "packed_fixed32", "packed_fixed64" or "empty".
func (r Reading) String() string {
	if int(r) < len(readingNames) {
		return readingNames[r]
	}
	return "Reading(" + strconv.Itoa(int(r)) + ")"
}

// Field is one decoded field. Offsets are relative to the start of the
// enclosing message's bytes; the fields of Sub are relative to ValueOffset.
type Field struct {
	Number      int32          // field number
	Wire        protowire.Type // wire type; StartGroupType for a group
	Offset      int            // offset of the tag within the enclosing message bytes
	ValueOffset int            // offset of the value (after the tag, and after the length prefix for LEN)
	End         int            // offset just past the field (past the end-group tag for a group)
	Varint      uint64         // VARINT value
	Fixed       uint64         // I32/I64 value
	Bytes       []byte         // LEN payload, or a group's content without the end-group tag (aliases the input)
	As          Reading        // chosen reading for LEN; ReadingMessage for a group
	Also        []Reading      // other readings that were also plausible (shared; do not modify)
	Why         string         // short reason when the choice was ambiguous or limited
	Sub         *Message       // when As == ReadingMessage (also for groups)
	Packed      []uint64       // when As is a packed reading (raw bits for the fixed readings)
	PackedInts  bool           // the fixed-size packed values read as integers, not floats
	plain       bool           // a string that is its own JSON (textInfo)
	zeros       bool           // a payload of zero bytes only (classify)
}

// Decode reads b as a protobuf message without a schema. It never panics and
// never fails: bytes that don't parse are kept in the result with the offset
// where parsing broke. The result aliases b.
func Decode(b []byte, opt Options) *Message {
	d := decoder{maxDepth: opt.maxDepth(), fieldsLeft: opt.maxFields(), hints: opt.Hints}
	return d.decode(b)
}

// AppendDecodeJSON appends the JSON of b's decoding to dst: the bytes of
// Decode(b, opt).AppendJSON(dst). The tree is not kept, and its memory
// serves later calls, so that writing many messages allocates little. It is
// safe for concurrent use.
func AppendDecodeJSON(dst, b []byte, opt Options) []byte {
	d := decoderPool.Get().(*decoder)
	d.maxDepth, d.fieldsLeft, d.hints = opt.maxDepth(), opt.maxFields(), opt.Hints
	dst = d.decode(b).AppendJSON(dst)
	// Clearing what was used drops the tree's references to b (the
	// pool would otherwise keep the caller's buffers alive) and gives
	// the next tree zeroed memory, as fresh slabs would.
	d.fields.reset()
	d.msgs.reset()
	d.words.reset()
	d.hints = nil
	decoderPool.Put(d)
	return dst
}

// decoderPool holds decoders whose slabs AppendDecodeJSON reuses; each is
// used by one call at a time.
var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

func (d *decoder) decode(b []byte) *Message {
	m, _, _ := d.parse(b, 0, 0, min(scan(b, d.maxDepth).nfields, d.fieldsLeft), d.hints)
	return m
}

// decoder holds the state of one Decode call. Fields, messages and packed
// values are carved out of slabs that double in size, so that a message tree
// costs a logarithmic number of allocations rather than a few per message.
type decoder struct {
	maxDepth   int
	fieldsLeft int    // Options.MaxFields minus the fields decoded so far
	hints      *Hints // Options.Hints

	fields slab[Field]
	msgs   slab[Message]
	words  slab[uint64]
}

// slabMax bounds the size of one slab beyond what a single request needs,
// so that the unused tail of the last slab stays small.
const slabMax = 1 << 12

// slab hands out consecutive parts of a buffer, allocating a buffer twice
// as large as all before it (up to slabMax) when the current one runs out.
type slab[T any] struct {
	buf   []T // current buffer
	used  int // elements of buf handed out
	total int // elements allocated so far, for doubling
}

// take returns a zeroed slice of length n and capacity n; appending beyond
// n reallocates rather than overwriting a neighbour.
func (s *slab[T]) take(n int) []T {
	if len(s.buf)-s.used < n {
		size := max(n, min(s.total, slabMax))
		s.buf = make([]T, size)
		s.used = 0
		s.total += size
	}
	p := s.buf[s.used : s.used+n : s.used+n]
	s.used += n
	return p
}

// reset makes the slab's memory, zeroed, available to the next tree. When
// this tree needed more than one buffer, the next gets a single buffer as
// large as all of them, so that a run of similar messages stops allocating
// after the first; earlier buffers are left to the tree that used them. No
// more than slabKeep elements are kept, so that a pooled decoder does not
// hold on to the memory of one huge message.
func (s *slab[T]) reset() {
	switch {
	case len(s.buf) > slabKeep:
		s.buf = nil
	case s.total > len(s.buf):
		s.buf = make([]T, min(s.total, slabKeep))
	default:
		clear(s.buf[:s.used])
	}
	s.used = 0
	s.total = len(s.buf)
}

// slabKeep bounds the buffers a slab keeps for reuse: 1024 fields are
// about 150 KB.
const slabKeep = 1 << 10

// newFields returns an empty slice with capacity n; appending beyond n
// reallocates rather than overwriting a neighbour.
func (d *decoder) newFields(n int) []Field {
	if n <= 0 {
		return nil
	}
	return d.fields.take(n)[:0]
}

func (d *decoder) newMessage() *Message {
	return &d.msgs.take(1)[0]
}

// newWords returns a slice of length n.
func (d *decoder) newWords(n int) []uint64 {
	return d.words.take(n)
}

func (m *Message) fail(b []byte, off int, msg string) {
	m.Err = msg
	m.ErrOffset = off
	m.Rest = b[off:]
}

// wireNames are the JSON names of the wire types.
var wireNames = [...]string{
	protowire.VarintType:     "varint",
	protowire.Fixed64Type:    "i64",
	protowire.BytesType:      "len",
	protowire.StartGroupType: "group",
	protowire.EndGroupType:   "egroup",
	protowire.Fixed32Type:    "i32",
}

func wireName(t protowire.Type) string {
	if int(t) >= 0 && int(t) < len(wireNames) {
		return wireNames[t]
	}
	return "wire" + strconv.Itoa(int(t))
}

// varintErr describes protowire's error code n for a varint.
func varintErr(n int) string {
	if protowire.ParseError(n) == io.ErrUnexpectedEOF {
		return "truncated varint"
	}
	return "varint overflows 64 bits"
}

// parse decodes the fields of b. With group == 0 it reads to the end of b;
// otherwise it stops after the end-group tag for group and reports the offset
// where the group's content ends (contentEnd) and the offset past the
// end-group tag (end). hint is the expected number of fields.
//
// An error stops parsing; for a group, end is then the error offset.
//
// The loop runs once for every field of every message, so the values of
// the common wire types are read in it: reading a LEN field's length in a
// function of its own costs 20 instructions more per field, 3% of decoding
// a small message. Groups, which are rare, are parsed by parseGroup, and
// the texts of the errors are made by functions of their own.
func (d *decoder) parse(b []byte, depth int, group protowire.Number, hint int, hints *Hints) (m *Message, contentEnd, end int) {
	m = d.newMessage()
	m.Fields = d.newFields(hint)
	off := 0
	for off < len(b) {
		start := off
		// Most tags are one byte; protowire's call costs as much as
		// decoding one.
		tag, n := uint64(b[off]), 1
		if tag >= 0x80 {
			tag, n = protowire.ConsumeVarint(b[off:])
		}
		num, typ := tag>>3, protowire.Type(tag&7)
		if n < 0 || d.fieldsLeft <= 0 || num == 0 || num > uint64(protowire.MaxValidNumber) {
			m.fail(b, start, tagErr(n, d.fieldsLeft, num))
			return m, start, start
		}
		d.fieldsLeft--
		off += n
		f := Field{Number: int32(num), Wire: typ, Offset: start, ValueOffset: off}
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b[off:])
			if n < 0 {
				m.fail(b, start, fieldErr(num, typ, varintErr(n)))
				return m, start, start
			}
			f.Varint = v
			off += n
		case protowire.Fixed32Type:
			if len(b)-off < 4 {
				m.fail(b, start, fieldErr(num, typ, truncErr(4, len(b)-off)))
				return m, start, start
			}
			f.Fixed = uint64(binary.LittleEndian.Uint32(b[off:]))
			off += 4
		case protowire.Fixed64Type:
			if len(b)-off < 8 {
				m.fail(b, start, fieldErr(num, typ, truncErr(8, len(b)-off)))
				return m, start, start
			}
			f.Fixed = binary.LittleEndian.Uint64(b[off:])
			off += 8
		case protowire.BytesType:
			l, n := protowire.ConsumeVarint(b[off:])
			if n < 0 {
				m.fail(b, start, fieldErr(num, typ, "length: "+varintErr(n)))
				return m, start, start
			}
			off += n
			if l > uint64(len(b)-off) {
				m.fail(b, start, fieldErr(num, typ, lengthErr(l, len(b)-off)))
				return m, start, start
			}
			f.ValueOffset = off
			off += int(l)
			f.Bytes = b[f.ValueOffset:off:off]
			d.classify(&f, depth, hints.field(f.Number))
		case protowire.StartGroupType:
			if off = d.parseGroup(m, b, &f, depth); m.Err != "" {
				return m, off, off
			}
		case protowire.EndGroupType:
			if group == protowire.Number(num) {
				return m, start, off
			}
			m.fail(b, start, endGroupErr(group, num))
			return m, start, start
		default:
			m.fail(b, start, "field "+strconv.FormatUint(num, 10)+": invalid wire type "+strconv.Itoa(int(typ)))
			return m, start, start
		}
		f.End = off
		m.Fields = append(m.Fields, f)
	}
	if group != 0 {
		m.fail(b, len(b), "missing end-group tag for group "+strconv.Itoa(int(group)))
	}
	return m, len(b), len(b)
}

// parseGroup parses the group whose start-group tag f has read, in a
// message m at the given depth whose bytes are b, and returns the offset in
// b past its end-group tag. A group nested too deep, or one that breaks,
// fails m, and parseGroup then returns the offset of the error; a group that
// broke is still added to m's fields.
func (d *decoder) parseGroup(m *Message, b []byte, f *Field, depth int) (end int) {
	num := uint64(f.Number)
	if depth+1 > d.maxDepth {
		m.fail(b, f.Offset, "group "+strconv.FormatUint(num, 10)+" nested deeper than MaxDepth "+strconv.Itoa(d.maxDepth))
		return f.Offset
	}
	content := b[f.ValueOffset:]
	// No field-count hint here: scanning ahead at every level
	// would make deeply nested groups quadratic.
	sub, cEnd, gEnd := d.parse(content, depth+1, protowire.Number(num), 0, nil)
	f.As = ReadingMessage
	f.Sub = sub
	f.Bytes = content[:cEnd:cEnd]
	end = f.ValueOffset + gEnd
	if sub.Err != "" {
		f.End = end
		m.Fields = append(m.Fields, *f)
		// The unparsed bytes are reported once, by the
		// outermost message; each enclosing message names
		// the group it holds and the innermost error.
		sub.Rest = nil
		m.fail(b, end, "in group "+strconv.FormatUint(num, 10)+": "+sub.cause())
		m.inner = sub.cause()
	}
	return end
}

// tagErr describes why parse stops at a tag: n is the length of the tag
// (protowire's error code when negative), fieldsLeft what remains of
// MaxFields, num the tag's field number.
func tagErr(n, fieldsLeft int, num uint64) string {
	switch {
	case n < 0:
		return "tag: " + varintErr(n)
	case fieldsLeft <= 0:
		return "too many fields: decoding stopped at the MaxFields limit"
	case num == 0:
		return "invalid field number 0"
	}
	return "field number " + strconv.FormatUint(num, 10) + " out of range"
}

// endGroupErr describes an end-group tag for field num inside the group
// numbered group (0: none).
func endGroupErr(group protowire.Number, num uint64) string {
	if group == 0 {
		return "unexpected end-group tag for field " + strconv.FormatUint(num, 10)
	}
	return "end-group tag for field " + strconv.FormatUint(num, 10) +
		" does not match start-group field " + strconv.Itoa(int(group))
}

// lengthErr describes a LEN field whose length l runs past the have bytes
// that follow its length prefix.
func lengthErr(l uint64, have int) string {
	return "length " + strconv.FormatUint(l, 10) + " exceeds the remaining " + strconv.Itoa(have) + " bytes"
}

func fieldErr(num uint64, typ protowire.Type, msg string) string {
	return "field " + strconv.FormatUint(num, 10) + " (" + wireName(typ) + "): " + msg
}

func truncErr(need, have int) string {
	return "truncated: need " + strconv.Itoa(need) + " bytes, have " + strconv.Itoa(have)
}

// skipVarint returns the length of the varint at the start of b, or -1 when
// it is truncated or overflows, with the same rules as protowire.ConsumeVarint.
func skipVarint(b []byte) int {
	for i := 0; i < len(b) && i < 10; i++ {
		if b[i] < 0x80 {
			if i == 9 && b[i] > 1 {
				return -1
			}
			return i + 1
		}
	}
	return -1
}

// readVarint decodes the varint at the start of b like
// protowire.ConsumeVarint, but returns -1 for every error: it is small
// enough to be inlined into scan's loop.
func readVarint(b []byte) (v uint64, n int) {
	for i, c := range b {
		if i == 10 {
			break
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if i == 9 && c > 1 {
				break
			}
			return v, i + 1
		}
	}
	return 0, -1
}

// scanResult is what scan learns about a payload.
type scanResult struct {
	ok      bool   // the bytes parse completely as a message
	nfields int    // top-level fields (before the first error when !ok)
	lenSpan int    // bytes spanned by non-empty top-level LEN fields, tags included
	maxNum  uint64 // largest field number seen, at any group level
}

// scan reports whether b parses completely as a message whose groups nest at
// most maxGroups deep, with the same rules as parse. It does not look inside
// LEN payloads, so it runs in time linear in len(b) and does not allocate
// unless groups nest more than 16 deep.
//
// It runs over every byte of the payloads tried as messages, so the common
// case, a message without groups, has a loop of its own: it calls no
// function (readVarint and skipVarint are inlined) and keeps its counts in
// locals, which then stay in registers. At the first group it hands over to
// scanGroups.
func scan(b []byte, maxGroups int) scanResult {
	nfields, lenSpan, maxNum := 0, 0, uint64(0)
	ok := false
	off := 0
loop:
	for {
		if off >= len(b) {
			ok = true
			break
		}
		start := off
		tag, n := uint64(b[off]), 1
		if tag >= 0x80 {
			if tag, n = readVarint(b[off:]); n < 0 {
				break
			}
		}
		num, typ := tag>>3, protowire.Type(tag&7)
		if num == 0 || num > uint64(protowire.MaxValidNumber) {
			break
		}
		maxNum = max(maxNum, num)
		off += n
		switch typ {
		case protowire.VarintType:
			n = skipVarint(b[off:])
			if n < 0 {
				break loop
			}
			off += n
		case protowire.Fixed32Type:
			if len(b)-off < 4 {
				break loop
			}
			off += 4
		case protowire.Fixed64Type:
			if len(b)-off < 8 {
				break loop
			}
			off += 8
		case protowire.BytesType:
			if off >= len(b) {
				break loop
			}
			l, n := uint64(b[off]), 1
			if l >= 0x80 {
				if l, n = readVarint(b[off:]); n < 0 {
					break loop
				}
			}
			off += n
			if l > uint64(len(b)-off) {
				break loop
			}
			off += int(l)
			if l > 0 {
				lenSpan += off - start
			}
		case protowire.StartGroupType:
			r := scanResult{nfields: nfields, lenSpan: lenSpan, maxNum: maxNum}
			return scanGroups(b, start, maxGroups, r)
		default:
			break loop
		}
		nfields++
	}
	return scanResult{ok: ok, nfields: nfields, lenSpan: lenSpan, maxNum: maxNum}
}

// scanGroups is scan for a message with groups, from offset off on, with
// the counts r made so far.
func scanGroups(b []byte, off, maxGroups int, r scanResult) scanResult {
	var stackBuf [16]protowire.Number
	stack := stackBuf[:0]
	for off < len(b) {
		start := off
		tag, n := protowire.ConsumeVarint(b[off:])
		if n < 0 {
			return r
		}
		num, typ := tag>>3, protowire.Type(tag&7)
		if num == 0 || num > uint64(protowire.MaxValidNumber) {
			return r
		}
		r.maxNum = max(r.maxNum, num)
		off += n
		top := len(stack) == 0
		switch typ {
		case protowire.VarintType:
			n = skipVarint(b[off:])
			if n < 0 {
				return r
			}
			off += n
		case protowire.Fixed32Type:
			if len(b)-off < 4 {
				return r
			}
			off += 4
		case protowire.Fixed64Type:
			if len(b)-off < 8 {
				return r
			}
			off += 8
		case protowire.BytesType:
			l, n := protowire.ConsumeVarint(b[off:])
			if n < 0 {
				return r
			}
			off += n
			if l > uint64(len(b)-off) {
				return r
			}
			off += int(l)
			if top && l > 0 {
				r.lenSpan += off - start
			}
		case protowire.StartGroupType:
			if len(stack) >= maxGroups {
				return r
			}
			stack = append(stack, protowire.Number(num))
		case protowire.EndGroupType:
			if top || stack[len(stack)-1] != protowire.Number(num) {
				return r
			}
			stack = stack[:len(stack)-1]
			continue
		default:
			return r
		}
		if top {
			r.nfields++
		}
	}
	r.ok = len(stack) == 0
	return r
}
