package pbdecode

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendBase64 compares AppendBase64 with encoding/base64 on random
// inputs of every length up to 300, and on inputs of all-zero and all-one
// bits (the ends of the table), appending to empty and non-empty buffers.
func TestAppendBase64(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 301 {
		for _, fill := range []string{"random", "zeros", "ones"} {
			src := make([]byte, n)
			for i := range src {
				switch fill {
				case "random":
					src[i] = byte(r.Uint32())
				case "ones":
					src[i] = 0xff
				}
			}
			for _, prefix := range []string{"", `"data":"`} {
				want := base64.StdEncoding.AppendEncode([]byte(prefix), src)
				got := AppendBase64([]byte(prefix), src)
				if !bytes.Equal(got, want) {
					t.Fatalf("%s %d bytes after %q:\ngot  %s\nwant %s", fill, n, prefix, got, want)
				}
			}
		}
	}
}

// TestAppendBase64NoOverwrite checks that encoding into a buffer with spare
// capacity writes only the encoding's bytes.
func TestAppendBase64NoOverwrite(t *testing.T) {
	for n := range 40 {
		buf := bytes.Repeat([]byte{'#'}, 200)
		got := AppendBase64(buf[:3], bytes.Repeat([]byte{0xa5}, n))
		if end := 3 + (n+2)/3*4; len(got) != end || bytes.Count(buf[end:], []byte{'#'}) != 200-end {
			t.Fatalf("%d bytes: wrote outside the encoding: %q", n, buf)
		}
	}
}

func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("hello, world"))
	f.Add(bytes.Repeat([]byte{0xff}, 29))
	f.Fuzz(func(t *testing.T, src []byte) {
		want := base64.StdEncoding.EncodeToString(src)
		if got := string(AppendBase64(nil, src)); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
}

func BenchmarkAppendBase64(b *testing.B) {
	for _, n := range []int{16, 1033, 64 << 10} {
		src := randomBytes(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var buf []byte
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendBase64(buf[:0], src)
			}
		})
		b.Run(strconv.Itoa(n)+"/stdlib", func(b *testing.B) {
			var buf []byte
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				buf = base64.StdEncoding.AppendEncode(buf[:0], src)
			}
		})
	}
}
