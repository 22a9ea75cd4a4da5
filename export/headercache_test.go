package export

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// TestEncoderMatchesAppendCall writes every call of the shipped captures
// with one Encoder, whose header lists mostly come from its cache, and
// checks each line against AppendCall's.
func TestEncoderMatchesAppendCall(t *testing.T) {
	files, _ := filepath.Glob("../testdata/pcaps/*.pcap*")
	if len(files) < 10 {
		t.Fatalf("only %d captures found", len(files))
	}
	var e Encoder
	var hits int
	for _, f := range files {
		for _, c := range benchCalls(t, f) {
			want := string(AppendCall(nil, c, Options{}))
			if got := string(e.AppendCall(nil, c)); got != want {
				t.Fatalf("%s stream %d:\ngot  %s\nwant %s", f, c.StreamID, got, want)
			}
			if len(c.RequestHeaders) > 0 && e.cache.headers.slots[headerSlotOf(c.RequestHeaders)].json != nil {
				hits++
			}
		}
	}
	if hits == 0 {
		t.Error("no header list was remembered")
	}
}

// TestHeaderCacheVerifies puts another list's JSON in the slot of a list
// (a collision) and checks that the list is still written as it is.
func TestHeaderCacheVerifies(t *testing.T) {
	a := []h2decode.HeaderField{{Name: ":status", Value: "200"}, {Name: "content-type", Value: "application/grpc"}}
	b := []h2decode.HeaderField{{Name: ":status", Value: "503"}, {Name: "content-type", Value: "application/grpc"}}
	var hc headerCache
	s := &hc.slots[headerSlotOf(b)]
	s.fields, s.json = a, appendHeaders(nil, a)
	if got, want := string(hc.append(nil, b)), string(appendHeaders(nil, b)); got != want {
		t.Fatalf("collision: got %s, want %s", got, want)
	}
	// Equal text in other strings than the remembered ones: the same JSON,
	// from the cache or not.
	c := []h2decode.HeaderField{{Name: strings.Clone(":status"), Value: strings.Clone("503")}, {Name: "content-type", Value: "application/grpc"}}
	if got, want := string(hc.append(nil, c)), string(appendHeaders(nil, b)); got != want {
		t.Fatalf("copied strings: got %s, want %s", got, want)
	}
	if got, want := string(hc.append([]byte("x"), b)), "x"+string(appendHeaders(nil, b)); got != want {
		t.Fatalf("from the cache: got %s, want %s", got, want)
	}
}

// TestHeaderCacheShared checks the lists found by address: the same list
// again comes from the cache, a shorter slice of it or another list with
// the same fields does not, and each is written as it is.
func TestHeaderCacheShared(t *testing.T) {
	a := []h2decode.HeaderField{{Name: ":status", Value: "200"}, {Name: "content-type", Value: "application/grpc"}}
	var hc headerCache
	for _, hs := range [][]h2decode.HeaderField{a, a, a[:1], a, append([]h2decode.HeaderField(nil), a...), a[1:]} {
		if got, want := string(hc.appendShared([]byte("x"), hs)), "x"+string(appendHeaders(nil, hs)); got != want {
			t.Fatalf("%v: got %s, want %s", hs, got, want)
		}
	}
}

// TestEncodeCacheTimes checks the remembered seconds against appendTime:
// times within a second, across seconds, days and years, before 1970, zero,
// and outside the years 0 to 9999 (which the general formatter writes).
func TestEncodeCacheTimes(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	base := []time.Time{time.Unix(1763708788, 815247000), time.Unix(0, 0), time.Unix(-1, 999999999),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(-1, 6, 1, 0, 0, 0, 5, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), {}}
	var ec encodeCache
	var recent []time.Time
	zone := time.FixedZone("X", 3600)
	for range 20000 {
		tm := base[r.IntN(len(base))]
		if !tm.IsZero() {
			tm = tm.Add(time.Duration(r.Int64N(3e9)) - 1e9)
		}
		// Times written again (the last two are remembered), also as
		// another location's representation of the same instant.
		if len(recent) > 0 && r.IntN(2) == 0 {
			tm = recent[r.IntN(len(recent))]
			if r.IntN(4) == 0 {
				tm = tm.In(zone)
			}
		}
		recent = append(recent[max(0, len(recent)-2):], tm)
		if got, want := string(ec.appendTime([]byte("x"), tm)), "x"+string(appendTime(nil, tm)); got != want {
			t.Fatalf("%v: got %s, want %s", tm, got, want)
		}
	}
}

