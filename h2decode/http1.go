package h2decode

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// HTTP/1.x connections are decoded into the same events as HTTP/2 ones, so
// that the layer above needs one code path: each request becomes a stream
// with a synthetic odd id (1, 3, 5, … in request order), its head a
// HeadersEvent with the pseudo-headers an HTTP/2 peer would have sent
// (:method, :scheme "http", :authority from Host, :path; :status on
// responses), its body DataEvents (chunked bodies are de-chunked), and a
// chunked body's trailer section a HeadersEvent that ends the stream.
// Responses are paired with requests first in, first out (RFC 9112 §9.3).
// Interim 1xx responses (100 Continue, 103 Early Hints) are skipped; a 101
// or a successful CONNECT ends decoding (what follows is another protocol).
//
// Bodies are streamed, never held. A gap inside a body of known length is
// reported as lost bytes on its stream; a gap anywhere else loses the
// message framing: the stream in progress is marked lost, and decoding
// resumes at the next line that looks like a request line (or status line).

// maxHTTP1Head bounds an HTTP/1.1 request or response head.
const maxHTTP1Head = 64 << 10

// maxH1Line bounds a chunk-size line.
const maxH1Line = 4 << 10

// maxH1Pending bounds the requests waiting for their response on one
// connection.
const maxH1Pending = 1024

// http1Methods are the request methods a start line is recognised by,
// each with the space that follows it.
var http1Methods = []string{"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "}

// looksHTTP1 reports whether b starts like an HTTP/1.x status line or a
// request line of a known method.
func looksHTTP1(b []byte) bool {
	if bytes.HasPrefix(b, []byte("HTTP/1.")) {
		return true
	}
	for _, m := range http1Methods {
		if bytes.HasPrefix(b, []byte(m)) {
			return true
		}
	}
	return false
}

// mayBecomeHTTP1 reports whether b is too short to tell but could still
// start an HTTP/1.x request or response.
func mayBecomeHTTP1(b []byte) bool {
	if len(b) >= 8 {
		return false
	}
	if bytes.HasPrefix([]byte("HTTP/1."), b) {
		return true
	}
	for _, m := range http1Methods {
		if bytes.HasPrefix([]byte(m), b) {
			return true
		}
	}
	return false
}

type h1Phase uint8

const (
	h1Head      h1Phase = iota // collecting a start line and header section
	h1Body                     // a Content-Length body: left bytes to come
	h1ChunkSize                // collecting a chunk-size line
	h1ChunkData                // left bytes of chunk data
	h1ChunkEnd                 // the CRLF that ends chunk data
	h1Trailers                 // collecting a chunked body's trailer section
	h1Close                    // a response body delimited by the connection's end
	h1Resync                   // looking for a start line after framing was lost
	h1Tunnel                   // after a 101 or a CONNECT: not decoded
)

// h1Dir is the HTTP/1.x state of one direction.
type h1Dir struct {
	phase    h1Phase
	left     int64
	stream   uint32 // the stream whose body is being read (0: none)
	headTime time.Time
	headSeen bool // a start line was parsed in this direction
}

// h1Conn is the HTTP/1.x state of a connection.
type h1Conn struct {
	dirs    [2]h1Dir // d.h1() of each direction
	nextID  uint32
	pending []h1Request // requests waiting for their response, oldest first
	shaky   bool        // framing was lost (said once): pairing after it is inferred
}

type h1Request struct {
	id      uint32
	head    bool // a HEAD request: its response has no body
	connect bool
}

// h1 is the HTTP/1.x state of the direction, once the connection is
// HTTP/1.x (c.h1 set).
func (d *dirState) h1() *h1Dir { return &d.c.h1.dirs[d.side] }

func (c *Conn) newH1Stream() uint32 {
	id := c.h1.nextID
	if id == 0 {
		id = 1
	}
	c.h1.nextID = id + 2
	return id
}

