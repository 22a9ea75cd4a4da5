package grpcframe

import (
	"encoding/base64"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// codeNames are the canonical gRPC status code names.
var codeNames = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
}

// CodeName returns the name of a gRPC status code, or "CODE_<n>" for codes
// outside the canonical set.
func CodeName(code int) string {
	if code >= 0 && code < len(codeNames) {
		return codeNames[code]
	}
	return "CODE_" + strconv.Itoa(code)
}

// Status is a call's gRPC status from its trailers.
type Status struct {
	Code    int
	Name    string
	Message string // grpc-message, percent-decoded
	// Details come from grpc-status-details-bin (a google.rpc.Status).
	Details []Any
	// DetailsErr says why grpc-status-details-bin (or a Connect error's
	// details) could not be read.
	DetailsErr string
	// ProtocolCode is the code as Connect or Twirp spelt it ("not_found",
	// "bad_route"), when the call is one of theirs and said one; Code is
	// the gRPC code it stands for.
	ProtocolCode string
}

// Any is a google.protobuf.Any from a status's details.
type Any struct {
	TypeURL string
	Value   []byte
}

// percentDecode undoes grpc-message's percent-encoding. Malformed escapes are
// kept as they are, as the gRPC spec asks of receivers.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b = append(b, byte(v))
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

// DecodeBinHeader decodes a "-bin" metadata value: base64, padded or not.
func DecodeBinHeader(v string) ([]byte, error) {
	v = strings.TrimRight(v, "=")
	return base64.RawStdEncoding.DecodeString(v)
}

// parseStatusDetails reads a google.rpc.Status message into st.Details.
// The code and message in it duplicate grpc-status and grpc-message; a
// mismatch is reported.
func parseStatusDetails(st *Status, b []byte) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			st.DetailsErr = "google.rpc.Status: " + protowire.ParseError(n).Error()
			return
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				st.DetailsErr = "google.rpc.Status: " + protowire.ParseError(n).Error()
				return
			}
			if int(int32(v)) != st.Code {
				st.DetailsErr = "google.rpc.Status code " + strconv.Itoa(int(int32(v))) + " differs from grpc-status " + strconv.Itoa(st.Code)
			}
			b = b[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				st.DetailsErr = "google.rpc.Status: " + protowire.ParseError(n).Error()
				return
			}
			a, err := parseAny(v)
			if err != "" {
				st.DetailsErr = err
				return
			}
			st.Details = append(st.Details, a)
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				st.DetailsErr = "google.rpc.Status: " + protowire.ParseError(n).Error()
				return
			}
			b = b[n:]
		}
	}
}

func parseAny(b []byte) (Any, string) {
	var a Any
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return a, "google.protobuf.Any: " + protowire.ParseError(n).Error()
		}
		b = b[n:]
		if typ == protowire.BytesType && (num == 1 || num == 2) {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return a, "google.protobuf.Any: " + protowire.ParseError(n).Error()
			}
			if num == 1 {
				a.TypeURL = string(v)
			} else {
				a.Value = v
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return a, "google.protobuf.Any: " + protowire.ParseError(n).Error()
		}
		b = b[n:]
	}
	return a, ""
}
