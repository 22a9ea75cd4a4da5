package pbdecode

import (
	"math"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// maxSafeInt is the largest integer a JSON number carries exactly in an
// IEEE-754 double (2^53); larger magnitudes are written as strings.
const maxSafeInt = 1 << 53

// AppendJSON appends m as a JSON object to dst and returns the extended
// buffer. The shape is described in the package documentation. A nil m is
// written as null.
func (m *Message) AppendJSON(dst []byte) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"fields":[`...)
	for i := range m.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = m.Fields[i].appendJSON(dst)
	}
	dst = append(dst, ']')
	if m.Err != "" {
		dst = append(dst, `,"error":`...)
		dst = AppendJSONString(dst, m.Err)
		dst = append(dst, `,"error_offset":`...)
		dst = strconv.AppendInt(dst, int64(m.ErrOffset), 10)
		dst = append(dst, `,"rest":"`...)
		dst = AppendBase64(dst, m.Rest)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// appendJSON appends f as a JSON object. The keys of a LEN field, the most
// common kind, are written here rather than by a function of its own: the
// call measured 5% more instructions for writing a small message's JSON.
// The packed values and the other readings, rarer, have functions.
func (f *Field) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"field":`...)
	dst = strconv.AppendInt(dst, int64(f.Number), 10)
	dst = append(dst, `,"wire":"`...)
	dst = append(dst, wireName(f.Wire)...)
	dst = append(dst, `","offset":`...)
	dst = strconv.AppendInt(dst, int64(f.Offset), 10)
	dst = append(dst, `,"end":`...)
	dst = strconv.AppendInt(dst, int64(f.End), 10)
	switch f.Wire {
	case protowire.VarintType:
		dst = append(dst, `,"value":`...)
		dst = appendUint(dst, f.Varint)
		if int64(f.Varint) < 0 {
			dst = append(dst, `,"int":`...)
			dst = appendInt(dst, int64(f.Varint))
		}
		dst = append(dst, `,"sint":`...)
		dst = appendInt(dst, protowire.DecodeZigZag(f.Varint))
	case protowire.Fixed32Type:
		dst = append(dst, `,"value":`...)
		dst = strconv.AppendUint(dst, f.Fixed, 10)
		if int32(f.Fixed) < 0 {
			dst = append(dst, `,"int":`...)
			dst = strconv.AppendInt(dst, int64(int32(f.Fixed)), 10)
		}
		if OffersFloat32(uint32(f.Fixed)) {
			dst = append(dst, `,"float":`...)
			dst = appendFloat(dst, float64(math.Float32frombits(uint32(f.Fixed))), 32)
		}
	case protowire.Fixed64Type:
		dst = append(dst, `,"value":`...)
		dst = appendUint(dst, f.Fixed)
		if int64(f.Fixed) < 0 {
			dst = append(dst, `,"int":`...)
			dst = appendInt(dst, int64(f.Fixed))
		}
		if OffersFloat64(f.Fixed) {
			dst = append(dst, `,"double":`...)
			dst = appendFloat(dst, math.Float64frombits(f.Fixed), 64)
		}
	case protowire.BytesType:
		dst = append(dst, `,"length":`...)
		dst = strconv.AppendInt(dst, int64(len(f.Bytes)), 10)
		dst = append(dst, `,"as":"`...)
		dst = append(dst, f.As.String()...)
		dst = append(dst, '"')
		switch f.As {
		case ReadingString:
			if f.plain {
				dst = append(dst, `,"string":"`...)
				dst = append(dst, f.Bytes...)
				dst = append(dst, '"')
				break
			}
			dst = append(dst, `,"string":`...)
			dst = AppendJSONString(dst, f.Bytes)
		case ReadingMessage:
			dst = append(dst, `,"message":`...)
			dst = f.Sub.AppendJSON(dst)
		case ReadingBytes:
			dst = append(dst, `,"bytes":"`...)
			dst = AppendBase64(dst, f.Bytes)
			dst = append(dst, '"')
		case ReadingPacked, ReadingPackedFixed32, ReadingPackedFixed64:
			dst = f.appendPackedJSON(dst)
		}
		if len(f.Also) > 0 {
			dst = append(dst, `,"also":`...)
			dst = appendReadingsJSON(dst, f.Also)
		}
		if f.Why != "" {
			dst = append(dst, `,"why":`...)
			dst = AppendJSONString(dst, f.Why)
		}
		if fits := f.Fits(); len(fits) > 0 {
			dst = append(dst, `,"fits":`...)
			dst = appendReadingsJSON(dst, fits)
		}
	case protowire.StartGroupType:
		dst = append(dst, `,"message":`...)
		dst = f.Sub.AppendJSON(dst)
	}
	return append(dst, '}')
}

// appendPackedJSON appends the keys of a packed reading: "packed_as" (the
// reading of each value: int, float or double), "packed" (the values in that
// reading: integers, those whose top bit is set as the negative number they
// encode), "packed_uint" when one of the integers is negative (the same
// values unsigned) and, for varints, "packed_sint" (the zigzag reading).
func (f *Field) appendPackedJSON(dst []byte) []byte {
	kind := f.packedKind()
	dst = append(dst, `,"packed_as":"`...)
	dst = append(dst, kind.String()...)
	dst = append(dst, `","packed":`...)
	dst = f.appendValues(dst, viewSigned, jsonValues)
	if kind == kindInt && f.anyNegative() {
		dst = append(dst, `,"packed_uint":`...)
		dst = f.appendValues(dst, viewUnsigned, jsonValues)
	}
	if f.As == ReadingPacked {
		dst = append(dst, `,"packed_sint":`...)
		dst = f.appendValues(dst, viewZigzag, jsonValues)
	}
	return dst
}

// appendReadingsJSON appends the names of readings as a JSON array.
func appendReadingsJSON(dst []byte, readings []Reading) []byte {
	dst = append(dst, '[')
	for i, r := range readings {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, r.String()...)
		dst = append(dst, '"')
	}
	return append(dst, ']')
}

