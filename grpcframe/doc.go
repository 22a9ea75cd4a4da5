// Package grpcframe turns HTTP/2 stream events into gRPC calls: the request
// and its metadata, the length-prefixed messages in both directions (split
// across DATA frames or packed several to a frame, decompressed per
// grpc-encoding), response headers, trailers or a Trailers-Only response,
// the status with its details, and how the call ended (trailers, RST_STREAM,
// GOAWAY, the connection or the capture ending).
//
// The same events come from HTTP/1.1 connections (h2decode gives each
// request a synthetic stream id), so one code path serves every way gRPC
// travels. Call.Protocol says which, from the content-type: ProtoGRPC
// (application/grpc, +proto, +json), ProtoGRPCWeb (application/grpc-web…:
// the same 5-byte framing, and a response frame with flag 0x80 holds the
// trailers as "name: value" lines), ProtoGRPCWebText (the body is base64,
// decoded incrementally; a body may be several padded base64 runs one
// after the other), ProtoConnect and ProtoTwirp (told by their
// content-types, Connect-Protocol-Version, a Connect GET's query or a
// Twirp path; their unary bodies are one message each, an error response's
// JSON body is the status, and connect.go says the rest) or ProtoHTTP for
// anything else: a REST call, a CORS preflight, a web page. An HTTP body is kept whole as one Message with
// Body set (bounded by Options.MaxMessageSize, decompressed per
// content-encoding). Message.Format says whether the bytes are protobuf,
// JSON (application/grpc+json, application/json, …), text or other bytes.
// A CORS preflight (OPTIONS with Access-Control-Request-Method) is a call
// of its own with CORSPreflight set; the call that follows it (same client
// address, server, path and the method it asked for) points back to it in
// Call.Preflight.
//
// Calls are handed to a Sink when they end, in a deterministic order: by
// start time, then connection, then stream id (Options.EmitOnFinish hands
// each on as soon as it ends instead, and Options.Tally takes the calls it
// is given in place of the Sink).
//
// A capture's connections can be shared among several Assemblers, one per
// goroutine (NewLoggingAssembler): each records what spans connections
// (that order, CORS preflights, connection notes) in an OpLog, and one
// Merger replays the logs in capture order, so that the calls come out as
// a single Assembler would hand them on.
package grpcframe
