package grpcframe

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// Connect and Twirp carry calls as ordinary HTTP requests. What sets them
// apart from other HTTP, and how their messages, errors and trailing
// metadata travel:
//
//   - Connect unary: a POST whose body is the request message
//     (application/proto or application/json, compressed per
//     Content-Encoding), or a GET whose query holds it (message, encoding,
//     base64, compression, connect=v1). The response body is the response
//     message when the status is 200, else a JSON error ({"code",
//     "message", "details"}); trailing metadata are response headers
//     prefixed "Trailer-". Requests carry Connect-Protocol-Version.
//   - Connect streaming (application/connect+proto, +json): 5-byte
//     envelopes as gRPC's, flag 0x01 compressed (per
//     Connect-Content-Encoding), flag 0x02 on the last response envelope,
//     whose JSON holds the error and the trailing metadata.
//   - Twirp: a POST to [prefix]/pkg.Service/Method, application/protobuf
//     or application/json; the response body is the message on 200, else
//     a JSON error ({"code", "msg", "meta"}).
//
// Their status codes are gRPC's, spelt as lowercase words; Status keeps the
// word as sent (ProtocolCode) beside the gRPC code it stands for.

// connectStreaming reports whether a content-type is one of Connect's
// streaming ones (application/connect+proto, +json, …).
func connectStreaming(ct string) bool {
	return strings.HasPrefix(mediaType(ct), "application/connect+")
}

// rpcRequest is what rpcOverHTTP reads of a request beside its
// content-type.
type rpcRequest struct {
	connectVersion bool // a Connect-Protocol-Version header
	twirpVersion   bool // a Twirp-Version header (Twirp's Go clients send it)
}

// rpcOverHTTP decides whether a request that its content-type alone does not
// show as gRPC is a Connect or Twirp call, and if so sets the call's
// protocol and its method: the path's last two segments, "/pkg.Service/
// Method", as gRPC's :path would be, without the query or a prefix the
// server is mounted under (Twirp's /twirp): the method is what schemas,
// statistics and filters know it by, and the :path header keeps the rest.
func rpcOverHTTP(call *Call, ct string, req rpcRequest) {
	path, query, _ := strings.Cut(call.Method, "?")
	if !rpcPath(path) {
		return
	}
	mt := mediaType(ct)
	switch {
	case call.Protocol == ProtoConnect:
	case req.connectVersion && (call.HTTPMethod == "POST" || call.HTTPMethod == "GET"):
		call.setProtocol(ProtoConnect)
	case call.HTTPMethod == "GET" && connectQuery(query):
		call.setProtocol(ProtoConnect)
	case req.twirpVersion || strings.HasSuffix(path[:lastSegments(path)], "/twirp") || (call.HTTPMethod == "POST" && mt == "application/protobuf"):
		// Twirp's own header, or its route prefix (a request of another
		// method there is a Twirp call too, which the server refuses as
		// bad_route), or its protobuf content-type.
		call.setProtocol(ProtoTwirp)
	default:
		return
	}
	call.Method = path[lastSegments(path):]
}

// lastSegments is where the last two segments of a path start (at their
// slash): the method of a Connect or Twirp path.
func lastSegments(path string) int {
	i := strings.LastIndexByte(path, '/')
	return max(strings.LastIndexByte(path[:max(i, 0)], '/'), 0)
}

// rpcPath reports whether a path ends in "/Service/Method", as every
// Connect and Twirp path does (the service usually package-qualified, and
// Twirp's after a prefix such as /twirp); a method's name is a protobuf
// identifier, which a file's name (page.html) is not.
func rpcPath(path string) bool {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 || !identifier(path[i+1:]) {
		return false
	}
	j := strings.LastIndexByte(path[:i], '/')
	return j >= 0 && j < i-1
}

