package h2decode

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// recorder logs handler events as text lines.
type recorder struct{ log []string }

func fieldsText(fs []HeaderField) string {
	var parts []string
	for _, f := range fs {
		switch {
		case f.NameUnknown && f.ValueUnknown:
			parts = append(parts, "?="+f.Ref.String())
		case f.NameUnknown:
			parts = append(parts, "?"+f.Ref.String()+"="+f.Value)
		default:
			parts = append(parts, f.Name+"="+f.Value)
		}
	}
	return strings.Join(parts, " ")
}

func (r *recorder) Headers(c *Conn, ev *HeadersEvent) {
	s := fmt.Sprintf("headers side=%d stream=%d end=%v [%s]", ev.Side, ev.StreamID, ev.EndStream, fieldsText(ev.Fields))
	if ev.Err != nil {
		s += " err=" + ev.Err.Error()
	}
	r.log = append(r.log, s)
}

func (r *recorder) Data(c *Conn, ev *DataEvent) {
	// Consecutive data pieces of one stream are merged so that logs do not
	// depend on how the bytes were split.
	line := fmt.Sprintf("data side=%d stream=%d", ev.Side, ev.StreamID)
	if ev.Lost != 0 {
		r.log = append(r.log, fmt.Sprintf("%s lost=%d", line, ev.Lost))
	}
	if len(ev.Data) > 0 {
		if n := len(r.log); n > 0 && strings.HasPrefix(r.log[n-1], line+" [") {
			prev := r.log[n-1]
			r.log[n-1] = prev[:len(prev)-1] + string(ev.Data) + "]"
		} else {
			r.log = append(r.log, line+" ["+string(ev.Data)+"]")
		}
	}
	if ev.EndStream {
		r.log = append(r.log, line+" end")
	}
}

func (r *recorder) Reset(c *Conn, side capture.Side, id uint32, code http2.ErrCode, t time.Time) {
	r.log = append(r.log, fmt.Sprintf("reset side=%d stream=%d %v", side, id, code))
}

func (r *recorder) GoAway(c *Conn, side capture.Side, last uint32, code http2.ErrCode, debug []byte, t time.Time) {
	r.log = append(r.log, fmt.Sprintf("goaway side=%d last=%d %v %q", side, last, code, debug))
}

func (r *recorder) Lost(c *Conn, side capture.Side, t time.Time) {
	r.log = append(r.log, fmt.Sprintf("lost side=%d", side))
}

func (r *recorder) End(c *Conn, reason capture.EndReason, t time.Time) {
	r.log = append(r.log, fmt.Sprintf("end %v kind=%v client=%d/%v", reason, c.Kind, c.Client, c.ClientBy))
}

// peer writes one side's frames with a real HPACK encoder.
type peer struct {
	buf bytes.Buffer
	fr  *http2.Framer
	hb  bytes.Buffer
	enc *hpack.Encoder
}

func newPeer() *peer {
	p := &peer{}
	p.fr = http2.NewFramer(&p.buf, nil)
	p.enc = hpack.NewEncoder(&p.hb)
	return p
}

func (p *peer) block(kv ...string) []byte {
	p.hb.Reset()
	for i := 0; i < len(kv); i += 2 {
		p.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return bytes.Clone(p.hb.Bytes())
}

func (p *peer) headers(stream uint32, end bool, kv ...string) {
	p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: p.block(kv...), EndStream: end, EndHeaders: true})
}

// take returns and clears what was written so far.
func (p *peer) take() []byte {
	b := bytes.Clone(p.buf.Bytes())
	p.buf.Reset()
	return b
}