// startH1 turns the connection into an HTTP/1.x one: both directions are
// decoded from what they have buffered.
func (c *Conn) startH1(t time.Time) {
	if c.h1 != nil {
		return
	}
	c.Kind = KindHTTP1
	c.h1 = &h1Conn{nextID: 1}
	if c.up != nil {
		c.declineUpgrade()
	}
	for s := range c.dirs {
		d := &c.dirs[s]
		switch d.mode {
		case modeOff, modeH1:
			continue
		case modeFrames:
			// cannot happen for a connection without HTTP/2.
			continue
		}
		buf := d.buf
		d.buf = nil
		d.chunkStarts = nil
		d.mode = modeH1
		if d.h1().phase != h1Body {
			d.h1().phase = h1Head
			if len(buf) > 0 && !looksHTTP1(buf) && !mayBecomeHTTP1(buf) {
				d.h1().phase = h1Resync
			}
		}
		d.h1().headTime = t
		if len(buf) > 0 {
			d.h1Feed(buf, t)
		}
	}
}

// declineUpgrade turns an h2c Upgrade request the server did not accept
// into HTTP/1.1 request 1.
func (c *Conn) declineUpgrade() {
	up := c.up
	c.up = nil
	d := &c.dirs[c.Client]
	id := c.newH1Stream()
	c.h1.pending = append(c.h1.pending, h1Request{id: id})
	hasBody := len(up.body) > 0 || !up.bodyDone
	hev := &c.f.hev
	*hev = HeadersEvent{Side: d.side, StreamID: id, Fields: up.fields, EndStream: !hasBody, Time: up.time}
	c.f.h.Headers(c, hev)
	*hev = HeadersEvent{}
	if len(up.body) > 0 {
		d.emitData(DataEvent{Side: d.side, StreamID: id, Data: up.body, EndStream: up.bodyDone, Time: up.bodyTime})
	}
	up.body = nil
	if !up.bodyDone {
		d.h1().phase, d.h1().left, d.h1().stream = h1Body, up.bodyLeft, id
		d.mode = modeH1
	}
}

// h1Feed decodes bytes of an HTTP/1.x direction.
func (d *dirState) h1Feed(data []byte, t time.Time) {
	h := d.h1()
	for len(data) > 0 && d.mode == modeH1 {
		switch h.phase {
		case h1Tunnel:
			return
		case h1Body, h1ChunkData:
			n := min(int64(len(data)), h.left)
			h.left -= n
			d.emitData(DataEvent{Side: d.side, StreamID: h.stream, Data: data[:n], Time: t})
			data = data[n:]
			if h.left == 0 {
				d.h1BodyPartDone(t)
			}
		case h1Close:
			d.emitData(DataEvent{Side: d.side, StreamID: h.stream, Data: data, Time: t})
			return
		case h1ChunkEnd:
			// CRLF after chunk data; a bare LF is tolerated.
			switch data[0] {
			case '\r':
				data = data[1:]
			case '\n':
				data = data[1:]
				h.phase = h1ChunkSize
			default:
				d.h1Lost(t, NoteMalformed, "chunk data not followed by CRLF")
				d.buf = append(d.buf, data...)
				data = nil
				d.h1Step(t)
			}
		default:
			if h.phase == h1Resync && startsWithStartLine(data) {
				// Segments often begin with a message.
				d.buf = d.buf[:0]
			}
			if len(d.buf) == 0 {
				h.headTime = t
			}
			d.buf = append(d.buf, data...)
			data = nil
			d.h1Step(t)
			if d.mode == modeH1 && len(d.buf) > 0 && h.streaming() {
				data = d.buf
				d.buf = nil
			}
		}
	}
}

func (h *h1Dir) streaming() bool {
	switch h.phase {
	case h1Body, h1ChunkData, h1ChunkEnd, h1Close:
		return true
	}
	return false
}

// h1BodyPartDone is called when a Content-Length body or a chunk's data
// has been read whole.
func (d *dirState) h1BodyPartDone(t time.Time) {
	h := d.h1()
	if h.phase == h1ChunkData {
		h.phase = h1ChunkEnd
		return
	}
	d.emitData(DataEvent{Side: d.side, StreamID: h.stream, EndStream: true, Time: t})
	h.stream = 0
	h.phase = h1Head
}

