// Package pbdecode decodes protobuf messages without a schema, from the wire
// format alone, the way protoc --decode_raw does, but choosing a reading for
// every length-delimited payload (message, string, packed numbers or bytes),
// recording the alternatives when the choice is ambiguous, and keeping the
// byte offsets of every field so that a user interface can highlight them.
//
// [Decode] never fails and never panics: when the bytes stop parsing, the
// fields before the break are kept and [Message.Err], [Message.ErrOffset] and
// [Message.Rest] describe the rest.
//
// # Offsets
//
// [Field.Offset], [Field.ValueOffset] and [Field.End] are relative to the
// start of the enclosing message's bytes: the input of [Decode] for top-level
// fields, and for the fields of [Field.Sub] the start of the parent field's
// value ([Field.ValueOffset], after the length prefix or the start-group
// tag). A message's fields are contiguous: the first starts at 0, each starts
// where the previous ended, and the last ends at the end of the message, or
// at ErrOffset when parsing broke. A failed group takes its parent down with
// it: the group field is kept with its partial Sub, it ends where the group's
// content broke, and the parent's error starts there.
//
// # Readings of length-delimited payloads
//
// Every payload can be read as bytes. The checks that decide between the
// other readings are:
//
//   - Empty: a zero-length payload is "empty", since it could be any of
//     the others.
//   - All zeros: a payload of zero bytes only is "bytes" at once (field
//     number 0 rules out a message and NUL rules out text). This is the
//     zero-filled body of grpc.testing payloads, and the check runs at memory
//     speed.
//   - Message: the payload parses completely as a message: field numbers in
//     1..536870911, wire types 0 to 5, lengths within bounds, groups balanced
//     and within MaxDepth. Only the top level of the payload is scanned for
//     this; its own payloads are classified only if the message reading wins,
//     so each byte is looked at a bounded number of times per nesting level
//     and the work is O(len × depth) at worst.
//   - Text: "printable" means valid UTF-8 with no control characters other
//     than \t, \n and \r (DEL and the C1 controls U+0080..U+009F count as
//     controls); "mostly printable" allows one control character in eight
//     (a colour escape in a line of log text, a trailing NUL).
//
// Message and text decide most payloads:
//
//   - A payload that parses as a message and is not printable is a message.
//     The bytes of real messages contain tags and lengths below 0x20 (field 2
//     of any type, lengths under 32), which are not printable. Two exceptions
//     set the message reading aside (it is then listed in Also): a field
//     number above 2097151 (real messages hardly use such numbers, but random
//     bytes that happen to parse often produce 4- and 5-byte tags), and
//     payloads of at least three plausible floats or two plausible doubles
//     (see below), because float bits parse as a message fairly often while
//     a message rarely puts a float exponent at every fourth byte.
//   - A printable payload that also parses as a message is a string, unless
//     the non-empty length-delimited fields of the message reading span at
//     least half of the bytes. Short printable text often parses by accident
//     ("hi" is field 13 = 105), nearly always as scalar fields, while a real message
//     is printable only when it carries long text: {1: <40 characters>} is
//     "\n(" followed by the text. Inside printable bytes a non-empty
//     length-delimited field always reads as a string or a message, so this
//     test needs no recursion. Either way the other reading is recorded in
//     [Field.Also] with the reason in [Field.Why].
//   - Printable or mostly printable payloads that are not messages are
//     strings.
//
// What is left is binary, and is read as packed numbers when that is
// plausible, or else as bytes:
//
//   - packed_fixed32 when the length is a multiple of 4 and every value is
//     a plausible float: ±0 or a binary exponent within ±32 (about 2e-10 to
//     9e9; never NaN, an infinity or a denormal), at least one value
//     non-zero, and two values or more unless the single value is round
//     (its low 16 mantissa bits are zero, as for 1.0 or 2.5). Random bytes
//     pass this with a probability of about 1/4 per value.
//   - packed_fixed64 likewise for doubles (exponent within ±64, round
//     meaning a zero low 32 bits); it is preferred over packed_fixed32 when
//     both fit only if every low half is zero (round doubles such as 1.0
//     read as floats alternate 0 and a plausible float).
//   - packed_fixed32 or packed_fixed64 read as integers ([Field.PackedInts])
//     when at least three in four values are small: the top byte of a
//     4-byte value, the top two bytes of an 8-byte value, all 0 or all 1
//     bits (fixed32, sfixed32, fixed64, sfixed64 ids, counts and offsets;
//     random bytes pass with a probability of 1/128 and 1/32768 per value).
//     Two values at least for 4 bytes: 01 00 00 00 is as often four packed
//     booleans. When both sizes fit, 8 bytes come first only if every
//     8-byte value is a sign-extended int32.
//   - packed_varint when the payload is a whole sequence of minimally
//     encoded varints, not all zero, of which at least three in four are one
//     byte long, or all have the same length, or one is ten bytes long. This
//     admits enums, booleans, small integers, runs of ids or timestamps of
//     similar size, and any run holding a negative int32 or int64 or a
//     uint64 of 2^63 or more (7, -1, 150000): a ten-byte varint is nine
//     bytes with the top bit set and then exactly 01, which random bytes
//     make about once in 2^17 tries. It rejects most random binary data
//     (hashes, keys, trace ids, compressed data), whose varints come in
//     geometrically distributed lengths: random payloads of 8, 16 and 32
//     bytes are read as packed varints about 9%, 3% and 1% of the time.
//     Packed integers of mixed magnitudes (5, 300, 800) whose varint lengths
//     are all within one byte of each other are read as bytes, with
//     packed_varint in Also: random bytes pass that weaker test too often
//     (about 20% of 8-byte payloads) for it to decide.
//   - bytes otherwise.
//
// The readings that pass are ranked: floats before integers (round floats
// are also valid varints, 1.0f is 00 00 80 3f, the varints 0, 0, 8064,
// while small integers are never plausible floats); small fixed-size
// integers before varints (1, 2, 3 as fixed32 are the varints 1, 0, 0, 0,
// 2, …), unless a varint is ten bytes long (negative varints are runs of ff
// bytes, small negative fixed-size integers too) or every varint is one byte
// and fewer than half are 0 (booleans and enums). The first is the reading,
// the others are listed in Also, and Why gives the reason for the first.
//
// A packed_varint reading is the wire's: the values are shown as int64
// (negative when the top bit is set), and the JSON gives the uint64 and the
// zigzag (sint32, sint64) readings beside them. Nothing in one payload tells
// int64 from sint64 from uint64.
//
// When MaxDepth stops a payload from being expanded as a message, it is a
// string (when mostly printable) or bytes, and if it would have parsed Also
// lists "message" and Why says that MaxDepth was reached.
//
// Also never lists "bytes", which is always a possible reading, nor the
// packed readings of text or of messages (any ASCII text is a valid sequence
// of one-byte varints); it lists only readings that passed their own
// plausibility test, or the weaker packed_varint test above. The slices in
// Also may be shared and must not be modified.
//
// [Field.Fits] lists, after those, the packed readings the payload parses
// as exactly without being plausible: a whole run of varints, a length that
// is a multiple of 4 or 8. A reading that fits but is implausible is thus
// still offered, ranked below the plausible ones. Fits leaves out text,
// messages and runs of zeros longer than 8 bytes, which any ASCII text and
// many messages would otherwise fill with packed_varint: packed integers
// below 128 are printable ASCII about three times in four, so a printable
// payload of up to 8 bytes is a run of such integers one time in ten or
// more, and a longer one hardly ever.
//
// # Readings across messages
//
// One payload alone is often ambiguous: a packed field holding the single
// value 122 is the text "z". A [Tally] learns, from messages of one type
// decoded alone, the reading each length-delimited field had in most of
// them, among those every one of its payloads parses as; decoding with the
// resulting [Hints] (Options.Hints) reads a payload that parses as its
// field's hinted reading that way, puts the reading it had alone first in
// Also, and says so in Why ("the reading of this field in 3 of 4 messages of
// its type; alone it reads as string"). A hint that is not the reading of
// more than half of the payloads replaces only bytes, or a reading that some
// other payload of the field does not parse as. See [FieldHint].
//
// # JSON
//
// [Message.AppendJSON] writes a message as
//
//	{"fields":[...]}
//
// ([AppendDecodeJSON] decodes and writes in one step, reusing the tree's
// memory from one message to the next)
//
// with, when parsing broke, "error" (the reason), "error_offset" (relative to
// the message's start) and "rest" (the unparsed bytes, base64):
//
//	{"fields":[...],"error":"...","error_offset":N,"rest":"<base64>"}
//
// In the message of a group that broke, "rest" is empty: the unparsed bytes
// run past the group and are given once, by the outermost message.
//
// Each field starts with
//
//	{"field":N,"wire":"varint|i64|len|i32|group","offset":N,"end":N, ...}
//
// where offset is that of the tag and end is just past the field, and goes
// on by wire type:
//
//   - varint: "value" (the uint64 value), "int" (the int64 reading, only
//     when negative) and "sint" (the zigzag reading, always).
//   - i32: "value" (uint32), "int" (only when negative as an int32) and
//     "float" (only when zero or a normal number: NaN, the infinities and
//     denormals are what integers look like as floats, -5 is a NaN, and are
//     not offered).
//   - i64: "value" (uint64), "int" (only when negative as an int64) and
//     "double" (only when zero or a normal number).
//   - len: "length" and "as" (string, message, bytes, packed_varint,
//     packed_fixed32, packed_fixed64 or empty), then the reading: "string"
//     (the text), "message" (a nested object of this same shape), "bytes"
//     (base64) or, for the packed readings, "packed_as" (int, float or
//     double: how each value reads) and "packed" (an array); no value for
//     empty. Packed integers also have "packed_uint" (the values unsigned,
//     when one of them is negative) and, for varints, "packed_sint" (the
//     zigzag reading). Then "also" (an array of reading names) and "why"
//     when the choice was ambiguous, and "fits" (an array of reading names,
//     [Field.Fits]) when other packed readings parse.
//   - group: "message", a nested object of this same shape.
//
// Integers above 2^53 in magnitude are written as JSON strings so that no
// precision is lost in readers that use doubles. Floats use the shortest
// representation that reads back exactly; NaN and the infinities are written
// as the strings "NaN", "Infinity" and "-Infinity" (a packed float reading
// never holds them). In "packed", integers are written as int64 (int32 for
// packed_fixed32) when the top bit is set, negative int32 and int64 values
// being encoded that way, as unsigned otherwise; floats and doubles as
// numbers ([Field.Packed] holds the raw bits).
//
// A varint has no "bool" key: a human reading 08 01 sees "value":1 and knows
// what a boolean would be, and a key present only for 0 and 1 would repeat
// the value while making the shape depend on it. "int" appears only when it
// differs from "value" (for non-negative values the two are equal), whereas
// "sint" is always present because the zigzag reading is the one that cannot
// be done at a glance and the set of keys of a varint stays fixed.
//
// The bytes of a message reading are not repeated in base64: the raw bytes of
// the whole message are available elsewhere, and offsets locate every field
// within them.
//
// # Text
//
// [Message.Text] follows protoc --decode_raw: `1: 150`, `2: "hello"`, `3 {`
// ... `}` with two-space indentation, fixed-size values as 0x-prefixed hex,
// bytes C-escaped with octal escapes. When every payload reads as an ASCII
// string, a message or bytes, the output is the same as protoc's once the
// comments are removed. It differs where the readings do: strings keep their
// UTF-8 characters, printable text that protoc would show as a message is
// shown as a string, packed values are shown as a list (`[1, 2, 3]`), and
// `# ...` comments give float readings of plausible fixed-size values,
// negative int64 readings of varints, the chosen packed reading, the
// alternative readings, and the error and unparsed bytes (the first 32, in
// hex) of a message that stopped parsing. protoc rejects such a message
// outright.
package pbdecode
