package grpcframe

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/grpcsniff/grpcsniff/h2decode"
)

// Protocol says what a call speaks, as its content-type says. The zero
// Protocol is gRPC. Protocols are told apart by name, never by number or
// order: one more (Connect, Twirp) is one more constant.
type Protocol uint8

const (
	ProtoGRPC        Protocol = iota // "grpc": application/grpc, +proto, +json, …
	ProtoGRPCWeb                     // "grpc-web": application/grpc-web, +proto, +json
	ProtoGRPCWebText                 // "grpc-web-text": application/grpc-web-text, base64 bodies
	ProtoHTTP                        // "http": any other HTTP request or response
	ProtoConnect                     // "connect": the Connect protocol, unary and streaming
	ProtoTwirp                       // "twirp": Twirp
)

// String is the protocol's name in the output: "grpc", "grpc-web",
// "grpc-web-text", "connect", "twirp" or "http"; a value that names no protocol is
// "protocol(N)".
func (p Protocol) String() string {
	switch p {
	case ProtoGRPC:
		return "grpc"
	case ProtoGRPCWeb:
		return "grpc-web"
	case ProtoGRPCWebText:
		return "grpc-web-text"
	case ProtoHTTP:
		return "http"
	case ProtoConnect:
		return "connect"
	case ProtoTwirp:
		return "twirp"
	}
	return "protocol(" + strconv.Itoa(int(p)) + ")"
}

// Format says how a message's bytes are shown, from the content-type.
type Format uint8

const (
	FormatProto  Format = iota // protobuf (the gRPC default)
	FormatJSON                 // JSON (application/grpc+json, application/json, …)
	FormatText                 // text/*, XML, form data
	FormatBinary               // anything else: shown as bytes only
)

func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatText:
		return "text"
	case FormatBinary:
		return "binary"
	}
	return "proto"
}

