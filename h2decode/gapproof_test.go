package h2decode

import (
	"bytes"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/grpcsniff/grpcsniff/capture"
)

// gapScript writes a connection frame by frame with real encoders; frames
// marked lost are fed as a gap of their length.
type gapScript struct {
	peers  [2]*peer
	chunks []chunk
	lost   []bool
}

// newGapScript starts a connection: the client's preface and SETTINGS
// (with ENABLE_PUSH 0 when pushOff), the server's SETTINGS.
func newGapScript(pushOff bool) *gapScript {
	s := &gapScript{peers: [2]*peer{newPeer(), newPeer()}}
	cl := s.peers[0]
	cl.buf.WriteString(clientPreface)
	var settings []http2.Setting
	if pushOff {
		settings = append(settings, http2.Setting{ID: http2.SettingEnablePush, Val: 0})
	}
	cl.fr.WriteSettings(settings...)
	s.take(0, false)
	s.peers[1].fr.WriteSettings()
	s.take(1, false)
	return s
}

func (s *gapScript) take(side capture.Side, lost bool) {
	s.chunks = append(s.chunks, chunk{side, s.peers[side].take()})
	s.lost = append(s.lost, lost)
}

func (s *gapScript) headers(side capture.Side, stream uint32, end bool, kv ...string) {
	s.peers[side].headers(stream, end, kv...)
	s.take(side, false)
}

func (s *gapScript) data(side capture.Side, stream uint32, end, lost bool, payload string) {
	s.peers[side].fr.WriteData(stream, end, []byte(payload))
	s.take(side, lost)
}

// run feeds the connection and returns its header events and notes.
func (s *gapScript) run() (events, notes []string) {
	r := &recorder{}
	c := newTestConn(r, true)
	ts := time.Unix(1, 0)
	for i, ch := range s.chunks {
		if s.lost[i] {
			c.Gap(ch.side, int64(len(ch.b)), ts)
		} else {
			c.Data(ch.side, ch.b, ts)
		}
	}
	c.End(capture.EndFIN, ts)
	for _, l := range r.log {
		if strings.HasPrefix(l, "headers") {
			events = append(events, l)
		}
	}
	return events, noteLines(c.Notes)
}

// call writes a unary call on stream id: request, response headers, a
// message, OK trailers.
func (s *gapScript) call(id uint32, path string) {
	s.headers(0, id, false, ":method", "POST", ":path", path, "content-type", "application/grpc")
	s.data(0, id, true, false, "req")
	s.headers(1, id, false, ":status", "200", "content-type", "application/grpc")
	s.data(1, id, false, false, "resp")
	s.headers(1, id, true, "grpc-status", "0")
}

func checkEvents(t *testing.T, got, want []string) {
	t.Helper()
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Fatalf("events:\n%s\nwant:\n%s", g, w)
	}
}

func hasNote(notes []string, text string) bool {
	for _, n := range notes {
		if strings.Contains(n, text) {
			return true
		}
	}
	return false
}

const recoveredNote = "HPACK table state recovered"

// answered opens stream id with a request that ends it, and answers it
// with response headers.
func (s *gapScript) answered(id uint32, path string) {
	s.headers(0, id, true, ":method", "POST", ":path", path, "content-type", "application/grpc")
	s.headers(1, id, false, ":status", "200", "content-type", "application/grpc")
}

// streamLoss writes a unary call, then a server-streaming call on stream 3
// that loses two DATA frames, frame headers included, and ends with OK
// trailers.
func streamLoss(pushOff bool) *gapScript {
	s := newGapScript(pushOff)
	s.call(1, "/a.S/One")
	s.answered(3, "/a.S/Many")
	s.data(1, 3, false, false, "m1")
	s.data(1, 3, false, true, "m2")
	s.data(1, 3, false, true, "m3")
	s.data(1, 3, false, false, "m4")
	s.headers(1, 3, true, "grpc-status", "0")
	return s
}

// The trailers of the stream that lost DATA frames show no header block
// was lost, so they and every later block decode exactly.
func TestGapProofServerStream(t *testing.T) {
	s := streamLoss(true)
	s.call(5, "/a.S/One")
	got, notes := s.run()
	checkEvents(t, got[len(got)-4:], []string{
		"headers side=1 stream=3 end=true [grpc-status=0]",
		"headers side=0 stream=5 end=false [:method=POST :path=/a.S/One content-type=application/grpc]",
		"headers side=1 stream=5 end=false [:status=200 content-type=application/grpc]",
		"headers side=1 stream=5 end=true [grpc-status=0]",
	})
	if !hasNote(notes, "server: "+recoveredNote) {
		t.Fatalf("no recovery note: %q", notes)
	}
}

