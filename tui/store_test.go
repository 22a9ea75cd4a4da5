package tui

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/grpcsniff/grpcsniff/filter"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// A record stays at 72 bytes: with its row index and call pointer, a
// call costs the list under 100 bytes.
func TestRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(rec{}); n > 72 {
		t.Errorf("a record takes %d bytes, want at most 72", n)
	}
}

// Hostile input cannot overflow the small numbers of status names and
// HTTP methods: past maxNames they read as "…", and the names before
// keep theirs, whatever the number of methods interned between.
func TestNamesStaySmall(t *testing.T) {
	var n interner
	for i := range 1000 {
		n.str(fmt.Sprintf("/m%d", i)) // many methods first
	}
	get := n.name("GET")
	for i := range 2 * maxNames {
		n.name(fmt.Sprintf("VERB%d", i))
	}
	if n.names[get] != "GET" || n.names[n.name("VERB99999")] != "…" || len(n.names) > maxNames {
		t.Errorf("GET reads %q, a late verb %q, %d names", n.names[get], n.names[n.name("VERB99999")], len(n.names))
	}
	r := n.recOf(&grpcframe.Call{HTTPMethod: "GET", Protocol: grpcframe.ProtoHTTP})
	if n.names[r.httpVerb] != "GET" {
		t.Errorf("the record's verb reads %q", n.names[r.httpVerb])
	}
}

// Byte counts of 4 GiB and more, which a record cannot hold, are kept
// beside it.
func TestBigByteCounts(t *testing.T) {
	var n interner
	big := &grpcframe.Call{ConnID: 7, StreamID: 3, Requests: []*grpcframe.Message{{Length: 3e9}, {Length: 3e9}}}
	r := n.recOf(big)
	up, down := n.bytesOf(&r)
	if up != int64(grpcframe.WireBytes(big.Requests)) || down != 0 {
		t.Errorf("bytes %d and %d, want %d and 0", up, down, grpcframe.WireBytes(big.Requests))
	}
	var s filter.Summary
	n.fillSummary(&s, &r)
	if s.Bytes != up {
		t.Errorf("the filter reads %d bytes, want %d", s.Bytes, up)
	}
}
