package h2decode

import "strconv"

// NoteKind says what kind of problem a Note reports, for a reader that
// counts notes or picks some out. It is an error, which a Note of its kind
// matches: errors.Is(note, h2decode.NoteLostBytes). The zero NoteKind
// classifies nothing.
type NoteKind uint8

const (
	// NoteLostBytes: bytes were not captured (a gap, or a start before the
	// capture), and what they held is missing.
	NoteLostBytes NoteKind = iota + 1
	// NoteUnfinished: a message, frame, head or body was cut short by the
	// end of its stream or of the capture.
	NoteUnfinished
	// NoteLimit: a bound of the decoding's options was reached: what it
	// bounds was cut, skipped or no longer followed.
	NoteLimit
	// NoteMalformed: a peer sent what its protocol does not allow (bad
	// framing, a bad header block, a status that is not one), and what
	// it held is not (all) read.
	NoteMalformed
	// NoteHeadersUnknown: header fields HPACK could not recover (their
	// table entries were made before the capture or a gap) held what a
	// call needed: its method, its status.
	NoteHeadersUnknown
	// NoteInferred: framing was found again after bytes were skipped or
	// lost, the HPACK table after lost bytes that HTTP/2's stream rules
	// show held no header block, or responses were paired with requests
	// by their order: what follows rests on an inference.
	NoteInferred
	// NoteNotDecoded: a connection, a direction or a body is left as it
	// was: not HTTP/2, TLS not decrypted, a switch to another protocol, a
	// body that is not gRPC (kept whole).
	NoteNotDecoded
	// NotePeer: a peer ended, refused or declined something: a GOAWAY with
	// an error, streams it refused, an h2c Upgrade it declined.
	NotePeer
)

// String names the kind in a few words, e.g. "lost bytes".
func (k NoteKind) String() string {
	switch k {
	case NoteLostBytes:
		return "lost bytes"
	case NoteUnfinished:
		return "unfinished"
	case NoteLimit:
		return "limit reached"
	case NoteMalformed:
		return "malformed"
	case NoteHeadersUnknown:
		return "headers unknown"
	case NoteInferred:
		return "inferred"
	case NoteNotDecoded:
		return "not decoded"
	case NotePeer:
		return "peer"
	}
	return "note kind " + strconv.Itoa(int(k))
}

// Error is String: a NoteKind is the error a Note of its kind matches.
func (k NoteKind) Error() string { return k.String() }

// Note is something that went wrong or was guessed, said for the user: Text
// is what the user reads, Kind the kind of problem it is. A Note is an
// error whose message is its Text.
type Note struct {
	Kind NoteKind
	Text string
}

// Error is the note's Text.
func (n Note) Error() string { return n.Text }

// Is reports whether target is the note's Kind, so that
// errors.Is(note, NoteLimit) asks whether a limit was reached.
func (n Note) Is(target error) bool {
	k, ok := target.(NoteKind)
	return ok && k == n.Kind
}