// The same loss with push allowed (the client's SETTINGS do not turn it
// off): the lost bytes may have held a PUSH_PROMISE, so the table stays
// lost.
func TestGapProofNotWithPush(t *testing.T) {
	got, notes := streamLoss(false).run()
	checkEvents(t, got[len(got)-1:], []string{"headers side=1 stream=3 end=true [?=c1/b/e1/0]"})
	if hasNote(notes, recoveredNote) {
		t.Fatalf("recovered with push allowed: %q", notes)
	}
}

// A stream the server had not answered when it lost bytes may have had its
// response headers (or 1xx ones) in them: the table stays lost, even when
// every stream later shows frames.
func TestGapProofNotWithUnansweredStream(t *testing.T) {
	s := newGapScript(true)
	s.call(1, "/a.S/One")
	s.answered(3, "/a.S/Many")
	s.headers(0, 5, true, ":method", "POST", ":path", "/a.S/One", "content-type", "application/grpc")
	s.data(1, 3, false, true, "m2")
	s.headers(1, 5, false, ":status", "200", "content-type", "application/grpc")
	s.headers(1, 3, true, "grpc-status", "0")
	s.headers(1, 5, true, "grpc-status", "0")
	got, notes := s.run()
	checkEvents(t, got[len(got)-3:], []string{
		"headers side=1 stream=5 end=false [:status=200 ?=c1/b/e1/1]",
		"headers side=1 stream=3 end=true [?=c1/b/e1/0]",
		"headers side=1 stream=5 end=true [?=c1/b/e1/0]",
	})
	if hasNote(notes, recoveredNote) {
		t.Fatalf("recovered: %q", notes)
	}
}

// Blocks decoded before the proof is done keep their unknown fields; once
// the last stream has shown frames, the table is back for the blocks after,
// and an entry inserted in between with an unknown name gets its name.
func TestGapProofLateResolution(t *testing.T) {
	s := newGapScript(true)
	s.call(1, "/a.S/One")
	for _, id := range []uint32{3, 5} {
		s.headers(0, id, true, ":method", "POST", ":path", "/a.S/Many", "content-type", "application/grpc")
		s.headers(1, id, false, ":status", "200", "content-type", "application/grpc", "x-a", "1")
	}
	s.data(1, 3, false, true, "m2")
	// x-a: 2 is inserted with its name from the table, unknown here.
	s.headers(1, 5, true, "grpc-status", "0", "x-a", "2")
	s.data(1, 3, false, false, "m3")
	s.headers(1, 3, true, "grpc-status", "0", "x-a", "2")
	got, notes := s.run()
	checkEvents(t, got[len(got)-2:], []string{
		"headers side=1 stream=5 end=true [?=c1/b/e1/1 ?c1/b/e1/0=2]",
		"headers side=1 stream=3 end=true [grpc-status=0 x-a=2]",
	})
	if !hasNote(notes, "server: "+recoveredNote) {
		t.Fatalf("no recovery note: %q", notes)
	}
}

// lostRequest writes a unary call, then the client's request on stream 3,
// lost, and its request on stream 5; the server answers stream 3. The
// request on stream 5 bounds what the lost bytes can have opened to stream
// 3, which is tracked from then on.
func lostRequest() *gapScript {
	s := newGapScript(true)
	s.call(1, "/a.S/One")
	req := []string{":method", "POST", ":path", "/a.S/One", "content-type", "application/grpc"}
	s.peers[0].headers(3, true, req...)
	s.take(0, true)
	s.headers(0, 5, true, req...)
	s.headers(1, 3, false, ":status", "200", "content-type", "application/grpc")
	return s
}

