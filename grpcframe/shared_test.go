package grpcframe

import (
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/grpcsniff/grpcsniff/h2decode"
)

// unary plays one unary call on stream id with the given extra request
// headers and trailers.
func (h *harness) unary(id uint32, extra []string, trailers ...string) {
	h.request(id, extra...)
	h.data(cli, id, frame(0, []byte{8, 1}), true)
	h.headers(srv, id, false, ":status", "200", "content-type", "application/grpc")
	h.data(srv, id, frame(0, []byte{8, 2}), false)
	h.headers(srv, id, true, append([]string{"grpc-status", "0"}, trailers...)...)
}

// Calls that repeat a connection's header lists share them; a list that
// differs gets its own, and the shared one is left as it was.
func TestHeaderListsShared(t *testing.T) {
	h := newHarness(t, Options{})
	h.unary(1, nil)
	h.unary(3, nil)
	h.unary(5, []string{"x-id", "5"}, "x-t", "1")
	h.unary(7, nil)
	calls := h.end()
	if len(calls) != 4 {
		t.Fatalf("%d calls", len(calls))
	}
	same := func(a, b []h2decode.HeaderField) bool { return unsafe.SliceData(a) == unsafe.SliceData(b) }
	c1, c3, c5, c7 := calls[0], calls[1], calls[2], calls[3]
	for _, c := range calls {
		req, resp, tr := c.HeadersShared()
		if !req || !resp || !tr {
			t.Errorf("stream %d: shared %v %v %v", c.StreamID, req, resp, tr)
		}
	}
	if !same(c1.RequestHeaders, c3.RequestHeaders) || !same(c1.ResponseHeaders, c5.ResponseHeaders) || !same(c1.Trailers, c3.Trailers) {
		t.Error("repeated lists not shared")
	}
	if same(c3.RequestHeaders, c5.RequestHeaders) || same(c3.Trailers, c5.Trailers) || same(c5.RequestHeaders, c7.RequestHeaders) {
		t.Error("different lists shared")
	}
	if v, _ := Header(c5.RequestHeaders, "x-id"); v != "5" || len(c1.RequestHeaders) != len(c5.RequestHeaders)-1 {
		t.Errorf("stream 5 request headers %v", c5.RequestHeaders)
	}
	if v, _ := Header(c5.Trailers, "x-t"); v != "1" || len(c7.Trailers) != 1 || cap(c7.Trailers) != 1 {
		t.Errorf("trailers %v %v", c5.Trailers, c7.Trailers)
	}
}

// A connection whose lists never repeat (a grpc-timeout per call) keeps
// them in each call's own memory, after the first few; a second trailer
// block makes a call's trailers its own, the shared list unchanged.
func TestHeaderListsNotRepeated(t *testing.T) {
	h := newHarness(t, Options{})
	for i := range 20 {
		h.unary(uint32(2*i+1), []string{"grpc-timeout", strconv.Itoa(1000-i) + "m"})
	}
	h.request(41)
	h.headers(srv, 41, false, ":status", "200", "content-type", "application/grpc")
	h.headers(srv, 41, false, "grpc-status", "0")
	h.headers(srv, 41, true, "x-late", "1")
	calls := h.end()
	shared := 0
	for _, c := range calls[:20] {
		if req, _, tr := c.HeadersShared(); req {
			shared++
		} else if !tr {
			t.Errorf("stream %d: trailers not shared", c.StreamID)
		}
		if v, _ := Header(c.RequestHeaders, "grpc-timeout"); v != strconv.Itoa(1000-int(c.StreamID-1)/2)+"m" {
			t.Errorf("stream %d: grpc-timeout %q", c.StreamID, v)
		}
	}
	if shared > sharedPerKind+1 { // the first few, and the sixteenth miss
		t.Errorf("%d of 20 unrepeated request lists shared", shared)
	}
	late := calls[20]
	if _, _, tr := late.HeadersShared(); tr || len(late.Trailers) != 2 {
		t.Errorf("late trailers %v (shared %v)", late.Trailers, tr)
	}
	if len(calls[19].Trailers) != 1 {
		t.Errorf("the shared trailers were changed: %v", calls[19].Trailers)
	}
}

// A large header block is kept in its call's own memory, not as the
// connection's shared list, which outlives the call.
func TestHeaderListsLargeNotShared(t *testing.T) {
	h := newHarness(t, Options{})
	big := strings.Repeat("v", maxSharedBytes)
	h.unary(1, []string{"x-big", big})
	h.unary(3, []string{"x-big", big})
	h.unary(5, nil)
	calls := h.end()
	for _, c := range calls[:2] {
		if req, _, _ := c.HeadersShared(); req {
			t.Errorf("stream %d: a %d-byte list shared", c.StreamID, len(big))
		}
		if v, _ := Header(c.RequestHeaders, "x-big"); v != big {
			t.Errorf("stream %d: x-big lost", c.StreamID)
		}
	}
	if req, _, _ := calls[2].HeadersShared(); !req {
		t.Error("a small list after large ones not shared")
	}
	for _, e := range h.c.User.(*connState).shared[0].entries {
		if len(e.fields) > maxSharedFields || len(e.fields) > 0 && e.fields[len(e.fields)-1].Name == "x-big" {
			t.Errorf("shared request list %v", e.fields)
		}
	}
}