// mediaType is a content-type without parameters, lowercased.
func mediaType(ct string) string {
	if ct == "application/grpc" {
		return ct // gRPC's own, asked for several times a call
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// protocolOf says which protocol a content-type belongs to.
func protocolOf(ct string) Protocol {
	mt := mediaType(ct)
	switch {
	case strings.HasPrefix(mt, "application/grpc-web-text"):
		return ProtoGRPCWebText
	case strings.HasPrefix(mt, "application/grpc-web"):
		return ProtoGRPCWeb
	case mt == "application/grpc" || strings.HasPrefix(mt, "application/grpc+"):
		return ProtoGRPC
	case strings.HasPrefix(mt, "application/connect+") || mt == "application/proto":
		// Connect's streaming content-types, and its unary protobuf one,
		// which nothing else uses; its unary JSON is application/json,
		// told apart from other JSON by the request's other headers
		// (rpcOverHTTP).
		return ProtoConnect
	}
	return ProtoHTTP
}

// OverHTTP reports whether p carries calls as plain HTTP requests and
// responses, whose bodies are messages or errors: Connect and Twirp. Their
// HTTP method matters (a Connect GET is a call too).
func (p Protocol) OverHTTP() bool { return p == ProtoConnect || p == ProtoTwirp }

// formatOf says how the messages or body of a content-type are shown.
func formatOf(ct string, proto Protocol) Format {
	mt := mediaType(ct)
	if proto != ProtoHTTP {
		// application/grpc+json, application/grpc-web+json,
		// application/connect+json, and Connect's and Twirp's unary
		// application/json: JSON messages.
		if strings.HasSuffix(mt, "+json") || mt == "application/json" {
			return FormatJSON
		}
		return FormatProto
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json" || mt == "application/x-ndjson":
		return FormatJSON
	case strings.Contains(mt, "protobuf"):
		return FormatProto
	case strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+xml") || mt == "application/xml" ||
		mt == "application/javascript" || mt == "application/x-www-form-urlencoded":
		return FormatText
	}
	return FormatBinary
}

// b64Reader decodes grpc-web-text bodies incrementally: a base64 quantum may
// be split across DATA frames, segments or chunks, and a body may be several
// base64 runs one after the other, each padded ("AAAA…==AAAA…").
type b64Reader struct {
	q      [4]byte
	n      int
	padded bool // padding seen: further '=' are part of it
	bad    bool
	out    []byte
}

var b64Val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(std) {
		t[std[i]] = byte(i)
	}
	t['-'], t['_'] = 62, 63 // URL-safe alphabet, tolerated
	return t
}()

// decode returns the bytes decoded from b (valid until the next call), and
// an error at the first character that is not base64.
func (r *b64Reader) decode(b []byte) ([]byte, error) {
	r.out = r.out[:0]
	if r.bad {
		return nil, nil
	}
	for i, c := range b {
		switch c {
		case '\r', '\n', ' ', '\t':
			continue
		case '=':
			switch r.n {
			case 0:
				if !r.padded {
					r.bad = true
					return r.out, fmt.Errorf("grpc-web-text: '=' where base64 data should be (byte %d of this piece)", i)
				}
			case 1:
				r.bad = true
				return r.out, fmt.Errorf("grpc-web-text: padding after a single base64 character")
			case 2:
				r.out = append(r.out, r.q[0]<<2|r.q[1]>>4)
				r.n, r.padded = 0, true
			case 3:
				r.out = append(r.out, r.q[0]<<2|r.q[1]>>4, r.q[1]<<4|r.q[2]>>2)
				r.n, r.padded = 0, true
			}
			continue
		}
		v := b64Val[c]
		if v == 0xff {
			r.bad = true
			return r.out, fmt.Errorf("grpc-web-text: byte 0x%02x is not base64", c)
		}
		r.padded = false
		r.q[r.n] = v
		r.n++
		if r.n == 4 {
			r.out = append(r.out, r.q[0]<<2|r.q[1]>>4, r.q[1]<<4|r.q[2]>>2, r.q[2]<<6|r.q[3])
			r.n = 0
		}
	}
	return r.out, nil
}

// pending reports whether a quantum was left incomplete.
func (r *b64Reader) pending() bool { return r.n > 0 }

// maxWebTrailers bounds a grpc-web trailer frame.
const maxWebTrailers = 64 << 10

// parseWebTrailers reads a grpc-web trailer frame's payload: HTTP/1-style
// header lines ("grpc-status:0\r\ngrpc-message:…\r\n"). Names are
// lowercased. It returns the problems it met, for notes.
func parseWebTrailers(b []byte) (fs []h2decode.HeaderField, problems []string) {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		name = bytes.TrimSpace(name)
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") || !utf8.Valid(line) {
			if len(problems) < 4 {
				problems = append(problems, fmt.Sprintf("grpc-web trailer frame: %q is not a header line", truncate(line, 64)))
			}
			continue
		}
		fs = append(fs, h2decode.HeaderField{Name: strings.ToLower(string(name)), Value: string(bytes.TrimSpace(value))})
	}
	return fs, problems
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// webTrailers reads a grpc-web trailer frame into the call's trailers.
func (a *Assembler) webTrailers(s *stream, m *Message) {
	call := s.call
	if m.Truncated {
		call.note(m.why, "grpc-web trailer frame: "+m.Err)
	}
	if m.Compressed {
		call.note(h2decode.NoteNotDecoded, "grpc-web trailer frame has the compressed flag set: not read")
		return
	}
	fs, problems := parseWebTrailers(m.Data)
	for _, p := range problems {
		call.note(h2decode.NoteMalformed, p)
	}
	if call.FirstResponse.IsZero() {
		call.FirstResponse = m.Time
	}
	call.Trailers = append(call.Trailers, fs...)
	call.shared &^= sharedTrailers // a new array, the call's own
	a.readTrailers(call, fs)
}