// h1Step parses the buffered phases (head, chunk-size line, trailers,
// resync) until more bytes are needed or a streamed phase begins.
func (d *dirState) h1Step(t time.Time) {
	for d.mode == modeH1 {
		var more bool
		switch d.h1().phase {
		case h1Head:
			more = d.h1ReadHead(t)
		case h1ChunkSize:
			more = d.h1ReadChunkSize(t)
		case h1Trailers:
			more = d.h1ReadTrailers(t)
		case h1Resync:
			more = d.h1FindStartLine(t)
		}
		if !more {
			return
		}
	}
}

// h1ReadHead reads a start line and header section from buf, in phase
// h1Head. Like the other phases h1Step reads, it reports whether to go on:
// false when more bytes are needed or a streamed phase begins.
func (d *dirState) h1ReadHead(t time.Time) bool {
	h := d.h1()
	// Empty lines between messages are allowed (RFC 9112 §2.2).
	i := 0
	for i < len(d.buf) && (d.buf[i] == '\r' || d.buf[i] == '\n') {
		i++
	}
	if i > 0 {
		d.buf = d.buf[i:]
	}
	if len(d.buf) == 0 {
		return false
	}
	if !looksHTTP1(d.buf) && !mayBecomeHTTP1(d.buf) {
		d.h1Lost(t, NoteMalformed, "bytes that are not an HTTP/1.x request or status line where a message should start")
		return true
	}
	end, n := headEnd(d.buf)
	if end < 0 {
		if len(d.buf) > maxHTTP1Head {
			d.h1Lost(t, NoteLimit, "HTTP/1.x head longer than the limit")
			return true
		}
		return false
	}
	head := d.buf[:end]
	rest := d.buf[end+n:]
	d.h1Head(head, t)
	d.buf = rest
	h.headTime = t
	return !h.streaming() && len(d.buf) > 0
}

// h1ReadChunkSize reads a chunk-size line from buf, in phase h1ChunkSize,
// and reports whether to go on (see h1ReadHead).
func (d *dirState) h1ReadChunkSize(t time.Time) bool {
	h := d.h1()
	i := bytes.IndexByte(d.buf, '\n')
	if i < 0 {
		if len(d.buf) > maxH1Line {
			d.h1Lost(t, NoteLimit, "chunk-size line too long")
			return true
		}
		return false
	}
	line := bytes.TrimRight(d.buf[:i], "\r")
	if j := bytes.IndexByte(line, ';'); j >= 0 {
		line = line[:j] // chunk extensions
	}
	size, err := strconv.ParseUint(strings.TrimSpace(string(line)), 16, 63)
	if err != nil {
		d.h1Lost(t, NoteMalformed, "bad chunk size")
		return true
	}
	d.buf = d.buf[i+1:]
	if size == 0 {
		h.phase = h1Trailers
		return true
	}
	h.phase, h.left = h1ChunkData, int64(size)
	return false
}

// h1ReadTrailers reads the trailer section that ends a chunked body from
// buf, in phase h1Trailers, and ends the body's stream: with a HeadersEvent
// of the trailers, or without when the section is empty. It reports
// whether to go on (see h1ReadHead).
func (d *dirState) h1ReadTrailers(t time.Time) bool {
	h := d.h1()
	if len(d.buf) == 0 {
		return false
	}
	var fields []HeaderField
	switch {
	case bytes.HasPrefix(d.buf, []byte("\r\n")):
		d.buf = d.buf[2:]
	case d.buf[0] == '\n':
		d.buf = d.buf[1:]
	case len(d.buf) == 1 && d.buf[0] == '\r':
		return false
	default:
		end, n := headEnd(d.buf)
		if end < 0 {
			// The section may also end with the first empty line
			// right after one field line: headEnd finds that.
			if len(d.buf) > maxHTTP1Head {
				d.h1Lost(t, NoteLimit, "trailer section longer than the limit")
				return true
			}
			return false
		}
		fields = parseFieldLines(d.buf[:end], nil)
		d.buf = d.buf[end+n:]
	}
	stream := h.stream
	h.stream = 0
	h.phase = h1Head
	if len(fields) > 0 {
		d.c.f.hev = HeadersEvent{Side: d.side, StreamID: stream, Fields: fields, EndStream: true, Time: t}
		d.c.f.h.Headers(d.c, &d.c.f.hev)
		d.c.f.hev = HeadersEvent{}
	} else {
		d.emitData(DataEvent{Side: d.side, StreamID: stream, EndStream: true, Time: t})
	}
	return true
}

