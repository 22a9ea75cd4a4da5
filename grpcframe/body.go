package grpcframe

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// DATA: how each side's body is read (bodyMode), and the messages it holds
// handed on (finishMessage).

// Data implements h2decode.Handler. The bytes go to the side's messages,
// base64-decoded first for grpc-web-text, or to its HTTP body, as
// sideMode decided at the side's first data.
//
// Data runs for every DATA frame: what nearly every frame takes (gRPC
// messages whose boundaries are known) is read here, and only the rarer
// cases are methods of their own, so that the common one costs no further
// call.
func (a *Assembler) Data(c *h2decode.Conn, ev *h2decode.DataEvent) {
	s := a.stream(c, ev.StreamID, ev.Time)
	if s == nil {
		return
	}
	s.lastSeen = ev.Time
	call := s.call
	side := ev.Side
	if !s.sideKnown && s.headers[side] == 0 && s.headers[side.Other()] == 0 && !call.StartedBeforeCapture && !call.LostBytes {
		a.startMissing(c, call)
	}
	if s.sideKnown && side != s.clientSide && call.FirstResponse.IsZero() {
		call.FirstResponse = ev.Time
	}
	if s.headers[side] == 0 && !s.msgs[side].desync && !s.dataSeen[side] {
		a.dataBeforeHeaders(c, s, side)
	}
	s.dataSeen[side] = true
	mode := a.sideMode(s, side)
	if ev.Lost != 0 {
		a.dataLost(s, side, mode, ev.Lost, ev.Time)
	}
	if len(ev.Data) > 0 && mode == modeRaw {
		a.bodyData(s, side, ev.Data, ev.Time)
	}
	keep := a.opts.MaxMessageSize
	if a.opts.KeepPayload != nil && !a.opts.KeepPayload(call) {
		keep = -1
	}
	switch {
	case len(ev.Data) == 0 || mode == modeRaw:
	case mode == modeText:
		a.textData(s, side, ev, keep)
	case s.msgs[side].desync:
		a.resyncData(c, s, side, ev, keep)
	default:
		s.msgs[side].feed(ev.Data, ev.Time, keep, func(m *Message) { a.finishMessage(s, side, m) })
	}
	if ev.EndStream {
		a.endSide(c, s, side, ev.Time)
	}
}

// dataBeforeHeaders marks a side whose first data came before any of its
// headers.
func (a *Assembler) dataBeforeHeaders(c *h2decode.Conn, s *stream, side capture.Side) {
	// This side's data began before its headers were captured: the
	// bytes may start in the middle of a message, and any 5 bytes would
	// pass for a prefix. Splitting them would invent messages.
	s.msgs[side].desync = true
	s.call.note(h2decode.NoteLostBytes, fmt.Sprintf("data from %s began before the capture: its messages are not shown until a DATA frame holding whole messages marks a boundary", c.Info.Addr[side]))
}

// dataLost accounts for n bytes of a side's DATA that were not captured
// (-1: an unknown number), as its body mode reads them.
func (a *Assembler) dataLost(s *stream, side capture.Side, mode bodyMode, n int64, t time.Time) {
	s.call.LostBytes = true
	done := func(m *Message) { a.finishMessage(s, side, m) }
	switch mode {
	case modeFramed:
		s.msgs[side].lost(n, t, done)
	case modeText:
		// Base64 quanta no longer line up with anything known.
		s.msgs[side].loseSync(t, done)
	case modeRaw:
		a.bodyLost(s, side, n, t)
	}
}

// textData reads DATA of a grpc-web-text side: base64, decoded and then
// split into messages as gRPC-Web's are. keep bounds the bytes kept of a
// message (see msgReader.feed).
func (a *Assembler) textData(s *stream, side capture.Side, ev *h2decode.DataEvent, keep int) {
	r := &s.msgs[side]
	if r.desync {
		return
	}
	done := func(m *Message) { a.finishMessage(s, side, m) }
	out, err := s.webState().b64[side].decode(ev.Data)
	r.feed(out, ev.Time, keep, done)
	if err != nil {
		s.call.note(h2decode.NoteMalformed, err.Error()+"; the rest of this direction is not decoded")
		r.loseSync(ev.Time, done)
	}
}