var testAddrs = [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:50051")}

func newTestConn(r *recorder, syn bool) *Conn {
	f := NewFactory(r, Options{})
	return f.NewConn(&capture.ConnInfo{ID: 1, Addr: testAddrs, SYNSeen: syn}).(*Conn)
}

type chunk struct {
	side capture.Side
	b    []byte
}

// conversation is a complete h2c exchange: a PRIORITY frame, a unary call
// with a header block split into CONTINUATION frames, padded DATA, padded
// response HEADERS with priority, PING and WINDOW_UPDATE, trailers; a second
// call reset by the client; a GOAWAY.
func conversation() []chunk {
	cl, sv := newPeer(), newPeer()
	var out []chunk
	cl.buf.WriteString(clientPreface)
	cl.fr.WriteSettings(http2.Setting{ID: http2.SettingHeaderTableSize, Val: 4096})
	out = append(out, chunk{0, cl.take()})
	sv.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 16384})
	out = append(out, chunk{1, sv.take()})

	cl.fr.WritePriority(1, http2.PriorityParam{StreamDep: 0, Weight: 15})
	blk := cl.block(":method", "POST", ":scheme", "http", ":path", "/helloworld.Greeter/SayHello",
		":authority", "localhost:50051", "content-type", "application/grpc", "te", "trailers", "x-custom", "yes")
	cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk[:5], EndHeaders: false})
	cl.fr.WriteContinuation(1, false, blk[5:12])
	cl.fr.WriteContinuation(1, true, blk[12:])
	cl.fr.WriteDataPadded(1, true, []byte("\x00\x00\x00\x00\x05\x0a\x03you"), []byte{0, 0, 0})
	out = append(out, chunk{0, cl.take()})

	sv.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: sv.block(":status", "200", "content-type", "application/grpc"),
		EndHeaders: true, PadLength: 4, Priority: http2.PriorityParam{StreamDep: 0, Exclusive: true, Weight: 200}})
	sv.fr.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	sv.fr.WriteWindowUpdate(0, 1000)
	sv.fr.WriteData(1, false, []byte("\x00\x00\x00\x00\x0d\x0a\x0bHello, you!"))
	sv.headers(1, true, "grpc-status", "0", "grpc-message", "")
	out = append(out, chunk{1, sv.take()})

	// Second call: the same :path again comes from the dynamic table.
	cl.headers(3, false, ":method", "POST", ":scheme", "http", ":path", "/helloworld.Greeter/SayHello",
		":authority", "localhost:50051", "content-type", "application/grpc", "te", "trailers")
	cl.fr.WriteRSTStream(3, http2.ErrCodeCancel)
	cl.fr.WriteGoAway(3, http2.ErrCodeNo, []byte("bye"))
	out = append(out, chunk{0, cl.take()})
	return out
}

func runChunks(t *testing.T, chunks []chunk, split int) []string {
	t.Helper()
	r := &recorder{}
	c := newTestConn(r, true)
	ts := time.Unix(1, 0)
	for _, ch := range chunks {
		b := ch.b
		for split > 0 && len(b) > split {
			c.Data(ch.side, b[:split], ts)
			b = b[split:]
		}
		c.Data(ch.side, b, ts)
	}
	c.End(capture.EndFIN, ts)
	return r.log
}

func TestConversation(t *testing.T) {
	got := strings.Join(runChunks(t, conversation(), 0), "\n")
	want := strings.Join([]string{
		"headers side=0 stream=1 end=false [:method=POST :scheme=http :path=/helloworld.Greeter/SayHello :authority=localhost:50051 content-type=application/grpc te=trailers x-custom=yes]",
		"data side=0 stream=1 [\x00\x00\x00\x00\x05\x0a\x03you]",
		"data side=0 stream=1 end",
		"headers side=1 stream=1 end=false [:status=200 content-type=application/grpc]",
		"data side=1 stream=1 [\x00\x00\x00\x00\x0d\x0a\x0bHello, you!]",
		"headers side=1 stream=1 end=true [grpc-status=0 grpc-message=]",
		"headers side=0 stream=3 end=false [:method=POST :scheme=http :path=/helloworld.Greeter/SayHello :authority=localhost:50051 content-type=application/grpc te=trailers]",
		"reset side=0 stream=3 CANCEL",
		`goaway side=0 last=3 NO_ERROR "bye"`,
		"end fin kind=h2c client=0/preface",
	}, "\n")
	if got != want {
		t.Fatalf("events:\n%s\nwant:\n%s", got, want)
	}
}

// Every way of cutting the byte streams into packets gives the same events.
func TestConversationSplitAtEveryBoundary(t *testing.T) {
	want := strings.Join(runChunks(t, conversation(), 0), "\n")
	for split := 1; split < 200; split++ {
		if got := strings.Join(runChunks(t, conversation(), split), "\n"); got != want {
			t.Fatalf("split %d:\n%s\nwant:\n%s", split, got, want)
		}
	}
}