// h1FindStartLine looks in buf for a start line after framing was lost, in
// phase h1Resync, and reports whether to go on (see h1ReadHead).
func (d *dirState) h1FindStartLine(t time.Time) bool {
	off, ok := findStartLine(d.buf, d.side == d.c.Client || !d.c.ClientKnown(), d.side != d.c.Client || !d.c.ClientKnown())
	if !ok {
		// Keep only what may begin a start line.
		keep := len(d.buf) - off
		if keep > 256 {
			off = len(d.buf)
		}
		d.buf = d.buf[off:]
		return false
	}
	d.c.note(NoteInferred, "%s: HTTP/1.x framing found again at a start line (skipped %d bytes)", d.sideName(), off)
	d.buf = d.buf[off:]
	d.h1().phase = h1Head
	return true
}

// h1Lost gives up the message framing of this direction for a problem of
// kind kind: the stream in progress is marked lost (and, for a response,
// ended), and decoding waits for the next start line.
func (d *dirState) h1Lost(t time.Time, kind NoteKind, why string) {
	h := d.h1()
	d.c.note(kind, "%s: %s; HTTP/1.x framing lost until the next start line", d.sideName(), why)
	if !d.c.h1.shaky {
		d.c.h1.shaky = true
		d.c.note(NoteInferred, "responses after lost HTTP/1.x framing are paired with requests in order; if whole requests or responses were lost, that pairing is a guess")
	}
	if h.stream != 0 {
		d.emitData(DataEvent{Side: d.side, StreamID: h.stream, Lost: -1, Time: t})
		if d.side != d.c.Client || !d.c.ClientKnown() {
			d.emitData(DataEvent{Side: d.side, StreamID: h.stream, EndStream: true, Time: t})
		}
	}
	h.stream = 0
	h.left = 0
	h.phase = h1Resync
	if len(d.buf) > 0 {
		// The bytes that did not fit are not a start line: look past them.
		d.buf = d.buf[1:]
	}
}

// h1Gap handles bytes of an HTTP/1.x direction that were not captured.
func (d *dirState) h1Gap(n int64, t time.Time) {
	h := d.h1()
	switch h.phase {
	case h1Tunnel:
		return
	case h1Body, h1ChunkData:
		if n >= 0 && n <= h.left {
			h.left -= n
			d.emitData(DataEvent{Side: d.side, StreamID: h.stream, Lost: n, Time: t})
			if h.left == 0 {
				d.h1BodyPartDone(t)
			}
			return
		}
	case h1Close:
		lost := n
		if lost == 0 {
			lost = -1
		}
		d.emitData(DataEvent{Side: d.side, StreamID: h.stream, Lost: lost, Time: t})
		return
	case h1Resync:
		d.buf = d.buf[:0]
		return
	}
	d.buf = d.buf[:0]
	d.h1Lost(t, NoteLostBytes, sizeText(n)+" not captured")
}

// h1End is called when the connection ends.
func (d *dirState) h1End(endFIN bool, t time.Time) {
	h := d.h1()
	switch {
	case h.phase == h1Close && h.stream != 0 && endFIN:
		d.emitData(DataEvent{Side: d.side, StreamID: h.stream, EndStream: true, Time: t})
	case h.phase == h1Head && len(d.buf) > 0:
		d.c.note(NoteUnfinished, "%s: the capture ended inside an HTTP/1.x head", d.sideName())
	case h.stream != 0:
		d.c.note(NoteUnfinished, "%s: the capture ended inside an HTTP/1.x body", d.sideName())
	}
	h.stream = 0
}

// headEnd finds the empty line that ends a head: it returns the offset of
// the head's last line ending and the length of the line endings that end
// it, or -1.
func headEnd(b []byte) (int, int) {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		switch {
		case i+1 < len(b) && b[i+1] == '\n':
			return i, 2
		case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
			return i, 3
		}
	}
	return -1, 0
}