// The shared lists of all connections are bounded together, and a
// connection's go when it ends.
func TestHeaderListsBudget(t *testing.T) {
	fs := fields(":status", "200", "content-type", "application/grpc")
	var l sharedList
	budget := maxSharedTotal - 10
	if got := l.keep(fs, 0, &budget); got != nil || budget != maxSharedTotal-10 {
		t.Fatalf("over the budget: kept %v, budget %d", got, budget)
	}
	budget = 0
	if got := l.keep(fs, 0, &budget); got == nil || budget <= 0 || budget != l.entries[0].cost {
		t.Fatalf("kept %v, budget %d", got, budget)
	}
	l.release(&budget)
	if budget != 0 || l.entries != nil {
		t.Fatalf("released: budget %d, entries %v", budget, l.entries)
	}

	h := newHarness(t, Options{})
	h.unary(1, nil)
	if h.a.sharedBytes <= 0 {
		t.Fatalf("sharedBytes %d with a call's lists shared", h.a.sharedBytes)
	}
	h.end()
	if h.a.sharedBytes != 0 {
		t.Errorf("sharedBytes %d after the connection ended", h.a.sharedBytes)
	}
}

// A client calling a few methods in turn on one connection shares a list
// per method; with more methods than the connection keeps, lists are made
// again, and every call still reads its own.
func TestHeaderListsMethodsInTurn(t *testing.T) {
	for _, methods := range []int{2, sharedPerKind, sharedPerKind + 1} {
		h := newHarness(t, Options{})
		for i := range 6 * methods {
			id := uint32(2*i + 1)
			path := "/m.S/M" + strconv.Itoa(i%methods)
			h.headers(cli, id, false, ":method", "POST", ":path", path, "content-type", "application/grpc")
			h.data(cli, id, frame(0, nil), true)
			h.headers(srv, id, true, ":status", "200", "content-type", "application/grpc", "grpc-status", "0")
		}
		calls := h.end()
		byPath := map[string]*Call{}
		for i, c := range calls {
			path := "/m.S/M" + strconv.Itoa(i%methods)
			if v, _ := Header(c.RequestHeaders, ":path"); v != path {
				t.Fatalf("%d methods, call %d: :path %q, want %q", methods, i, v, path)
			}
			req, _, _ := c.HeadersShared()
			first, seen := byPath[path]
			if !seen {
				byPath[path] = c
				continue
			}
			same := req && unsafe.SliceData(first.RequestHeaders) == unsafe.SliceData(c.RequestHeaders)
			if methods <= sharedPerKind && !same {
				t.Errorf("%d methods, call %d: request list not shared with the first call to %s", methods, i, path)
			}
		}
	}
}

// A block of more than maxSharedFields fields, however short, is kept in
// its call's own memory.
func TestHeaderListsManyFieldsNotShared(t *testing.T) {
	h := newHarness(t, Options{})
	var extra []string
	for i := range maxSharedFields {
		extra = append(extra, "x-"+strconv.Itoa(i), "v")
	}
	h.unary(1, extra)
	h.unary(3, extra)
	for _, c := range h.end() {
		if req, _, _ := c.HeadersShared(); req || len(c.RequestHeaders) <= maxSharedFields {
			t.Errorf("stream %d: %d request fields, shared %v", c.StreamID, len(c.RequestHeaders), req)
		}
	}
}

// A header block that the decoder names (HeadersEvent.Block) finds its list
// by that name the next time; a block of another name is compared field by
// field, and a different list is not taken for it.
func TestSharedListByBlock(t *testing.T) {
	var l sharedList
	budget := 0
	a := fields(":method", "POST", ":path", "/a.S/M")
	b := fields(":method", "POST", ":path", "/a.S/N")
	first := l.keep(a, 5, &budget)
	if first == nil {
		t.Fatal("list not shared")
	}
	if got := l.keep(b, 6, &budget); got == nil || unsafe.SliceData(got) == unsafe.SliceData(first) || got[1].Value != "/a.S/N" {
		t.Fatalf("block 6 got %v", got)
	}
	if got := l.keep(a, 5, &budget); unsafe.SliceData(got) != unsafe.SliceData(first) {
		t.Fatal("block 5 seen again did not find its list")
	}
	// The same fields under a new name (the decoder kept the block again):
	// found by comparing, and known by the new name from then on.
	if got := l.keep(a, 9, &budget); unsafe.SliceData(got) != unsafe.SliceData(first) {
		t.Fatal("equal fields under a new block name not shared")
	}
	if l.entries[0].block != 9 {
		t.Fatalf("entry known as block %d, want 9", l.entries[0].block)
	}
}