// A capture that starts mid-connection: the first call's header block was
// not captured, so the entries it inserted are unknown; fields inserted
// after the capture began are known, and unknown ones keep their identity.
func TestMidConnectionHPACK(t *testing.T) {
	cl, sv := newPeer(), newPeer()
	// Before the capture: one call whose fields enter the dynamic tables.
	cl.headers(1, true, ":method", "POST", ":path", "/a.S/Old", ":authority", "h:1", "user-agent", "ua")
	sv.headers(1, false, ":status", "200", "content-type", "application/grpc")
	sv.headers(1, true, "grpc-status", "0")
	cl.take()
	sv.take()
	// Captured: a new method, then the old one again.
	cl.headers(3, true, ":method", "POST", ":path", "/a.S/New", ":authority", "h:1", "user-agent", "ua")
	sv.headers(3, true, ":status", "200", "content-type", "application/grpc", "grpc-status", "0")
	c1a, c1b := cl.take(), sv.take()
	cl.headers(5, true, ":method", "POST", ":path", "/a.S/Old", ":authority", "h:1", "user-agent", "ua")
	cl.headers(7, true, ":method", "POST", ":path", "/a.S/New", ":authority", "h:1", "user-agent", "ua")
	c2 := cl.take()

	r := &recorder{}
	c := newTestConn(r, false)
	ts := time.Unix(1, 0)
	c.Data(0, c1a, ts)
	c.Data(1, c1b, ts)
	c.Data(0, c2, ts)
	c.End(capture.EndCapture, ts)
	got := strings.Join(r.log, "\n")
	want := strings.Join([]string{
		// :authority and user-agent were inserted before the capture: the
		// newest of those entries (user-agent) is entry 0, :authority 1,
		// :path /a.S/Old 2.
		"headers side=0 stream=3 end=true [:method=POST :path=/a.S/New ?=c1/a/e0/1 ?=c1/a/e0/0]",
		// The server's table held content-type (entry 1) and grpc-status 0
		// (entry 0, the newest).
		"headers side=1 stream=3 end=true [:status=200 ?=c1/b/e0/1 ?=c1/b/e0/0]",
		"headers side=0 stream=5 end=true [:method=POST ?=c1/a/e0/2 ?=c1/a/e0/1 ?=c1/a/e0/0]",
		"headers side=0 stream=7 end=true [:method=POST :path=/a.S/New ?=c1/a/e0/1 ?=c1/a/e0/0]",
		"end capture_end kind=h2c-midstream client=0/headers",
	}, "\n")
	if got != want {
		t.Fatalf("events:\n%s\nwant:\n%s", got, want)
	}
}

// A gap inside a DATA payload costs that stream those bytes only; a gap
// that swallows frame headers costs frame sync until the next boundary.
func TestGaps(t *testing.T) {
	cl := newPeer()
	cl.buf.WriteString(clientPreface)
	cl.headers(1, false, ":method", "POST", ":path", "/a.S/M")
	cl.fr.WriteData(1, false, []byte("0123456789"))
	pre := cl.take()
	cl.fr.WriteData(1, false, []byte("abcdefghij"))
	cl.fr.WriteData(3, false, []byte("lost frame"))
	lostPart := cl.take()
	cl.fr.WriteData(1, true, []byte("after"))
	cl.headers(5, true, ":method", "POST", ":path", "/a.S/Z")
	post := cl.take()

	r := &recorder{}
	c := newTestConn(r, true)
	ts := time.Unix(1, 0)
	// Gap of 4 bytes inside the first DATA payload.
	c.Data(0, pre[:len(pre)-6], ts)
	c.Gap(0, 4, ts)
	c.Data(0, pre[len(pre)-2:], ts)
	// Gap covering the next frame header and more.
	c.Data(0, lostPart[:12], ts)
	c.Gap(0, int64(len(lostPart)-12), ts)
	c.Data(0, post, ts)
	c.End(capture.EndFIN, ts)
	got := strings.Join(r.log, "\n")
	want := strings.Join([]string{
		"headers side=0 stream=1 end=false [:method=POST :path=/a.S/M]",
		"data side=0 stream=1 [0123]",
		"data side=0 stream=1 lost=4",
		"data side=0 stream=1 [89abc]",
		"data side=0 stream=1 lost=-1",
		"lost side=0",
		"data side=0 stream=1 [after]",
		"data side=0 stream=1 end",
		"headers side=0 stream=5 end=true [:method=POST :path=/a.S/Z]",
		"end fin kind=h2c client=0/preface",
	}, "\n")
	if got != want {
		t.Fatalf("events:\n%s\nwant:\n%s", got, want)
	}
}

