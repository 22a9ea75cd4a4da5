// Package export writes finished gRPC calls for people and programs: NDJSON
// (one JSON object per call) and a one-line-per-call text form.
// docs/ndjson.md in the repository is the reference for the NDJSON objects
// and their keys.
//
// It stands apart from grpcframe because it needs both the calls and the
// protobuf rendering of pbdecode, and because the TUI, the command line and
// live capture all share it.
package export
