package tlsdecrypt

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
)

// FuzzRecords feeds arbitrary bytes to both directions of a connection whose
// key log holds the synthetic connection's secrets, so that mutated records
// still reach decryption, handshake parsing and resynchronisation. The input
// is: a cut (2 bytes) splitting data into the client and the server stream,
// a segment size, then the bytes; a zero segment size also inserts a gap.
// The key log also holds the master secret of the synthetic TLS 1.2 CBC
// connections (MAC-then-encrypt and encrypt_then_mac), seeded too.
func FuzzRecords(f *testing.F) {
	s := newSynth(f, 0x1301)
	keys := s.keys()
	cbc, etm := newSynth12(f, 0xc009, false), newSynth12(f, 0xc027, true)
	keys.Add(LabelClientRandom, cbc.random, cbc.master)
	seed := func(seg byte, client, server []byte) []byte {
		b := binary.BigEndian.AppendUint16(nil, uint16(len(client)))
		b = append(b, seg)
		return append(append(b, client...), server...)
	}
	f.Add(seed(7, s.client, s.server))
	f.Add(seed(0, s.client, s.server))
	f.Add(seed(255, s.client[:20], s.server[:40]))
	f.Add(seed(3, []byte{0x16, 3, 1, 0, 4, 1, 0, 0, 0}, []byte{0x16, 3, 3, 0, 1, 2}))
	for _, c := range []*synth12{cbc, etm} {
		f.Add(seed(11, c.client, c.server))
		f.Add(seed(0, c.client, c.server))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 3 {
			return
		}
		cut := int(binary.BigEndian.Uint16(in))
		seg := int(in[2])
		in = in[3:]
		if cut > len(in) {
			cut = len(in)
		}
		streams := [2][]byte{in[:cut], in[cut:]}
		h, r, _ := newTestConn(keys)
		step := max(seg, 1)
		var tm time.Time
		for off := 0; off < len(streams[0]) || off < len(streams[1]); off += step {
			for side, st := range streams {
				if off >= len(st) {
					continue
				}
				h.Data(capture.Side(side), st[off:min(off+step, len(st))], tm)
				if seg == 0 && off == 8 {
					h.Gap(capture.Side(side), 5, tm)
				}
			}
		}
		h.End(capture.EndCapture, tm)
		if len(r.data[0]) > len(in) || len(r.data[1]) > len(in) {
			t.Fatalf("more plaintext than input")
		}
	})
}
