package pbdecode

import (
	"math"
	"slices"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// packedKind is how each value of a packed reading reads.
type packedKind uint8

const (
	kindInt    packedKind = iota // varints, or fixed-size integers (Field.PackedInts)
	kindFloat                    // packed_fixed32 as floats
	kindDouble                   // packed_fixed64 as doubles
)

// String returns the JSON name of k: "int", "float" or "double".
func (k packedKind) String() string {
	switch k {
	case kindFloat:
		return "float"
	case kindDouble:
		return "double"
	}
	return "int"
}

// packedKind says how f's packed values read.
func (f *Field) packedKind() packedKind {
	switch {
	case f.PackedInts || f.As == ReadingPacked:
		return kindInt
	case f.As == ReadingPackedFixed32:
		return kindFloat
	}
	return kindDouble
}

// intView is one of the integer readings of a packed value.
type intView uint8

const (
	viewSigned   intView = iota // two's complement of the value's size
	viewUnsigned                // the bits as an unsigned number
	viewZigzag                  // sint32/sint64
)

// intValue reads the packed value v of f in the given view, returning it as
// an int64 when neg is set and as the bits of a uint64 otherwise.
func (f *Field) intValue(v uint64, view intView) (x int64, neg bool) {
	switch view {
	case viewUnsigned:
		return int64(v), false
	case viewZigzag:
		z := protowire.DecodeZigZag(v)
		return z, z < 0
	}
	if f.As == ReadingPackedFixed32 {
		s := int64(int32(uint32(v)))
		return s, s < 0
	}
	return int64(v), int64(v) < 0
}

// anyNegative reports whether one of f's packed integers is negative in
// the signed view.
func (f *Field) anyNegative() bool {
	for _, v := range f.Packed {
		if _, neg := f.intValue(v, viewSigned); neg {
			return true
		}
	}
	return false
}

// OffersFloat32 reports whether the bits of a fixed32 value are offered as
// a float: zero or a normal number. NaN, the infinities and denormals are
// what integers, ids and hashes look like as floats far more often than
// values a program computed, so they are not offered.
func OffersFloat32(u uint32) bool {
	e := u >> 23 & 0xff
	return u&0x7fffffff == 0 || e != 0 && e != 0xff
}

// OffersFloat64 is OffersFloat32 for the bits of a fixed64 value.
func OffersFloat64(u uint64) bool {
	e := u >> 52 & 0x7ff
	return u&(1<<63-1) == 0 || e != 0 && e != 0x7ff
}

// valuesFormat is the syntax packed values are written in.
type valuesFormat bool

const (
	jsonValues valuesFormat = true  // [1,-2,"18446744073709551615"]: integers past 2^53 as strings
	textValues valuesFormat = false // [1, -2, 18446744073709551615]
)

// appendValues appends f's packed values as a list in the given format:
// floats and doubles as numbers, integers in the given view.
func (f *Field) appendValues(dst []byte, view intView, format valuesFormat) []byte {
	kind := f.packedKind()
	dst = append(dst, '[')
	for i, v := range f.Packed {
		if i > 0 {
			dst = append(dst, ',')
			if format == textValues {
				dst = append(dst, ' ')
			}
		}
		switch x, neg := f.intValue(v, view); {
		case kind == kindFloat:
			dst = appendFloat(dst, float64(math.Float32frombits(uint32(v))), 32)
		case kind == kindDouble:
			dst = appendFloat(dst, math.Float64frombits(v), 64)
		case format == jsonValues && neg:
			dst = appendInt(dst, x)
		case format == jsonValues:
			dst = appendUint(dst, uint64(x))
		case neg:
			dst = strconv.AppendInt(dst, x, 10)
		default:
			dst = strconv.AppendUint(dst, uint64(x), 10)
		}
	}
	return append(dst, ']')
}

// maxShortFit is the longest text or message payload whose packed
// readings are listed by Fits. Packed integers below 128 are printable
// ASCII about three times in four each, so a printable payload of up to 8
// bytes is packed values one time in ten or more; a longer one, hardly ever.
const maxShortFit = 8

// Fits lists, best first, the packed readings the payload of a
// length-delimited field parses as exactly without being plausible enough
// to be its reading or to be listed in Also: a whole sequence of minimally
// encoded varints for packed_varint; a length that is a multiple of 4 (8)
// for packed_fixed32 (packed_fixed64). Any payload of eight bytes parses as
// two fixed32 values, so these say only that the reading is possible. It is
// nil for fields of other wire types, empty payloads, and text, messages
// and zero bytes longer than maxShortFit: any ASCII text and many messages
// would otherwise list packed_varint, and a zeroed body every reading.
func (f *Field) Fits() []Reading {
	p := f.Bytes
	if f.Wire != protowire.BytesType || len(p) == 0 || len(p) > maxShortFit && (f.As == ReadingString || f.As == ReadingMessage || f.zeros) {
		return nil
	}
	set := 0
	for i, r := range fitsOrder {
		if r != f.As && !slices.Contains(f.Also, r) && parsesExactly(p, r, f) {
			set |= 1 << i
		}
	}
	return fitsSets[set]
}

// fitsOrder are the readings Fits lists, in its order.
var fitsOrder = [3]Reading{ReadingPacked, ReadingPackedFixed32, ReadingPackedFixed64}

// fitsSets holds every list Fits returns, by the set of fitsOrder's
// indexes it holds, so that listing them costs no allocation.
var fitsSets = func() (sets [8][]Reading) {
	for set := 1; set < len(sets); set++ {
		for i, r := range fitsOrder {
			if set&(1<<i) != 0 {
				sets[set] = append(sets[set], r)
			}
		}
	}
	return sets
}()

// wholeVarints reports whether p is a whole sequence of minimally encoded
// varints.
func wholeVarints(p []byte) bool {
	for i := 0; i < len(p); {
		n := skipVarint(p[i:])
		if n < 0 || n > 1 && p[i+n-1] == 0 {
			return false
		}
		i += n
	}
	return true
}
