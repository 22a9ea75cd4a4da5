package grpcframe

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"testing"
	"time"
)

// BenchmarkMsgReader splits a stream of length-prefixed messages, fed one
// DATA payload at a time as h2decode hands them on: each message whole in
// its frame (as grpc-go sends small ones), or split across 400-byte frames.
// MB/s is of stream bytes.
func BenchmarkMsgReader(b *testing.B) {
	for _, size := range []int{5, 1033, 64 << 10} {
		msg := binary.BigEndian.AppendUint32([]byte{0}, uint32(size))
		msg = append(msg, bytes.Repeat([]byte{0x0a}, size)...)
		for _, split := range []int{0, 400} {
			name := "whole"
			if split > 0 {
				name = "split"
			}
			b.Run(name+"/"+strconv.Itoa(size), func(b *testing.B) {
				var chunks [][]byte
				if split == 0 {
					chunks = [][]byte{msg}
				} else {
					for c := msg; len(c) > 0; {
						n := min(split, len(c))
						chunks = append(chunks, c[:n])
						c = c[n:]
					}
				}
				var r msgReader
				got := 0
				done := func(m *Message) {
					if len(m.Data) != size {
						b.Fatalf("message of %d bytes, want %d", len(m.Data), size)
					}
					got++
				}
				t := time.Unix(1, 0)
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for b.Loop() {
					for _, c := range chunks {
						r.feed(c, t, 4<<20, done)
					}
				}
				if got == 0 {
					b.Fatal("no messages")
				}
			})
		}
	}
}
