// Package infer writes proto3 schemas for gRPC methods from their messages
// alone, for the user who has no .proto: every field's type is the reading
// most consistent across every message seen, and what could not be settled
// is said in a comment with the evidence.
//
// The result is meant to be loaded back (grpcsniff --proto) and decode the
// same traffic without schema errors: a type is only chosen when every
// observation fits it (a string must be valid UTF-8 in every message, a
// nested message must parse in every message), and otherwise the field falls
// back to a type that accepts anything of its wire type (bytes, int64,
// fixed32, fixed64).
package infer

import (
	"unicode/utf8"

	"github.com/grpcsniff/grpcsniff/pbdecode"
	"google.golang.org/protobuf/encoding/protowire"
)

// maxDepth bounds how deep nested messages are inferred.
const maxDepth = 32

// Schema collects observations of the methods of a capture.
type Schema struct {
	methods map[string]*method
}

type method struct {
	calls             int
	maxReqs, maxResps int // the most messages one call carried each way
	req, resp         *msgObs
}

// msgObs merges every observation of one message type.
type msgObs struct {
	seen   int // messages observed
	fields map[int32]*fieldObs
	order  []int32 // field numbers in order of first appearance
}

// fieldObs merges every observation of one field number.
type fieldObs struct {
	inMessages int // messages that had the field
	repeated   bool
	wire       map[protowire.Type]int

	// VARINT
	varMin, varMax uint64
	negative       bool // a value at or above 2^63: a negative int64/int32
	// I32 / I64
	notFloat, notDouble bool
	fixedSeen           int
	smallNegative       bool // a value of small magnitude with its top bit set
	// LEN
	lenSeen     int
	nonEmpty    int
	allUTF8     bool
	allMessage  bool          // every non-empty payload parses as a message
	strAsRead   int           // payloads the raw decoding read as text
	msgAsRead   int           // payloads the raw decoding read as a message
	packAsRead  int           // payloads the raw decoding read as packed varints
	allPacked   bool          // every non-empty payload is a run of varints
	notLen4     bool          // a non-empty payload's length is not a multiple of 4
	notLen8     bool          // likewise of 8
	fixedAsRead [2]fixedReads // payloads read as packed fixed32 [0] and fixed64 [1]
	sub         *msgObs
	examples    []string
	maxExamples int
}

// New returns an empty Schema.
func New() *Schema { return &Schema{methods: map[string]*method{}} }

// AddCall records one call of method (a gRPC :path) with the payloads of its
// request and response messages. Messages that were truncated or could not
// be decompressed should not be given.
func (s *Schema) AddCall(path string, requests, responses [][]byte) {
	m := s.methods[path]
	if m == nil {
		m = &method{req: newMsgObs(), resp: newMsgObs()}
		s.methods[path] = m
	}
	m.calls++
	m.maxReqs = max(m.maxReqs, len(requests))
	m.maxResps = max(m.maxResps, len(responses))
	for _, b := range requests {
		m.req.add(b, 0)
	}
	for _, b := range responses {
		m.resp.add(b, 0)
	}
}

func newMsgObs() *msgObs { return &msgObs{fields: map[int32]*fieldObs{}} }

func (o *msgObs) add(b []byte, depth int) {
	o.seen++
	m := pbdecode.Decode(b, pbdecode.Options{MaxDepth: 1})
	count := map[int32]int{}
	for i := range m.Fields {
		f := &m.Fields[i]
		fo := o.fields[f.Number]
		if fo == nil {
			fo = &fieldObs{wire: map[protowire.Type]int{}, allUTF8: true, allMessage: true, allPacked: true, varMin: ^uint64(0), maxExamples: 3}
			o.fields[f.Number] = fo
			o.order = append(o.order, f.Number)
		}
		count[f.Number]++
		if count[f.Number] == 1 {
			fo.inMessages++
		} else {
			fo.repeated = true
		}
		fo.add(f, depth)
	}
}

