package export

import (
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/pbdecode"
)

// maxHintedDirections bounds the methods (each way) whose readings a
// ReadingHints learns: a capture of random :paths would otherwise grow it
// without end. Later ones are read without hints.
const maxHintedDirections = 1 << 12

// maxHintMessages bounds the messages of one method, one way, that a
// ReadingHints learns from: a few hundred settle every field that the
// messages settle at all, and decoding a million of them again would
// double the time of the first pass.
const maxHintMessages = 256

// ReadingHints learns, from the calls of a capture, how each method's
// messages read their length-delimited fields, so that the schema-less
// decoding reads a field the same way in every message of the method
// (Options.Hints): a packed field whose lone value 122 would read as the
// text "z" is packed varints when the method's other messages showed it
// so, and its "why" says that. Add every call, then Finish, then read.
type ReadingHints struct {
	raw     pbdecode.Options
	tallies map[methodDirection]*directionTally
	hints   map[methodDirection]*pbdecode.Hints
}

// directionTally is the Tally of one method's messages one way, with their
// count.
type directionTally struct {
	pbdecode.Tally
	messages int
}

// methodDirection names the messages of one method one way.
type methodDirection struct {
	method  string
	request bool
}

// NewReadingHints returns an empty ReadingHints whose messages are
// decoded with raw (its Hints are ignored).
func NewReadingHints(raw pbdecode.Options) *ReadingHints {
	raw.Hints = nil
	return &ReadingHints{raw: raw, tallies: map[methodDirection]*directionTally{}}
}

// Add learns from the protobuf messages of c that are whole and readable.
func (h *ReadingHints) Add(c *grpcframe.Call) {
	method := decodeMethod(c)
	if method == "" {
		return
	}
	h.addMessages(methodDirection{method, true}, c.Requests)
	h.addMessages(methodDirection{method, false}, c.Responses)
}

func (h *ReadingHints) addMessages(k methodDirection, ms []*grpcframe.Message) {
	for _, m := range ms {
		if m.Format != grpcframe.FormatProto || m.Truncated || m.Body || m.Compressed && m.Encoding == "" {
			continue
		}
		t := h.tallies[k]
		if t == nil {
			if len(h.tallies) >= maxHintedDirections {
				return
			}
			t = &directionTally{}
			h.tallies[k] = t
		}
		if t.messages >= maxHintMessages {
			return
		}
		t.messages++
		t.Add(pbdecode.Decode(m.Data, h.raw))
	}
}

// Finish turns what was learnt into hints; Add must not be called after.
func (h *ReadingHints) Finish() {
	h.hints = make(map[methodDirection]*pbdecode.Hints, len(h.tallies))
	for k, t := range h.tallies {
		if hs := t.Hints(); hs != nil {
			h.hints[k] = hs
		}
	}
	h.tallies = nil
}

// For returns the hints of the messages of method one way, or nil. It is
// safe for concurrent use once Finish has returned.
func (h *ReadingHints) For(method string, request bool) *pbdecode.Hints {
	if h == nil {
		return nil
	}
	return h.hints[methodDirection{method, request}]
}