func TestUpgrade(t *testing.T) {
	req := "POST /helloworld.Greeter/SayHello HTTP/1.1\r\nHost: localhost:50051\r\nConnection: Upgrade, HTTP2-Settings\r\n" +
		"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nContent-Type: application/grpc\r\nTe: trailers\r\nContent-Length: 10\r\n\r\n" +
		"\x00\x00\x00\x00\x05\x0a\x03you"
	sv := newPeer()
	sv.buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
	sv.fr.WriteSettings()
	sv.headers(1, false, ":status", "200")
	sv.headers(1, true, "grpc-status", "0")
	cl := newPeer()
	cl.buf.WriteString(clientPreface)
	cl.fr.WriteSettings()

	r := &recorder{}
	c := newTestConn(r, true)
	ts := time.Unix(1, 0)
	c.Data(0, []byte(req), ts)
	c.Data(1, sv.take(), ts)
	c.Data(0, cl.take(), ts)
	c.End(capture.EndFIN, ts)
	got := strings.Join(r.log, "\n")
	want := strings.Join([]string{
		"headers side=0 stream=1 end=false [:method=POST :scheme=http :authority=localhost:50051 :path=/helloworld.Greeter/SayHello content-length=10 content-type=application/grpc te=trailers]",
		"data side=0 stream=1 [\x00\x00\x00\x00\x05\x0a\x03you]",
		"data side=0 stream=1 end",
		"headers side=1 stream=1 end=false [:status=200]",
		"headers side=1 stream=1 end=true [grpc-status=0]",
		"end fin kind=h2c-upgrade client=0/upgrade",
	}, "\n")
	if got != want {
		t.Fatalf("events:\n%s\nwant:\n%s", got, want)
	}
}

func TestNotHTTP2(t *testing.T) {
	r := &recorder{}
	c := newTestConn(r, true)
	ts := time.Unix(1, 0)
	c.Data(0, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ts)
	c.Data(1, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"), ts)
	c.End(capture.EndFIN, ts)
	if c.Kind != KindHTTP1 {
		t.Fatalf("kind %v, want http1", c.Kind)
	}
	garbage := bytes.Repeat([]byte{0xff, 0x13, 0x37, 0x42}, 100000)
	r = &recorder{}
	c = newTestConn(r, true)
	c.Data(0, garbage, ts)
	c.End(capture.EndFIN, ts)
	if c.Kind != KindNotHTTP2 || len(r.log) != 1 {
		t.Fatalf("kind %v, events %q; want not-http2 and only the end", c.Kind, r.log)
	}
	// Without the handshake, a boundary is searched for, then given up on:
	// after MaxSyncSearch bytes, or at the end for a short connection.
	for _, n := range []int{len(garbage), 3000} {
		r = &recorder{}
		c = newTestConn(r, false)
		c.Data(0, garbage[:n], ts)
		c.Data(1, garbage[:n], ts)
		c.End(capture.EndFIN, ts)
		if c.Kind != KindNotHTTP2 || len(r.log) != 1 || len(c.Notes) == 0 {
			t.Fatalf("%d bytes without handshake: kind %v, events %q, notes %q", n, c.Kind, r.log, c.Notes)
		}
	}
}

// SETTINGS_HEADER_TABLE_SIZE from one side bounds the table of the blocks it
// receives; an encoder that updates past it is reported, and followed.
func TestSettingsHeaderTableSize(t *testing.T) {
	for _, tc := range []struct {
		name      string
		update    []byte // a size-update prefix for the server's second block
		violation bool
	}{
		{"within", []byte{0x3f, 0x21}, false},     // 64
		{"above", []byte{0x3f, 0xe1, 0x1f}, true}, // 4096
	} {
		cl, sv := newPeer(), newPeer()
		cl.buf.WriteString(clientPreface)
		cl.fr.WriteSettings(http2.Setting{ID: http2.SettingHeaderTableSize, Val: 100})
		cl.headers(1, true, ":method", "GET", ":path", "/")
		sv.fr.WriteSettings()
		sv.headers(1, false, ":status", "200", "x-a", "0123456789")
		blk := append(append([]byte{}, tc.update...), sv.block("x-b", "b")...)
		sv.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk, EndStream: true, EndHeaders: true})
		r := &recorder{}
		c := newTestConn(r, true)
		ts := time.Unix(1, 0)
		c.Data(0, cl.take(), ts)
		c.Data(1, sv.take(), ts)
		c.End(capture.EndFIN, ts)
		got := strings.Join(noteLines(c.Notes), "|")
		if strings.Contains(got, "SETTINGS_HEADER_TABLE_SIZE 100") != tc.violation {
			t.Errorf("%s: notes %q", tc.name, got)
		}
		if !strings.Contains(strings.Join(r.log, "\n"), "[x-b=b]") {
			t.Errorf("%s: the block after the update did not decode: %q", tc.name, r.log)
		}
	}
}

