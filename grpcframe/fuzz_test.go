package grpcframe

import (
	"testing"

	"github.com/grpcsniff/grpcsniff/h2decode"
)

// FuzzMessages feeds arbitrary stream payloads, cut arbitrarily, with
// arbitrary compression: never a panic, never more kept than the limit.
func FuzzMessages(f *testing.F) {
	f.Add(frame(0, []byte("\x0a\x03you")), []byte{3, 200}, uint8(0))
	f.Add(frame(1, []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00")), []byte{1}, uint8(1))
	f.Add([]byte("\x00\xff\xff\xff\xff"), []byte{5}, uint8(2))
	encodings := []string{"identity", "gzip", "deflate", "snappy", "zstd", "br"}
	f.Fuzz(func(t *testing.T, payload, cuts []byte, enc uint8) {
		const limit = 1 << 16
		h := newHarness(t, Options{MaxMessageSize: limit})
		h.request(1, "grpc-encoding", encodings[int(enc)%len(encodings)])
		for _, c := range cuts {
			n := min(int(c), len(payload))
			if c == 0xff {
				h.a.Data(h.c, &h2decode.DataEvent{Side: cli, StreamID: 1, Lost: int64(len(cuts)) - 3, Time: h.tick()})
			}
			h.data(cli, 1, payload[:n], false)
			payload = payload[n:]
		}
		h.data(cli, 1, payload, true)
		h.headers(srv, 1, true, ":status", "200", "grpc-status", "0")
		for _, c := range h.end() {
			for _, m := range c.Requests {
				if len(m.Data) > limit {
					t.Fatalf("kept %d bytes over the %d limit", len(m.Data), limit)
				}
			}
		}
	})
}

// FuzzGRPCWeb feeds arbitrary gRPC-Web and gRPC-Web-Text bodies (the
// response side, where 0x80 frames are trailers), cut arbitrarily and with
// losses: never a panic, never more kept than the limits.
func FuzzGRPCWeb(f *testing.F) {
	f.Add(append(frame(0, []byte("\x0a\x03you")), frame(0x80, []byte("grpc-status:0\r\n"))...), []byte{3, 200}, false)
	f.Add([]byte("AAAAAAUKA3lvdQ==gAAAAA9ncnBjLXN0YXR1czowDQo="), []byte{7, 1, 2}, true)
	f.Add([]byte("\x80\xff\xff\xff\xffgrpc-status"), []byte{5}, false)
	f.Fuzz(func(t *testing.T, body, cuts []byte, text bool) {
		const limit = 1 << 12
		h := newHarness(t, Options{MaxMessageSize: limit})
		ct := "application/grpc-web+proto"
		if text {
			ct = "application/grpc-web-text"
		}
		h.webRequest(1, ct)
		h.data(cli, 1, nil, true)
		h.headers(srv, 1, false, ":status", "200", "content-type", ct)
		for _, c := range cuts {
			n := min(int(c), len(body))
			if c == 0xff {
				h.a.Data(h.c, &h2decode.DataEvent{Side: srv, StreamID: 1, Lost: int64(len(cuts)) - 3, Time: h.tick()})
			}
			h.data(srv, 1, body[:n], false)
			body = body[n:]
		}
		h.data(srv, 1, body, true)
		for _, c := range h.end() {
			for _, m := range c.Responses {
				if len(m.Data) > limit {
					t.Fatalf("kept %d bytes over the %d limit", len(m.Data), limit)
				}
			}
			if len(c.Trailers) > maxWebTrailers {
				t.Fatalf("%d trailer fields", len(c.Trailers))
			}
		}
	})
}
