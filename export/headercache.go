package export

import (
	"net/netip"
	"slices"
	"time"
	"unsafe"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// Encoder writes calls as AppendCall does, remembering what repeats from
// call to call (see encodeCache): the JSON of header lists, of connections'
// endpoints, of methods and other strings, of the current second and the
// last times. It is for one goroutine writing many
// calls; the zero value is ready to use, with the zero Options.
type Encoder struct {
	Options Options
	cache   encodeCache
}

// AppendCall appends the JSON object for one call: the bytes of
// AppendCall(b, c, e.Options).
func (e *Encoder) AppendCall(b []byte, c *grpcframe.Call) []byte {
	return appendCall(b, c, e.Options, &e.cache)
}

// encodeCache is what an Encoder remembers of the calls it wrote: their
// header lists, their connections' endpoints, their methods, the text of
// the last second a time fell in (a call has four or more times, mostly in
// the same second as the last call's) and the last two times. A nil cache
// writes everything each time.
type encodeCache struct {
	headers   headerCache
	endpoints [endpointSlots]endpointSlot
	sec       int64 // Unix seconds of secText; secText[0] == 0 before the first
	secText   [21]byte
	strs      [stringSlots]stringSlot
	// times are the last two times written, with their JSON: a unary
	// call's request message comes with its start, and its response,
	// first response and end are often one packet's time.
	times    [2]timeSlot
	nextTime uint8
}

type timeSlot struct {
	t    time.Time
	json [32]byte
	n    uint8
}

// stringSlots is how many strings of a call's own fields (its method) are
// remembered with their JSON, by address. Its transport, protocol and state
// are values of small enumerations, written from tables (appendName).
const (
	stringSlotBits = 5
	stringSlots    = 1 << stringSlotBits
)

type stringSlot struct {
	s    string // kept, so that no other string can take its address
	json []byte
}

// appendString is the package's appendString, remembered for the strings
// calls repeat: their method is the same string as the last call's (HPACK
// hands back its table entry's or an interned literal). A string found at
// the same address with the same length is the same string, so its JSON is
// copied without a look at it.
func (ec *encodeCache) appendString(b []byte, s string) []byte {
	if ec == nil || len(s) == 0 || len(s) > 256 {
		return appendString(b, s)
	}
	p := unsafe.StringData(s)
	slot := &ec.strs[(uint64(uintptr(unsafe.Pointer(p)))*0x9e3779b97f4a7c15)>>(64-stringSlotBits)]
	if unsafe.StringData(slot.s) == p && len(slot.s) == len(s) {
		return append(b, slot.json...)
	}
	start := len(b)
	b = appendString(b, s)
	slot.s, slot.json = s, append(slot.json[:0], b[start:]...)
	return b
}

// endpointSlots is how many connections' endpoints are remembered, by
// connection number: more than the calls of a batch usually come from.
const endpointSlots = 64

type endpointSlot struct {
	conn           uint64
	client, server netip.AddrPort
	json           []byte
}

// appendEndpoints is the package's appendEndpoints, remembered per
// connection.
func (ec *encodeCache) appendEndpoints(b []byte, c *grpcframe.Call) []byte {
	if ec == nil {
		return appendEndpoints(b, c)
	}
	s := &ec.endpoints[c.ConnID%endpointSlots]
	if s.json != nil && s.conn == c.ConnID && s.client == c.Client && s.server == c.Server {
		return appendEndpointsJSON(b, s.json)
	}
	start := len(b)
	b = appendEndpoints(b, c)
	s.conn, s.client, s.server = c.ConnID, c.Client, c.Server
	s.json = append(s.json[:0], b[start:]...)
	return b
}

// appendEndpointsJSON appends the remembered JSON of appendEndpoints, which
// starts with the key "conn": appendKey's comma is up to what precedes.
func appendEndpointsJSON(b, json []byte) []byte {
	if json[0] == ',' {
		json = json[1:]
	}
	if n := len(b); n > 0 && b[n-1] != '{' && b[n-1] != '[' {
		b = append(b, ',')
	}
	return append(b, json...)
}

// appendTime is the package's appendTime, with the date and time of day
// written once per second.
func (ec *encodeCache) appendTime(b []byte, t time.Time) []byte {
	if ec == nil || t.IsZero() {
		return appendTime(b, t)
	}
	// The same representation is the same instant in the same location
	// (another representation of it only misses).
	for i := range ec.times {
		if ts := &ec.times[i]; ts.n > 0 && ts.t == t {
			return append(b, ts.json[:ts.n]...)
		}
	}
	if sec := t.Unix(); ec.secText[0] == 0 || sec != ec.sec {
		// appendSecond writes its 21 bytes into secText's room.
		if _, ok := appendSecond(ec.secText[:0], sec); !ok {
			return appendTime(b, t)
		}
		ec.sec = sec
	}
	start := len(b)
	b = append(b, ec.secText[:]...)
	b = appendNanos(b, t.Nanosecond())
	b = append(b, 'Z', '"')
	ts := &ec.times[ec.nextTime]
	ts.t, ts.n = t, uint8(copy(ts.json[:], b[start:]))
	ec.nextTime ^= 1
	return b
}

// Most calls repeat the header lists of calls before them, field for field:
// a client sends the same request headers on every call to a method, a
// server the same response headers and trailers. HPACK then hands back the
// same strings for them (an indexed field's text is its table entry's, and
// h2decode interns short literals), so the strings' addresses find a list
// written before in a small table, and its JSON is copied rather than
// written again: the header lists are about a tenth of the cost of a
// unary call's JSON. The table holds the fields it remembers, so their
// strings stay alive, and a list is copied only when equal to the one
// remembered, field by field: a collision costs a miss, never a wrong line.
//
// A list the call says is shared (grpcframe.Call.HeadersShared) is found by
// its address alone, in slots of its own: such a list and its memory never
// change, and the slot holds on to it, so the address cannot come back with
// other fields. Reading the fields of each list again was most of the cost
// of writing them: they were made on another CPU.
type headerCache struct {
	slots  [headerCacheSlots]headerSlot
	shared [headerCacheSlots]headerSlot
}

type headerSlot struct {
	fields []h2decode.HeaderField
	json   []byte
}

const (
	headerCacheBits  = 6
	headerCacheSlots = 1 << headerCacheBits
	// Lists longer than maxCachedHeaderFields fields, or whose JSON is
	// longer than maxCachedHeaderJSON, are written each time: they are
	// rarely repeated (cookies, tokens), and the table stays small.
	maxCachedHeaderFields = 32
	maxCachedHeaderJSON   = 2048
)

// headerCache returns ec's header lists, nil for a nil ec.
func (ec *encodeCache) headerCache() *headerCache {
	if ec == nil {
		return nil
	}
	return &ec.headers
}

// append appends the JSON of hs, as appendHeaders does. A nil cache writes
// it each time.
func (hc *headerCache) append(b []byte, hs []h2decode.HeaderField) []byte {
	if hc == nil || len(hs) == 0 || len(hs) > maxCachedHeaderFields {
		return appendHeaders(b, hs)
	}
	s := &hc.slots[headerSlotOf(hs)]
	if slices.Equal(s.fields, hs) {
		return append(b, s.json...)
	}
	start := len(b)
	b = appendHeaders(b, hs)
	if len(b)-start <= maxCachedHeaderJSON {
		s.fields = append(s.fields[:0], hs...)
		s.json = append(s.json[:0], b[start:]...)
	}
	return b
}

// appendList appends the JSON of a call's header list, shared between calls
// or not.
func (hc *headerCache) appendList(b []byte, hs []h2decode.HeaderField, shared bool) []byte {
	if shared {
		return hc.appendShared(b, hs)
	}
	return hc.append(b, hs)
}

// appendShared is append for a list shared between calls.
func (hc *headerCache) appendShared(b []byte, hs []h2decode.HeaderField) []byte {
	if hc == nil || len(hs) == 0 {
		return hc.append(b, hs)
	}
	p := unsafe.SliceData(hs)
	s := &hc.shared[(uint64(uintptr(unsafe.Pointer(p)))*0x9e3779b97f4a7c15)>>(64-headerCacheBits)]
	if unsafe.SliceData(s.fields) == p && len(s.fields) == len(hs) {
		return append(b, s.json...)
	}
	start := len(b)
	b = hc.append(b, hs)
	if len(b)-start <= maxCachedHeaderJSON {
		s.fields = hs // not copied: it never changes
		s.json = append(s.json[:0], b[start:]...)
	}
	return b
}

// headerSlotOf returns the table slot of a list: a hash of the addresses of
// its strings, which are the same each time HPACK hands back the same
// fields.
func headerSlotOf(hs []h2decode.HeaderField) int {
	h := uint64(len(hs))
	for i := range hs {
		f := &hs[i]
		h = (h ^ uint64(uintptr(unsafe.Pointer(unsafe.StringData(f.Name))))) * 0x9e3779b97f4a7c15
		h = (h ^ uint64(uintptr(unsafe.Pointer(unsafe.StringData(f.Value))))) * 0x9e3779b97f4a7c15
	}
	return int(h >> (64 - headerCacheBits)) // the best-mixed bits
}
