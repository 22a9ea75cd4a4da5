package export

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
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
	b = pbdecode.AppendBase64(b, p)
	return append(b, '"')
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b, ok := appendSecond(b, t.Unix())
	if !ok {
		b = append(b, '"')
		b = t.UTC().AppendFormat(b, timeFormat)
		return append(b, '"')
	}
	b = appendNanos(b, t.Nanosecond())
	return append(b, 'Z', '"')
}

// appendSecond appends the quote that opens a time and the time to the
// second with the dot that follows it, `"2006-01-02T15:04:05.`: the same
// bytes as t.UTC().AppendFormat(b, timeFormat) up to there, written directly.
// It is called several times per call, and the general formatter, and even
// Date and Clock, which each work out the date again, are slow. ok is false
// (b unchanged) for years outside 0 to 9999, which the formatter writes
// otherwise.
func appendSecond(b []byte, sec int64) (_ []byte, ok bool) {
	days := sec / 86400
	if sec%86400 < 0 {
		days--
	}
	year, month, day := civilDate(days)
	if year < 0 || year > 9999 {
		return b, false
	}
	s := uint(sec - days*86400)
	hour, minute, second := s/3600, s/60%60, s%60
	y := uint(year)
	return append(b, '"', digitPairs[2*(y/100)], digitPairs[2*(y/100)+1], digitPairs[2*(y%100)], digitPairs[2*(y%100)+1], '-',
		digitPairs[2*month], digitPairs[2*month+1], '-',
		digitPairs[2*day], digitPairs[2*day+1], 'T',
		digitPairs[2*hour], digitPairs[2*hour+1], ':',
		digitPairs[2*minute], digitPairs[2*minute+1], ':',
		digitPairs[2*second], digitPairs[2*second+1], '.'), true
}

// appendNanos appends the nine digits of ns (0 to 999,999,999), two at a
// time: unsigned division by a constant is a multiplication, and half as
// many of them.
func appendNanos(b []byte, ns int) []byte {
	n := uint(ns)
	var frac [9]byte
	for i := 7; i > 0; i -= 2 {
		d := n % 100
		n /= 100
		frac[i], frac[i+1] = digitPairs[2*d], digitPairs[2*d+1]
	}
	frac[0] = byte('0' + n)
	return append(b, frac[:]...)
}

// digitPairs holds the two decimal digits of 0 to 99.
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// civilDate returns the proleptic Gregorian date of the day that is days
// after 1970-01-01 (Howard Hinnant's civil_from_days: eras of 400
// years, years starting on March 1 so that the leap day comes last).
func civilDate(days int64) (year int, month, day uint) {
	z := days + 719468 // days since 0000-03-01
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := int(z - era*146097)                             // day of era, 0..146096
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of era, 0..399
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of year from March 1, 0..365
	mp := (5*doy + 2) / 153                                // month from March, 0..11
	day = uint(doy - (153*mp+2)/5 + 1)
	month = uint(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = yoe + int(era)*400
	if month <= 2 {
		year++
	}
	return year, month, day
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

// name is a small enumeration whose values a call's JSON writes by name:
// its transport, its protocol, its state.
type name interface {
	~uint8
	String() string
}

// nameTable holds the JSON of the names of an enumeration's first values,
// indexed by the value: made once, copied for each call.
type nameTable [16][]byte

func namesOf[T name]() *nameTable {
	var t nameTable
	for i := range t {
		t[i] = appendString(nil, T(i).String())
	}
	return &t
}

var (
	transportJSON = namesOf[h2decode.Transport]()
	protocolJSON  = namesOf[grpcframe.Protocol]()
	stateJSON     = namesOf[grpcframe.State]()
)

// appendName appends the JSON of v's name, as appendString(b, v.String())
// would.
func appendName[T name](b []byte, t *nameTable, v T) []byte {
	if int(v) < len(t) {
		return append(b, t[v]...)
	}
	return appendNameOf(b, v)
}

// appendNameOf is appendName for a value past its table's (which names
// nothing, as a recycled call's do in tests).
func appendNameOf(b []byte, v fmt.Stringer) []byte { return appendString(b, v.String()) }
