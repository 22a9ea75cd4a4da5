package pbdecode

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// benchInputs are realistic messages.
func benchInputs() []struct {
	name string
	in   []byte
} {
	// A listing response: 100 items {id, name, tags (packed), price,
	// nested owner}.
	var items []byte
	for i := range 100 {
		items = append(items, lenf(1,
			vint(1, uint64(1000+i)),
			str(2, "item number "+strconv.Itoa(i)),
			lenf(3, packedVarints(1, 2, 3, uint64(i))),
			dbl(4, float64(i)*1.25),
			lenf(5, str(1, "owner@example.com"), vint(2, 1)),
		)...)
	}
	items = append(items, str(2, "next-page-token-0123456789")...)
	return []struct {
		name string
		in   []byte
	}{
		{"HelloRequest", []byte{0x0a, 0x03, 0x79, 0x6f, 0x75}},
		{"DemoRequest", cat(vint(1, 1), str(2, "called by Python client"))},
		{"Status", cat(vint(1, 3), str(2, "invalid argument"),
			lenf(3, str(1, "type.googleapis.com/google.rpc.BadRequest"),
				lenf(2, lenf(1, str(1, "name"), str(2, "must not be empty")))))},
		{"LargeUnary", largeUnaryRequest()},
		{"Listing", items},
		// The benchmark corpus's grpc.testing.SimpleRequest: response
		// size and a 1 KB payload of 'a's.
		{"SimpleRequest1K", cat(vint(2, 1024), lenf(3, str(2, strings.Repeat("a", 1024))))},
		// Opaque bytes, as in a payload of random data or a hash.
		{"RandomBytes1K", lenf(1, randomBytes(1024))},
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bi := range benchInputs() {
		b.Run(bi.name, func(b *testing.B) {
			b.SetBytes(int64(len(bi.in)))
			b.ReportAllocs()
			for b.Loop() {
				Decode(bi.in, Options{})
			}
		})
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	for _, bi := range benchInputs() {
		b.Run(bi.name, func(b *testing.B) {
			m := Decode(bi.in, Options{})
			buf := m.AppendJSON(nil)
			b.SetBytes(int64(len(bi.in)))
			b.ReportAllocs()
			for b.Loop() {
				buf = m.AppendJSON(buf[:0])
			}
		})
	}
}

func BenchmarkText(b *testing.B) {
	for _, bi := range benchInputs() {
		b.Run(bi.name, func(b *testing.B) {
			m := Decode(bi.in, Options{})
			var buf []byte
			b.SetBytes(int64(len(bi.in)))
			b.ReportAllocs()
			for b.Loop() {
				buf = m.AppendText(buf[:0])
			}
		})
	}
}

// BenchmarkDecodeAppendJSON is what the NDJSON export does for each
// message: decode, then write the tree as JSON.
func BenchmarkDecodeAppendJSON(b *testing.B) {
	for _, bi := range benchInputs() {
		b.Run(bi.name, func(b *testing.B) {
			var buf []byte
			b.SetBytes(int64(len(bi.in)))
			b.ReportAllocs()
			for b.Loop() {
				buf = Decode(bi.in, Options{}).AppendJSON(buf[:0])
			}
		})
	}
}

func BenchmarkAppendJSONString(b *testing.B) {
	for _, s := range []struct{ name, s string }{
		{"ASCII4", "POST"},
		{"ASCII12", "content-type"},
		{"ASCII16", "application/grpc"},
		{"ASCII28", "grpc-go/1.79.1 (linux; amd64)"},
		{"ASCII1K", strings.Repeat("a", 1024)},
		{"Escapes1K", strings.Repeat("ab\\\"cd\n", 128)},
		{"UTF8_1K", strings.Repeat("héllo wörld ", 85)},
		{"CJK1K", strings.Repeat("日本語のテキスト", 43)},
	} {
		b.Run(s.name, func(b *testing.B) {
			var buf []byte
			b.SetBytes(int64(len(s.s)))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendJSONString(buf[:0], s.s)
			}
		})
	}
}

// BenchmarkAppendDecodeJSON is BenchmarkDecodeAppendJSON with the pooled
// slabs the export uses.
func BenchmarkAppendDecodeJSON(b *testing.B) {
	for _, bi := range benchInputs() {
		b.Run(bi.name, func(b *testing.B) {
			var buf []byte
			b.SetBytes(int64(len(bi.in)))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendDecodeJSON(buf[:0], bi.in, Options{})
			}
		})
	}
}

// BenchmarkScan runs the message test that classify applies to every
// length-delimited payload, on text that parses far (1 KB of 'a', each a
// fixed64 tag and its value) and on random bytes.
func BenchmarkScan(b *testing.B) {
	for _, in := range []struct {
		name string
		p    []byte
	}{{"Text1K", []byte(strings.Repeat("a", 1024))}, {"Random1K", randomBytes(1024)}} {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.p)))
			for b.Loop() {
				scan(in.p, DefaultMaxDepth)
			}
		})
	}
}

// BenchmarkTextInfo runs the text test of classify on text and on bytes
// that fail it at once.
func BenchmarkTextInfo(b *testing.B) {
	for _, in := range []struct {
		name string
		p    []byte
	}{{"ASCII1K", []byte(strings.Repeat("a", 1024))}, {"UTF8_1K", []byte(strings.Repeat("héllo wörld ", 85))}, {"CJK1K", []byte(strings.Repeat("日本語のテキスト", 43))}, {"Random1K", randomBytes(1024)}} {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.p)))
			for b.Loop() {
				textInfo(in.p)
			}
		})
	}
}
