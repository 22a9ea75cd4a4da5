// Package schema decodes gRPC messages with their protobuf schemas, for
// when the user has them: .proto files (compiled in-process with
// protocompile, no protoc needed), binary descriptor sets (protoc
// --include_imports --descriptor_set_out, buf build -o), a live server's
// reflection service ([Reflect]), or the file descriptors a captured
// reflection call carried ([HarvestReflection]). The schema-less decoding in
// package pbdecode stays the fallback and is always available: a message
// whose method is not known, or whose bytes do not fit the type, is shown
// that way.
//
// # Sources and precedence
//
// A [Registry] starts with the well-known types (google/protobuf/*.proto)
// and google/rpc/{status,code,error_details}.proto, taken from the
// generated Go packages, so Any, Timestamp, Struct, … render in their JSON
// forms and the details of a grpc-status-details-bin (google.rpc.ErrorInfo,
// BadRequest, RetryInfo, …) decode with no schema given. A .proto may import
// those files without -I. Files are identified by name, and the first
// source of a name wins: [Load] reads descriptor sets first, then .proto
// files; reflection and harvested files added later never replace them.
//
// # JSON
//
// Messages are rendered with protojson, the canonical protobuf JSON mapping,
// with one option changed: field names are the names in the .proto
// (UseProtoNames), e.g. {"client_id":"1","request_data":"…"} rather than
// {"clientId":…}, because a user reading a capture compares it with the
// .proto and with the schema-less decoding, which both use field numbers
// and .proto names; camelCase would be a third spelling. The rest is
// protojson's default: 64-bit integers as strings (so no reader loses
// precision), enums by name (by number when the value is not in the
// enum), bytes as base64, fields with default values left out, Any
// expanded through the registry ({"@type": URL, …}), and Timestamp,
// Duration, Struct, wrappers, FieldMask in their JSON forms.
//
// The output is compact and byte-stable: protojson inserts random spaces
// on purpose (so that nobody depends on its exact bytes), and they are
// removed with encoding/json.Compact; map entries are sorted by protojson.
// The same bytes and schemas give the same JSON on every run.
//
// # Unknown fields
//
// protojson silently drops fields the schema does not define, which would
// hide exactly what a user needs to see when the schema is older than the
// peer (or is the wrong schema). [Decoded.Unknown] lists them as paths
// from the top-level message in .proto names: "7" (a top-level field
// number), "location.7", "points[1].9", `labels["k"].3`; a field sent with
// a wire type other than the schema's is unknown too, as protobuf parsers
// treat it. The values are not repeated: the schema-less decoding, which the
// caller keeps alongside, holds every field with its bytes and offsets. The
// fields inside an Any are checked as well; an Any whose type is not known
// is rendered as {"@type": URL} alone (rather than failing the whole
// message) and listed as "path.value".
//
// # Errors
//
// [Decoded.Err] (a "schema_error") is set when the bytes do not parse as
// the type (truncated, invalid UTF-8 in a proto3 string, a broken tag), and
// JSON is then nil. A zero [Decoded] means that no schema covers the method
// or type. Errors in .proto files are reported as protoc does,
// "file:line:col: message", all of them, one a line.
package schema
