package h2decode

import (
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"golang.org/x/net/http2"
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
