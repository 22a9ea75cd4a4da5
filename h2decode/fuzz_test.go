package h2decode

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
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
		feedCuts(c, data, cuts)
	})
}

// FuzzFastFrame decodes arbitrary frames, cut at arbitrary places and with
// gaps, with fastFrame, with every frame parsed by the Framer, and with
// every payload and header block copied before it is read (rather than read
// in place when it comes whole): events and notes must be the same.
func FuzzFastFrame(f *testing.F) {
	for _, ch := range conversation() {
		f.Add(ch.b, []byte{byte(ch.side), 7, 200, 3})
	}
	frame := func(typ http2.FrameType, flags http2.Flags, stream uint32, payload ...byte) []byte {
		b := []byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload)), byte(typ), byte(flags)}
		b = binary.BigEndian.AppendUint32(b, stream)
		return append(b, payload...)
	}
	pre := []byte(clientPreface)
	block := []byte{0x83, 0x86, 0x84, 0x41, 0x01, 'a'} // POST, http, /, :authority a
	for _, fr := range [][]byte{
		frame(http2.FrameHeaders, http2.FlagHeadersEndHeaders, 0, block...),
		frame(http2.FrameHeaders, http2.FlagHeadersEndHeaders|http2.FlagHeadersPadded, 1, append(append([]byte{2}, block...), 0, 0)...),
		frame(http2.FrameHeaders, http2.FlagHeadersEndHeaders|http2.FlagHeadersPadded, 1, 200),
		frame(http2.FrameHeaders, http2.FlagHeadersEndHeaders|http2.FlagHeadersPriority, 1, append([]byte{0x80, 0, 0, 3, 15}, block...)...),
		frame(http2.FrameHeaders, http2.FlagHeadersPriority, 1, 0, 0),
		append(frame(http2.FrameHeaders, 0, 1, block[:3]...), frame(http2.FrameContinuation, http2.FlagContinuationEndHeaders, 1, block[3:]...)...),
		append(frame(http2.FrameHeaders, 0, 1, block[:3]...), frame(http2.FrameContinuation, http2.FlagContinuationEndHeaders, 0, block[3:]...)...),
		append(frame(http2.FrameHeaders, 0, 1, block[:3]...), frame(http2.FrameContinuation, http2.FlagContinuationEndHeaders, 3, block[3:]...)...),
		frame(http2.FrameContinuation, http2.FlagContinuationEndHeaders, 1, block...),
		frame(http2.FrameWindowUpdate, 0, 0, 0, 0, 0, 0),
		frame(http2.FrameWindowUpdate, 0, 5, 0x80, 0, 0, 0),
		frame(http2.FrameWindowUpdate, 0, 5, 0, 0, 1),
		frame(http2.FrameWindowUpdate, 0, 5, 0x80, 0, 1, 0),
		frame(http2.FramePing, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8),
		frame(http2.FramePing, http2.FlagPingAck, 0, 1, 2, 3),
		frame(http2.FramePing, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8),
	} {
		f.Add(append(bytes.Clone(pre), fr...), []byte{})
		f.Add(append(bytes.Clone(pre), fr...), []byte{60, 0x80 | 2<<1, 255})
	}
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		var logs [3][]string
		var notes [3][]string
		for i, mode := range []testHooks{{}, {framerOnly: true}, {copyFrames: true}} {
			r := &recorder{}
			setHooks(t, mode)
			c := NewFactory(r, Options{}).NewConn(&capture.ConnInfo{ID: 1, Addr: testAddrs, SYNSeen: len(cuts)%2 == 0}).(*Conn)
			feedCuts(c, data, cuts)
			logs[i], notes[i] = r.log, noteLines(c.Notes)
		}
		if !slices.Equal(logs[0], logs[1]) {
			t.Fatalf("events with fastFrame:\n%s\nwith the Framer alone:\n%s", strings.Join(logs[0], "\n"), strings.Join(logs[1], "\n"))
		}
		if !slices.Equal(notes[0], notes[1]) {
			t.Fatalf("notes with fastFrame:\n%s\nwith the Framer alone:\n%s", strings.Join(notes[0], "\n"), strings.Join(notes[1], "\n"))
		}
		if !slices.Equal(logs[0], logs[2]) || !slices.Equal(notes[0], notes[2]) {
			t.Fatalf("events and notes reading frames in place:\n%s\n%s\ncopying them:\n%s\n%s",
				strings.Join(logs[0], "\n"), strings.Join(notes[0], "\n"), strings.Join(logs[2], "\n"), strings.Join(notes[2], "\n"))
		}
	})
}

// FuzzHTTP1 feeds HTTP/1.x-looking bytes as both sides of a connection, cut
// at arbitrary places and with gaps: it must never panic, and what it holds
// stays bounded.
func FuzzHTTP1(f *testing.F) {
	f.Add([]byte(h1KeepAliveClient), []byte(h1KeepAliveServer), []byte{20, 3, 0x85, 40})
	f.Add([]byte("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"), []byte("HTTP/1.1 200 OK\r\n\r\nbody"), []byte{0x81})
	f.Add([]byte("GET / HTTP/1.1\r\nUpgrade: h2c\r\nContent-Length: 3\r\n\r\nabc"), []byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 OK\r\n\r\n"), []byte{1, 2, 3})
	// Connect: a streaming response in chunks (envelopes, then the
	// end-of-stream one), and a GET whose query is the request.
	f.Add([]byte("POST /a.v1.S/M HTTP/1.1\r\nContent-Type: application/connect+proto\r\nConnect-Protocol-Version: 1\r\nContent-Length: 7\r\n\r\n\x00\x00\x00\x00\x02\x08\x01"),
		[]byte("HTTP/1.1 200 OK\r\nContent-Type: application/connect+proto\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n\x00\x00\x00\x00\x02\x08\x02\r\n7\r\n\x02\x00\x00\x00\x02{}\r\n0\r\n\r\n"), []byte{9, 40, 3})
	f.Add([]byte("GET /a.v1.S/M?connect=v1&encoding=proto&base64=1&message=CAE HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"code\":\"unimplemented\",\"message\":\"\"}"), []byte{2, 7})
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

// feedCuts hands data to c in pieces: each cut byte says the side (bit 0)
// and the length (bits 1-6) of the next piece, or (bit 7) a gap instead.
// What the cuts leave goes to side A, then the connection ends.
func feedCuts(c *Conn, data, cuts []byte) {
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
}
