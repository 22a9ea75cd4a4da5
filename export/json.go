package export

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
)

// JSON is built by appending to a byte slice: calls are written by the
// million, and encoding/json's reflection would dominate the cost.

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hex = "0123456789abcdef"

func appendKey(b []byte, k string) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' && b[n-1] != '[' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

func appendBase64(b []byte, p []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	u := t.UTC()
	year, month, day := u.Date()
	if year < 0 || year > 9999 {
		b = u.AppendFormat(b, timeFormat)
		return append(b, '"')
	}
	// The same bytes as u.AppendFormat(b, timeFormat), written directly: it
	// is called several times per call, and the general formatter is slow.
	hour, minute, sec := u.Clock()
	ns := u.Nanosecond()
	b = append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.')
	var frac [9]byte
	for i := 8; i >= 0; i-- {
		frac[i] = byte('0' + ns%10)
		ns /= 10
	}
	b = append(b, frac[:]...)
	return append(b, 'Z', '"')
}

// appendAddrPort appends p as a JSON string: the bytes of
// appendString(b, p.String()) without building the string.
func appendAddrPort(b []byte, p netip.AddrPort) []byte {
	if !p.Addr().IsValid() {
		return appendString(b, p.String())
	}
	start := len(b)
	b = append(b, '"')
	b = p.AppendTo(b)
	for _, c := range b[start+1:] {
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			// A zone with characters to escape: rare, take the slow way.
			return appendString(b[:start], p.String())
		}
	}
	return append(b, '"')
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// timeFormat is RFC 3339 with all nine digits of nanoseconds, so that times
// line up and sort as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"