// h1Head handles a complete head (without its final empty line).
func (d *dirState) h1Head(head []byte, t time.Time) {
	h := d.h1()
	line, rest, _ := bytes.Cut(head, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	if bytes.HasPrefix(line, []byte("HTTP/")) {
		d.h1Response(line, rest, t)
		return
	}
	method, target, _, ok := parseRequestLine(line)
	if !ok {
		d.h1Lost(t, NoteMalformed, "malformed request line")
		return
	}
	h.headSeen = true
	d.c.setClient(d.side, ClientByHTTP1)
	fields := make([]HeaderField, 0, 8)
	fields = append(fields, HeaderField{Name: ":method", Value: method}, HeaderField{Name: ":scheme", Value: "http"})
	authAt := len(fields)
	fields = append(fields, HeaderField{Name: ":authority"}, HeaderField{Name: ":path", Value: target})
	fields = parseFieldLines(rest, fields)
	if host, ok := fieldValue(fields, "host"); ok {
		fields[authAt].Value = host
		fields = removeField(fields, "host")
	} else {
		fields = append(fields[:authAt], fields[authAt+1:]...)
	}
	id := d.c.newH1Stream()
	ch := d.c.h1
	if len(ch.pending) >= maxH1Pending {
		d.c.note(NoteLimit, "more than %d HTTP/1.x requests without a response: the oldest are no longer paired", maxH1Pending)
		ch.pending = ch.pending[1:]
	}
	ch.pending = append(ch.pending, h1Request{id: id, head: method == "HEAD", connect: method == "CONNECT"})
	h.stream = id
	bodyKind, length, bad := bodyFraming(fields, true)
	d.c.f.hev = HeadersEvent{Side: d.side, StreamID: id, Fields: fields, EndStream: bodyKind == bodyNone && !bad, Time: h.headTime}
	d.c.f.h.Headers(d.c, &d.c.f.hev)
	d.c.f.hev = HeadersEvent{}
	d.h1StartBody(bodyKind, length, bad, t)
}

func (d *dirState) h1Response(line, rest []byte, t time.Time) {
	h := d.h1()
	status, ok := parseStatusLine(line)
	if !ok {
		d.h1Lost(t, NoteMalformed, "malformed status line")
		return
	}
	h.headSeen = true
	if status >= 100 && status < 200 && status != 101 {
		return // interim response
	}
	if d.c.ClientBy < ClientByHeaders {
		// A status line replaces only evidence weaker than pseudo-headers.
		d.c.setClient(d.side.Other(), ClientByHTTP1)
	}
	ch := d.c.h1
	var req h1Request
	if len(ch.pending) > 0 {
		req = ch.pending[0]
		ch.pending = ch.pending[1:]
	} else {
		req.id = d.c.newH1Stream()
	}
	fields := make([]HeaderField, 0, 8)
	fields = append(fields, HeaderField{Name: ":status", Value: strconv.Itoa(status)})
	fields = parseFieldLines(rest, fields)
	bodyKind, length, bad := bodyFraming(fields, false)
	tunnel := status == 101 || (req.connect && status/100 == 2)
	if req.head || status == 204 || status == 304 || tunnel {
		bodyKind, bad = bodyNone, false
	}
	h.stream = req.id
	d.c.f.hev = HeadersEvent{Side: d.side, StreamID: req.id, Fields: fields, EndStream: bodyKind == bodyNone && !bad, Time: h.headTime}
	d.c.f.h.Headers(d.c, &d.c.f.hev)
	d.c.f.hev = HeadersEvent{}
	if tunnel {
		proto, _ := fieldValue(fields, "upgrade")
		if proto == "" {
			proto = "a tunnel"
		}
		d.c.note(NoteNotDecoded, "the connection switched to %q (HTTP %d); the rest is not decoded", proto, status)
		for s := range d.c.dirs {
			dd := &d.c.dirs[s]
			dd.h1().phase, dd.h1().stream = h1Tunnel, 0
			dd.buf = nil
		}
		return
	}
	d.h1StartBody(bodyKind, length, bad, t)
}

type bodyKind uint8

const (
	bodyNone bodyKind = iota
	bodyLength
	bodyChunked
	bodyClose
)

// bodyFraming says how a message's body is delimited (RFC 9112 §6.3). bad
// is set when the framing headers are invalid: framing is then lost.
func bodyFraming(fs []HeaderField, request bool) (k bodyKind, length int64, bad bool) {
	if te, ok := fieldValue(fs, "transfer-encoding"); ok {
		codings := strings.Split(te, ",")
		if strings.EqualFold(strings.TrimSpace(codings[len(codings)-1]), "chunked") {
			return bodyChunked, 0, false
		}
		if request {
			return bodyNone, 0, true
		}
		return bodyClose, 0, false
	}
	if cl, ok := fieldValue(fs, "content-length"); ok {
		// Repeated identical values ("5, 5") are allowed.
		first, _, _ := strings.Cut(cl, ",")
		n, err := strconv.ParseInt(strings.TrimSpace(first), 10, 64)
		if err != nil || n < 0 {
			return bodyNone, 0, true
		}
		if n == 0 {
			return bodyNone, 0, false
		}
		return bodyLength, n, false
	}
	if request {
		return bodyNone, 0, false
	}
	return bodyClose, 0, false
}

func (d *dirState) h1StartBody(k bodyKind, length int64, bad bool, t time.Time) {
	h := d.h1()
	if bad {
		d.h1Lost(t, NoteMalformed, "invalid Content-Length or Transfer-Encoding")
		return
	}
	switch k {
	case bodyNone:
		h.stream = 0
		h.phase = h1Head
	case bodyLength:
		h.phase, h.left = h1Body, length
	case bodyChunked:
		h.phase = h1ChunkSize
	case bodyClose:
		h.phase = h1Close
	}
}

func parseRequestLine(line []byte) (method, target, version string, ok bool) {
	m, rest, ok1 := bytes.Cut(line, []byte(" "))
	tg, ver, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok1 || !ok2 || len(m) == 0 || len(tg) == 0 || !bytes.HasPrefix(ver, []byte("HTTP/1.")) {
		return "", "", "", false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			if c != '-' && c != '_' {
				return "", "", "", false
			}
		}
	}
	return string(m), string(tg), string(ver), true
}

