package grpcframe

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/grpcsniff/grpcsniff/h2decode"
)

// What a header block says, read once per block (blockFacts), and what it
// sets in its call: the request headers, the response headers, the
// trailers or a Trailers-Only response.

// blockFacts is what Headers reads of a header block's fields, besides what
// readRequestHeaders and readTrailers read: whether it has request
// pseudo-headers (a :method or :path whose name is known), and the first
// field of each name below whose name and value are known (as Header finds
// it). They are read
// in one pass over the fields, and kept for a block the decoder named
// (HeadersEvent.Block), which has the same fields each time it comes.
type blockFacts struct {
	block           uint64
	requestPseudo   bool
	seen            uint8 // factCT, …: which of the fields below the block has
	contentType     string
	status          string // :status
	httpStatus      int    // status as a number (0 when it is not one)
	grpcEncoding    string
	contentEncoding string
	connectEncoding string // Connect-Content-Encoding
}

// Bits of blockFacts.seen.
const (
	factCT uint8 = 1 << iota
	factStatus
	factGRPCStatus
	factGRPCEncoding
	factContentEncoding
	factConnectEncoding
)

// factSlots is how many blocks' facts a connection keeps, by block id: a
// client's requests to a method or two, a server's response headers and
// trailers.
const factSlots = 4

// readFacts reads the facts of the block whose fields are fs into f.
func readFacts(f *blockFacts, fs []h2decode.HeaderField) {
	*f = blockFacts{}
	for i := range fs {
		h := &fs[i]
		if h.NameUnknown {
			continue
		}
		if h.Name == ":method" || h.Name == ":path" {
			f.requestPseudo = true
			continue
		}
		if h.ValueUnknown {
			continue
		}
		var bit uint8
		switch h.Name {
		case "content-type":
			bit = factCT
		case ":status":
			bit = factStatus
		case "grpc-status":
			bit = factGRPCStatus
		case "grpc-encoding":
			bit = factGRPCEncoding
		case "content-encoding":
			bit = factContentEncoding
		case "connect-content-encoding":
			bit = factConnectEncoding
		default:
			continue
		}
		if f.seen&bit != 0 {
			continue // Header finds the first
		}
		f.seen |= bit
		switch bit {
		case factCT:
			f.contentType = h.Value
		case factStatus:
			f.status = h.Value
			f.httpStatus, _ = strconv.Atoi(h.Value)
		case factGRPCEncoding:
			f.grpcEncoding = h.Value
		case factContentEncoding:
			f.contentEncoding = h.Value
		case factConnectEncoding:
			f.connectEncoding = h.Value
		}
	}
}

// factsOf returns the facts of ev's block: those kept for it when the
// decoder named it, else read into the assembler's scratch.
func (a *Assembler) factsOf(c *h2decode.Conn, ev *h2decode.HeadersEvent) *blockFacts {
	if ev.Block == 0 {
		readFacts(&a.facts, ev.Fields)
		return &a.facts
	}
	f := &a.conn(c).facts[ev.Block%factSlots]
	if f.block != ev.Block {
		readFacts(f, ev.Fields)
		f.block = ev.Block
	}
	return f
}

// Headers implements h2decode.Handler. A side's first block is the
// request headers (request pseudo-headers, or the side known to be the
// client's), else the server's response headers or Trailers-Only response;
// a later block from the same side is trailers.
func (a *Assembler) Headers(c *h2decode.Conn, ev *h2decode.HeadersEvent) {
	s := a.openStream(c, ev.StreamID, ev.Time, a.opts.Tally != nil)
	if s == nil {
		return
	}
	s.lastSeen = ev.Time
	call := s.call
	facts := a.factsOf(c, ev)
	first := s.headers[ev.Side] == 0
	isRequest := first && facts.requestPseudo
	if s.held && !isRequest {
		a.order(s)
	}
	if first && !isRequest && !ev.EndStream && facts.interim() {
		// 100 Continue, 103 Early Hints: the final response follows.
		return
	}
	if s.headers[ev.Side] < math.MaxUint32 {
		s.headers[ev.Side]++
	}
	if first && facts.seen&factCT != 0 {
		s.ctype[ev.Side], s.ctypeKnown[ev.Side] = facts.contentType, true
	}
	if ev.Err != nil || ev.Truncated {
		a.noteBlockProblems(call, ev)
	}
	switch {
	case isRequest || (first && s.fromKnownClient(ev)):
		a.requestHeaders(c, s, ev, facts)
	case first:
		a.serverFirstBlock(c, s, ev, facts)
	default:
		a.laterTrailers(c, call, ev)
	}
	if ev.EndStream {
		a.endSide(c, s, ev.Side, ev.Time)
	}
}

