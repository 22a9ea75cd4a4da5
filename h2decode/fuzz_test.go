package h2decode

import (
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
)

// FuzzConn feeds arbitrary bytes as both sides of a connection, cut at
// arbitrary places and with gaps: it must never panic.
func FuzzConn(f *testing.F) {
	for _, ch := range conversation() {
		f.Add(ch.b, []byte{byte(ch.side), 7, 200, 3})
	}
	f.Add([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"), []byte{0})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		r := &recorder{}
		c := newTestConn(r, len(cuts)%2 == 0)
		ts := time.Unix(1, 0)
		for _, cut := range cuts {
			side := capture.Side(cut & 1)
			n := int(cut >> 1)
			if cut&0x80 != 0 {
				c.Gap(side, int64(n&7)-1, ts)
				continue
			}
			n = min(n, len(data))
			c.Data(side, data[:n], ts)
			data = data[n:]
		}
		c.Data(0, data, ts)
		c.End(capture.EndCapture, ts)
	})
}
