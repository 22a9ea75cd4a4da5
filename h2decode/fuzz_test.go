package h2decode

import (
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"golang.org/x/net/http2"
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

// FuzzHTTP1 feeds HTTP/1.x-looking bytes as both sides of a connection, cut
// at arbitrary places and with gaps: it must never panic, and what it holds
// stays bounded.
func FuzzHTTP1(f *testing.F) {
	f.Add([]byte(h1KeepAliveClient), []byte(h1KeepAliveServer), []byte{20, 3, 0x85, 40})
	f.Add([]byte("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"), []byte("HTTP/1.1 200 OK\r\n\r\nbody"), []byte{0x81})
	f.Add([]byte("GET / HTTP/1.1\r\nUpgrade: h2c\r\nContent-Length: 3\r\n\r\nabc"), []byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 OK\r\n\r\n"), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, client, server, cuts []byte) {
		r := &countingHandler{}
		c := NewFactory(r, Options{}).NewConn(&capture.ConnInfo{ID: 1, Addr: testAddrs, SYNSeen: len(cuts)%2 == 0}).(*Conn)
		ts := time.Unix(1, 0)
		data := [2][]byte{client, server}
		for _, cut := range cuts {
			side := capture.Side(cut & 1)
			n := int(cut>>1) & 0x3f
			if cut&0x80 != 0 {
				c.Gap(side, int64(n)-1, ts)
				continue
			}
			n = min(n*7+1, len(data[side]))
			c.Data(side, data[side][:n], ts)
			data[side] = data[side][n:]
			for s := range c.dirs {
				if b := len(c.dirs[s].buf); b > maxHTTP1Head+len(client)+len(server)+64 {
					t.Fatalf("buffer of %d bytes", b)
				}
			}
		}
		c.Data(0, data[0], ts)
		c.Data(1, data[1], ts)
		if c.h1 != nil && len(c.h1.pending) > maxH1Pending {
			t.Fatalf("%d pending requests", len(c.h1.pending))
		}
		c.End(capture.EndFIN, ts)
	})
}

// countingHandler checks event sanity without keeping the events.
type countingHandler struct{ n int }

func (h *countingHandler) Headers(c *Conn, ev *HeadersEvent) {
	h.n++
	if ev.StreamID == 0 {
		panic("headers on stream 0")
	}
}
func (h *countingHandler) Data(c *Conn, ev *DataEvent)                                 { h.n++ }
func (h *countingHandler) Reset(*Conn, capture.Side, uint32, http2.ErrCode, time.Time) {}
func (h *countingHandler) GoAway(*Conn, capture.Side, uint32, http2.ErrCode, []byte, time.Time) {
}
func (h *countingHandler) Lost(*Conn, capture.Side, time.Time)     {}
func (h *countingHandler) End(*Conn, capture.EndReason, time.Time) {}
