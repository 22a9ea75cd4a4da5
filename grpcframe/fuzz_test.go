package grpcframe

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grpcsniff/grpcsniff/h2decode"
	"golang.org/x/net/http2"
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

// FuzzConnect feeds arbitrary Connect and Twirp exchanges: a GET whose
// query is the input, unary bodies read as messages or as error JSON, and
// streaming bodies whose envelopes may end the stream (0x02, compressed or
// not) with arbitrary JSON, cut arbitrarily and with losses: never a
// panic, never more kept than the limits, and never a POST of theirs read
// as plain HTTP.
func FuzzConnect(f *testing.F) {
	end := frame(2, []byte(`{"error":{"code":"not_found","message":"x","details":[{"type":"a.B","value":"CAE"}]},"metadata":{"k":["v"]}}`))
	f.Add(append(frame(0, []byte("\x08\x01")), end...), "connect=v1&encoding=proto&base64=1&message=CAE", []byte{3, 200}, uint8(0), uint16(200))
	f.Add([]byte(`{"code":"bad_route","msg":"no","meta":{"a":"b"}}`), "", []byte{9}, uint8(3), uint16(404))
	f.Add([]byte(`{"code":"unavailable","message":"down","details":[{"type":"t","value":"!!"}]}`), "message=%ZZ", []byte{0xff, 2}, uint8(1), uint16(503))
	f.Add(frame(3, []byte("\x1f\x8b\x08\x00")), "encoding=json&message=%7B%7D&compression=gzip", []byte{}, uint8(2), uint16(200))
	kinds := [][]string{
		{":method", "POST", ":path", "/a.v1.S/M", "content-type", "application/proto", "connect-protocol-version", "1", "content-encoding", "gzip"},
		{":method", "GET", ":path", "/a.v1.S/M?"},
		{":method", "POST", ":path", "/a.v1.S/M", "content-type", "application/connect+json", "connect-content-encoding", "gzip"},
		{":method", "POST", ":path", "/twirp/a.v1.S/M", "content-type", "application/json"},
	}
	f.Fuzz(func(t *testing.T, body []byte, query string, cuts []byte, kind uint8, status uint16) {
		const limit = 1 << 12
		h := newHarness(t, Options{MaxMessageSize: limit})
		req := slices.Clone(kinds[int(kind)%len(kinds)])
		if req[1] == "GET" {
			req[3] += query
		}
		h.headers(cli, 1, req[1] == "GET", req...)
		if req[1] != "GET" {
			h.data(cli, 1, []byte("\x08\x01"), true)
		}
		get := req[1] == "GET"
		ct := "application/json" // a GET's response, or an error
		if !get && (status == 200 || connectStreaming(req[5])) {
			ct = req[5]
		}
		h.headers(srv, 1, false, ":status", strconv.Itoa(int(status%600)), "content-type", ct)
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
			for _, m := range append(c.Requests, c.Responses...) {
				if len(m.Data) > limit {
					t.Fatalf("kept %d bytes over the %d limit", len(m.Data), limit)
				}
			}
			if len(c.Trailers) > maxWebTrailers {
				t.Fatalf("%d trailer fields", len(c.Trailers))
			}
			if c.Protocol == ProtoHTTP && !get {
				t.Fatalf("a %s call read as plain HTTP", req[5])
			}
		}
	})
}

// FuzzRecycle plays arbitrary events on a few streams three times: keeping
// every call, recycling each as soon as it is handed on, and with
// Options.Tally taking (and recycling) those it may: the calls read the
// same, and those handed on keep their order.
func FuzzRecycle(f *testing.F) {
	f.Add([]byte{0, 1, 3, 1, 40, 1, 1, 4, 1, 9, 2, 1, 0, 3, 5, 3, 6, 0, 5, 3, 3, 5, 200, 2, 5})
	f.Add([]byte{0, 1, 0, 3, 3, 1, 255, 3, 3, 255, 2, 3, 5, 1, 2, 1, 0, 7, 6})
	// A call ending inside its second message, then one with two whole
	// messages in the same memory.
	f.Add([]byte{0, 1, 3, 17, 2, 1, 0, 4, 3, 20, 2, 4})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var tallied []string
		play := func(recycle, tally bool) []string {
			var got []string
			h := newHarness(t, Options{MaxMessageSize: 1 << 10})
			opts := Options{MaxMessageSize: 1 << 10}
			if tally {
				opts.Tally = func(c *Call) {
					tallied = append(tallied, describe(c))
					Recycle(c)
				}
			}
			h.a = NewAssembler(SinkFunc(func(c *Call) {
				got = append(got, describe(c))
				if recycle {
					Recycle(c)
				}
			}), opts)
			// Messages of 10 bytes each, so that cuts make whole and
			// partial ones.
			var payload []byte
			for i := range 30 {
				payload = append(payload, frame(0, []byte{8, byte(i), 16, 1, 24})...)
			}
			// Each event is two bytes: what happens, and an argument
			// that picks the stream (mod 8) and a length.
			for i := 0; i+1 < len(ops); i += 2 {
				id := uint32(1 + 2*(ops[i+1]%8))
				switch ops[i] % 8 {
				case 0:
					h.request(id)
				case 1:
					h.headers(srv, id, false, ":status", "200", "content-type", "application/grpc")
				case 2:
					h.headers(srv, id, true, "grpc-status", "2", "grpc-message", "x")
				case 3:
					h.data(cli, id, payload[:int(ops[i+1])%len(payload)], ops[i+1] > 250)
				case 4:
					h.data(srv, id, payload[int(ops[i+1])%len(payload):], false)
				case 5:
					h.a.Reset(h.c, cli, id, http2.ErrCodeCancel, h.tick())
				case 6:
					h.a.Tick(h.tick().Add(2 * resetGrace))
				case 7:
					h.a.Data(h.c, &h2decode.DataEvent{Side: cli, StreamID: id, Lost: int64(ops[i+1]), Time: h.tick()})
				}
			}
			h.end()
			return got
		}
		kept, recycled := play(false, false), play(true, false)
		if len(kept) != len(recycled) {
			t.Fatalf("%d calls kept, %d recycled", len(kept), len(recycled))
		}
		for i := range kept {
			if kept[i] != recycled[i] {
				t.Fatalf("call %d built in recycled memory:\n%s\nin new memory:\n%s", i, recycled[i], kept[i])
			}
		}
		ordered := play(true, true)
		if len(ordered)+len(tallied) != len(kept) {
			t.Fatalf("%d calls handed on and %d tallied, want %d in all", len(ordered), len(tallied), len(kept))
		}
		// Each call handed on or tallied is one of kept's, and those handed
		// on come in kept's order.
		left := slices.Clone(kept)
		next := 0
		for _, c := range ordered {
			for next < len(left) && left[next] != c {
				next++
			}
			if next == len(left) {
				t.Fatalf("call handed on out of order, or not made without Tally:\n%s", c)
			}
			left = slices.Delete(left, next, next+1)
		}
		slices.Sort(left)
		slices.Sort(tallied)
		if !slices.Equal(left, tallied) {
			t.Fatalf("tallied calls:\n%s\nwant:\n%s", strings.Join(tallied, "\n"), strings.Join(left, "\n"))
		}
	})
}