// TestEncodeCacheEndpoints checks the remembered endpoints: connections
// that share a slot, and a connection number seen again with other
// addresses, are written as they are, after a '{' or another key.
func TestEncodeCacheEndpoints(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.1:40000")
	b := netip.MustParseAddrPort("[fe80::1%eth0]:50051")
	c := netip.MustParseAddrPort("10.0.0.3:443")
	calls := []grpcframe.Call{{ConnID: 1, Client: a, Server: b}, {ConnID: 1 + endpointSlots, Client: a, Server: c},
		{ConnID: 1, Client: a, Server: b}, {ConnID: 1, Client: c, Server: b}, {ConnID: 1, Client: c, Server: b}}
	var ec encodeCache
	for i := range calls {
		for _, prefix := range []string{"{", `{"k":1`} {
			got := string(ec.appendEndpoints([]byte(prefix), &calls[i]))
			if want := string(appendEndpoints([]byte(prefix), &calls[i])); got != want {
				t.Fatalf("call %d after %s: got %s, want %s", i, prefix, got, want)
			}
		}
	}
}

// Strings remembered by address write what appendString writes: the same
// string again, a prefix of it (same address, shorter), an equal one
// elsewhere, another of the same length, one that needs escaping, and more
// strings than slots.
func TestEncodeCacheStrings(t *testing.T) {
	method := "/grpc.testing.TestService/UnaryCall"
	other := "/grpc.testing.TestService/EmptyCall" // same length
	copied := string([]byte(method))
	quoted := "a \"quoted\"\n\u2028 name"
	ss := []string{method, method, method[:12], other, copied, quoted, method, "", quoted}
	for i := range 3 * stringSlots {
		ss = append(ss, fmt.Sprintf("/s%d/M", i), method)
	}
	var ec encodeCache
	for i, s := range ss {
		got := string(ec.appendString([]byte(`{"k":`), s))
		if want := string(appendString([]byte(`{"k":`), s)); got != want {
			t.Fatalf("string %d (%q): got %s, want %s", i, s, got, want)
		}
	}
	if hit := &ec.strs[(uint64(uintptr(unsafe.Pointer(unsafe.StringData(method))))*0x9e3779b97f4a7c15)>>(64-stringSlotBits)]; hit.s != method {
		t.Fatalf("the method is not remembered: slot holds %q", hit.s)
	}
}

// TestNameTables checks that a name from a table is what appendString
// writes of it, for every value of each enumeration.
func TestNameTables(t *testing.T) {
	for v := range 256 {
		if got, want := appendName(nil, transportJSON, h2decode.Transport(v)), appendString(nil, h2decode.Transport(v).String()); string(got) != string(want) {
			t.Errorf("transport %d: %s, want %s", v, got, want)
		}
		if got, want := appendName(nil, protocolJSON, grpcframe.Protocol(v)), appendString(nil, grpcframe.Protocol(v).String()); string(got) != string(want) {
			t.Errorf("protocol %d: %s, want %s", v, got, want)
		}
		if got, want := appendName(nil, stateJSON, grpcframe.State(v)), appendString(nil, grpcframe.State(v).String()); string(got) != string(want) {
			t.Errorf("state %d: %s, want %s", v, got, want)
		}
	}
}