// Stream 3, opened in lost client bytes, has its trailers in bytes the
// server loses: the server's table stays lost, since nothing the server
// sends later on stream 3 shows that they were not there.
func TestGapProofNotAfterClientLoss(t *testing.T) {
	s := lostRequest()
	s.headers(1, 5, false, ":status", "200", "content-type", "application/grpc")
	s.data(1, 5, false, false, "m1")
	s.peers[1].headers(3, true, "grpc-status", "2", "x-b", "lost")
	s.take(1, true)
	s.data(1, 5, false, false, "m2")
	s.headers(1, 5, true, "grpc-status", "0")
	got, notes := s.run()
	checkEvents(t, got[len(got)-1:], []string{"headers side=1 stream=5 end=true [?=c1/b/e1/2]"})
	if hasNote(notes, recoveredNote) {
		t.Fatalf("recovered: %q", notes)
	}
}

// Stream 3, opened in lost client bytes, is ended by the server before it
// loses DATA frames of stream 5: no candidate then, and the table is
// recovered.
func TestGapProofAfterBoundedClientLoss(t *testing.T) {
	s := lostRequest()
	s.headers(1, 3, true, "grpc-status", "2", "x-b", "seen")
	s.headers(1, 5, false, ":status", "200", "content-type", "application/grpc")
	s.data(1, 5, false, true, "m1")
	s.data(1, 5, false, false, "m2")
	s.headers(1, 5, true, "grpc-status", "0", "x-b", "seen")
	got, notes := s.run()
	checkEvents(t, got[len(got)-1:], []string{"headers side=1 stream=5 end=true [grpc-status=0 x-b=seen]"})
	if !hasNote(notes, "server: "+recoveredNote) {
		t.Fatalf("no recovery note: %q", notes)
	}
}

// The client loses a DATA frame of a client-streaming call: its next new
// stream is the next id and its streaming call sends DATA again, so no
// header block was lost.
func TestGapProofClient(t *testing.T) {
	for _, next := range []uint32{5, 7} {
		s := newGapScript(true)
		s.call(1, "/a.S/One")
		s.headers(0, 3, false, ":method", "POST", ":path", "/a.S/Up", "content-type", "application/grpc")
		s.data(0, 3, false, true, "r1")
		s.headers(0, next, true, ":method", "POST", ":path", "/a.S/One", "content-type", "application/grpc")
		s.data(0, 3, true, false, "r2")
		s.headers(0, next+2, true, ":method", "POST", ":path", "/a.S/Up", "content-type", "application/grpc")
		got, notes := s.run()
		last := got[len(got)-1]
		if next == 5 {
			// Stream 5 opens at the next id: the table is back.
			checkEvents(t, []string{last}, []string{"headers side=0 stream=7 end=true [:method=POST :path=/a.S/Up content-type=application/grpc]"})
			if !hasNote(notes, "client: "+recoveredNote) {
				t.Fatalf("no recovery note: %q", notes)
			}
			continue
		}
		// Stream 7 skips id 5, which the lost bytes may have opened.
		checkEvents(t, []string{last}, []string{"headers side=0 stream=9 end=true [:method=POST ?=c1/a/e1/0 ?=c1/a/e1/1]"})
		if hasNote(notes, recoveredNote) {
			t.Fatalf("recovered past a skipped stream id: %q", notes)
		}
	}
}

// genConn writes a random connection that keeps HTTP/2's stream rules:
// calls opened by the client, answered (sometimes with a 1xx block first,
// sometimes trailers-only) by the server, DATA and trailers, header blocks
// sometimes split into CONTINUATION frames, from encoders whose table size
// changes now and then and whose fields are sometimes never indexed. Every
// header block starts with a never-indexed x-seq field naming it.
type genConn struct {
	rnd      *rand.Rand
	peers    [2]*peer
	frames   []genFrame
	truth    map[string][]hpack.HeaderField // by x-seq
	calls    []genCall
	nextID   uint32
	pushOK   bool   // the client allows push
	nextPush uint32 // the last promised stream id
	// maxLive bounds the calls under way at once: 1 for a client that
	// makes one call after another, up to 8.
	maxLive int
}

// genFrame is one frame of the connection.
type genFrame struct {
	side capture.Side
	b    []byte
}

// genCall is a call, its stream id given when it is opened, and where it
// is: phase[0] for the client (0 not opened, 1
// open, 2 ended), phase[1] for the server (0 nothing sent, 1 final
// headers sent, 2 ended).
type genCall struct {
	id    uint32
	phase [2]int
}