// A gap inside a HEADERS frame keeps frame sync (its size is known) but
// costs the table state: the next block's dynamic references are unknown.
func TestGapInsideHeaders(t *testing.T) {
	cl := newPeer()
	cl.buf.WriteString(clientPreface)
	cl.headers(1, true, ":method", "POST", ":path", "/a.S/M", "x-k", "v")
	first := cl.take()
	cl.headers(3, true, ":method", "POST", ":path", "/a.S/M", "x-k", "v")
	second := cl.take()
	r := &recorder{}
	c := newTestConn(r, true)
	ts := time.Unix(1, 0)
	c.Data(0, first[:len(first)-4], ts)
	c.Gap(0, 4, ts)
	c.Data(0, second, ts)
	c.End(capture.EndFIN, ts)
	got := strings.Join(r.log, "\n")
	want := strings.Join([]string{
		"headers side=0 stream=3 end=true [:method=POST ?=c1/a/e1/1 ?=c1/a/e1/0]",
		"end fin kind=h2c client=0/preface",
	}, "\n")
	if got != want {
		t.Fatalf("events:\n%s\nwant:\n%s", got, want)
	}
	if notes := strings.Join(noteLines(c.Notes), "|"); !strings.Contains(notes, "lost bytes: client: a header block on stream 1 was partly not captured") || strings.Contains(notes, "larger than") {
		t.Fatalf("notes %q", notes)
	}
}

// A frame header longer than the peer's SETTINGS_MAX_FRAME_SIZE is a lie:
// the frames after it are found again rather than swallowed as its payload.
// Before the peer's SETTINGS were seen the limit is not known, and nothing
// is assumed.
func TestLyingFrameLength(t *testing.T) {
	for _, settings := range []bool{true, false} {
		cl, sv := newPeer(), newPeer()
		cl.buf.WriteString(clientPreface)
		cl.fr.WriteSettings()
		cl.headers(1, true, ":method", "GET", ":path", "/before")
		liar := []byte{0xff, 0xff, 0xff, byte(http2.FrameData), 0, 0, 0, 0, 3, 's', 'h', 'o', 'r', 't'}
		cl.buf.Write(liar)
		cl.headers(5, true, ":method", "GET", ":path", "/after")
		cl.headers(7, true, ":method", "GET", ":path", "/after2")
		cl.headers(9, true, ":method", "GET", ":path", "/after3")
		r := &recorder{}
		c := newTestConn(r, true)
		ts := time.Unix(1, 0)
		if settings {
			sv.fr.WriteSettings()
			c.Data(1, sv.take(), ts)
		}
		c.Data(0, cl.take(), ts)
		c.End(capture.EndFIN, ts)
		log, notes := strings.Join(r.log, "\n"), strings.Join(noteLines(c.Notes), "|")
		lied := strings.Contains(notes, "claims 16777215 bytes, more than the 16384 the peer allows")
		if lied != settings || strings.Contains(log, ":path=/after3") != settings {
			t.Errorf("peer's SETTINGS seen %v: notes %q\nevents %s", settings, notes, log)
		}
	}
}

// A header block over the limit is reported once, not once per frame.
func TestHugeHeaderBlockNotedOnce(t *testing.T) {
	cl := newPeer()
	cl.buf.WriteString(clientPreface)
	cl.fr.WriteSettings()
	cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: cl.block(":method", "GET"), EndHeaders: false})
	pad := bytes.Repeat([]byte{'a'}, 16000)
	for i := 0; i < 100; i++ {
		cl.fr.WriteContinuation(1, false, append([]byte{0x00, 0x01, 'x', 0x7f, 0x81, 0x7c}, pad...))
	}
	cl.fr.WriteContinuation(1, true, nil)
	cl.headers(3, true, ":method", "GET", ":path", "/after")
	r := &recorder{}
	c := newTestConn(r, true)
	ts := time.Unix(1, 0)
	c.Data(0, cl.take(), ts)
	c.End(capture.EndFIN, ts)
	if n := strings.Count(strings.Join(noteLines(c.Notes), "\n"), "limit reached: client: header block on stream 1 larger than 1048576 bytes; skipped"); n != 1 {
		t.Errorf("reported %d times: %q", n, c.Notes)
	}
	if !strings.Contains(strings.Join(r.log, "\n"), ":path=/after") {
		t.Errorf("the block after the huge one: %q", r.log)
	}
}

// noteLines writes notes down as "kind: text" lines.
func noteLines(ns []Note) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Kind.String()+": "+n.Text)
	}
	return out
}
