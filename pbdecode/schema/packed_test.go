package schema

import (
	"path/filepath"
	"testing"

	"github.com/grpcsniff/grpcsniff/pbdecode"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestPackedCapturesReadFirst decodes without a schema the messages of the
// two captures of packed.Samples, grpc-go's and grpc-js's, with the hints
// learnt from all of them (as grpcsniff --json does with a file), and
// checks with packed.proto that every packed field's true reading comes
// first: packed
// varints for int32, uint64 and sint64, fixed-size integers for fixed32 and
// sfixed64, floats and doubles for float and double; and that an sfixed32
// is not offered as a float, its values (-5, -1, 100) being NaN or
// denormal, while a float is.
func TestPackedCapturesReadFirst(t *testing.T) {
	reg, err := Load(Options{ProtoFiles: []string{filepath.Join(protoDir, "packed.proto")}})
	if err != nil {
		t.Fatal(err)
	}
	in, _, ok := reg.Method("/packed.Samples/Record")
	if !ok {
		t.Fatal("packed.proto has no Samples/Record")
	}
	for _, pcap := range []string{"grpcgo_packed.pcap", "node_packed.pcap"} {
		calls := readCalls(t, pcap)
		if len(calls) != 4 {
			t.Fatalf("%s: %d calls, want 4", pcap, len(calls))
		}
		var msgs [][]byte
		var tally pbdecode.Tally
		for _, c := range calls {
			for _, m := range append(c.Requests, c.Responses...) {
				msgs = append(msgs, m.Data)
				tally.Add(pbdecode.Decode(m.Data, pbdecode.Options{}))
			}
		}
		packed := 0
		for _, b := range msgs {
			packed += checkPackedFirst(t, pcap, in, pbdecode.Decode(b, pbdecode.Options{Hints: tally.Hints()}))
		}
		if packed != 2*(3*7+6) {
			t.Errorf("%s: %d packed fields checked, want 54 (7 in each of 6 messages, 6 in 2)", pcap, packed)
		}
		// Alone, the fourth sample's values [122] and ids [104, 105]
		// read as the text "z" and "hi".
		fourth := pbdecode.Decode(calls[3].Requests[0].Data, pbdecode.Options{})
		if f := fourth.Fields[1]; f.As != pbdecode.ReadingString || string(f.Bytes) != "z" {
			t.Errorf("%s: fourth sample's values alone read as %v %q, want the string \"z\"", pcap, f.As, f.Bytes)
		}
	}
}

// checkPackedFirst checks the readings of m's fields against md and returns
// how many packed fields it checked.
func checkPackedFirst(t *testing.T, pcap string, md protoreflect.MessageDescriptor, m *pbdecode.Message) int {
	t.Helper()
	n := 0
	for i := range m.Fields {
		f := &m.Fields[i]
		fd := md.Fields().ByNumber(protoreflect.FieldNumber(f.Number))
		switch fd.Kind() {
		case protoreflect.Sfixed32Kind:
			// -5 and -1 are NaN as floats, 100 a denormal.
			if pbdecode.OffersFloat32(uint32(f.Fixed)) {
				t.Errorf("%s: sfixed32 %d offered as a float", pcap, int32(uint32(f.Fixed)))
			}
		case protoreflect.FloatKind:
			if !fd.IsList() && !pbdecode.OffersFloat32(uint32(f.Fixed)) {
				t.Errorf("%s: float %#x not offered as a float", pcap, f.Fixed)
			}
		}
		if !fd.IsList() {
			continue
		}
		n++
		want, ints := packedReading(fd.Kind())
		if f.As != want || f.PackedInts != ints {
			t.Errorf("%s: %s read as %v (ints %v, also %v, why %q), want %v (ints %v)",
				pcap, fd.Name(), f.As, f.PackedInts, f.Also, f.Why, want, ints)
		}
	}
	return n
}

// packedReading is the raw reading of a packed field of the given kind.
func packedReading(k protoreflect.Kind) (r pbdecode.Reading, ints bool) {
	switch k {
	case protoreflect.FloatKind:
		return pbdecode.ReadingPackedFixed32, false
	case protoreflect.DoubleKind:
		return pbdecode.ReadingPackedFixed64, false
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return pbdecode.ReadingPackedFixed32, true
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return pbdecode.ReadingPackedFixed64, true
	}
	return pbdecode.ReadingPacked, false
}