func newGenConn(seed int64) *genConn {
	g := &genConn{rnd: rand.New(rand.NewSource(seed)), peers: [2]*peer{newPeer(), newPeer()}, truth: map[string][]hpack.HeaderField{}, nextID: 1}
	g.maxLive = 1 + g.rnd.Intn(8)
	cl := g.peers[0]
	cl.buf.WriteString(clientPreface)
	if g.pushOK = g.rnd.Intn(4) == 0; g.pushOK {
		cl.fr.WriteSettings()
	} else {
		cl.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0})
	}
	g.take(0)
	g.peers[1].fr.WriteSettings()
	g.take(1)
	return g
}

func (g *genConn) take(side capture.Side) {
	g.frames = append(g.frames, genFrame{side, g.peers[side].take()})
}

// pick returns one of vs.
func (g *genConn) pick(vs ...string) string { return vs[g.rnd.Intn(len(vs))] }

// value returns a header value: mostly from a few, which the table then
// holds; sometimes long enough to evict entries from a small table.
func (g *genConn) value() string {
	if g.rnd.Intn(8) == 0 {
		return strings.Repeat(g.pick("v", "w"), 20+g.rnd.Intn(200))
	}
	return g.pick("a", "b", "c", "d")
}

// fields returns base followed by up to three custom fields.
func (g *genConn) fields(base ...string) []hpack.HeaderField {
	var fs []hpack.HeaderField
	for i := 0; i < len(base); i += 2 {
		fs = append(fs, hpack.HeaderField{Name: base[i], Value: base[i+1]})
	}
	for n := g.rnd.Intn(4); n > 0; n-- {
		fs = append(fs, hpack.HeaderField{Name: "x-k" + strconv.Itoa(g.rnd.Intn(5)), Value: g.value(), Sensitive: g.rnd.Intn(10) == 0})
	}
	return fs
}

// block writes a header block of side on stream id with fields fs (after
// the x-seq field), in one HEADERS frame or split into CONTINUATION.
func (g *genConn) block(side capture.Side, id uint32, end bool, fs []hpack.HeaderField) {
	p := g.peers[side]
	b := g.encode(side, fs)
	cut := len(b)
	if g.rnd.Intn(5) == 0 {
		cut = g.rnd.Intn(len(b) + 1)
	}
	p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: b[:cut], EndStream: end, EndHeaders: cut == len(b)})
	g.take(side)
	if cut < len(b) {
		p.fr.WriteContinuation(id, true, b[cut:])
		g.take(side)
	}
}

// encode returns the header block of side's fields fs after the x-seq
// field, now and then changing the encoder's table size first.
func (g *genConn) encode(side capture.Side, fs []hpack.HeaderField) []byte {
	p := g.peers[side]
	if g.rnd.Intn(6) == 0 {
		sizes := []uint32{0, 40, 100, 300, 1000, 4096}
		p.enc.SetMaxDynamicTableSize(sizes[g.rnd.Intn(len(sizes))])
	}
	seq := strconv.Itoa(len(g.truth))
	all := append([]hpack.HeaderField{{Name: "x-seq", Value: seq, Sensitive: true}}, fs...)
	g.truth[seq] = all
	p.hb.Reset()
	for _, f := range all {
		p.enc.WriteField(f)
	}
	return bytes.Clone(p.hb.Bytes())
}

// push promises a pushed response on c's stream, when the client allows
// push; the pushed stream is then a call of its own that the client has
// nothing to send on.
func (g *genConn) push(c *genCall) {
	g.nextPush += 2
	b := g.encode(1, g.fields(":method", "GET", ":scheme", "http", ":path", g.pick("/p", "/q"), ":authority", "h:1"))
	g.peers[1].fr.WritePushPromise(http2.PushPromiseParam{StreamID: c.id, PromiseID: g.nextPush, BlockFragment: b, EndHeaders: true})
	g.take(1)
	g.calls = append(g.calls, genCall{id: g.nextPush, phase: [2]int{2, 0}})
}

func (g *genConn) data(side capture.Side, id uint32, end bool) {
	g.peers[side].fr.WriteData(id, end, []byte("payload"))
	g.take(side)
}

// reset ends c on side's part with RST_STREAM (the other side may go on
// sending what it had under way).
func (g *genConn) reset(side capture.Side, c *genCall) {
	g.peers[side].fr.WriteRSTStream(c.id, http2.ErrCodeCancel)
	g.take(side)
	c.phase[side] = 2
}