// fromKnownClient reports whether ev, the first block of its side, comes
// from the side the connection knows as the client, before anything of the
// stream said which side that was: request headers whose pseudo-headers
// were not recovered.
func (s *stream) fromKnownClient(ev *h2decode.HeadersEvent) bool {
	c := s.conn
	return !s.sideKnown && s.headers[ev.Side.Other()] == 0 && c.ClientKnown() && c.Client == ev.Side
}

// noteBlockProblems notes in the call what the decoder could not read of
// the block, and counts it.
func (a *Assembler) noteBlockProblems(call *Call, ev *h2decode.HeadersEvent) {
	if ev.Err != nil {
		kind := h2decode.NoteMalformed
		if errors.Is(ev.Err, h2decode.ErrTableSizeOverLimit) {
			kind = h2decode.NoteLimit
			a.stats.TableOverLimit++
		}
		call.note(kind, fmt.Sprintf("header block partly undecodable: %v", ev.Err))
	}
	if ev.Truncated {
		call.note(h2decode.NoteLimit, "header list over the size limit: some fields left out")
		a.stats.HeaderListCut++
	}
}

// requestHeaders reads the client's first block: the request headers,
// which say the call's method and protocol.
func (a *Assembler) requestHeaders(c *h2decode.Conn, s *stream, ev *h2decode.HeadersEvent, facts *blockFacts) {
	call := s.call
	s.clientSide, s.sideKnown = ev.Side, true
	call.RequestHeaders = a.keepFields(c, call, sharedRequest, ev)
	if cs := a.conn(c); cs.firstRequest == 0 || ev.StreamID < cs.firstRequest {
		cs.firstRequest = ev.StreamID
	}
	if len(s.got[ev.Side]) > 0 || s.msgs[ev.Side].nhdr > 0 {
		call.note(h2decode.NoteMalformed, "request headers after request data")
	}
	a.readRequestHeaders(call, ev.Fields)
	if call.Protocol == ProtoConnect && call.HTTPMethod == "GET" {
		path, _ := Header(ev.Fields, ":path")
		a.connectGetRequest(s, ev.Side, path, ev.Time)
	}
	if s.held {
		a.tallyOrOrder(s)
	}
	s.encoding[ev.Side] = facts.encoding(call)
	// Only a browser sends CORS preflights, and a browser cannot make
	// a native gRPC call (it has no access to HTTP/2 trailers): those
	// calls, nearly all of a capture, skip the pairing.
	if call := s.call; !call.CORSPreflight && !call.MethodUnknown && call.Method != "" && call.Protocol != ProtoGRPC {
		a.ord.link(call, preflightKey{c.Info.Addr[s.clientSide].Addr(), c.Info.Addr[s.clientSide.Other()], call.Method, call.HTTPMethod})
	}
	a.progress(c, s)
}

// tallyOrOrder decides where a held call goes once its request headers
// are read: to Options.Tally when it is a native gRPC call of a method
// TallyMethod accepts, else to the orderer.
func (a *Assembler) tallyOrOrder(s *stream) {
	// Method and protocol are known now, and do not change.
	call := s.call
	if call.Protocol == ProtoGRPC && !call.MethodUnknown && (a.opts.TallyMethod == nil || a.opts.TallyMethod(call.Method)) {
		s.held, s.tally = false, true
	} else {
		a.order(s)
	}
}

