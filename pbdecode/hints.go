package pbdecode

import (
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Hints are the readings the length-delimited fields of one message type
// had in most messages of that type, learnt by a [Tally]. Decoding with
// them (Options.Hints) reads a field's payload as its hinted reading
// whenever the payload parses as it, so that a field reads the same in
// every message: a packed field holding the single value 122 is packed
// varints, not the text "z", when the other messages showed it packed.
type Hints struct {
	fields map[int32]*FieldHint
}

// FieldHint is the reading of one field in most messages of its type.
type FieldHint struct {
	As         Reading // the reading
	PackedInts bool    // for the fixed-size packed readings: integers, not floats
	Agree      int     // messages whose payload had As from its own evidence
	Seen       int     // messages with a non-empty payload in the field
	Sub        *Hints  // for a message reading: the hints of its fields

	fitAll uint16 // bit r: every payload parses as reading r
}

// overrules reports whether the hint replaces alone, a payload's reading
// from its own evidence: always when more than half of the payloads had
// the hinted reading, and otherwise only when alone is bytes (no plausible
// reading) or a reading some other payload of the field does not parse as,
// which cannot be the field's.
func (fh *FieldHint) overrules(alone Reading) bool {
	return fh.As != alone && (fh.Agree*2 > fh.Seen || alone == ReadingBytes || fh.fitAll&(1<<alone) == 0)
}

// field returns the hint of field num, or nil; h may be nil.
func (h *Hints) field(num int32) *FieldHint {
	if h == nil {
		return nil
	}
	return h.fields[num]
}

// Field returns the hint of field num, or nil when there is none.
func (h *Hints) Field(num int32) *FieldHint { return h.field(num) }

// sub returns the hints of a message reading's fields; fh may be nil.
func (fh *FieldHint) sub() *Hints {
	if fh == nil || fh.As != ReadingMessage {
		return nil
	}
	return fh.Sub
}

// why says why a payload follows the hint fh rather than its own reading
// alone.
func (fh *FieldHint) why(alone Reading) string {
	return "the reading of this field in " + strconv.Itoa(fh.Agree) + " of " + strconv.Itoa(fh.Seen) +
		" messages of its type; alone it reads as " + alone.String()
}

// follow reads f, a non-empty payload at the given depth whose own reading
// differs from its hint fh, as the hinted reading when the payload parses
// as it; the reading it had alone goes first in Also.
func (d *decoder) follow(f *Field, fh *FieldHint, depth int) {
	p := f.Bytes
	alone := f.As
	var sub *Message
	var packed []uint64
	ints := false
	switch fh.As {
	case ReadingPacked:
		if !wholeVarints(p) {
			return
		}
		packed = d.varintValues(p, countVarints(p))
	case ReadingPackedFixed32, ReadingPackedFixed64:
		size := 4
		if fh.As == ReadingPackedFixed64 {
			size = 8
		}
		if len(p)%size != 0 {
			return
		}
		packed = d.fixedValues(p, size)
		ints = fh.PackedInts || !offersFloats(packed, size)
	case ReadingString:
		if !utf8.Valid(p) {
			return
		}
	case ReadingMessage:
		subDepth := depth + 1
		if subDepth > d.maxDepth {
			return
		}
		sc := scan(p, d.maxDepth-subDepth)
		if !sc.ok {
			return
		}
		sub, _, _ = d.parse(p, subDepth, 0, sc.nfields, fh.Sub)
	case ReadingBytes:
	default:
		return
	}
	f.Also = demoted(alone, f.Also, fh.As)
	f.As, f.Sub, f.Packed, f.PackedInts = fh.As, sub, packed, ints
	f.plain = false
	f.Why = fh.why(alone)
}

// demoted lists the readings of a payload whose reading alone was first
// and whose other readings were also, once the reading chosen is taken
// out: alone first, never bytes (always possible).
func demoted(alone Reading, also []Reading, chosen Reading) []Reading {
	out := make([]Reading, 0, len(also)+1)
	if alone != ReadingBytes {
		out = append(out, alone)
	}
	for _, r := range also {
		if r != chosen {
			out = append(out, r)
		}
	}
	return out
}

// offersFloats reports whether every fixed-size value is offered as a
// float (size 4) or a double (size 8).
func offersFloats(values []uint64, size int) bool {
	for _, v := range values {
		if size == 4 && !OffersFloat32(uint32(v)) || size == 8 && !OffersFloat64(v) {
			return false
		}
	}
	return true
}

// countVarints returns the number of varints in p, a whole run of them.
func countVarints(p []byte) int {
	n := 0
	for i := 0; i < len(p); n++ {
		i += max(skipVarint(p[i:]), 1)
	}
	return n
}

// A Tally learns [Hints] from messages of one type decoded without hints:
// for each length-delimited field, the reading its payloads had from their
// own evidence most often, among those every payload parses as (see
// fieldTally.hint), once a field has two non-empty payloads. The zero value
// is ready to use.
type Tally struct {
	root    tallyNode
	entries int // fields counted, at every level
}

// maxTallyFields bounds the fields a Tally counts, at every level: a
// message type rarely has more, while hostile messages could number
// millions. Fields first seen beyond it are not counted.
const maxTallyFields = 1 << 12

// tallyNode counts the readings of the fields of one message type.
type tallyNode struct {
	fields map[int32]*fieldTally
}

// fieldTally counts the readings of one field's non-empty payloads.
type fieldTally struct {
	seen int
	as   [readingCount]int // payloads whose own reading this was
	fits [readingCount]int // payloads that parse as this reading
	ints int               // packed fixed-size readings as integers
	sub  *tallyNode        // the fields of payloads read as messages
}

// readingCount bounds the Reading values.
const readingCount = int(ReadingEmpty) + 1

// Add counts the readings of m's fields, and of their message readings'
// fields. m must have been decoded without hints.
func (t *Tally) Add(m *Message) { t.root.add(m, t) }

func (n *tallyNode) add(m *Message, t *Tally) {
	for i := range m.Fields {
		f := &m.Fields[i]
		if f.Wire != protowire.BytesType || len(f.Bytes) == 0 {
			continue
		}
		if n.fields == nil {
			n.fields = map[int32]*fieldTally{}
		}
		ft := n.fields[f.Number]
		if ft == nil {
			if t.entries >= maxTallyFields {
				continue
			}
			t.entries++
			ft = &fieldTally{}
			n.fields[f.Number] = ft
		}
		ft.add(f, t)
	}
}

func (ft *fieldTally) add(f *Field, t *Tally) {
	ft.seen++
	ft.as[f.As]++
	if f.PackedInts {
		ft.ints++
	}
	p := f.Bytes
	for _, r := range [...]Reading{ReadingBytes, ReadingString, ReadingMessage, ReadingPacked, ReadingPackedFixed32, ReadingPackedFixed64} {
		if parsesExactly(p, r, f) {
			ft.fits[r]++
		}
	}
	if f.As == ReadingMessage && f.Sub != nil {
		if ft.sub == nil {
			ft.sub = &tallyNode{}
		}
		ft.sub.add(f.Sub, t)
	}
}

// parsesExactly reports whether the payload p of f parses as the reading r.
func parsesExactly(p []byte, r Reading, f *Field) bool {
	switch r {
	case ReadingString:
		return utf8.Valid(p)
	case ReadingMessage:
		return f.As == ReadingMessage || scan(p, DefaultMaxDepth).ok
	case ReadingPacked:
		return wholeVarints(p)
	case ReadingPackedFixed32:
		return len(p)%4 == 0
	case ReadingPackedFixed64:
		return len(p)%8 == 0
	}
	return true
}

// Hints returns the hints learnt so far; nil when there are none.
func (t *Tally) Hints() *Hints { return t.root.hints() }

func (n *tallyNode) hints() *Hints {
	var h *Hints
	for num, ft := range n.fields {
		fh := ft.hint()
		if fh == nil {
			continue
		}
		if h == nil {
			h = &Hints{fields: map[int32]*FieldHint{}}
		}
		h.fields[num] = fh
	}
	return h
}

// hint returns the field's hint: of the readings every payload parses as,
// other than bytes, the one most payloads had from their own evidence (a
// tie: none); or else bytes when more than half had it; nil when there are
// not two payloads or neither applies. Bytes is what a payload reads as
// when nothing else was plausible, so that it outvotes no reading that
// fits every payload and was plausible for one of them: payloads of random
// bytes all parse as varints, say, with a probability of 1/2 each. Such a
// hint of a minority overrules only payloads read as bytes or as a reading
// that does not fit every payload (FieldHint.overrules).
func (ft *fieldTally) hint() *FieldHint {
	best, tie := ReadingNone, false
	for r := ReadingString; int(r) < readingCount; r++ {
		switch {
		case ft.fits[r] != ft.seen || ft.as[r] == 0:
		case ft.as[r] > ft.as[best]:
			best, tie = r, false
		case ft.as[r] == ft.as[best]:
			tie = true
		}
	}
	if tie {
		best = ReadingNone
	}
	if best == ReadingPackedFixed32 && ft.fits[ReadingPackedFixed64] == ft.seen && ft.seen >= 3 {
		// Every payload an even number of 4-byte values: 8-byte
		// values, which alone often read as pairs of small int32s.
		// The counts of real fixed32 runs are that even three times
		// running once in eight.
		best = ReadingPackedFixed64
		ft.as[best] += ft.as[ReadingPackedFixed32]
	}
	if best == ReadingNone && ft.as[ReadingBytes]*2 > ft.seen {
		best = ReadingBytes
	}
	if best == ReadingNone || ft.seen < 2 {
		return nil
	}
	fh := &FieldHint{As: best, Agree: ft.as[best], Seen: ft.seen, PackedInts: ft.ints*2 > ft.as[best]}
	for r := range readingCount {
		if ft.fits[r] == ft.seen {
			fh.fitAll |= 1 << r
		}
	}
	if best == ReadingMessage && ft.sub != nil {
		fh.Sub = ft.sub.hints()
	}
	return fh
}
