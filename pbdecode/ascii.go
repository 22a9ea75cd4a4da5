package pbdecode

// Text in messages and headers is mostly plain ASCII, which the JSON writer
// copies as it is and the classifier counts as printable. Testing eight
// bytes at a time with word arithmetic lets long runs of it pass at a
// fraction of the per-byte cost; any word that fails a test goes through
// the per-byte code, so the results do not change. The per-byte code, in
// turn, handles two- and three-byte characters inline (valid2, valid3).

const (
	lsb = 0x0101010101010101 // the low bit of every byte
	msb = 0x8080808080808080 // the high bit of every byte
)

// load64 returns the eight bytes of s from i on as a little-endian word;
// the compiler turns it into a single load.
func load64[S []byte | string](s S, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// The tests below rely on two facts about a word whose bytes are all below
// 0x80 (a word with a high bit set fails at once, as it is ORed in):
// subtracting n from every byte borrows first at the lowest byte below n,
// which then wraps to a value with its high bit set, while a word with no
// byte below n subtracts without borrows and keeps every high bit clear; and
// adding 1 to every byte sets a high bit exactly for 0x7f. Each function
// returns a word whose high bits flag the bytes that are not plain (the
// flags above the first are not exact; whether there is one is).

// notText flags the bytes of w that are not printable ASCII, 0x20..0x7e:
// control characters, DEL and bytes of multi-byte UTF-8 sequences.
func notText(w uint64) uint64 {
	return (w | (w - lsb*0x20) | (w + lsb)) & msb
}

// notJSON flags the bytes of w that the JSON string writer must look at one
// by one: control characters, '"' and '\\', which it escapes, and non-ASCII
// bytes, whose UTF-8 it checks. XOR turns each of the two characters into a
// zero byte, which is below 1.
func notJSON(w uint64) uint64 {
	return (w | (w - lsb*0x20) | ((w ^ lsb*'"') - lsb) | ((w ^ lsb*'\\') - lsb)) & msb
}

// valid2 reports whether s[i:] starts with a valid two-byte UTF-8 sequence
// (U+0080..U+07FF), the rules of utf8.DecodeRune. Like valid3, it lets the
// text loops handle such characters (Latin, Greek, Cyrillic, …) without a
// call.
func valid2[S []byte | string](s S, i int) bool {
	c := s[i]
	return c >= 0xc2 && c < 0xe0 && i+1 < len(s) && s[i+1]&0xc0 == 0x80
}

// valid3 reports whether c0, c1, c2 are a valid three-byte UTF-8 sequence
// (U+0800..U+FFFF without the surrogates), the rules of utf8.DecodeRune.
// It lets the text loops handle such characters without a call.
func valid3(c0, c1, c2 byte) bool {
	lo, hi := byte(0x80), byte(0xbf)
	if c0 == 0xe0 {
		lo = 0xa0 // no overlong encodings
	} else if c0 == 0xed {
		hi = 0x9f // no surrogates
	}
	return c0 >= 0xe0 && c0 < 0xf0 && c1 >= lo && c1 <= hi && c2&0xc0 == 0x80
}

// asciiControl reports whether the ASCII byte c is a control character
// other than \t, \n and \r, or DEL: what makes text not printable.
func asciiControl(c byte) bool {
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f
}

// c1Control reports whether the two-byte UTF-8 sequence c0, c1 is one of
// the C1 control characters, U+0080..U+009F (C2 80..C2 9F).
func c1Control(c0, c1 byte) bool {
	return c0 == 0xc2 && c1 < 0xa0
}