// step writes the next frame of a random call, or opens a new one.
func (g *genConn) step() {
	var live []int
	for i := range g.calls {
		if c := &g.calls[i]; c.phase[0] < 2 || c.phase[1] < 2 {
			live = append(live, i)
		}
	}
	if len(live) == 0 || (len(live) < g.maxLive && g.rnd.Intn(3) == 0) {
		g.calls = append(g.calls, genCall{})
		live = append(live, len(g.calls)-1)
	}
	c := &g.calls[live[g.rnd.Intn(len(live))]]
	if c.phase[0] < 2 && (c.phase[0] == 0 || c.phase[1] == 2 || g.rnd.Intn(2) == 0) {
		g.clientStep(c)
	} else {
		g.serverStep(c)
	}
}

func (g *genConn) clientStep(c *genCall) {
	switch r := g.rnd.Intn(10); {
	case c.phase[0] == 0:
		// Stream ids go up in the order streams are opened.
		c.id, g.nextID = g.nextID, g.nextID+2
		end := r < 5
		g.block(0, c.id, end, g.fields(":method", "POST", ":scheme", "http", ":path", g.pick("/a.S/A", "/a.S/B", "/b.T/C"),
			":authority", "h:1", "content-type", "application/grpc", "te", "trailers"))
		c.phase[0] = map[bool]int{false: 1, true: 2}[end]
	case r == 0:
		g.block(0, c.id, true, g.fields())
		c.phase[0] = 2
	case r == 9:
		g.reset(0, c)
	default:
		end := r < 4
		g.data(0, c.id, end)
		if end {
			c.phase[0] = 2
		}
	}
}

func (g *genConn) serverStep(c *genCall) {
	switch r := g.rnd.Intn(20); {
	case c.phase[1] == 0 && r == 0:
		g.block(1, c.id, false, g.fields(":status", "103", "link", g.value()))
	case c.phase[1] == 0 && r < 4:
		g.block(1, c.id, true, g.fields(":status", "200", "content-type", "application/grpc", "grpc-status", g.pick("0", "5", "13")))
		c.phase[1] = 2
	case c.phase[1] == 0:
		g.block(1, c.id, false, g.fields(":status", "200", "content-type", "application/grpc"))
		c.phase[1] = 1
	case r < 8:
		g.block(1, c.id, true, g.fields("grpc-status", g.pick("0", "5", "13"), "grpc-message", g.pick("", "boom")))
		c.phase[1] = 2
	case r == 8:
		g.reset(1, c)
	case r == 9 && g.pushOK && c.id%2 == 1:
		g.push(c)
	default:
		g.data(1, c.id, r == 19)
		if r == 19 {
			c.phase[1] = 2
		}
	}
}

// truthRecorder checks each header event against the fields its block was
// written with: every field that is reported known must be the truth.
type truthRecorder struct {
	blockRecorder
	t       *testing.T
	seed    int64
	truth   map[string][]hpack.HeaderField
	checked int
}

func (r *truthRecorder) Headers(c *Conn, ev *HeadersEvent) {
	if len(ev.Fields) == 0 || ev.Fields[0].Unknown() || ev.Fields[0].Name != "x-seq" {
		r.t.Fatalf("seed %d: header event without a known x-seq first: %s", r.seed, fieldsText(ev.Fields))
	}
	want := r.truth[ev.Fields[0].Value]
	if len(ev.Fields) > len(want) || (len(ev.Fields) < len(want) && ev.Err == nil) {
		r.t.Fatalf("seed %d: block %s decoded to %d fields, written with %d", r.seed, ev.Fields[0].Value, len(ev.Fields), len(want))
	}
	for i, f := range ev.Fields {
		if (!f.NameUnknown && f.Name != want[i].Name) || (!f.ValueUnknown && f.Value != want[i].Value) {
			r.t.Fatalf("seed %d: block %s field %d reported as %s, written as %s=%s", r.seed, ev.Fields[0].Value, i, fieldsText(ev.Fields[i:i+1]), want[i].Name, want[i].Value)
		}
		r.checked++
	}
}

// lossPlan is what a capture of a genConn lost in one gap: a run of one
// side's frames, save the first head bytes of the first of them and the
// last tail bytes of the last, which were captured.
type lossPlan struct {
	frames      map[int]bool
	first, last int // the first and last lost frames
	head, tail  int
}