// serverFirstBlock reads the server's first block: response headers, or
// Trailers-Only.
func (a *Assembler) serverFirstBlock(c *h2decode.Conn, s *stream, ev *h2decode.HeadersEvent, facts *blockFacts) {
	call := s.call
	if !s.sideKnown {
		s.clientSide, s.sideKnown = ev.Side.Other(), true
		a.startMissing(c, call)
	}
	if call.FirstResponse.IsZero() {
		call.FirstResponse = ev.Time
	}
	if facts.seen&factStatus != 0 {
		call.HTTPStatus = facts.httpStatus
	}
	if call.RequestHeaders == nil && s.ctypeKnown[ev.Side] {
		// The request was not captured: the response says what it was.
		call.setProtocol(protocolOf(s.ctype[ev.Side]))
	}
	hasStatus := facts.seen&factGRPCStatus != 0
	// Trailers-Only: one header block holding the status. Over HTTP/1.1
	// (gRPC-Web) it cannot end the stream by itself: an empty body
	// follows it.
	web := call.Protocol == ProtoGRPCWeb || call.Protocol == ProtoGRPCWebText
	// Connect and Twirp responses are never trailers: a block ending the
	// stream is a response with an empty body.
	rpc := call.Protocol.OverHTTP()
	if !rpc && ((ev.EndStream && call.Protocol != ProtoHTTP) || (hasStatus && (ev.EndStream || web))) {
		call.TrailersOnly = true
		call.Trailers = a.keepFields(c, call, sharedTrailers, ev)
		a.readTrailers(call, ev.Fields)
	} else {
		call.ResponseHeaders = a.keepFields(c, call, sharedResponse, ev)
		s.encoding[ev.Side] = facts.encoding(call)
	}
	if call.Protocol == ProtoConnect {
		connectUnaryTrailers(call, ev.Fields)
	}
}

// laterTrailers reads a later block from the same side: trailers (or,
// from the client, trailers that gRPC does not use).
func (a *Assembler) laterTrailers(c *h2decode.Conn, call *Call, ev *h2decode.HeadersEvent) {
	if call.Trailers == nil {
		call.Trailers = a.keepFields(c, call, sharedTrailers, ev)
	} else {
		// A new array: a list's capacity ends at its length.
		call.Trailers = append(call.Trailers, ev.Fields...)
		call.shared &^= sharedTrailers
	}
	a.readTrailers(call, ev.Fields)
}

// interim reports a 1xx response other than 101.
func (f *blockFacts) interim() bool {
	st := f.status
	return f.seen&factStatus != 0 && len(st) == 3 && st[0] == '1' && st != "101"
}

// encoding is the compression of the messages of the side that sent the
// block: grpc-encoding for gRPC and gRPC-Web, Connect-Content-Encoding for
// Connect's streams, content-encoding for an HTTP body (a Connect or
// Twirp unary message is one).
func (f *blockFacts) encoding(call *Call) string {
	switch {
	case call.Protocol == ProtoConnect && connectStreaming(f.contentType):
		return strings.ToLower(strings.TrimSpace(f.connectEncoding))
	case call.Protocol == ProtoHTTP || call.Protocol.OverHTTP():
		return strings.ToLower(strings.TrimSpace(f.contentEncoding))
	}
	return f.grpcEncoding
}

// keepFields keeps a header block, which the decoder only lends for the
// event, for a call: as the connection's shared list of its kind when the
// block repeats it (or starts a new one), else in the call's own memory.
func (a *Assembler) keepFields(c *h2decode.Conn, call *Call, kind uint8, ev *h2decode.HeadersEvent) []h2decode.HeaderField {
	fs := ev.Fields
	if len(fs) == 0 {
		return nil
	}
	if l := a.conn(c).shared[bits.TrailingZeros8(kind)].keep(fs, ev.Block, &a.sharedBytes); l != nil {
		call.shared |= kind
		return l
	}
	return call.keepFields(fs)
}

