// Package rpcconv says how the OpenTelemetry semantic conventions for RPC
// name a captured call's facts: the system, the fully-qualified method, the
// status code, whether the call failed and how. The spans of export/otlp
// and the metrics of export/metrics read a call the same way through it,
// and it needs nothing of the OpenTelemetry SDK.
package rpcconv

import (
	"strings"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"golang.org/x/net/http2"
)

// IsRPC says whether a call is one of an RPC protocol, which the RPC
// conventions describe; plain HTTP requests and CORS preflights are not.
func IsRPC(c *grpcframe.Call) bool {
	return c.Protocol != grpcframe.ProtoHTTP && !c.CORSPreflight
}

// FullMethod is rpc.method: "pkg.Service/Method", from the :path (whose
// last two segments name it, a prefix a server is mounted under aside);
// "_OTHER" when the path was not captured or does not name a method.
func FullMethod(c *grpcframe.Call) string {
	if c.MethodUnknown || c.Method == "" {
		return "_OTHER"
	}
	p := strings.Trim(c.Method, "/")
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		if j := strings.LastIndexByte(p[:i], '/'); j >= 0 {
			p = p[j+1:]
		}
		return p
	}
	return "_OTHER"
}

// systemNames are the values of rpc.system.name other than "grpc" (which
// gRPC-Web is too): Connect's, and Twirp's, which the conventions do not
// list.
var systemNames = map[grpcframe.Protocol]string{grpcframe.ProtoConnect: "connectrpc", grpcframe.ProtoTwirp: "twirp"}

// SystemName is rpc.system.name.
func SystemName(p grpcframe.Protocol) string {
	if n, ok := systemNames[p]; ok {
		return n
	}
	return "grpc"
}

// OldSystemName is the experimental conventions' rpc.system.
func OldSystemName(p grpcframe.Protocol) string {
	if p == grpcframe.ProtoConnect {
		return "connect_rpc"
	}
	return SystemName(p)
}

// serverErrors are the gRPC codes the conventions count as a server
// span's errors; the others (NOT_FOUND, INVALID_ARGUMENT, …) are the
// client's doing and leave the span's status unset. Connect and Twirp
// codes are counted by the gRPC code they stand for.
var serverErrors = map[int]bool{2: true, 4: true, 12: true, 13: true, 14: true, 15: true}

// Classify says whether the span's status is Error, with the description:
// grpc-message for an error code, or what ended a call that had no
// status (a reset, a refused stream, a closed connection). A client that
// cancels (RST_STREAM CANCEL from the client) is what CANCELLED says,
// which is not a server's error; a call cut by the end of the capture, or
// evicted, has no known outcome.
func Classify(c *grpcframe.Call) (bool, string) {
	if c.Status != nil {
		return serverErrors[c.Status.Code], c.Status.Message
	}
	switch c.State {
	case grpcframe.StateReset:
		if c.ResetBy == h2decode.RoleClient && c.ResetCode == http2.ErrCodeCancel {
			return false, ""
		}
		return true, "the stream was reset with " + c.ResetCode.String() + " before a status"
	case grpcframe.StateRefused, grpcframe.StateClosed:
		return true, "the call ended without a status: " + c.State.String()
	}
	return false, ""
}

// StatusCode is rpc.response.status_code: the gRPC code's name, or the
// word a Connect or Twirp error said ("not_found"); "" when the call has
// none (a Connect or Twirp success has no code).
func StatusCode(c *grpcframe.Call) string {
	switch {
	case c.Status == nil:
		return ""
	case c.Protocol == grpcframe.ProtoConnect || c.Protocol == grpcframe.ProtoTwirp:
		return c.Status.ProtocolCode
	}
	return c.Status.Name
}

// ErrorType is error.type: the status code of a failed call, or the state
// that ended a call without one.
func ErrorType(c *grpcframe.Call) string {
	failed, _ := Classify(c)
	switch {
	case !failed:
		return ""
	case c.Status == nil:
		return c.State.String()
	case StatusCode(c) != "":
		return StatusCode(c)
	}
	return c.Status.Name
}

// HTTPVersion is network.protocol.version: "2" or "1.1"; "" when the
// transport was not told.
func HTTPVersion(t h2decode.Transport) string {
	switch t {
	case h2decode.TransportUnknown:
		return ""
	case h2decode.TransportHTTP1:
		return "1.1"
	}
	return "2"
}

// UncompressedSize is rpc.message.uncompressed_size: the wire length of a
// message sent uncompressed, the decompressed length of one whose
// decompression the capture holds whole; false when it is not known (a
// compressed message cut short, or in an encoding not undone).
func UncompressedSize(m *grpcframe.Message) (int64, bool) {
	switch {
	case !m.Compressed:
		return int64(m.Length), true
	case !m.Truncated && m.Encoding != "":
		return int64(len(m.Data)), true
	}
	return 0, false
}