// resyncData reads DATA of a gRPC or gRPC-Web side whose message boundaries
// are lost: it looks for them again (msgReader.resync). keep bounds the
// bytes kept of a message.
func (a *Assembler) resyncData(c *h2decode.Conn, s *stream, side capture.Side, ev *h2decode.DataEvent, keep int) {
	done := func(m *Message) { a.finishMessage(s, side, m) }
	enc := s.encoding[side]
	if s.msgs[side].resync(ev.Data, ev.FrameStart, int(ev.FrameDataLen), enc != "" && enc != "identity", ev.Time, keep, done) {
		s.call.note(h2decode.NoteInferred, fmt.Sprintf("messages from %s found again after lost bytes, at a DATA frame holding whole messages (inferred)", c.Info.Addr[side]))
	}
}

// webStream is the state of a stream whose bodies are base64 or kept
// whole.
type webStream struct {
	b64  [2]b64Reader
	body [2]*Message // the HTTP body being collected
	// bodyHole: bytes of the body were lost; later bytes are not kept.
	bodyHole [2]bool
}

func (s *stream) webState() *webStream {
	if s.web == nil {
		s.web = &webStream{}
	}
	return s.web
}

// bodyMode says how one side's DATA is read.
type bodyMode uint8

const (
	modeUnset  bodyMode = iota
	modeFramed          // length-prefixed gRPC messages
	modeText            // base64 of length-prefixed messages (grpc-web-text)
	modeRaw             // an HTTP body, kept whole (bounded)
)

// sideMode decides, at a side's first data, how its bytes are read: from
// its own content-type when its headers said, else from the call's
// protocol.
func (a *Assembler) sideMode(s *stream, side capture.Side) bodyMode {
	if m := s.mode[side]; m != modeUnset {
		return m
	}
	call := s.call
	proto := call.Protocol
	ct := s.ctype[side]
	if s.ctypeKnown[side] {
		proto = protocolOf(ct)
		if proto == ProtoHTTP && call.Protocol.OverHTTP() {
			// A Connect or Twirp unary body (application/proto, or
			// JSON), or the JSON of an error: not gRPC, and not plain
			// HTTP either.
			proto = call.Protocol
		}
		if proto == ProtoHTTP && call.Protocol != ProtoHTTP {
			call.note(h2decode.NoteNotDecoded, fmt.Sprintf("the %s body is not gRPC (content-type %q): kept whole", a.sideRole(s, side), ct))
		}
	} else if call.Protocol != ProtoHTTP {
		// Messages without their own content-type follow the request's
		// (or response's) format.
		ct = s.ctype[0] + s.ctype[1]
		if s.ctypeKnown[side.Other()] {
			ct = s.ctype[side.Other()]
		}
	}
	s.format[side] = formatOf(ct, proto)
	switch {
	case proto == ProtoHTTP || proto == ProtoTwirp || (proto == ProtoConnect && !connectStreaming(ct)):
		s.mode[side] = modeRaw
	case proto == ProtoGRPCWebText:
		s.mode[side] = modeText
		s.msgs[side].endFlag = s.responseFlag(side, webTrailerFlag)
	default:
		s.mode[side] = modeFramed
		switch proto {
		case ProtoGRPCWeb:
			s.msgs[side].endFlag = s.responseFlag(side, webTrailerFlag)
		case ProtoConnect:
			s.msgs[side].endFlag = s.responseFlag(side, connectEndStream)
		}
	}
	return s.mode[side]
}

// responseFlag is flag when side is the call's server as far as the
// stream shows (or nothing shows which side is which), else 0: only a
// response ends with trailers in a message.
func (s *stream) responseFlag(side capture.Side, flag byte) byte {
	if s.sideKnown && side == s.clientSide {
		return 0
	}
	return flag
}

func (a *Assembler) sideRole(s *stream, side capture.Side) string {
	if s.sideKnown && side == s.clientSide {
		return "request"
	}
	return "response"
}