// keepFields copies a header block, which the decoder only lends for the
// event, into the call's own memory.
func (c *Call) keepFields(fs []h2decode.HeaderField) []h2decode.HeaderField {
	if len(fs) == 0 {
		return nil
	}
	if cap(c.hdr) == 0 {
		// Room for the request's, the response's and the trailers' fields
		// of a usual call.
		c.hdr = make([]h2decode.HeaderField, 0, max(16, len(fs)))
	}
	n := len(c.hdr)
	c.hdr = append(c.hdr, fs...)
	return c.hdr[n:len(c.hdr):len(c.hdr)]
}

func (c *Call) setProtocol(p Protocol) {
	c.Protocol = p
	c.GRPC = p != ProtoHTTP
}

func (a *Assembler) readRequestHeaders(call *Call, fs []h2decode.HeaderField) {
	ctSeen, anyUnknown, acrm := false, false, false
	var ct string
	var rpc rpcRequest
	for i := range fs {
		f := &fs[i]
		if f.Unknown() {
			anyUnknown = true
		}
		if f.NameUnknown {
			continue
		}
		switch f.Name {
		case ":path":
			if f.ValueUnknown {
				call.MethodUnknown = true
			} else {
				call.Method = f.Value
			}
		case ":method":
			if !f.ValueUnknown {
				call.HTTPMethod = f.Value
			}
		case "content-type":
			if !f.ValueUnknown {
				ctSeen, ct = true, f.Value
				call.setProtocol(protocolOf(f.Value))
			}
		case "access-control-request-method":
			acrm = true
		case "connect-protocol-version":
			rpc.connectVersion = true
		case "twirp-version":
			rpc.twirpVersion = true
		}
	}
	if !ctSeen && !anyUnknown {
		// gRPC always has a content-type: a request without one is plain
		// HTTP (a GET, a CORS preflight, …).
		call.setProtocol(ProtoHTTP)
	}
	call.CORSPreflight = acrm && call.HTTPMethod == "OPTIONS" && !ctSeen
	if call.Protocol == ProtoHTTP || call.Protocol == ProtoConnect {
		rpcOverHTTP(call, ct, rpc)
	}
	if call.Method == "" {
		call.MethodUnknown = true
		for i := range fs {
			if fs[i].Unknown() {
				call.note(h2decode.NoteHeadersUnknown, "method unreadable: the request headers refer to HPACK table entries "+unknownWhy(fs[i].Ref))
				break
			}
		}
	}
}

// unknownWhy says where an unknown table entry came from: before the
// capture began (epoch 0) or before a gap in it.
func unknownWhy(r h2decode.TableRef) string {
	if r.Epoch == 0 {
		return "inserted before the capture began"
	}
	return "whose state was lost in a gap in the capture"
}

func (a *Assembler) readTrailers(call *Call, fs []h2decode.HeaderField) {
	code, ok := Header(fs, "grpc-status")
	if !ok {
		for i := range fs {
			if fs[i].Unknown() {
				// grpc-status may be among the fields HPACK could not
				// recover; say so rather than report no status.
				call.StatusUnknown = true
				call.note(h2decode.NoteHeadersUnknown, "grpc-status unreadable: the trailers refer to HPACK table entries "+unknownWhy(fs[i].Ref))
				break
			}
		}
		return
	}
	call.StatusUnknown = false
	n, err := strconv.Atoi(code)
	if err != nil {
		call.note(h2decode.NoteMalformed, fmt.Sprintf("grpc-status %q is not a number", code))
		return
	}
	st := call.newStatus()
	*st = Status{Code: n, Name: CodeName(n)}
	if m, ok := Header(fs, "grpc-message"); ok {
		st.Message = percentDecode(m)
	}
	if d, ok := Header(fs, "grpc-status-details-bin"); ok {
		b, err := DecodeBinHeader(d)
		if err != nil {
			st.DetailsErr = "grpc-status-details-bin is not base64: " + err.Error()
		} else {
			parseStatusDetails(st, b)
		}
	}
	call.Status = st
}