// runLossy feeds g to a connection with the bytes each plan lost replaced
// by one gap, as the capture reports it; it returns the connection.
func runLossy(r *truthRecorder, g *genConn, plans []lossPlan) *Conn {
	f := NewFactory(r, Options{})
	c := f.NewConn(&capture.ConnInfo{ID: 1, Addr: testAddrs, SYNSeen: true}).(*Conn)
	ts := time.Unix(1, 0)
	for i, fr := range g.frames {
		plan := lossPlan{}
		for _, p := range plans {
			if p.frames[i] {
				plan = p
			}
		}
		if !plan.frames[i] {
			c.Data(fr.side, fr.b, ts)
			continue
		}
		if i == plan.first {
			n := -plan.head - plan.tail
			for j := range plan.frames {
				n += len(g.frames[j].b)
			}
			if plan.head > 0 {
				c.Data(fr.side, fr.b[:plan.head], ts)
			}
			c.Gap(fr.side, int64(n), ts)
		}
		if i == plan.last && plan.tail > 0 {
			c.Data(fr.side, fr.b[len(fr.b)-plan.tail:], ts)
		}
	}
	c.End(capture.EndFIN, ts)
	return c
}

// lostRuns picks no run of lost frames now and then, one mostly, two now
// and then (the second after the first, on either side).
func lostRuns(g *genConn) []lossPlan {
	var plans []lossPlan
	from := 2
	for runs := []int{0, 1, 1, 1, 1, 1, 1, 1, 2, 2}[g.rnd.Intn(10)]; runs > 0 && from < len(g.frames); runs-- {
		p := lostRun(g, from)
		plans = append(plans, p)
		from = p.last + 1
	}
	return plans
}

// lostRun picks up to three consecutive frames of one side from frame from
// on, and now and then captured bytes at either end of the run, so that
// the gap starts or ends inside a frame.
func lostRun(g *genConn, from int) lossPlan {
	plan := lossPlan{frames: map[int]bool{}}
	plan.first = from + g.rnd.Intn(len(g.frames)-from)
	side := g.frames[plan.first].side
	for i, n := plan.first, 1+g.rnd.Intn(3); i < len(g.frames) && n > 0; i++ {
		if g.frames[i].side == side {
			plan.frames[i], plan.last = true, i
			n--
		}
	}
	if g.rnd.Intn(3) == 0 {
		plan.head = g.rnd.Intn(len(g.frames[plan.first].b))
	}
	if room := len(g.frames[plan.last].b) - 1; g.rnd.Intn(3) == 0 && room > 0 {
		plan.tail = g.rnd.Intn(room)
		if plan.first == plan.last {
			plan.tail = min(plan.tail, room-plan.head)
		}
	}
	return plan
}

// For random connections with a random run of one side's frames lost,
// every header field reported as known is the one written; and the table
// is recovered in a fair share of them.
func TestGapProofRandom(t *testing.T) {
	recovered, runs := 0, 6000
	if testing.Short() {
		runs = 1500
	}
	checked := 0
	for seed := int64(0); seed < int64(runs); seed++ {
		g := newGenConn(seed)
		for n := 10 + g.rnd.Intn(40); n > 0; n-- {
			g.step()
		}
		r := &truthRecorder{t: t, seed: seed, truth: g.truth}
		c := runLossy(r, g, lostRuns(g))
		checked += r.checked
		if hasNote(noteLines(c.Notes), recoveredNote) {
			recovered++
		}
	}
	t.Logf("%d of %d connections recovered the table; %d fields checked", recovered, runs, checked)
	if recovered < runs/60 {
		t.Fatalf("only %d of %d connections recovered the table", recovered, runs)
	}
}

// The fuzz targets' seed of a recovered gap recovers it when fed as they
// feed it.
func TestGapProofFuzzSeed(t *testing.T) {
	r := &recorder{}
	c := newTestConn(r, true)
	data, cuts := streamLoss(true).cuts()
	feedCuts(c, data, cuts)
	if !hasNote(noteLines(c.Notes), "server: "+recoveredNote) {
		t.Fatalf("no recovery note: %q\n%s", noteLines(c.Notes), strings.Join(r.log, "\n"))
	}
}