// identifier reports whether s is a protobuf identifier: a letter or
// underscore, then letters, digits and underscores.
func identifier(s string) bool {
	for i, c := range []byte(s) {
		letter := c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// connectQuery reports whether a GET's query is a Connect unary request's:
// connect=v1, or the message and its encoding.
func connectQuery(q string) bool {
	v, err := url.ParseQuery(q)
	if err != nil {
		return false
	}
	return v.Get("connect") == "v1" || (v.Has("message") && v.Has("encoding"))
}

// connectGetRequest makes the request message of a Connect GET from its
// query: the message parameter, percent-decoded, then base64-decoded when
// base64=1, then decompressed per compression.
func (a *Assembler) connectGetRequest(s *stream, side capture.Side, path string, t time.Time) {
	call := s.call
	_, query, _ := strings.Cut(path, "?")
	v, err := url.ParseQuery(query)
	if err != nil {
		call.note(h2decode.NoteMalformed, "Connect GET: the query is malformed ("+err.Error()+"); the request message is not shown")
		return
	}
	data := []byte(v.Get("message"))
	if v.Get("base64") == "1" {
		// URL-safe base64, padded or not.
		data, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(string(data), "="))
		if err != nil {
			call.note(h2decode.NoteMalformed, "Connect GET: the message parameter is not base64 ("+err.Error()+")")
			return
		}
	}
	m := s.msgs[side].newMessage()
	m.Length, m.Time = satAdd(0, int64(len(data))), t
	m.Data = append(m.Data[:0], data[:min(len(data), a.opts.MaxMessageSize)]...)
	if len(data) > len(m.Data) {
		m.Truncated, m.why = true, h2decode.NoteLimit
		m.Err = fmt.Sprintf("message of %d bytes: only the first %d kept (message size limit)", len(data), len(m.Data))
	}
	if enc := strings.ToLower(v.Get("compression")); enc != "" && enc != "identity" {
		m.Compressed, s.encoding[side] = true, enc
	}
	s.format[side] = formatOf("application/"+v.Get("encoding"), ProtoConnect)
	s.mode[side] = modeRaw
	a.finishMessage(s, side, m)
}

// rpcBody reads a Connect or Twirp unary body, which finishMessage has
// decompressed: the message, or on the response of a status other than
// 200 the error. It reports whether the body was an error, which is not a
// message.
func (a *Assembler) rpcBody(s *stream, side capture.Side, m *Message) (isError bool) {
	call := s.call
	if s.isClient(side) || call.HTTPStatus == 0 || call.HTTPStatus == 200 {
		m.Body = false
		return false
	}
	if m.Truncated {
		call.note(m.why, "error body: "+m.Err)
	}
	a.rpcError(call, m.Data)
	return true
}

// rpcSideEnded completes a side of a Connect or Twirp unary call that
// ended: a body that never came is an empty message (an empty protobuf
// message takes no bytes), and the response says the status when its
// body did not.
func (a *Assembler) rpcSideEnded(s *stream, side capture.Side, t time.Time) {
	call := s.call
	if s.mode[side] == modeFramed || s.headers[side] == 0 {
		return // streaming, or a side whose headers were not captured
	}
	client := s.isClient(side)
	switch {
	case client && call.HTTPMethod != "POST":
		// A Connect GET's request came in its query; a request of another
		// method carries none.
	case len(s.got[side]) == 0 && (client || call.HTTPStatus == 200):
		a.sideMode(s, side)
		m := s.msgs[side].newMessage()
		m.Time = t
		a.finishMessage(s, side, m)
	}
	if client || call.Status != nil {
		return
	}
	switch {
	case call.HTTPStatus == 200:
		call.setStatus(0, "")
	case call.HTTPStatus != 0:
		a.statusFromHTTP(call, "")
	}
}

// connectUnaryTrailers reads a Connect unary response's trailing metadata:
// its headers named "trailer-…", kept in Trailers without the prefix.
func connectUnaryTrailers(call *Call, fs []h2decode.HeaderField) {
	for i := range fs {
		f := fs[i]
		if f.NameUnknown || !strings.HasPrefix(f.Name, "trailer-") {
			continue
		}
		f.Name = f.Name[len("trailer-"):]
		call.Trailers = append(call.Trailers, f)
		call.shared &^= sharedTrailers
	}
}

// wireError is the JSON of a Connect error (code, message, details) or a
// Twirp one (code, msg, meta).
type wireError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Msg     string            `json:"msg"`
	Details []wireDetail      `json:"details"`
	Meta    map[string]string `json:"meta"`
}

// wireDetail is a Connect error detail: the message's type name and its
// bytes, base64 (unpadded, standard alphabet; padded and URL-safe ones are
// read too).
type wireDetail struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// connectEndStream reads the message that ends a Connect streaming
// response: JSON holding the error, if any, and the trailing metadata.
func (a *Assembler) connectEndStream(s *stream, side capture.Side, m *Message) {
	call := s.call
	if m.Err != "" {
		call.note(h2decode.NoteMalformed, "Connect end-of-stream message: "+m.Err)
	}
	if m.Truncated {
		return
	}
	data := m.Data
	if m.Compressed {
		out, err := a.dec.decompress(s.encoding[side], data, maxWebTrailers)
		if err != nil {
			call.note(h2decode.NoteNotDecoded, "Connect end-of-stream message: "+strings.Replace(err.Error(), "grpc-encoding", "Connect-Content-Encoding", 1))
			return
		}
		data = out
	}
	if call.FirstResponse.IsZero() {
		call.FirstResponse = m.Time
	}
	var end struct {
		Error    *wireError          `json:"error"`
		Metadata map[string][]string `json:"metadata"`
	}
	if err := json.Unmarshal(data, &end); err != nil {
		call.note(h2decode.NoteMalformed, "Connect end-of-stream message is not the JSON the protocol asks for: "+err.Error())
		return
	}
	for _, name := range slices.Sorted(maps.Keys(end.Metadata)) {
		for _, v := range end.Metadata[name] {
			call.Trailers = append(call.Trailers, h2decode.HeaderField{Name: strings.ToLower(name), Value: v})
		}
	}
	call.shared &^= sharedTrailers
	if end.Error == nil {
		call.setStatus(0, "")
		return
	}
	st := call.setStatus(connectCode(end.Error.Code))
	st.Message = end.Error.Message
	readDetails(st, end.Error.Details)
}

