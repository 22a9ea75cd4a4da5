// Package h2decode follows one HTTP/2 connection from the two reassembled TCP
// byte streams and turns it into stream events: header blocks (HPACK decoded),
// DATA payloads, RST_STREAM, GOAWAY and losses of sync.
//
// It is written for captures rather than for a live peer, so it never trusts
// that it saw everything:
//
//   - The connection may start with the client preface, with an HTTP/1.1
//     "Upgrade: h2c" exchange (the upgraded request becomes stream 1; see
//     upgrade.go), or in the middle: then the frame boundary is found by
//     looking for a run of frame headers that are valid for HTTP/2 (see
//     sync.go).
//   - HPACK is decoded by its own state machine per direction (hpack.go;
//     hpackshared.go holds what the decoders of a factory share). A
//     reference to a dynamic-table entry inserted before the capture started
//     (or before a gap in the capture) yields an unknown field, not an
//     error: the rest of the header block and later blocks still decode, and
//     the unknown field carries a TableRef naming which pre-capture entry it
//     was, stable across later insertions.
//   - A gap inside a DATA frame's payload is reported on that stream only and
//     frame sync is kept; a gap that swallows a frame header costs frame sync
//     until the next frame boundary, and the HPACK state of that direction
//     until HTTP/2's stream rules prove that the lost bytes held no header
//     block, when the table as it was comes back (see gapproof.go).
//
// HTTP/1.x connections (found by their request or status lines, on any
// port, also when an h2c Upgrade is declined) produce the same events: each
// request is a stream with a synthetic odd id in request order, its head a
// HeadersEvent with the pseudo-headers HTTP/2 would carry, its body
// DataEvents (de-chunked; Content-Length, chunked and, for responses,
// close-delimited bodies), a chunked trailer section a final HeadersEvent.
// Responses pair with requests first in, first out. See http1.go.
//
// Beside its events, a Conn says what it found, as typed facts: what it
// carries (Kind; Transport and ConnKind with whether TLS lay below), which
// side is the client and on what evidence (ClientBy, an ordered
// ClientEvidence), and Notes of what went wrong or was guessed, each with a
// NoteKind. The types live here, in the lowest layer that learns these
// facts, so that grpcframe's calls and the sinks carry them unchanged.
//
// Frame payloads other than DATA are parsed with golang.org/x/net/http2's
// Framer, which checks them strictly, except plain HEADERS, CONTINUATION,
// WINDOW_UPDATE and PING frames that pass its checks, which are read
// directly (see fastFrame); DATA payloads are streamed as they arrive so
// that a large frame is never held whole.
package h2decode
