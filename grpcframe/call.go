package grpcframe

import (
	"net/netip"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"golang.org/x/net/http2"
)

// State says how a call ended, as far as the capture shows.
type State uint8

const (
	// StateComplete: request headers, the server's end of stream and every
	// byte in between were captured.
	StateComplete State = iota + 1
	// StateReset: a RST_STREAM ended the call (Call.ResetCode).
	StateReset
	// StateRefused: a GOAWAY said the server never processed the stream.
	StateRefused
	// StateClosed: the TCP connection ended before the call did.
	StateClosed
	// StateCut: the capture ended before the call did.
	StateCut
	// StateStartedBeforeCapture: the call ended normally, but its start
	// (the request headers) was not captured.
	StateStartedBeforeCapture
	// StateIncomplete: the call ended normally but some of its bytes were
	// not captured.
	StateIncomplete
	// StateEvicted: the call was still open when its connection had more
	// open streams than the limit (Options.MaxOpenStreams), and it was the
	// oldest; it was handed on as it stood and later frames are ignored.
	StateEvicted
)

func (s State) String() string {
	switch s {
	case StateComplete:
		return "complete"
	case StateReset:
		return "reset"
	case StateRefused:
		return "refused"
	case StateClosed:
		return "closed"
	case StateCut:
		return "cut"
	case StateStartedBeforeCapture:
		return "started_before_capture"
	case StateIncomplete:
		return "incomplete"
	case StateEvicted:
		return "evicted"
	}
	return "open"
}

// Message is one length-prefixed gRPC message.
type Message struct {
	// Length is the 5-byte prefix's length field: the size on the wire.
	Length     uint32
	Compressed bool
	// Time is the timestamp of the packet that completed the message.
	Time time.Time
	// Data is the message payload, decompressed when it was compressed with
	// a known encoding. It holds fewer bytes than the message had when
	// Truncated is set.
	Data []byte
	// Encoding names the compression undone ("gzip", …); empty when none.
	Encoding string
	// Truncated: Data is not the whole message (Err says why).
	Truncated bool
	// Err describes a problem with this message: bytes not captured,
	// decompression failure, a limit hit.
	Err string
	// Resynced marks the first message found again after bytes of its
	// direction were lost: its start is inferred from a DATA frame that
	// holds whole messages exactly.
	Resynced bool
	// Body marks an HTTP body (a call of protocol "http", or a response
	// that is not gRPC): the whole body, not a length-prefixed message;
	// Length is its size on the wire (saturating at 4 GiB).
	Body bool
	// Format says how Data is shown: FormatProto (protobuf, the gRPC
	// default), FormatJSON (application/grpc+json, application/json, …),
	// FormatText or FormatBinary. It comes from the content-type.
	Format Format

	trailer bool // a grpc-web trailer frame (flag 0x80), never handed on
	// why is the kind of problem Err says, when Truncated.
	why h2decode.NoteKind
	// discarded: its bytes were not kept (Options.KeepPayload said no).
	discarded bool
}

// Preflight is the CORS preflight (an OPTIONS request with
// Access-Control-Request-Method) that a browser sent before a call.
type Preflight struct {
	ConnID     uint64
	StreamID   uint32
	Start      time.Time
	HTTPStatus int // 0 when no response was seen
}

