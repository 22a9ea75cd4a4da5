package pbdecode

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// wordsToTest returns words with every byte value at every position among
// plain neighbours, pairs of arbitrary bytes, and random words.
func wordsToTest() []uint64 {
	var ws []uint64
	for _, fill := range []byte{'a', ' ', '~', 0x21, 0x5d} {
		base := lsb * uint64(fill)
		ws = append(ws, base)
		for pos := range 8 {
			for c := range 256 {
				w := base&^(0xff<<(8*pos)) | uint64(c)<<(8*pos)
				ws = append(ws, w)
				for pos2 := range 8 {
					if pos2 != pos {
						for _, c2 := range []byte{0, 0x1f, 0x20, '"', '\\', 0x7e, 0x7f, 0x80, 0xff} {
							ws = append(ws, w&^(0xff<<(8*pos2))|uint64(c2)<<(8*pos2))
						}
					}
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		w := r.Uint64()
		ws = append(ws, w, w&^msb)
	}
	return ws
}

func TestPlainWords(t *testing.T) {
	for _, w := range wordsToTest() {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], w)
		text, js := true, true
		for _, c := range b {
			text = text && c >= 0x20 && c < 0x7f
			js = js && c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
		}
		if got := notText(w) == 0; got != text {
			t.Fatalf("notText(%q) == 0 is %v", b, got)
		}
		if got := notJSON(w) == 0; got != js {
			t.Fatalf("notJSON(%q) == 0 is %v", b, got)
		}
		if got := load64(b[:], 0); got != w {
			t.Fatalf("load64(%q) = %#x", b, got)
		}
		if got := load64(string(b[:]), 0); got != w {
			t.Fatalf("load64(string %q) = %#x", b, got)
		}
	}
}

// The byte-at-a-time versions of the functions that test words first.

func printableRef(p []byte) bool {
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r < 0xa0 || r == utf8.RuneError && size == 1 {
			return false
		}
		i += size
	}
	return true
}

// plainRef is textInfo's plain, a byte at a time: bytes that JSON writes
// as they are.
func plainRef(p []byte) bool {
	for _, c := range p {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func textInfoRef(p []byte) (printable, mostly bool) {
	limit := len(p) / 8
	controls, runes := 0, 0
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				controls++
				if controls > limit {
					return false, false
				}
			}
			i++
			runes++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			return false, false
		}
		if r < 0xa0 {
			controls++
			if controls > limit {
				return false, false
			}
		}
		i += size
		runes++
	}
	return controls == 0, controls*8 <= runes
}

func appendJSONStringRef(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, `\n`...)
			case c == '\r':
				dst = append(dst, `\r`...)
			case c == '\t':
				dst = append(dst, `\t`...)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// textSamples returns strings mixing long plain runs with the characters
// the word tests single out, at every alignment.
func textSamples() []string {
	pieces := []string{"a", "plain text ", "\t", "\n", "\r", "\x00", "\x1f", "\x7f", "\"", "\\",
		"é", "€", "😀", "\u2028", "\u2029", "\u0085", "\xff", "\xc3", "\xe2\x82", "~", " ",
		"日本", "\u00a0", "\u07ff", "\u0800", "\ufffd", "\xed\xa0\x80", "\xe0\x80\x80", "\xc0\x80", "\xe2\x80\xaa"}
	r := rand.New(rand.NewPCG(7, 8))
	var out []string
	for _, p := range pieces {
		for pos := range 41 {
			out = append(out, strings.Repeat("x", pos)+p+strings.Repeat("y", 40-pos))
		}
		for pad := range 17 {
			out = append(out, strings.Repeat("x", pad)+p+strings.Repeat("y", 16-pad),
				strings.Repeat(p, pad+1))
		}
	}
	for range 20000 {
		var sb strings.Builder
		for range r.IntN(12) {
			if r.IntN(2) == 0 {
				sb.WriteString(strings.Repeat("abcdefgh", 4)[:r.IntN(25)])
			} else {
				sb.WriteString(pieces[r.IntN(len(pieces))])
			}
		}
		out = append(out, sb.String())
	}
	return out
}

