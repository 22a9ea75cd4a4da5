package pbdecode

import (
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// maxRestHex is how many bytes of Message.Rest Text shows in hex.
const maxRestHex = 32

// Text returns m in the indented text form of protoc --decode_raw: one field
// per line, `1: 150`, `2: "hello"`, `3 {` ... `}`, fixed-size values in hex.
// Where protoc would print bytes, Text prints the chosen reading: UTF-8
// strings as text, packed values as `[1, 2, 3]`, and adds `# ...` comments
// for float readings of fixed-size values, negative integers, alternative
// readings and parse errors.
func (m *Message) Text() string {
	return string(m.AppendText(nil))
}

// AppendText appends the result of Text to dst.
func (m *Message) AppendText(dst []byte) []byte {
	if m == nil {
		return dst
	}
	return m.appendText(dst, 0)
}

func appendIndent(dst []byte, depth int) []byte {
	for range depth {
		dst = append(dst, ' ', ' ')
	}
	return dst
}

// appendText appends the lines of m's fields, indented to depth, and the
// comments on where m stopped parsing. Like appendJSON, it writes a LEN
// field here rather than by a function of its own, which measured 3.5%
// more instructions; the packed values and the error have functions.
func (m *Message) appendText(dst []byte, depth int) []byte {
	for i := range m.Fields {
		f := &m.Fields[i]
		dst = appendIndent(dst, depth)
		dst = strconv.AppendInt(dst, int64(f.Number), 10)
		switch f.Wire {
		case protowire.VarintType:
			dst = append(dst, ':', ' ')
			dst = strconv.AppendUint(dst, f.Varint, 10)
			if int64(f.Varint) < 0 {
				dst = append(dst, "  # int: "...)
				dst = strconv.AppendInt(dst, int64(f.Varint), 10)
			}
		case protowire.Fixed32Type:
			dst = append(dst, ": 0x"...)
			dst = appendHex(dst, f.Fixed, 8)
			if plausibleFloat(uint32(f.Fixed)) {
				dst = append(dst, "  # float: "...)
				dst = appendFloat(dst, float64(math.Float32frombits(uint32(f.Fixed))), 32)
			}
		case protowire.Fixed64Type:
			dst = append(dst, ": 0x"...)
			dst = appendHex(dst, f.Fixed, 16)
			if plausibleDouble(f.Fixed) {
				dst = append(dst, "  # double: "...)
				dst = appendFloat(dst, math.Float64frombits(f.Fixed), 64)
			}
		case protowire.BytesType, protowire.StartGroupType:
			if f.As == ReadingMessage {
				dst = append(dst, ' ', '{')
				dst = appendAlso(dst, f, false)
				dst = append(dst, '\n')
				dst = f.Sub.appendText(dst, depth+1)
				dst = appendIndent(dst, depth)
				dst = append(dst, '}')
				break
			}
			dst = append(dst, ':', ' ')
			switch f.As {
			case ReadingString:
				dst = appendCString(dst, f.Bytes, true)
				dst = appendAlso(dst, f, false)
			case ReadingPacked, ReadingPackedFixed32, ReadingPackedFixed64:
				dst = f.appendValues(dst, viewSigned, textValues)
				dst = appendAlso(dst, f, true)
			default: // bytes, empty
				dst = appendCString(dst, f.Bytes, false)
				dst = appendAlso(dst, f, false)
			}
		}
		dst = append(dst, '\n')
	}
	if m.Err != "" {
		dst = m.appendErrorText(dst, depth)
	}
	return dst
}

// appendErrorText appends, indented to depth, the comments on where m
// stopped parsing and why, and on the first maxRestHex bytes left unparsed.
func (m *Message) appendErrorText(dst []byte, depth int) []byte {
	dst = appendIndent(dst, depth)
	dst = append(dst, "# error at offset "...)
	dst = strconv.AppendInt(dst, int64(m.ErrOffset), 10)
	dst = append(dst, ": "...)
	dst = append(dst, m.Err...)
	dst = append(dst, '\n')
	if len(m.Rest) > 0 {
		dst = appendIndent(dst, depth)
		dst = append(dst, "# unparsed "...)
		dst = strconv.AppendInt(dst, int64(len(m.Rest)), 10)
		dst = append(dst, " bytes:"...)
		for i, c := range m.Rest {
			if i == maxRestHex {
				dst = append(dst, " ..."...)
				break
			}
			dst = append(dst, ' ', hexDigits[c>>4], hexDigits[c&0xf])
		}
		dst = append(dst, '\n')
	}
	return dst
}

// appendAlso writes the comment naming the reading (when named) and the
// alternative readings of f.
func appendAlso(dst []byte, f *Field, named bool) []byte {
	if !named && len(f.Also) == 0 {
		return dst
	}
	dst = append(dst, "  # "...)
	if named {
		dst = append(dst, f.As.String()...)
		if len(f.Also) > 0 {
			dst = append(dst, "; "...)
		}
	}
	if len(f.Also) > 0 {
		dst = append(dst, "also: "...)
		for i, r := range f.Also {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, r.String()...)
		}
	}
	return dst
}

func appendHex(dst []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		dst = append(dst, hexDigits[v>>(4*uint(i))&0xf])
	}
	return dst
}

// appendCString writes b as a double-quoted C-escaped string, the way protoc
// does: \n \r \t \" \' \\ and octal escapes for other bytes outside printable
// ASCII. With utf8 set (b is then valid UTF-8), printable non-ASCII
// characters are written as they are.
func appendCString(dst []byte, b []byte, utf8 bool) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '"' || c == '\'' || c == '\\':
			dst = append(dst, '\\', c)
		case c >= 0x20 && c < 0x7f:
			dst = append(dst, c)
		case c >= 0x80 && utf8:
			r, size := decodeRune(b[i:])
			if r >= 0xa0 {
				dst = append(dst, b[i:i+size]...)
				i += size
				continue
			}
			dst = appendOctal(dst, c)
		default:
			dst = appendOctal(dst, c)
		}
		i++
	}
	return append(dst, '"')
}

func appendOctal(dst []byte, c byte) []byte {
	return append(dst, '\\', '0'+c>>6, '0'+c>>3&7, '0'+c&7)
}

// plausibleFloat reports whether a fixed32 value is worth showing as a float:
// not zero, with a binary exponent within ±maxExp32.
func plausibleFloat(u uint32) bool {
	e := int(u>>23&0xff) - 127
	return u&0x7fffffff != 0 && e >= -maxExp32 && e <= maxExp32
}

// plausibleDouble is plausibleFloat for fixed64 values.
func plausibleDouble(u uint64) bool {
	e := int(u>>52&0x7ff) - 1023
	return u&(1<<63-1) != 0 && e >= -maxExp64 && e <= maxExp64
}
