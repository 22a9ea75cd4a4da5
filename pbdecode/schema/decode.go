package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/grpcsniff/grpcsniff/pbdecode"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Decoded is a message read through a schema.
//
// A zero Decoded (Type empty) means no schema was found for the message:
// the caller keeps its schema-less decoding and says nothing more.
type Decoded struct {
	// Type is the full name of the message type, e.g. "helloworld.HelloRequest".
	Type string
	// JSON is the message in protobuf's canonical JSON mapping, compact and
	// byte-stable (see the package documentation); nil when Err is set.
	JSON []byte
	// Err says why the bytes could not be read as Type (a schema_error):
	// they do not parse as that message, or could not be rendered. The
	// caller then shows the schema-less decoding, which never fails.
	Err string
	// Unknown lists the fields present in the bytes but not in the schema
	// (the schema is older than the peer, or is the wrong one), as paths
	// from the top-level message: "5", "location.7", "points[1].9",
	// `labels["k"].3`. Their values are not in JSON; the schema-less
	// decoding, which holds every field, shows them.
	Unknown []string
}

// Decode reads the request (request true) or response message data of a
// method given as a gRPC :path. A zero Decoded means the method is not known.
func (r *Registry) Decode(method string, request bool, data []byte) Decoded {
	// The read lock is held throughout: the resolver that expands Any
	// reads the same files AddFiles writes.
	r.mu.RLock()
	defer r.mu.RUnlock()
	in, out, ok := r.methodLocked(method)
	if !ok {
		return Decoded{}
	}
	md := out
	if request {
		md = in
	}
	return r.decode(md, data)
}

// DecodeAny reads the value of a google.protobuf.Any (a detail of a
// grpc-status-details-bin google.rpc.Status: google.rpc.ErrorInfo,
// BadRequest, … or a user type). The type is the part of typeURL after its
// last "/". A zero Decoded means the type is not known.
func (r *Registry) DecodeAny(typeURL string, value []byte) Decoded {
	name := typeURL
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, err := r.files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return Decoded{}
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return Decoded{}
	}
	return r.decode(md, value)
}

// decode parses data as md and renders it; r.mu is read-locked.
func (r *Registry) decode(md protoreflect.MessageDescriptor, data []byte) (d Decoded) {
	d.Type = string(md.FullName())
	if n := countFields(md, data, pbdecode.DefaultMaxFields, 0); n > pbdecode.DefaultMaxFields {
		d.Err = fmt.Sprintf("schema_error: more than %d fields: not decoded with the schema (the decoding limit; raw shows the message)", pbdecode.DefaultMaxFields)
		return d
	}
	types := r.types
	msg := dynamicpb.NewMessage(md)
	uo := proto.UnmarshalOptions{Resolver: types, RecursionLimit: maxDepth}
	if err := uo.Unmarshal(data, msg); err != nil {
		d.Err = "schema_error: the bytes are not a " + d.Type + ": " + trimErr(err)
		return d
	}
	mo := protojson.MarshalOptions{UseProtoNames: true, Resolver: anyResolver{types}}
	js, err := mo.Marshal(msg)
	if err != nil {
		d.Err = "schema_error: " + d.Type + " cannot be shown as JSON: " + trimErr(err)
		return d
	}
	// protojson deliberately inserts random spaces so that nobody relies
	// on its exact bytes; compacting removes them, which makes the output
	// the same on every run.
	var buf bytes.Buffer
	if err := json.Compact(&buf, js); err != nil {
		d.Err = "schema_error: " + err.Error()
		return d
	}
	d.JSON = buf.Bytes()
	d.Unknown = unknownFields(msg.ProtoReflect(), types, "", nil, 0)
	return d
}

// countFields counts the fields of data read as md, and of the messages
// in it, stopping past limit: the schema decoding builds a value for
// each, and a message of millions of tiny fields must not cost millions
// of values. Bytes that do not parse end the count (the decoding then
// says what is wrong with them).
func countFields(md protoreflect.MessageDescriptor, data []byte, limit, depth int) int {
	n := 0
	for len(data) > 0 && n <= limit {
		num, typ, tl := protowire.ConsumeTag(data)
		if tl < 0 {
			return n
		}
		vl := protowire.ConsumeFieldValue(num, typ, data[tl:])
		if vl < 0 {
			return n
		}
		n++
		if fd := md.Fields().ByNumber(num); fd != nil && typ == protowire.BytesType && fd.Message() != nil && depth < maxDepth {
			v, _ := protowire.ConsumeBytes(data[tl:])
			n += countFields(fd.Message(), v, limit-n, depth+1)
		}
		data = data[tl+vl:]
	}
	return n
}

// maxDepth bounds the nesting of messages (protobuf's own default), so that
// hostile bytes cannot exhaust the stack; deeper input is a schema_error.
const maxDepth = 100

// trimErr drops the "proto: " prefix the protobuf module puts on its errors.
func trimErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "proto: ")
	s = strings.TrimPrefix(s, "proto:\u00a0")
	return s
}
