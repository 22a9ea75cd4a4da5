package export

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/grpcsniff/grpcsniff/pbdecode"
)

// JSON is built by appending to a byte slice: calls are written by the
// million, and encoding/json's reflection would dominate the cost.

func appendString(b []byte, s string) []byte { return pbdecode.AppendJSONString(b, s) }

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

// appendStrings appends a JSON array of strings.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}
