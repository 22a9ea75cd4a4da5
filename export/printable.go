package export

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Printable shows a string from a capture as text a terminal takes
// literally: control characters (C0, DEL, C1) and bytes that are not UTF-8
// become \xNN, \t, \n or \r, so that an escape sequence in a header value
// is seen for what it is (\x1b[2J) rather than cleared from the screen or
// obeyed. A string without any is returned as it is.
func Printable(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case isControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	// A C1 control is encoded as 0xc2 0x80-0x9f.
	return !utf8.ValidString(s) || strings.IndexByte(s, 0xc2) >= 0 && hasC1(s)
}

// hasC1 reports whether s holds a C1 control (U+0080 to U+009F), which
// some terminals obey as an 8-bit escape.
func hasC1(s string) bool {
	for _, r := range s {
		if r >= 0x80 && r <= 0x9f {
			return true
		}
	}
	return false
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f }