// appendUint writes v as a JSON number, or as a string when a double could
// not hold it exactly.
func appendUint(dst []byte, v uint64) []byte {
	if v > maxSafeInt {
		dst = append(dst, '"')
		dst = strconv.AppendUint(dst, v, 10)
		return append(dst, '"')
	}
	return strconv.AppendUint(dst, v, 10)
}

// appendInt is appendUint for signed values.
func appendInt(dst []byte, v int64) []byte {
	if v > maxSafeInt || v < -maxSafeInt {
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, v, 10)
		return append(dst, '"')
	}
	return strconv.AppendInt(dst, v, 10)
}

// appendFloat writes f as a JSON number in the shortest form that reads back
// as the same float of the given bit size, the way encoding/json does; NaN
// and the infinities, which JSON numbers cannot express, are written as the
// strings "NaN", "Infinity" and "-Infinity".
func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Shorten e-09 to e-9.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string (the output packages share it). Quotes, backslashes and control
// characters are escaped, as are U+2028 and U+2029 so that the output is also
// valid JavaScript; invalid UTF-8 is replaced by U+FFFD.
func AppendJSONString[S []byte | string](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Bytes that need no escaping pass eight at a time. A word
		// that holds one that does is gone through byte by byte (its
		// last character may run past it) before the next word is
		// tried, so that text with many escapes or non-ASCII characters
		// pays for one failed test per word rather than per byte.
		if len(s)-i >= 8 && notJSON(load64(s, i)) == 0 {
			i += 8
			continue
		}
		for end := min(i+8, len(s)); i < end; {
			c := s[i]
			if c < utf8.RuneSelf {
				if c >= 0x20 && c != '"' && c != '\\' {
					i++
					continue
				}
				dst = append(dst, s[start:i]...)
				dst = appendEscapedASCII(dst, c)
				i++
				start = i
				continue
			}
			if valid2(s, i) {
				// A valid two-byte character, copied as it is: only
				// invalid bytes and U+2028, U+2029 (three bytes)
				// need more.
				i += 2
				continue
			}
			if i+2 < len(s) && valid3(c, s[i+1], s[i+2]) && (c != 0xe2 || s[i+1] != 0x80 || s[i+2]&^1 != 0xa8) {
				// Likewise a valid three-byte character other than
				// U+2028 and U+2029 (E2 80 A8, E2 80 A9).
				i += 3
				continue
			}
			r, size := decodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i++
				start = i
				continue
			}
			if r == '\u2028' || r == '\u2029' {
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
				i += size
				start = i
				continue
			}
			i += size
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendEscapedASCII appends the JSON escape of c, an ASCII byte that
// cannot stand for itself in a JSON string: '"', '\\' or a control character.
func appendEscapedASCII(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// decodeRune is utf8.DecodeRune for both strings and byte slices: it returns
// the first rune of s and its length, or (utf8.RuneError, 1) for an invalid
// or truncated encoding.
func decodeRune[S []byte | string](s S) (rune, int) {
	n := len(s)
	if n == 0 {
		return utf8.RuneError, 0
	}
	c0 := s[0]
	cont := func(c byte) bool { return c&0xc0 == 0x80 }
	switch {
	case c0 < 0x80:
		return rune(c0), 1
	case c0 < 0xc2:
		return utf8.RuneError, 1
	case c0 < 0xe0:
		if n < 2 || !cont(s[1]) {
			return utf8.RuneError, 1
		}
		return rune(c0&0x1f)<<6 | rune(s[1]&0x3f), 2
	case c0 < 0xf0:
		lo, hi := byte(0x80), byte(0xbf)
		if c0 == 0xe0 {
			lo = 0xa0
		} else if c0 == 0xed {
			hi = 0x9f // no surrogates
		}
		if n < 3 || s[1] < lo || s[1] > hi || !cont(s[2]) {
			return utf8.RuneError, 1
		}
		return rune(c0&0x0f)<<12 | rune(s[1]&0x3f)<<6 | rune(s[2]&0x3f), 3
	case c0 < 0xf5:
		lo, hi := byte(0x80), byte(0xbf)
		if c0 == 0xf0 {
			lo = 0x90
		} else if c0 == 0xf4 {
			hi = 0x8f
		}
		if n < 4 || s[1] < lo || s[1] > hi || !cont(s[2]) || !cont(s[3]) {
			return utf8.RuneError, 1
		}
		return rune(c0&0x07)<<18 | rune(s[1]&0x3f)<<12 | rune(s[2]&0x3f)<<6 | rune(s[3]&0x3f), 4
	}
	return utf8.RuneError, 1
}
