package grpcframe

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/h2decode"
	"golang.org/x/net/http2"
)

// describe writes down everything a sink can read of a call.
func describe(c *Call) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d %s %s %s client=%v state=%v reset=%v/%s start=%v first=%v end=%v lost=%v before=%v trailersOnly=%v\n",
		c.ConnID, c.StreamID, c.Method, c.HTTPMethod, c.Protocol, c.ClientBy, c.State, c.ResetCode, c.ResetBy,
		c.Start.UnixNano(), c.FirstResponse.UnixNano(), c.End.UnixNano(), c.LostBytes, c.StartedBeforeCapture, c.TrailersOnly)
	for _, hs := range [][]h2decode.HeaderField{c.RequestHeaders, c.ResponseHeaders, c.Trailers} {
		fmt.Fprintf(&b, "  %v\n", hs)
	}
	if c.Status != nil {
		fmt.Fprintf(&b, "  status %+v\n", *c.Status)
	}
	for _, ms := range [][]*Message{c.Requests, c.Responses} {
		for _, m := range ms {
			fmt.Fprintf(&b, "  msg len=%d %q trunc=%v err=%q body=%v\n", m.Length, m.Data, m.Truncated, m.Err, m.Body)
		}
		b.WriteString("  --\n")
	}
	fmt.Fprintf(&b, "  notes %q\n", noteLines(c.Notes))
	return b.String()
}

// recycleScenario feeds calls of different shapes (many messages and
// headers, a Trailers-Only answer, an HTTP body, a call reset and expired
// after its grace period) through h.
func recycleScenario(h *harness) {
	big := bytes.Repeat([]byte("x"), 5000)
	for round := range 3 {
		id := uint32(1 + 8*round)
		h.request(id, "x-round", fmt.Sprint(round), "x-a", "1", "x-b", "2")
		h.data(cli, id, frame(0, big), false)
		h.data(cli, id, frame(0, []byte("\x08\x01")), true)
		h.headers(srv, id, false, ":status", "200", "content-type", "application/grpc")
		h.data(srv, id, append(frame(0, []byte("\x08\x02")), frame(0, []byte("\x08\x03"))...), false)
		h.headers(srv, id, true, "grpc-status", "3", "grpc-message", "bad%20round")

		h.request(id + 2)
		h.headers(srv, id+2, true, ":status", "200", "content-type", "application/grpc", "grpc-status", "5")

		h.headers(cli, id+4, false, ":method", "GET", ":scheme", "http", ":path", "/index.html")
		h.headers(srv, id+4, false, ":status", "200", "content-type", "text/html")
		h.data(srv, id+4, []byte("<html>"), true)

		// Reset by the client, then by the server: finished at once.
		h.request(id + 6)
		h.data(cli, id+6, frame(0, big)[:100], false) // a message cut short
		h.a.Reset(h.c, cli, id+6, http2.ErrCodeCancel, h.tick())
		h.a.Reset(h.c, srv, id+6, http2.ErrCodeCancel, h.tick())
		// Reset by the client alone: finished when its grace period ends.
		h.request(id + 8)
		h.data(cli, id+8, frame(0, []byte("\x08\x07")), false)
		h.a.Reset(h.c, cli, id+8, http2.ErrCodeCancel, h.tick())
		h.data(cli, id+10, nil, false) // a stream that stays open
		h.a.Tick(h.tick().Add(2 * resetGrace))
	}
}

// Calls built in recycled memory read the same as calls built in new
// memory, and that memory is reused.
func TestRecycleSameCalls(t *testing.T) {
	fresh := newHarness(t, Options{})
	recycleScenario(fresh)
	var want []string
	for _, c := range fresh.end() {
		want = append(want, describe(c))
	}

	h := &harness{t: t, now: time.Unix(1000, 0)}
	var got []string
	seen := map[*callMem]bool{}
	reused := 0
	h.a = NewAssembler(SinkFunc(func(c *Call) {
		got = append(got, describe(c))
		if seen[c.mem] {
			reused++
		}
		seen[c.mem] = true
		Recycle(c)
	}), Options{})
	h.c = newHarness(t, Options{}).c
	recycleScenario(h)
	h.end()
	if len(got) != len(want) {
		t.Fatalf("%d calls, %d with new memory", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("call %d built in recycled memory:\n%s\nin new memory:\n%s", i, got[i], want[i])
		}
	}
	if reused == 0 {
		t.Fatal("no call was built in recycled memory")
	}
}

// A reset call waits for its grace period in a list that names its stream
// state. When the call finishes sooner and its memory goes to a new call,
// the end of the grace period must not end the new call.
func TestRecycledResetNotExpiredTwice(t *testing.T) {
	h := newHarness(t, Options{})
	var ended []uint32
	h.a = NewAssembler(SinkFunc(func(c *Call) {
		ended = append(ended, c.StreamID)
		Recycle(c)
	}), Options{EmitOnFinish: true})
	for i := range 20 {
		id := uint32(1 + 4*i)
		h.request(id)
		h.a.Reset(h.c, cli, id, http2.ErrCodeCancel, h.tick())
		// The server's trailers end the call inside its grace period.
		h.headers(srv, id, true, ":status", "200", "content-type", "application/grpc", "grpc-status", "1")
		h.request(id + 2) // likely in the memory just recycled
		h.a.Tick(h.tick().Add(2 * resetGrace))
		if len(ended) != 1 || ended[0] != id {
			t.Fatalf("round %d: calls ended %v; stream %d is still open", i, ended, id+2)
		}
		h.headers(srv, id+2, true, ":status", "200", "content-type", "application/grpc", "grpc-status", "0")
		ended = ended[:0]
	}
}

// A poisoned call reads as such: the test of the command's outputs relies
// on it to find a call read after it was recycled.
func TestPoisonRecycled(t *testing.T) {
	h := newHarness(t, Options{})
	h.request(1)
	h.data(cli, 1, frame(0, []byte("\x08\x01")), true)
	h.headers(srv, 1, true, ":status", "200", "content-type", "application/grpc", "grpc-status", "0")
	c := h.end()[0]
	setHooks(t, testHooks{poisonRecycled: true})
	Recycle(c)
	d := describe(c)
	if strings.Contains(d, "SayHello") || strings.Contains(d, "\\b\\x01") || !strings.Contains(d, poisoned) {
		t.Fatalf("poisoned call reads:\n%s", d)
	}
}

// noteLines writes notes down as "kind: text" lines.
func noteLines(ns []h2decode.Note) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Kind.String()+": "+n.Text)
	}
	return out
}
