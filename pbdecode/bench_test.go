package pbdecode

import (
	"strconv"
	"testing"
)

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
