package grpcframe

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/net/http2"
	"google.golang.org/protobuf/encoding/protowire"
)

const cli, srv = capture.SideA, capture.SideB

type harness struct {
	t     *testing.T
	a     *Assembler
	c     *h2decode.Conn
	calls []*Call
	now   time.Time
}

func newHarness(t *testing.T, opts Options) *harness {
	h := &harness{t: t, now: time.Unix(1000, 0)}
	h.a = NewAssembler(SinkFunc(func(c *Call) { h.calls = append(h.calls, c) }), opts)
	h.c = &h2decode.Conn{
		Info:   &capture.ConnInfo{ID: 7, Addr: [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:50051")}, SYNSeen: true},
		Kind:   h2decode.KindH2,
		Client: cli, ClientBy: h2decode.ClientByPreface,
	}
	return h
}

func (h *harness) tick() time.Time { h.now = h.now.Add(time.Millisecond); return h.now }

func fields(kv ...string) []h2decode.HeaderField {
	var fs []h2decode.HeaderField
	for i := 0; i < len(kv); i += 2 {
		fs = append(fs, h2decode.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return fs
}

func (h *harness) headers(side capture.Side, id uint32, end bool, kv ...string) {
	h.a.Headers(h.c, &h2decode.HeadersEvent{Side: side, StreamID: id, Fields: fields(kv...), EndStream: end, Time: h.tick()})
}

func (h *harness) data(side capture.Side, id uint32, b []byte, end bool) {
	h.a.Data(h.c, &h2decode.DataEvent{Side: side, StreamID: id, Data: b, EndStream: end, Time: h.tick()})
}

func (h *harness) request(id uint32, extra ...string) {
	h.headers(cli, id, false, append([]string{":method", "POST", ":scheme", "http", ":path", "/helloworld.Greeter/SayHello",
		"content-type", "application/grpc", "te", "trailers"}, extra...)...)
}

func (h *harness) end() []*Call {
	h.a.End(h.c, capture.EndCapture, h.tick())
	h.a.Close()
	return h.calls
}

func frame(flag byte, payload []byte) []byte {
	b := []byte{flag, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(len(payload)))
	return append(b, payload...)
}

func TestUnaryCall(t *testing.T) {
	h := newHarness(t, Options{})
	h.request(1, "grpc-timeout", "1S")
	h.data(cli, 1, frame(0, []byte("\x0a\x03you")), true)
	h.headers(srv, 1, false, ":status", "200", "content-type", "application/grpc")
	h.data(srv, 1, frame(0, []byte("\x0a\x0bHello, you!")), false)
	h.headers(srv, 1, true, "grpc-status", "0")
	calls := h.end()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	c := calls[0]
	if c.Method != "/helloworld.Greeter/SayHello" || c.State != StateComplete || c.Status == nil || c.Status.Name != "OK" {
		t.Fatalf("call %+v", c)
	}
	if c.Client.Port() != 40000 || c.Server.Port() != 50051 || c.StreamID != 1 {
		t.Fatalf("endpoints %v → %v stream %d", c.Client, c.Server, c.StreamID)
	}
	if len(c.Requests) != 1 || string(c.Requests[0].Data) != "\x0a\x03you" || c.Requests[0].Length != 5 {
		t.Fatalf("requests %+v", c.Requests)
	}
	if len(c.Responses) != 1 || string(c.Responses[0].Data) != "\x0a\x0bHello, you!" {
		t.Fatalf("responses %+v", c.Responses)
	}
	if d := c.Duration(); d != 4*time.Millisecond {
		t.Fatalf("duration %v", d)
	}
	if c.FirstResponse.Sub(c.Start) != 2*time.Millisecond {
		t.Fatalf("first response after %v", c.FirstResponse.Sub(c.Start))
	}
}

// Messages split over DATA events at every boundary, and several packed
// into one, come out the same; zero-length messages count.
func TestMessageSplitEverywhere(t *testing.T) {
	var stream []byte
	payloads := [][]byte{{}, []byte("\x08\x01"), bytes.Repeat([]byte{'x'}, 300), {}}
	for _, p := range payloads {
		stream = append(stream, frame(0, p)...)
	}
	for split := 1; split <= len(stream); split++ {
		h := newHarness(t, Options{})
		h.request(1)
		for i := 0; i < len(stream); i += split {
			h.data(cli, 1, stream[i:min(i+split, len(stream))], false)
		}
		h.data(cli, 1, nil, true)
		h.headers(srv, 1, true, ":status", "200", "grpc-status", "0")
		c := h.end()[0]
		if len(c.Requests) != len(payloads) {
			t.Fatalf("split %d: %d messages", split, len(c.Requests))
		}
		for i, m := range c.Requests {
			if !bytes.Equal(m.Data, payloads[i]) || int(m.Length) != len(payloads[i]) || m.Err != "" {
				t.Fatalf("split %d message %d: %+v", split, i, m)
			}
		}
	}
}

func TestLargeMessage(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 5<<16) // 5 MiB
	b := frame(0, big)
	h := newHarness(t, Options{})
	h.request(1)
	for i := 0; i < len(b); i += 16384 {
		h.data(cli, 1, b[i:min(i+16384, len(b))], false)
	}
	h.data(cli, 1, nil, true)
	h.headers(srv, 1, true, ":status", "200", "grpc-status", "0")
	c := h.end()[0]
	if len(c.Requests) != 1 || !bytes.Equal(c.Requests[0].Data, big) {
		t.Fatalf("5 MiB message not intact")
	}
	// Over the limit: the first bytes are kept, the length is still right.
	h = newHarness(t, Options{MaxMessageSize: 1000})
	h.request(1)
	h.data(cli, 1, b, true)
	h.headers(srv, 1, true, ":status", "200", "grpc-status", "0")
	m := h.end()[0].Requests[0]
	if len(m.Data) != 1000 || int(m.Length) != len(big) || !m.Truncated || !strings.Contains(m.Err, "limit") {
		t.Fatalf("limited message: len %d, length %d, truncated %v, err %q", len(m.Data), m.Length, m.Truncated, m.Err)
	}
}

func compressors(t *testing.T) map[string]func([]byte) []byte {
	return map[string]func([]byte) []byte{
		"gzip": func(p []byte) []byte {
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			w.Write(p)
			w.Close()
			return b.Bytes()
		},
		"deflate": func(p []byte) []byte {
			var b bytes.Buffer
			w := zlib.NewWriter(&b)
			w.Write(p)
			w.Close()
			return b.Bytes()
		},
		"snappy": func(p []byte) []byte { return snappy.Encode(nil, p) },
		"zstd": func(p []byte) []byte {
			e, err := zstd.NewWriter(nil)
			if err != nil {
				t.Fatal(err)
			}
			return e.EncodeAll(p, nil)
		},
	}
}

func TestCompression(t *testing.T) {
	plain := []byte(strings.Repeat("\x0a\x05hello", 50))
	for enc, compress := range compressors(t) {
		h := newHarness(t, Options{})
		h.request(1, "grpc-encoding", enc)
		h.data(cli, 1, frame(1, compress(plain)), true)
		h.headers(srv, 1, true, ":status", "200", "grpc-status", "0")
		m := h.end()[0].Requests[0]
		if !m.Compressed || m.Encoding != enc || !bytes.Equal(m.Data, plain) || m.Err != "" {
			t.Errorf("%s: %+v", enc, m)
		}
	}
}

// A message that expands past the size limit keeps its first bytes and says
// why, whatever the encoding.
func TestDecompressionBomb(t *testing.T) {
	zeros := make([]byte, 64<<20)
	for enc, compress := range compressors(t) {
		h := newHarness(t, Options{MaxMessageSize: 1 << 20})
		h.request(1, "grpc-encoding", enc)
		h.data(cli, 1, frame(1, compress(zeros)), true)
		h.headers(srv, 1, true, ":status", "200", "grpc-status", "0")
		m := h.end()[0].Requests[0]
		if !m.Truncated || !strings.Contains(m.Err, "limit") || len(m.Data) > 1<<20 {
			t.Errorf("%s bomb: truncated %v, %d bytes, err %q", enc, m.Truncated, len(m.Data), m.Err)
		}
	}
}

func TestCompressedFlagWithIdentity(t *testing.T) {
	h := newHarness(t, Options{})
	h.request(1)
	h.data(cli, 1, frame(1, []byte("\x08\x01")), true)
	h.headers(srv, 1, true, ":status", "200", "grpc-status", "0")
	m := h.end()[0].Requests[0]
	if !m.Compressed || string(m.Data) != "\x08\x01" || !strings.Contains(m.Err, "protocol error") {
		t.Fatalf("%+v", m)
	}
}

func TestTrailersOnlyWithDetails(t *testing.T) {
	var any, st []byte
	any = protowire.AppendTag(any, 1, protowire.BytesType)
	any = protowire.AppendString(any, "type.googleapis.com/google.rpc.ErrorInfo")
	any = protowire.AppendTag(any, 2, protowire.BytesType)
	any = protowire.AppendBytes(any, []byte("\x0a\x06reason"))
	st = protowire.AppendTag(st, 1, protowire.VarintType)
	st = protowire.AppendVarint(st, 5)
	st = protowire.AppendTag(st, 2, protowire.BytesType)
	st = protowire.AppendString(st, "文件不存在")
	st = protowire.AppendTag(st, 3, protowire.BytesType)
	st = protowire.AppendBytes(st, any)
	// As base64, and in the C core's true-binary form (a 0x00, then the
	// bytes) that peers which both announced it send.
	for _, details := range []string{base64.RawStdEncoding.EncodeToString(st), "\x00" + string(st)} {
		checkTrailersOnlyDetails(t, details)
	}
}

func checkTrailersOnlyDetails(t *testing.T, details string) {
	t.Helper()
	h := newHarness(t, Options{})
	h.request(1)
	h.data(cli, 1, frame(0, nil), true)
	h.headers(srv, 1, true, ":status", "200", "content-type", "application/grpc", "grpc-status", "5",
		"grpc-message", "%E6%96%87%E4%BB%B6%E4%B8%8D%E5%AD%98%E5%9C%A8 100%", "grpc-status-details-bin", details)
	c := h.end()[0]
	if !c.TrailersOnly || c.Status == nil || c.Status.Name != "NOT_FOUND" || c.Status.Message != "文件不存在 100%" {
		t.Fatalf("status %+v trailers-only %v", c.Status, c.TrailersOnly)
	}
	if len(c.Status.Details) != 1 || c.Status.Details[0].TypeURL != "type.googleapis.com/google.rpc.ErrorInfo" || string(c.Status.Details[0].Value) != "\x0a\x06reason" || c.Status.DetailsErr != "" {
		t.Fatalf("details %+v err %q", c.Status.Details, c.Status.DetailsErr)
	}
	if len(c.ResponseHeaders) != 0 || c.State != StateComplete {
		t.Fatalf("response headers %v, state %v", c.ResponseHeaders, c.State)
	}
}

func TestEndings(t *testing.T) {
	h := newHarness(t, Options{})
	h.request(1)
	h.a.Reset(h.c, cli, 1, http2.ErrCodeCancel, h.tick())
	h.request(3)
	h.request(5)
	h.a.GoAway(h.c, srv, 3, http2.ErrCodeNo, nil, h.tick())
	// Frames of a call that already ended start nothing new.
	h.data(srv, 1, frame(0, []byte("late")), false)
	// A stream whose request headers were not captured, though stream 1's
	// were: they were lost inside the capture. Its data may begin inside a
	// message, so it is not split into messages.
	h.data(srv, 9, make([]byte, 64), false)
	h.headers(srv, 9, true, "grpc-status", "0")
	calls := h.end()
	var got []string
	for _, c := range calls {
		s := c.State.String()
		if c.State == StateReset {
			s += " " + c.ResetCode.String() + " by " + c.ResetBy.String()
		}
		got = append(got, s)
	}
	want := "reset CANCEL by client|cut|refused|incomplete"
	if strings.Join(got, "|") != want {
		t.Fatalf("states %q, want %q", strings.Join(got, "|"), want)
	}
	if len(calls[3].Responses) != 0 || calls[3].Status == nil || !calls[3].MethodUnknown || !calls[3].LostBytes || calls[3].StartedBeforeCapture {
		t.Fatalf("call whose headers were lost: %+v", calls[3])
	}
	// With no request captured on the connection before it, the same stream
	// started before the capture.
	h = newHarness(t, Options{})
	h.data(srv, 9, make([]byte, 64), false)
	h.headers(srv, 9, true, "grpc-status", "0")
	c := h.end()[0]
	if c.State != StateStartedBeforeCapture || !c.StartedBeforeCapture || c.LostBytes {
		t.Fatalf("call started before the capture: state %v, %+v", c.State, c)
	}
}

// Calls come out by start time even when a later one finishes first.
func TestOrder(t *testing.T) {
	h := newHarness(t, Options{})
	h.request(1)
	h.request(3)
	h.headers(srv, 3, true, ":status", "200", "grpc-status", "0")
	if len(h.calls) != 0 {
		t.Fatalf("stream 3 emitted before stream 1 ended")
	}
	h.headers(srv, 1, true, ":status", "200", "grpc-status", "0")
	if len(h.calls) != 2 || h.calls[0].StreamID != 1 || h.calls[1].StreamID != 3 {
		t.Fatalf("order %v", h.calls)
	}
}

func TestLostBytes(t *testing.T) {
	h := newHarness(t, Options{})
	h.request(1)
	m := frame(0, []byte("0123456789"))
	h.data(cli, 1, m[:8], false)
	h.a.Data(h.c, &h2decode.DataEvent{Side: cli, StreamID: 1, Lost: 4, Time: h.tick()})
	h.data(cli, 1, m[12:], false)
	h.data(cli, 1, frame(0, []byte("ok")), true)
	h.headers(srv, 1, true, ":status", "200", "grpc-status", "0")
	c := h.end()[0]
	if c.State != StateIncomplete || len(c.Requests) != 2 {
		t.Fatalf("state %v, %d requests", c.State, len(c.Requests))
	}
	if r := c.Requests[0]; !r.Truncated || string(r.Data) != "012" || r.Length != 10 {
		t.Fatalf("damaged message %+v", r)
	}
	if r := c.Requests[1]; r.Truncated || string(r.Data) != "ok" {
		t.Fatalf("message after the hole %+v", r)
	}
}

func TestPercentDecode(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", "%41%42": "AB", "100%": "100%", "%zz": "%zz", "%e2%98%BA": "☺", "a%2": "a%2",
	} {
		if got := percentDecode(in); got != want {
			t.Errorf("percentDecode(%q) = %q, want %q", in, got, want)
		}
	}
}

// A deadline: the client's RST_STREAM crosses the server's trailers; the call
// keeps both.
func TestResetCrossesTrailers(t *testing.T) {
	h := newHarness(t, Options{})
	h.request(1, "grpc-timeout", "500m")
	h.data(cli, 1, frame(0, []byte("\x0a\x03you")), true)
	h.a.Reset(h.c, cli, 1, http2.ErrCodeCancel, h.tick())
	h.headers(srv, 1, true, ":status", "200", "grpc-status", "4", "grpc-message", "Deadline Exceeded")
	h.a.Reset(h.c, srv, 1, http2.ErrCodeNo, h.tick())
	h.request(3)
	calls := h.end()
	c := calls[0]
	if c.State != StateReset || c.ResetBy != h2decode.RoleClient || c.ResetCode != http2.ErrCodeCancel || c.Status == nil || c.Status.Name != "DEADLINE_EXCEEDED" {
		t.Fatalf("state %v by %s code %v status %+v", c.State, c.ResetBy, c.ResetCode, c.Status)
	}
	// Without an answer, the call ends at the first sweep (Tick) once the
	// grace period has passed.
	h = newHarness(t, Options{})
	h.request(1)
	h.a.Reset(h.c, cli, 1, http2.ErrCodeCancel, h.tick())
	h.a.Tick(h.now.Add(resetGrace / 2))
	if len(h.calls) != 0 {
		t.Fatalf("reset call emitted inside its grace period: %v", h.calls)
	}
	h.now = h.now.Add(2 * resetGrace)
	h.request(3)
	h.a.Tick(h.now)
	if len(h.calls) != 1 || h.calls[0].State != StateReset {
		t.Fatalf("reset call not emitted after the grace period: %v", h.calls)
	}
}

// After a loss, messages are found again at a DATA frame that holds whole
// messages exactly, and only there.
func TestResyncAfterLoss(t *testing.T) {
	h := newHarness(t, Options{})
	h.request(1)
	h.headers(srv, 1, false, ":status", "200")
	frameEv := func(b []byte) {
		h.a.Data(h.c, &h2decode.DataEvent{Side: srv, StreamID: 1, Data: b, FrameStart: true, FrameDataLen: uint32(len(b)), Time: h.tick()})
	}
	frameEv(frame(0, []byte("first")))
	h.a.Data(h.c, &h2decode.DataEvent{Side: srv, StreamID: 1, Lost: -1, Time: h.tick()})
	frameEv(make([]byte, 16380))                          // zeros: not hundreds of empty messages
	frameEv(append(frame(0, []byte("ab")), 0, 0, 0, 0))   // trailing bytes: not whole messages
	frameEv(frame(0, bytes.Repeat([]byte("x"), 40))[:30]) // a message running past the frame
	two := append(frame(0, []byte("second")), frame(0, []byte("third"))...)
	// Split inside the frame: the frame is judged when it is complete.
	h.a.Data(h.c, &h2decode.DataEvent{Side: srv, StreamID: 1, Data: two[:3], FrameStart: true, FrameDataLen: uint32(len(two)), Time: h.tick()})
	h.a.Data(h.c, &h2decode.DataEvent{Side: srv, StreamID: 1, Data: two[3:], Time: h.tick()})
	h.data(srv, 1, frame(0, []byte("fourth")), false)
	h.headers(srv, 1, true, "grpc-status", "0")
	c := h.end()[0]
	var got []string
	for _, m := range c.Responses {
		s := string(m.Data)
		if m.Resynced {
			s += "*"
		}
		got = append(got, s)
	}
	if strings.Join(got, " ") != "first second* third fourth" {
		t.Fatalf("responses %q", got)
	}
}

// Beyond MaxOpenStreams open calls on a connection, the oldest is handed on
// as evicted, with a note, and its later frames are ignored; the others are
// untouched.
func TestMaxOpenStreams(t *testing.T) {
	h := newHarness(t, Options{MaxOpenStreams: 3})
	for id := uint32(1); id <= 11; id += 2 {
		h.request(id)
	}
	h.headers(srv, 1, true, ":status", "200", "grpc-status", "0") // evicted already: ignored
	h.headers(srv, 11, true, ":status", "200", "grpc-status", "0")
	calls := h.end()
	var states []string
	for _, c := range calls {
		states = append(states, fmt.Sprintf("%d:%v", c.StreamID, c.State))
		if c.State == StateEvicted && (len(c.Notes) == 0 || !strings.Contains(c.Notes[0].Text, "more than 3 streams were open") || !errors.Is(c.Notes[0], h2decode.NoteLimit)) {
			t.Errorf("evicted call %d without its note: %q", c.StreamID, c.Notes)
		}
	}
	if got, want := strings.Join(states, " "), "1:evicted 3:evicted 5:evicted 7:cut 9:cut 11:complete"; got != want {
		t.Errorf("states %s, want %s", got, want)
	}
	if h.a.Stats().Evicted != 3 {
		t.Errorf("Stats.Evicted %d, want 3", h.a.Stats().Evicted)
	}
}

// One decompressor, reset for each message, decodes zlib and raw DEFLATE
// ("deflate") and framed and block snappy in any order, each message whole.
func TestDecompressorReuse(t *testing.T) {
	d := &decompressor{}
	for i := range 4 {
		plain := []byte(strings.Repeat(fmt.Sprintf("message %d ", i), 20+i))
		var zb, fb, sb bytes.Buffer
		zw := zlib.NewWriter(&zb)
		zw.Write(plain)
		zw.Close()
		fw, _ := flate.NewWriter(&fb, flate.BestSpeed)
		fw.Write(plain)
		fw.Close()
		sw := snappy.NewBufferedWriter(&sb)
		sw.Write(plain)
		sw.Close()
		for _, c := range []struct {
			enc  string
			wire []byte
		}{{"deflate", zb.Bytes()}, {"deflate", fb.Bytes()}, {"snappy", sb.Bytes()}, {"snappy", snappy.Encode(nil, plain)}} {
			out, err := d.decompress(c.enc, c.wire, 1<<20)
			if err != nil || !bytes.Equal(out, plain) {
				t.Fatalf("round %d, %s (%x…): %v, %q", i, c.enc, c.wire[:4], err, out)
			}
		}
	}
}

// A connection remembers a bounded number of finished stream ids; a late
// frame for an older finished stream, forgotten since, is still taken as
// late rather than as a new call, and an old stream still open goes on.
func TestClosedStreamsBounded(t *testing.T) {
	h := newHarness(t, Options{MaxClosedStreams: 64})
	h.request(1) // stays open
	h.data(cli, 1, frame(0, []byte("\x0a\x01a")), false)
	for id := uint32(3); id < 3+2*200; id += 2 {
		h.request(id)
		h.data(cli, id, frame(0, []byte("\x0a\x01b")), true)
		h.headers(srv, id, true, ":status", "200", "content-type", "application/grpc", "grpc-status", "0")
	}
	if cs := h.a.conn(h.c); len(cs.closed) > 64+1 {
		t.Fatalf("%d closed ids remembered, want at most 65", len(cs.closed))
	}
	h.data(srv, 5, frame(0, []byte("late")), false)               // long finished, forgotten
	h.headers(srv, 1, true, ":status", "200", "grpc-status", "0") // the old open call ends
	calls := h.end()
	if len(calls) != 201 {
		t.Fatalf("%d calls, want 201 (no call made of the late frame)", len(calls))
	}
	if c := calls[0]; c.StreamID != 1 || c.State != StateComplete || len(c.Requests) != 1 {
		t.Fatalf("the call open throughout: %+v", c)
	}
}

// Connection notes are kept up to a bound and counted beyond it, so a
// capture that runs for days does not keep one for every connection.
func TestConnNotesBounded(t *testing.T) {
	a := NewAssembler(SinkFunc(func(*Call) {}), Options{})
	for i := range maxConnNotes + 5 {
		c := &h2decode.Conn{Info: &capture.ConnInfo{ID: uint64(i + 1)}, Kind: h2decode.KindNotHTTP2, Notes: []h2decode.Note{{Kind: h2decode.NoteNotDecoded, Text: "not HTTP/2"}}}
		a.End(c, capture.EndFIN, time.Unix(1000, 0))
	}
	if st := a.Stats(); len(st.ConnNotes) != maxConnNotes || st.MoreConnNotes != 5 {
		t.Fatalf("%d notes kept, %d counted", len(st.ConnNotes), st.MoreConnNotes)
	}
}

// KeepPayload false: messages keep their lengths, flags and times but no
// bytes, are not decompressed or marked truncated, and a gRPC-Web trailer
// frame is still read as the status.
func TestKeepPayloadFalse(t *testing.T) {
	h := newHarness(t, Options{KeepPayload: func(c *Call) bool { return false }})
	h.request(1, "grpc-encoding", "gzip")
	h.data(cli, 1, append(frame(0, []byte("\x0a\x03you")), frame(1, []byte("not gzip at all"))...), true)
	h.headers(srv, 1, false, ":status", "200", "content-type", "application/grpc")
	h.data(srv, 1, frame(0, bytes.Repeat([]byte("x"), 100)), false)
	h.headers(srv, 1, true, "grpc-status", "0")
	c := h.end()[0]
	if len(c.Requests) != 2 || len(c.Responses) != 1 {
		t.Fatalf("%d requests, %d responses", len(c.Requests), len(c.Responses))
	}
	for _, m := range append(c.Requests, c.Responses...) {
		if m.Data != nil || m.Truncated || m.Err != "" || m.Time.IsZero() {
			t.Errorf("message kept %q, truncated %v, error %q", m.Data, m.Truncated, m.Err)
		}
	}
	if c.Requests[0].Length != 5 || !c.Requests[1].Compressed || c.Requests[1].Length != 15 || c.Responses[0].Length != 100 {
		t.Errorf("lengths %d %d %d, compressed %v", c.Requests[0].Length, c.Requests[1].Length, c.Responses[0].Length, c.Requests[1].Compressed)
	}
	if c.Status == nil || c.Status.Code != 0 || WireBytes(c.Requests) != 20 {
		t.Errorf("status %+v, %d request bytes", c.Status, WireBytes(c.Requests))
	}

	h = newHarness(t, Options{KeepPayload: func(c *Call) bool { return false }})
	h.webRequest(1, "application/grpc-web+proto")
	h.headers(srv, 1, false, ":status", "200", "content-type", "application/grpc-web+proto")
	h.data(srv, 1, append(frame(0, []byte("\x0a\x02hi")), frame(0x80, []byte("grpc-status:5\r\ngrpc-message:gone\r\n"))...), true)
	c = h.end()[0]
	if c.Status == nil || c.Status.Code != 5 || c.Status.Message != "gone" || len(c.Responses) != 1 || c.Responses[0].Data != nil {
		t.Errorf("gRPC-Web without payloads: status %+v, responses %+v", c.Status, c.Responses)
	}
}