func (fo *fieldObs) add(f *pbdecode.Field, depth int) {
	wire := f.Wire
	if wire == protowire.StartGroupType {
		// Groups are not proto3; keep them as bytes of their own wire type
		// so the evidence shows, and never choose them.
		fo.wire[wire]++
		return
	}
	fo.wire[wire]++
	switch wire {
	case protowire.VarintType:
		fo.varMin, fo.varMax = min(fo.varMin, f.Varint), max(fo.varMax, f.Varint)
		if f.Varint >= 1<<63 {
			fo.negative = true
		}
	case protowire.Fixed32Type:
		fo.fixedSeen++
		if !pbdecode.PlausibleFloat32(uint32(f.Fixed)) {
			fo.notFloat = true
		}
		fo.smallNegative = fo.smallNegative || f.Fixed>>24 == 0xff
	case protowire.Fixed64Type:
		fo.fixedSeen++
		if !pbdecode.PlausibleFloat64(f.Fixed) {
			fo.notDouble = true
		}
		fo.smallNegative = fo.smallNegative || f.Fixed>>48 == 0xffff
	case protowire.BytesType:
		fo.lenSeen++
		p := f.Bytes
		if len(p) == 0 {
			return
		}
		fo.nonEmpty++
		if !utf8.Valid(p) {
			fo.allUTF8 = false
		}
		switch f.As {
		case pbdecode.ReadingString:
			fo.strAsRead++
		case pbdecode.ReadingMessage:
			fo.msgAsRead++
		case pbdecode.ReadingPacked:
			fo.packAsRead++
		case pbdecode.ReadingPackedFixed32:
			fo.fixedAsRead[0].add(f, 4)
		case pbdecode.ReadingPackedFixed64:
			fo.fixedAsRead[1].add(f, 8)
		}
		if len(p)%4 != 0 {
			fo.notLen4 = true
		}
		if len(p)%8 != 0 {
			fo.notLen8 = true
		}
		if fo.allPacked && !isVarints(p) {
			fo.allPacked = false
		}
		if fo.allMessage {
			sub := pbdecode.Decode(p, pbdecode.Options{MaxDepth: 1})
			if sub.Err != "" || len(sub.Fields) == 0 || depth+1 >= maxDepth {
				fo.allMessage = false
				fo.sub = nil
			} else {
				if fo.sub == nil {
					fo.sub = newMsgObs()
				}
				fo.sub.add(p, depth+1)
			}
		}
		if utf8.Valid(p) && len(fo.examples) < fo.maxExamples && len(p) <= 40 {
			fo.examples = append(fo.examples, string(p))
		}
	}
}

func isVarints(p []byte) bool {
	for len(p) > 0 {
		_, n := protowire.ConsumeVarint(p)
		if n < 0 {
			return false
		}
		p = p[n:]
	}
	return true
}

// fixedReads counts the payloads of a field read as packed fixed-size
// values of one size.
type fixedReads struct {
	payloads int
	ints     int  // read as integers rather than floats
	negative bool // an integer of small magnitude with its top bit set
}

func (fr *fixedReads) add(f *pbdecode.Field, size int) {
	fr.payloads++
	if !f.PackedInts {
		return
	}
	fr.ints++
	for _, v := range f.Packed {
		// A small negative number, its top byte (two bytes) all ones;
		// 4000000000 as a fixed32 is a large unsigned number.
		if size == 4 && v>>24 == 0xff || size == 8 && v>>48 == 0xffff {
			fr.negative = true
		}
	}
}

// typeName is the proto3 element type of packed values of the given size
// (4 or 8) read fr's way: float or double, else fixed, or sfixed when a
// value was a small negative number.
func (fr *fixedReads) typeName(size int) string {
	bits := map[int]string{4: "32", 8: "64"}[size]
	switch {
	case fr.ints*2 <= fr.payloads && size == 4:
		return "float"
	case fr.ints*2 <= fr.payloads:
		return "double"
	case fr.negative:
		return "sfixed" + bits
	}
	return "fixed" + bits
}