// bodyData adds bytes to a side's HTTP body, keeping at most
// Options.MaxMessageSize of them.
func (a *Assembler) bodyData(s *stream, side capture.Side, b []byte, t time.Time) {
	w := s.webState()
	m := w.body[side]
	if m == nil {
		m = s.msgs[side].newMessage()
		m.Body, m.Format = true, s.format[side]
		w.body[side] = m
	}
	m.Time = t
	m.Length = satAdd(m.Length, int64(len(b)))
	if room := a.opts.MaxMessageSize - len(m.Data); room > 0 && !w.bodyHole[side] {
		take := min(len(b), room)
		if m.Data == nil {
			m.Data = make([]byte, 0, min(a.opts.MaxMessageSize, max(take, 4096)))
		}
		m.Data = append(m.Data, b[:take]...)
	}
	if len(b) > 0 && int64(m.Length) > int64(len(m.Data)) && !m.Truncated && m.Err == "" {
		m.Truncated, m.why = true, h2decode.NoteLimit
		m.Err = fmt.Sprintf("body longer than the %d-byte limit: only its first bytes kept", a.opts.MaxMessageSize)
	}
}

func (a *Assembler) bodyLost(s *stream, side capture.Side, n int64, t time.Time) {
	a.bodyData(s, side, nil, t)
	m := s.web.body[side]
	if n > 0 {
		m.Length = satAdd(m.Length, n)
	}
	m.Truncated, m.why = true, h2decode.NoteLostBytes
	m.Err = "bytes of this body were not captured: only those before the first hole are kept"
	s.web.bodyHole[side] = true
}

// satAdd adds n (>= 0) to l, stopping at the largest uint32. n is an int64
// so that a count of 2 GiB or more stays positive on 32-bit platforms too.
func satAdd(l uint32, n int64) uint32 {
	if v := int64(l) + min(n, 1<<32); v < 1<<32 {
		return uint32(v)
	}
	return 1<<32 - 1
}

// endBody hands on a side's HTTP body.
func (a *Assembler) endBody(s *stream, side capture.Side) {
	if s.web == nil {
		return
	}
	if m := s.web.body[side]; m != nil {
		s.web.body[side] = nil
		a.finishMessage(s, side, m)
	}
}

func (a *Assembler) finishMessage(s *stream, side capture.Side, m *Message) {
	if m.trailer {
		if s.call.Protocol == ProtoConnect {
			a.connectEndStream(s, side, m)
		} else {
			a.webTrailers(s, m)
		}
		return
	}
	if !m.Body {
		m.Format = s.format[side]
	}
	if m.Body && s.encoding[side] != "" && s.encoding[side] != "identity" && !m.Truncated {
		m.Compressed = true
	}
	over := int64(m.Length) > int64(a.opts.MaxMessageSize)
	if m.Body {
		over = false // said in the message's error
	}
	if m.Compressed && !m.Truncated && !m.discarded {
		enc := s.encoding[side]
		switch enc {
		case "", "identity":
			m.Err = "compressed flag set but grpc-encoding is " + strconv.Quote(enc) + " (a protocol error); payload shown as sent"
		default:
			out, err := a.dec.decompress(enc, m.Data, a.opts.MaxMessageSize)
			if err != nil {
				m.Err = err.Error()
				if m.Body {
					m.Err = strings.Replace(m.Err, "grpc-encoding", "content-encoding", 1)
				}
				if _, bomb := err.(errTooLarge); bomb {
					m.Data, m.Encoding, m.Truncated, m.why = out, enc, true, h2decode.NoteLimit
					over = true
				}
			} else {
				m.Data, m.Encoding = out, enc
			}
		}
	}
	if over {
		a.stats.OverSize++
		s.call.note(h2decode.NoteLimit, fmt.Sprintf("a message was larger than the %d-byte limit (after decompression); only its first bytes were kept", a.opts.MaxMessageSize))
	}
	if m.Body && s.call.Protocol.OverHTTP() && a.rpcBody(s, side, m) {
		return
	}
	s.got[side] = append(s.got[side], m)
	if a.opts.OnMessage != nil {
		call := s.call
		if !call.Client.IsValid() {
			info := s.conn.Info
			if s.isClient(side) {
				call.Client, call.Server = info.Addr[side], info.Addr[side.Other()]
			} else {
				call.Client, call.Server = info.Addr[side.Other()], info.Addr[side]
			}
		}
		a.opts.OnMessage(call, s.isClient(side), len(s.got[side])-1, m)
	}
	a.progress(s.conn, s)
}