func TestWordPathsMatchByteAtATime(t *testing.T) {
	for _, s := range textSamples() {
		p := []byte(s)
		if got, want := printable(p), printableRef(p); got != want {
			t.Fatalf("printable(%q) = %v, want %v", s, got, want)
		}
		gp, gm, gplain := textInfo(p)
		wp, wm := textInfoRef(p)
		if gp != wp || gm != wm || gplain != plainRef(p) {
			t.Fatalf("textInfo(%q) = %v, %v, %v, want %v, %v, %v", s, gp, gm, gplain, wp, wm, plainRef(p))
		}
		want := string(appendJSONStringRef([]byte("x"), s))
		if gplain && want != `x"`+s+`"` {
			t.Fatalf("textInfo(%q): plain, but its JSON is %s", s, want)
		}
		if got := string(AppendJSONString([]byte("x"), s)); got != want {
			t.Fatalf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
		if got := string(AppendJSONString([]byte("x"), p)); got != want {
			t.Fatalf("AppendJSONString([]byte %q) = %s, want %s", s, got, want)
		}
	}
}

// TestReadVarint compares readVarint and skipVarint with protowire on
// every length of valid, overlong, overflowing and truncated varints.
func TestReadVarint(t *testing.T) {
	var ins [][]byte
	for _, v := range []uint64{0, 1, 127, 128, 300, 1<<32 - 1, 1 << 56, 1<<63 - 1, 1 << 63, 1<<64 - 1} {
		ins = append(ins, protowire.AppendVarint(nil, v))
	}
	for n := range 12 {
		for _, last := range []byte{0, 1, 2, 0x7f} {
			ins = append(ins, append(bytes.Repeat([]byte{0xff}, n), last), bytes.Repeat([]byte{0x80}, n))
		}
	}
	r := rand.New(rand.NewPCG(9, 10))
	for range 10000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.Uint32()) | byte(r.IntN(2))<<7
		}
		ins = append(ins, b)
	}
	for _, b := range ins {
		want, wn := protowire.ConsumeVarint(b)
		got, n := readVarint(b)
		if (n < 0) != (wn < 0) || n >= 0 && (n != wn || got != want) {
			t.Fatalf("readVarint(%x) = %d, %d; protowire: %d, %d", b, got, n, want, wn)
		}
		if n := skipVarint(b); (n < 0) != (wn < 0) || n >= 0 && n != wn {
			t.Fatalf("skipVarint(%x) = %d; protowire: %d", b, n, wn)
		}
	}
}

// TestScanFastPath checks scan, whose loop for messages without groups is
// its own, against scanGroups, the general loop, on messages with and
// without groups and on random bytes, cut at every length.
func TestScanFastPath(t *testing.T) {
	ins := poolInputs()
	ins = append(ins, []byte(strings.Repeat("a", 100)), cat(vint(1, 1), group(2, vint(3, 4)), str(5, "x")))
	r := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		ins = append(ins, b)
	}
	for _, in := range ins {
		for n := range min(len(in), 64) + 1 {
			b := in[:n]
			for _, groups := range []int{0, 1, DefaultMaxDepth} {
				if got, want := scan(b, groups), scanGroups(b, 0, groups, scanResult{}); got != want {
					t.Fatalf("scan(%x, %d) = %+v, general loop: %+v", b, groups, got, want)
				}
			}
		}
	}
}

func FuzzWordPaths(f *testing.F) {
	for _, s := range []string{"", "plain text, long enough for words", "a\"b\\c\nd\x00e\x7ff", "héllo wörld ", "\xff\xfe\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := []byte(s)
		if got, want := printable(p), printableRef(p); got != want {
			t.Fatalf("printable(%q) = %v, want %v", s, got, want)
		}
		gp, gm, gplain := textInfo(p)
		if wp, wm := textInfoRef(p); gp != wp || gm != wm || gplain != plainRef(p) {
			t.Fatalf("textInfo(%q) = %v, %v, %v, want %v, %v, %v", s, gp, gm, gplain, wp, wm, plainRef(p))
		}
		want := string(appendJSONStringRef(nil, s))
		if gplain && want != `"`+s+`"` {
			t.Fatalf("textInfo(%q): plain, but its JSON is %s", s, want)
		}
		if got := string(AppendJSONString(nil, s)); got != want {
			t.Fatalf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
		if got := string(AppendJSONString(nil, p)); got != want {
			t.Fatalf("AppendJSONString([]byte %q) = %s, want %s", s, got, want)
		}
	})
}

// TestValid3 checks valid3 against utf8.DecodeRune on every three bytes that
// start with a three-byte lead.
func TestValid3(t *testing.T) {
	for c0 := 0xe0; c0 < 0xf0; c0++ {
		for c1 := range 256 {
			for c2 := range 256 {
				b := []byte{byte(c0), byte(c1), byte(c2)}
				_, size := utf8.DecodeRune(b)
				if got := valid3(b[0], b[1], b[2]); got != (size == 3) {
					t.Fatalf("valid3(%x) = %v, DecodeRune size %d", b, got, size)
				}
			}
		}
	}
}
