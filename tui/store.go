package tui

import (
	"math"
	"net/netip"
	"time"

	"github.com/grpcsniff/grpcsniff/filter"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// rec is one call as the list keeps it: a fixed-size record of numbers,
// with its strings and addresses interned, so that a capture of millions
// of calls is listed, sorted and filtered without holding the calls. The
// full call (headers, messages) is kept beside it while the budget allows,
// and is otherwise read again from the capture when it is opened.
type rec struct {
	start int64 // Unix nanoseconds; valid with fStarted
	// dur is what the duration column shows: the call's duration, or for
	// an open call the time up to its last message.
	dur int64
	// bup and bdown are the wire bytes sent by the client and by the
	// server, up to 4 GiB; beyond, fBigBytes says the interner has them.
	bup, bdown  uint32
	conn        uint32 // connection numbers stay far below 2³²
	stream      uint32
	reqs, resps uint32
	method      uint32 // interned Method
	inferred    uint32 // interned MethodInferred
	client      uint32 // interned Client
	server      uint32 // interned Server
	code        int32  // grpc-status, -1 without one
	status      uint16 // Status.Name, by interner.name
	httpStatus  uint16
	flags       recFlags
	httpVerb    uint8 // HTTPMethod, by interner.name
	state       grpcframe.State
	proto       grpcframe.Protocol
}

// recFlags are a call's yes/no facts.
type recFlags uint16

const (
	fStarted        recFlags = 1 << iota // Start is known
	fEnded                               // End is known
	fMethodUnknown                       // Call.MethodUnknown
	fStatusUnknown                       // Call.StatusUnknown
	fLost                                // Call.LostBytes
	fBeforeCapture                       // Call.StartedBeforeCapture
	fPreflight                           // Call.CORSPreflight
	fRequestHeaders                      // the request headers were captured
	fBigBytes                            // a direction sent 4 GiB or more
)

// interner numbers the distinct strings and addresses of the records.
type interner struct {
	strs   []string
	strIdx map[string]uint32
	addrs  []netip.AddrPort
	addrIx map[netip.AddrPort]uint32
	// big holds the byte counts of the calls too big for a record.
	big map[callKey][2]uint64
	// names are the few-valued strings, status names and HTTP methods,
	// numbered apart so that their indexes stay small (see name).
	names   []string
	nameIdx map[string]uint16
}

// maxNames bounds the distinct status names and HTTP methods; beyond it
// (hostile input), a new one reads as "…". HTTP methods must fit a byte.
const maxNames = 255

// name numbers a status name or HTTP method.
func (n *interner) name(s string) uint16 {
	if i, ok := n.nameIdx[s]; ok {
		return i
	}
	if n.nameIdx == nil {
		n.nameIdx = map[string]uint16{"…": 0}
		n.names = []string{"…"}
		if s == "…" {
			return 0
		}
	}
	if len(n.names) >= maxNames {
		return 0
	}
	i := uint16(len(n.names))
	n.names = append(n.names, s)
	n.nameIdx[s] = i
	return i
}

func (n *interner) str(s string) uint32 {
	if i, ok := n.strIdx[s]; ok {
		return i
	}
	if n.strIdx == nil {
		n.strIdx = map[string]uint32{}
	}
	i := uint32(len(n.strs))
	n.strs = append(n.strs, s)
	n.strIdx[s] = i
	return i
}

func (n *interner) addr(a netip.AddrPort) uint32 {
	if i, ok := n.addrIx[a]; ok {
		return i
	}
	if n.addrIx == nil {
		n.addrIx = map[netip.AddrPort]uint32{}
	}
	i := uint32(len(n.addrs))
	n.addrs = append(n.addrs, a)
	n.addrIx[a] = i
	return i
}

// recOf makes the record of c.
func (n *interner) recOf(c *grpcframe.Call) rec {
	r := rec{
		conn: uint32(min(c.ConnID, math.MaxUint32)), stream: c.StreamID,
		reqs: uint32(len(c.Requests)), resps: uint32(len(c.Responses)),
		method: n.str(c.Method), inferred: n.str(c.MethodInferred), status: n.name(""),
		client: n.addr(c.Client), server: n.addr(c.Server),
		code: -1, httpStatus: uint16(c.HTTPStatus), httpVerb: uint8(n.name(c.HTTPMethod)),
		proto: c.Protocol,
	}
	if c.Status != nil {
		r.code, r.status = int32(max(min(c.Status.Code, math.MaxInt32), math.MinInt32+1)), n.name(c.Status.Name)
	}
	n.setBytes(&r, c)
	setTiming(&r, c)
	r.flags |= flagsOf(c)
	return r
}

// setTiming puts in r what c's duration is shown from: its state, start,
// end and duration (for an open call, up to its last message).
func setTiming(r *rec, c *grpcframe.Call) {
	r.state, r.dur = c.State, int64(c.Duration())
	if !c.Start.IsZero() {
		r.start = c.Start.UnixNano()
		r.flags |= fStarted
	}
	if !c.End.IsZero() {
		r.flags |= fEnded
	} else if c.State == 0 && !c.Start.IsZero() {
		r.dur = int64(lastActivity(c).Sub(c.Start))
	}
	if c.StartedBeforeCapture {
		r.flags |= fBeforeCapture
	}
}

// setBytes puts the wire bytes of c in r, or in big when they do not fit.
func (n *interner) setBytes(r *rec, c *grpcframe.Call) {
	up, down := uint64(grpcframe.WireBytes(c.Requests)), uint64(grpcframe.WireBytes(c.Responses))
	if up <= math.MaxUint32 && down <= math.MaxUint32 {
		r.bup, r.bdown = uint32(up), uint32(down)
		return
	}
	if n.big == nil {
		n.big = map[callKey][2]uint64{}
	}
	n.big[callKey{c.ConnID, c.StreamID}] = [2]uint64{up, down}
	r.bup, r.bdown = math.MaxUint32, math.MaxUint32
	r.flags |= fBigBytes
}

// bytesOf returns the wire bytes of r's call each way.
func (n *interner) bytesOf(r *rec) (up, down int64) {
	if r.has(fBigBytes) {
		b := n.big[callKey{uint64(r.conn), r.stream}]
		return int64(b[0]), int64(b[1])
	}
	return int64(r.bup), int64(r.bdown)
}

// flagsOf returns the yes/no facts of c but those of its timing
// (setTiming).
func flagsOf(c *grpcframe.Call) recFlags {
	var f recFlags
	for _, x := range []struct {
		on   bool
		flag recFlags
	}{
		{c.MethodUnknown, fMethodUnknown}, {c.StatusUnknown, fStatusUnknown}, {c.LostBytes, fLost},
		{c.CORSPreflight, fPreflight},
		{len(c.RequestHeaders) > 0, fRequestHeaders},
	} {
		if x.on {
			f |= x.flag
		}
	}
	return f
}

func (r *rec) has(f recFlags) bool { return r.flags&f != 0 }

// startKey orders by start, unknown starts first.
func (r *rec) startKey() int64 {
	if !r.has(fStarted) {
		return math.MinInt64
	}
	return r.start
}

// durKey is Call.Duration as time.Time.Sub gives it, saturated for a
// missing start or end, so that sorting by duration orders records as it
// ordered the calls.
func (r *rec) durKey() int64 {
	started, ended := r.has(fStarted), r.has(fEnded)
	switch {
	case !started && !ended:
		return 0
	case !ended:
		return math.MinInt64
	case !started:
		return math.MaxInt64
	}
	return r.dur
}

// statusRank orders statuses: by code, calls without one last.
func (r *rec) statusRank() int {
	if r.code < 0 {
		return 1 << 20
	}
	return int(r.code)
}

// fillSummary sets s to the record as the filter reads it.
func (n *interner) fillSummary(s *filter.Summary, r *rec) {
	*s = filter.Summary{
		ConnID: uint64(r.conn), StreamID: r.stream, Method: n.strs[r.method], MethodInferred: n.strs[r.inferred], Protocol: r.proto,
		Client: n.addrs[r.client], Server: n.addrs[r.server],
		HasStatus: r.code >= 0, Code: int(r.code), StatusUnknown: r.has(fStatusUnknown),
		State: r.state, Ended: r.has(fEnded), Duration: time.Duration(r.dur),
		Requests: int(r.reqs), Responses: int(r.resps),
	}
	up, down := n.bytesOf(r)
	s.Bytes = up + down
}
