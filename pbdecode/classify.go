package pbdecode

import (
	"bytes"
	"encoding/binary"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Reasons recorded in Field.Why.
const (
	whyStringOverMessage = "valid UTF-8 and printable; also parses as a message"
	whyMessageOverString = "parses as a message whose length-delimited fields cover most of the bytes; also printable UTF-8"
	whyDepthLimit        = "parses as a message but was not expanded: MaxDepth reached"
	whyLargeField        = "parses as a message only with implausibly large field numbers"
	whyFloats            = "every 4-byte value is a plausible float"
	whyDoubles           = "every 8-byte value is a plausible double"
	whyWeakVarints       = "also a sequence of varints, but of mixed lengths as in random bytes"
	whyVarints           = "a whole sequence of varints, mostly short, of one length or with a negative value"
	whyInts32            = "most 4-byte values are integers of small magnitude (top byte 00 or ff)"
	whyInts64            = "most 8-byte values are integers of small magnitude (top two bytes 0000 or ffff)"
)

// Shared Also slices for the common cases, so that ambiguity costs no
// allocation.
var (
	alsoMessage = []Reading{ReadingMessage}
	alsoString  = []Reading{ReadingString}
)

// Plausibility bounds for the float readings of packed fixed-size payloads:
// the binary exponent of every non-zero value must lie within ±maxExp.
const (
	maxExp32 = 32 // about 2.3e-10 .. 8.6e9
	maxExp64 = 64 // about 5.4e-20 .. 3.7e19
)

// maxPlausibleField is the largest field number of a plausible message
// reading. Real messages number their fields from 1 and rarely go past a few
// thousand, while random bytes that happen to parse often produce 4- and
// 5-byte tags.
const maxPlausibleField = 1<<21 - 1

// Payloads at least this long whose every 4-byte (8-byte) value is a
// plausible float (double) are read as floats even when they also parse as a
// message: a message rarely puts a float exponent at every fourth position,
// while float bits parse as a message fairly often.
const (
	minFloatsOverMessage  = 12
	minDoublesOverMessage = 16
)

// classify chooses the reading of the LEN payload f.Bytes, found in a message
// at the given depth, whose field's hint (nil: none) is fh. It runs in time
// linear in len(f.Bytes) plus the time to decode the payload when it is read
// as a message.
func (d *decoder) classify(f *Field, depth int, fh *FieldHint) {
	d.classifyAlone(f, depth, fh.sub())
	if fh != nil && len(f.Bytes) > 0 && fh.overrules(f.As) {
		d.follow(f, fh, depth)
	}
}

// classifyAlone is classify from the payload's own evidence; the hints of
// a message reading's fields are sub.
func (d *decoder) classifyAlone(f *Field, depth int, sub *Hints) {
	p := f.Bytes
	if len(p) == 0 {
		f.As = ReadingEmpty
		return
	}
	if p[0] == 0 && allZero(p) {
		// Field number 0 rules out a message, NUL rules out text, and a
		// run of zero values is not worth listing: padding or a zeroed body.
		f.As = ReadingBytes
		f.zeros = true
		return
	}
	subDepth := depth + 1
	expand := subDepth <= d.maxDepth
	groups := 0
	if expand {
		groups = d.maxDepth - subDepth
	}
	sc := scan(p, groups)

	// setAside says why bytes that parse as a message are read otherwise.
	setAside := ""
	if sc.ok {
		switch {
		case !expand:
			setAside = whyDepthLimit
		case printable(p):
			if sc.lenSpan*2 >= len(p) {
				// Printable bytes mostly explained by nested strings
				// or messages: a message with long text fields, e.g.
				// "\n(" and 40 characters is {1: "<40 characters>"}.
				d.setMessage(f, subDepth, sc.nfields, sub)
				f.Also = alsoString
				f.Why = whyMessageOverString
			} else {
				// Printable text that happens to parse, e.g. "hi" is
				// {13: 105}: prefer the text.
				f.As = ReadingString
				f.Also = alsoMessage
				f.Why = whyStringOverMessage
			}
			return
		case sc.maxNum > maxPlausibleField:
			setAside = whyLargeField
		case len(p) >= minFloatsOverMessage && len(p)%4 == 0 && plausibleFloats(p) ||
			len(p) >= minDoublesOverMessage && len(p)%8 == 0 && plausibleDoubles(p):
			d.classifyPacked(f, true)
			return
		default:
			d.setMessage(f, subDepth, sc.nfields, sub)
			return
		}
	}
	switch _, mostly, plain := textInfo(p); {
	case mostly:
		f.As = ReadingString
		f.plain = plain
	case setAside == whyDepthLimit:
		// Most likely a message: show the bytes rather than numbers.
		f.As = ReadingBytes
		f.Also = alsoMessage
	default:
		d.classifyPacked(f, sc.ok)
	}
	if setAside != "" {
		if f.As == ReadingString {
			f.Also = alsoMessage
		}
		if f.Why == "" {
			f.Why = setAside
		} else {
			f.Why = setAside + "; " + f.Why
		}
	}
}

func (d *decoder) setMessage(f *Field, depth, nfields int, sub *Hints) {
	f.As = ReadingMessage
	f.Sub, _, _ = d.parse(f.Bytes, depth, 0, nfields, sub)
}

// classifyPacked chooses between the packed readings and bytes for a payload
// that is neither read as a message nor as text; isMsg says whether it parses
// as a message, which is then listed first in Also.
func (d *decoder) classifyPacked(f *Field, isMsg bool) {
	ev := packedEvidence(f.Bytes)
	rk := ev.ranked()
	ranked := rk.list[:rk.n]
	first := ev.first(ranked)
	var also [4]Reading
	na := 0
	if isMsg {
		also[na] = ReadingMessage
		na++
	}
	for _, r := range ranked {
		if r != first {
			also[na] = r
			na++
		}
	}
	if !d.setPacked(f, first, ev) {
		// Over the field limit: bytes, and the reading it would have had
		// among the others.
		f.Also = append([]Reading{first}, also[:na]...)
		return
	}
	switch {
	case na == 0:
		f.Why = ""
	case na == 1 && also[0] == ReadingMessage:
		f.Also = alsoMessage
	default:
		f.Also = append([]Reading(nil), also[:na]...)
	}
}

// packedFacts is what the packed readings of a payload have for them.
type packedFacts struct {
	f32, f64      bool // every value is a plausible float (double)
	i32, i64      bool // most values are small integers of that size
	lowHalvesZero bool // the low 32 bits of every 8-byte value are 0
	signExtended  bool // every 8-byte value is an int32 sign-extended
	varints       varintScan
}

// packedEvidence tests the payload p against every packed reading.
func packedEvidence(p []byte) packedFacts {
	var ev packedFacts
	ev.f32 = len(p)%4 == 0 && plausibleFloats(p)
	ev.f64 = len(p)%8 == 0 && plausibleDoubles(p)
	ev.i32 = !ev.f32 && len(p)%4 == 0 && smallInts(p, 4)
	ev.i64 = !ev.f64 && len(p)%8 == 0 && smallInts(p, 8)
	ev.lowHalvesZero = ev.f64 && lowHalvesZero(p)
	ev.signExtended = ev.i64 && ev.i32 && signExtended(p)
	ev.varints = scanVarints(p)
	return ev
}

// first returns the reading first among r, the readings ranked by the
// evidence: bytes when no packed reading is plausible.
func (ev packedFacts) first(r []Reading) Reading {
	if len(r) == 0 || r[0] == ReadingPacked && !ev.varints.plausible {
		return ReadingBytes
	}
	return r[0]
}

// ranked lists the plausible packed readings, best first. Floats come
// before integers (round floats are valid varints, while small integers are
// never plausible floats); doubles before floats only when every low half is
// zero (round doubles read as floats alternate 0 and a plausible value);
// small fixed-size integers before varints (small varints rarely put a zero
// or a continuation byte at every fourth position, while 1, 2, 3 as fixed32
// are the varints 1, 0, 0, 0, 2, 0, 0, 0, …) unless a varint is ten bytes
// long (negative varints are runs of ff bytes, which read as small negative
// fixed-size integers too) or every varint is one byte and most are not 0
// (booleans and enums). The varint reading is listed when it is plausible,
// or weakly so when nothing else is.
func (ev packedFacts) ranked() (out readings) {
	switch {
	case ev.f64 && (!ev.f32 || ev.lowHalvesZero):
		out.add(ReadingPackedFixed64)
		if ev.f32 {
			out.add(ReadingPackedFixed32)
		}
	case ev.f32:
		out.add(ReadingPackedFixed32)
		if ev.f64 {
			out.add(ReadingPackedFixed64)
		}
	}
	ints := ev.fixedInts()
	if !ev.varints.long && !ev.varints.tiny {
		out.addAll(ints)
		ints = nil
	}
	if ev.varints.plausible || ev.varints.weak && out.n == 0 {
		out.add(ReadingPacked)
	}
	out.addAll(ints)
	return out
}

// readings is a short list of readings, kept off the heap.
type readings struct {
	list [4]Reading
	n    int
}

// add appends r unless it is listed already: a fixed-size reading may
// be plausible both as floats and as integers.
func (rs *readings) add(r Reading) {
	if !slices.Contains(rs.list[:rs.n], r) {
		rs.list[rs.n] = r
		rs.n++
	}
}

func (rs *readings) addAll(list []Reading) {
	for _, r := range list {
		rs.add(r)
	}
}

// fixedInts lists the fixed-size readings whose values are small integers.
// When both fit, the wider comes first only if the high half of every 8-byte
// value extends the sign of its low half: small int64 values read as int32
// values alternate with 0 and -1, while pairs of small int32 values make
// int64 values of 2^32 and more.
func (ev packedFacts) fixedInts() []Reading {
	switch {
	case ev.i64 && ev.i32 && ev.signExtended:
		return ints64Then32
	case ev.i64 && ev.i32:
		return ints32Then64
	case ev.i64:
		return ints64
	case ev.i32:
		return ints32
	}
	return nil
}

// The lists fixedInts returns, shared.
var (
	ints64Then32 = []Reading{ReadingPackedFixed64, ReadingPackedFixed32}
	ints32Then64 = []Reading{ReadingPackedFixed32, ReadingPackedFixed64}
	ints64       = []Reading{ReadingPackedFixed64}
	ints32       = []Reading{ReadingPackedFixed32}
)

// setPacked gives f the reading r with its values and the reason for it.
// Packed values count against the decoding's field limit (Options.
// MaxFields), as fields do: a run of one-byte varints would otherwise take
// eight times the message's size. Past the limit the payload stays bytes,
// and setPacked reports false.
func (d *decoder) setPacked(f *Field, r Reading, ev packedFacts) bool {
	p := f.Bytes
	n := packedCount(p, r, ev)
	if n > d.fieldsLeft {
		f.As, f.Why = ReadingBytes, whyPackedOverLimit
		return false
	}
	d.fieldsLeft -= n
	f.As = r
	switch r {
	case ReadingPackedFixed64:
		f.Packed = d.fixedValues(p, 8)
		f.PackedInts = !ev.f64
		f.Why = pick(f.PackedInts, whyInts64, whyDoubles)
	case ReadingPackedFixed32:
		f.Packed = d.fixedValues(p, 4)
		f.PackedInts = !ev.f32
		f.Why = pick(f.PackedInts, whyInts32, whyFloats)
	case ReadingPacked:
		f.Packed = d.varintValues(p, ev.varints.count)
		f.Why = whyVarints
	default:
		f.Why = ""
		if ev.varints.weak {
			f.Why = whyWeakVarints
		}
	}
	return true
}

// packedCount is how many values reading r makes of p.
func packedCount(p []byte, r Reading, ev packedFacts) int {
	switch r {
	case ReadingPackedFixed64:
		return len(p) / 8
	case ReadingPackedFixed32:
		return len(p) / 4
	case ReadingPacked:
		return ev.varints.count
	}
	return 0
}

// whyPackedOverLimit says why a payload that reads as packed values is
// shown as bytes.
const whyPackedOverLimit = "its packed values would pass the decoding's field limit: shown as bytes"

// pick returns a when cond holds, else b.
func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// smallInts reports whether p (len(p)%size == 0) reads as size-byte
// integers of small magnitude: two values or more for 4 bytes, not all
// zero, and at least three in four
// whose top byte (for 8 bytes, top two bytes) is a sign extension, all 0 or
// all 1 bits. Random bytes pass that with a probability of 1/128 (1/32768)
// per value.
func smallInts(p []byte, size int) bool {
	n := len(p) / size
	if n < 2 && size == 4 {
		// One small value is too often a few packed booleans or
		// enums: 1, 0, 0, 0.
		return false
	}
	shift, ones := uint64(24), uint64(0xff) // the top byte of 4
	if size == 8 {
		shift, ones = 48, 0xffff // the top two bytes of 8
	}
	large, nonzero := 0, false
	for i := 0; i+size <= len(p); i += size {
		var u uint64
		if size == 4 {
			u = uint64(binary.LittleEndian.Uint32(p[i:]))
		} else {
			u = binary.LittleEndian.Uint64(p[i:])
		}
		nonzero = nonzero || u != 0
		if top := u >> shift; top != 0 && top != ones {
			// Random bytes stop here within a value or two.
			if large++; large*4 > n {
				return false
			}
		}
	}
	return nonzero
}

// allZero reports whether every byte of p is zero.
func allZero(p []byte) bool {
	for len(p) >= 8 {
		if binary.LittleEndian.Uint64(p) != 0 {
			return false
		}
		p = p[8:]
	}
	for _, c := range p {
		if c != 0 {
			return false
		}
	}
	return true
}

// printable reports whether p is valid UTF-8 without control characters
// other than \t, \n and \r (DEL and the C1 controls U+0080..U+009F count as
// control characters). It stops at the first control character, which comes
// early in the bytes of most messages.
func printable(p []byte) bool {
	for i := 0; i < len(p); {
		if len(p)-i >= 8 && notText(load64(p, i)) == 0 {
			i += 8 // see textInfo
			continue
		}
		for end := min(i+8, len(p)); i < end; {
			c := p[i]
			if c < utf8.RuneSelf {
				if asciiControl(c) {
					return false
				}
				i++
				continue
			}
			if valid2(p, i) {
				// Two bytes (see textInfo).
				if c1Control(c, p[i+1]) {
					return false
				}
				i += 2
				continue
			}
			if i+2 < len(p) && valid3(c, p[i+1], p[i+2]) {
				i += 3
				continue
			}
			r, size := utf8.DecodeRune(p[i:])
			if r < 0xa0 || r == utf8.RuneError && size == 1 {
				return false
			}
			i += size
		}
	}
	return true
}

// textInfo reports whether p is printable text (valid UTF-8 without control
// characters other than \t, \n and \r; DEL and the C1 controls count as
// control characters), whether it is mostly printable text (valid UTF-8
// where at most one character in eight is a control character), and whether
// it is plain: printable ASCII without '"' and '\\', its own JSON string
// but for the quotes. Finding that here, where the bytes are read anyway,
// spares the JSON writer a second pass over long text fields.
func textInfo(p []byte) (printable, mostly, plain bool) {
	limit := len(p) / 8 // more controls than this rules out "mostly"
	controls, runes := 0, 0
	plain = true
	for i := 0; i < len(p); {
		// Printable ASCII passes eight bytes at a time. A word that
		// fails the test is gone through byte by byte (its last
		// character may run past it) before the next word is tried,
		// so that text with many non-ASCII characters pays for one
		// failed test per word rather than per byte.
		if len(p)-i >= 8 && notText(load64(p, i)) == 0 {
			i += 8
			runes += 8
			continue
		}
		for end := min(i+8, len(p)); i < end; {
			c := p[i]
			if c < utf8.RuneSelf {
				if c < 0x20 || c == 0x7f || c == '"' || c == '\\' {
					plain = false
				}
				if asciiControl(c) {
					controls++
					if controls > limit {
						return false, false, false
					}
				}
				i++
				runes++
				continue
			}
			plain = false
			if valid2(p, i) {
				// A two-byte character (Latin, Greek, Cyrillic, …),
				// decoded here rather than by a call.
				if c1Control(c, p[i+1]) {
					controls++
					if controls > limit {
						return false, false, false
					}
				}
				i += 2
				runes++
				continue
			}
			if i+2 < len(p) && valid3(c, p[i+1], p[i+2]) {
				// Three bytes (CJK, …): U+0800 and above, never a
				// control character.
				i += 3
				runes++
				continue
			}
			r, size := utf8.DecodeRune(p[i:])
			if r == utf8.RuneError && size == 1 {
				return false, false, false
			}
			if r < 0xa0 {
				controls++
				if controls > limit {
					return false, false, false
				}
			}
			i += size
			runes++
		}
	}
	// Printable ASCII, and memchr's vector loop is far faster at ruling
	// out two bytes than tests folded into the loop above.
	plain = plain && bytes.IndexByte(p, '"') < 0 && bytes.IndexByte(p, '\\') < 0
	return controls == 0, controls*8 <= runes, plain
}

// varintScan is what scanVarints learns of a payload read as varints.
type varintScan struct {
	count     int  // varints, when the payload is a whole run of them
	long      bool // one of them is ten bytes long
	plausible bool // see scanVarints
	weak      bool // see scanVarints
	tiny      bool // every varint is one byte long, and fewer than half are 0
}

// scanVarints reads p as packed varints. Both levels of plausibility
// require a whole sequence of minimally encoded varints, not all zero.
// plausible further requires that at least three in four are one byte
// long, that all have the same length, or that one is ten bytes long; weak
// only that all lengths are within one byte of each other. Random binary
// data (hashes, ids) has geometrically distributed varint lengths and
// rarely passes the first test, while real packed values are mostly small
// or of similar size. A ten-byte varint is a negative int32 or int64, or a
// uint64 of 2^63 or more: random bytes make one (nine bytes with the top
// bit set, then exactly 01) about once in 2^17 tries, so one is evidence
// enough even among values of mixed magnitudes (7, -1, 150000). Values of
// mixed magnitudes without one (5, 300, 800) pass only the weak test.
func scanVarints(p []byte) varintScan {
	var sc varintScan
	single, zeros, minLen, maxLen := 0, 0, 10, 0
	for i := 0; i < len(p); {
		n := skipVarint(p[i:])
		if n < 0 || n > 1 && p[i+n-1] == 0 {
			return varintScan{}
		}
		if n == 1 {
			single++
			if p[i] == 0 {
				zeros++
			}
		}
		minLen, maxLen = min(minLen, n), max(maxLen, n)
		sc.count++
		i += n
	}
	if zeros == sc.count {
		return varintScan{count: sc.count}
	}
	sc.long = maxLen == 10
	sc.plausible = single*4 >= sc.count*3 || minLen == maxLen || sc.long
	sc.weak = maxLen-minLen <= 1
	sc.tiny = single == sc.count && zeros*2 < sc.count
	return sc
}

// plausibleFloats reports whether p (len(p)%4 == 0) reads as floats: every
// value is ±0 or has a binary exponent within ±maxExp32, at least one is not
// zero, and there are at least two values or the single value is round (low
// 16 mantissa bits zero).
func plausibleFloats(p []byte) bool {
	nonzero, round := false, true
	for i := 0; i+4 <= len(p); i += 4 {
		u := binary.LittleEndian.Uint32(p[i:])
		if u&0x7fffffff == 0 {
			continue
		}
		if !PlausibleFloat32(u) {
			return false
		}
		nonzero = true
		if u&0xffff != 0 {
			round = false
		}
	}
	return nonzero && (len(p) >= 8 || round)
}

// plausibleDoubles is plausibleFloats for doubles (len(p)%8 == 0); a round
// double has its low 32 bits zero.
func plausibleDoubles(p []byte) bool {
	nonzero, round := false, true
	for i := 0; i+8 <= len(p); i += 8 {
		u := binary.LittleEndian.Uint64(p[i:])
		if u&(1<<63-1) == 0 {
			continue
		}
		if !PlausibleFloat64(u) {
			return false
		}
		nonzero = true
		if uint32(u) != 0 {
			round = false
		}
	}
	return nonzero && (len(p) >= 16 || round)
}

// lowHalvesZero reports whether the low 32 bits of every 8-byte value are 0.
func lowHalvesZero(p []byte) bool {
	for i := 0; i+8 <= len(p); i += 8 {
		if binary.LittleEndian.Uint32(p[i:]) != 0 {
			return false
		}
	}
	return true
}

// signExtended reports whether every 8-byte value of p is an int32's sign
// extension: its high 32 bits are all 0 or all 1, matching its bit 31.
func signExtended(p []byte) bool {
	for i := 0; i+8 <= len(p); i += 8 {
		u := binary.LittleEndian.Uint64(p[i:])
		if uint64(int64(int32(uint32(u)))) != u {
			return false
		}
	}
	return true
}

func (d *decoder) fixedValues(p []byte, size int) []uint64 {
	v := d.newWords(len(p) / size)
	for i := range v {
		if size == 4 {
			v[i] = uint64(binary.LittleEndian.Uint32(p[i*4:]))
		} else {
			v[i] = binary.LittleEndian.Uint64(p[i*8:])
		}
	}
	return v
}

// varintValues decodes p, which holds count valid varints.
func (d *decoder) varintValues(p []byte, count int) []uint64 {
	v := d.newWords(count)
	for i := range v {
		x, n := protowire.ConsumeVarint(p)
		if n < 0 {
			return v[:i]
		}
		v[i] = x
		p = p[n:]
	}
	return v
}

// PlausibleFloat32 reports whether the bits of a fixed32 value read as a
// float a program would send: ±0, or a binary exponent within ±32. Integers,
// hashes and ids rarely land there.
func PlausibleFloat32(u uint32) bool {
	if u&0x7fffffff == 0 {
		return true
	}
	e := int(u>>23&0xff) - 127
	return e >= -maxExp32 && e <= maxExp32
}

// PlausibleFloat64 is PlausibleFloat32 for doubles, with exponents within
// ±64.
func PlausibleFloat64(u uint64) bool {
	if u&(1<<63-1) == 0 {
		return true
	}
	e := int(u>>52&0x7ff) - 1023
	return e >= -maxExp64 && e <= maxExp64
}