// rpcError reads the JSON body of a Connect or Twirp error response. A
// Twirp error's meta become the call's trailers, in name order.
func (a *Assembler) rpcError(call *Call, body []byte) {
	var e wireError
	if err := json.Unmarshal(body, &e); err != nil || e.Code == "" {
		a.statusFromHTTP(call, fmt.Sprintf("the error body is not %s's JSON", call.Protocol))
		return
	}
	if call.Protocol != ProtoTwirp {
		st := call.setStatus(connectCode(e.Code))
		st.Message = e.Message
		readDetails(st, e.Details)
		return
	}
	st := call.setStatus(twirpCode(e.Code))
	st.Message = e.Msg
	for _, k := range slices.Sorted(maps.Keys(e.Meta)) {
		call.Trailers = append(call.Trailers, h2decode.HeaderField{Name: k, Value: e.Meta[k]})
	}
	call.shared &^= sharedTrailers
}

// readDetails decodes a Connect error's details into st.
func readDetails(st *Status, ds []wireDetail) {
	for _, d := range ds {
		v, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(d.Value, "="))
		if err != nil {
			v, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(d.Value, "="))
		}
		if err != nil {
			st.DetailsErr = fmt.Sprintf("error detail %s: its value is not base64: %v", d.Type, err)
			continue
		}
		st.Details = append(st.Details, Any{TypeURL: d.Type, Value: v})
	}
}

// statusFromHTTP gives a call whose error response said no code of its
// own the one its HTTP status stands for, as the protocol's clients
// would, with a note saying so.
func (a *Assembler) statusFromHTTP(call *Call, why string) {
	code := httpToCode(call.HTTPStatus, call.Protocol == ProtoTwirp)
	st := call.setStatus(code, "")
	// The message the protocol's clients make up for it.
	st.Message = strings.TrimSpace(fmt.Sprintf("HTTP status %d %s", call.HTTPStatus, http.StatusText(call.HTTPStatus)))
	text := fmt.Sprintf("status %s taken from HTTP status %d, as %s clients do", st.Name, call.HTTPStatus, call.Protocol)
	if why != "" {
		text = why + "; " + text
	}
	call.note(h2decode.NoteInferred, text)
}

// httpToCode is the gRPC code a Connect or Twirp client reports for an
// HTTP status that came without an error body of the protocol's own.
func httpToCode(status int, twirp bool) int {
	switch status {
	case 400:
		return codeInternal
	case 401:
		return 16 // UNAUTHENTICATED
	case 403:
		return 7 // PERMISSION_DENIED
	case 404:
		return 12 // UNIMPLEMENTED (Twirp: bad_route)
	case 429, 502, 503, 504:
		return 14 // UNAVAILABLE
	}
	if twirp && status >= 300 && status < 400 {
		return codeInternal
	}
	return 2 // UNKNOWN
}

const codeInternal = 13

// connectCode maps a Connect error code to the gRPC code it names, and
// returns the word as sent. A word Connect does not define is UNKNOWN, as
// its clients read it.
func connectCode(word string) (int, string) {
	if word == "canceled" {
		return 1, word
	}
	if i := slices.Index(codeNames[:], strings.ToUpper(word)); i > 0 && word == strings.ToLower(word) {
		return i, word
	}
	return 2, word
}

// twirpCode maps a Twirp error code to the gRPC code closest to it: the
// same word where gRPC has it; malformed (a request that could not be
// decoded) is INVALID_ARGUMENT, bad_route (no such method) UNIMPLEMENTED,
// dataloss DATA_LOSS.
func twirpCode(word string) (int, string) {
	switch word {
	case "malformed":
		return 3, word
	case "bad_route":
		return 12, word
	case "dataloss":
		return 15, word
	}
	return connectCode(word)
}

// setStatus gives the call the status code (with ProtocolCode the word the
// protocol spelt it with, if any) and returns it to be filled in.
func (c *Call) setStatus(code int, word string) *Status {
	st := c.newStatus()
	*st = Status{Code: code, Name: CodeName(code), ProtocolCode: word}
	c.Status, c.StatusUnknown = st, false
	return st
}

// newStatus returns the memory for the call's status: the call's own, but
// for a second status (trailers after trailers): a status once handed out
// (Options.OnMessage) never changes.
func (c *Call) newStatus() *Status {
	if c.Status != nil {
		return new(Status)
	}
	return &c.status
}