func parseStatusLine(line []byte) (int, bool) {
	if !bytes.HasPrefix(line, []byte("HTTP/1.")) || len(line) < 12 || line[8] != ' ' {
		return 0, false
	}
	code := line[9:12]
	if len(line) > 12 && line[12] != ' ' {
		return 0, false
	}
	n := 0
	for _, c := range code {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n >= 100
}

// parseFieldLines appends the field lines of a head or trailer section to
// fs, names lowercased, in order. Obsolete line folding is joined; lines
// without a colon are skipped.
func parseFieldLines(b []byte, fs []HeaderField) []HeaderField {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fs) > 0 && !strings.HasPrefix(fs[len(fs)-1].Name, ":") {
			fs[len(fs)-1].Value += " " + string(bytes.TrimSpace(line))
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
			continue
		}
		fs = append(fs, HeaderField{Name: strings.ToLower(string(name)), Value: string(bytes.TrimSpace(value))})
	}
	return fs
}

func fieldValue(fs []HeaderField, name string) (string, bool) {
	for i := range fs {
		if fs[i].Name == name {
			return fs[i].Value, true
		}
	}
	return "", false
}

func removeField(fs []HeaderField, name string) []HeaderField {
	j := 0
	for _, f := range fs {
		if f.Name != name {
			fs[j] = f
			j++
		}
	}
	return fs[:j]
}

// startsWithStartLine reports whether b begins with a complete request or
// status line.
func startsWithStartLine(b []byte) bool {
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return false
	}
	l := bytes.TrimRight(b[:nl], "\r")
	if _, ok := parseStatusLine(l); ok {
		return true
	}
	_, _, _, ok := parseRequestLine(l)
	return ok && looksHTTP1(l)
}

// findStartLine looks for a request line (requests) or status line
// (responses) at the start of b or of one of its lines. It returns its
// offset, or, when there is none, the offset from which a start line may
// still begin.
func findStartLine(b []byte, requests, responses bool) (int, bool) {
	for off := 0; off < len(b); {
		line := b[off:]
		if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
			l := bytes.TrimRight(line[:nl], "\r")
			if responses {
				if _, ok := parseStatusLine(l); ok {
					return off, true
				}
			}
			if requests {
				if _, _, _, ok := parseRequestLine(l); ok && looksHTTP1(l) {
					return off, true
				}
			}
			off += nl + 1
			continue
		}
		return off, false
	}
	return len(b), false
}
