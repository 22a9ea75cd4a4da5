// Package grpcframe turns HTTP/2 stream events into gRPC calls: the request
// and its metadata, the length-prefixed messages in both directions (split
// across DATA frames or packed several to a frame, decompressed per
// grpc-encoding), response headers, trailers or a Trailers-Only response,
// the status with its details, and how the call ended (trailers, RST_STREAM,
// GOAWAY, the connection or the capture ending).
//
// Calls are handed to a Sink when they end, in a deterministic order: by
// start time, then connection, then stream id.
package grpcframe