// Call is one call: an HTTP/2 stream, or an HTTP/1.1 request and its
// response.
type Call struct {
	ConnID uint64
	// Client opened the stream; Server answered. ClientBy says what showed
	// which side was which: the call's own header blocks
	// (h2decode.ClientByHeaders) or its connection's evidence, or
	// h2decode.ClientByPort when nothing in the capture did and the port
	// numbers were used (RolesGuessed).
	Client, Server netip.AddrPort
	ClientBy       h2decode.ClientEvidence
	// Transport says how the connection carried HTTP: HTTP/2 in cleartext
	// (h2decode.TransportH2C, TransportH2CUpgrade, TransportH2CMidstream)
	// or inside TLS (TransportH2; see TLS), or HTTP/1.x (TransportHTTP1).
	Transport h2decode.Transport
	// TLS is what a TLS layer learnt of the connection, as it stood when
	// the call ended (a snapshot of capture.ConnInfo.TLS); nil for
	// cleartext.
	TLS      *capture.TLSInfo
	StreamID uint32

	// Method is the :path, e.g. "/helloworld.Greeter/SayHello"; empty when
	// it could not be recovered (MethodUnknown).
	Method        string
	MethodUnknown bool
	// MethodInferred and MethodCandidates are set, for a call whose :path
	// was not recovered, by a layer that knows schemas: the one method, or
	// the several, whose types read the call's messages cleanly. They are
	// inferences, never facts; grpcframe itself does not guess.
	MethodInferred   string
	MethodCandidates []string
	// GRPC is false for streams whose content-type says they are not a
	// call of any RPC protocol (Protocol "http": their bodies are then not
	// read as messages).
	GRPC bool
	// Protocol is ProtoGRPC, ProtoGRPCWeb, ProtoGRPCWebText, ProtoConnect,
	// ProtoTwirp or ProtoHTTP, from the request's content-type and headers (the response's when the request was
	// not captured; ProtoGRPC, the zero value, when neither content-type
	// could be read).
	Protocol Protocol
	// HTTPMethod is the request's :method; HTTPStatus the response's
	// :status (0: not seen). Method holds the :path.
	HTTPMethod string
	HTTPStatus int
	// CORSPreflight marks an OPTIONS request carrying
	// Access-Control-Request-Method. Preflight, on the call that followed
	// one (same client address, server and path, the method it asked
	// for), says which it was; a native gRPC call, which a browser cannot
	// make, has none.
	CORSPreflight bool
	Preflight     *Preflight

	RequestHeaders  []h2decode.HeaderField
	ResponseHeaders []h2decode.HeaderField
	Trailers        []h2decode.HeaderField
	// TrailersOnly is set when the server answered with a single header
	// block ending the stream (Trailers holds it).
	TrailersOnly bool

	Requests  []*Message
	Responses []*Message
	// Status is nil when no grpc-status was seen. StatusUnknown is set
	// when trailers were seen but held fields HPACK could not recover, so
	// the status may be among them.
	Status        *Status
	StatusUnknown bool

	Start         time.Time
	FirstResponse time.Time // zero when no response was seen
	End           time.Time

	State     State
	ResetCode http2.ErrCode // with StateReset
	ResetBy   h2decode.Role // who sent the RST_STREAM, with StateReset
	// StartedBeforeCapture: the request headers were not captured.
	StartedBeforeCapture bool
	// LostBytes: some of the call's bytes were not captured.
	LostBytes bool
	// Notes explain anything unusual, for the user, each with the kind of
	// problem it reports.
	Notes []h2decode.Note

	finished bool
	// hdr holds the header fields the call keeps (RequestHeaders and the
	// others are slices of it, unless shared), status what Status points
	// to, and mem the memory the call was made in: all reused when the call
	// is recycled.
	hdr    []h2decode.HeaderField
	status Status
	mem    *callMem
	// shared marks the header lists (bits sharedRequest and the others)
	// that are a connection's sharedList, not slices of hdr.
	shared uint8
	// link is the key an OpLog's link operation pairs the call with a
	// CORS preflight by, set once (linked) before the operation is
	// recorded and then only read, by the Merger.
	link   preflightKey
	linked bool
}

// HeadersShared reports which of the call's header lists are shared with
// other calls of its connection that carried the same fields. A shared list
// never changes, nor does the memory it is in, so a writer may recognise it
// by its address alone while it holds on to it.
func (c *Call) HeadersShared() (request, response, trailers bool) {
	return c.shared&sharedRequest != 0, c.shared&sharedResponse != 0, c.shared&sharedTrailers != 0
}

// RolesGuessed reports whether the capture did not show which side was
// the client (no handshake, preface, Upgrade, HTTP/1.x line or
// pseudo-header decided it), so that the port numbers were used.
func (c *Call) RolesGuessed() bool { return c.ClientBy == h2decode.ClientByPort }

// OverTLS reports whether the call's connection ran inside TLS: a TLS layer
// described it, or its transport is HTTP/2 inside TLS.
func (c *Call) OverTLS() bool { return c.TLS != nil || c.Transport == h2decode.TransportH2 }

// Duration is End - Start.
func (c *Call) Duration() time.Duration { return c.End.Sub(c.Start) }

// note adds a note of kind k, up to 16 of them.
func (c *Call) note(k h2decode.NoteKind, text string) {
	if len(c.Notes) < 16 {
		c.Notes = append(c.Notes, h2decode.Note{Kind: k, Text: text})
	}
}

// Header returns the first known value of a header in hs.
func Header(hs []h2decode.HeaderField, name string) (string, bool) {
	for i := range hs {
		if !hs[i].NameUnknown && !hs[i].ValueUnknown && hs[i].Name == name {
			return hs[i].Value, true
		}
	}
	return "", false
}

// WireBytes is the bytes the messages took on the wire: the sum of their
// length prefixes (before decompression).
func WireBytes(ms []*Message) int64 {
	var n int64
	for _, m := range ms {
		n += int64(m.Length)
	}
	return n
}
