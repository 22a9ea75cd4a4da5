package sniff

import (
	"slices"
	"testing"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"google.golang.org/protobuf/encoding/protowire"
)

// testCall is a gRPC call on connection 1; entry > 0 makes its :path the
// unknown table entry of that number, else its method is known.
func testCall(stream uint32, method string, entry uint32, reqs, resps [][]byte) *grpcframe.Call {
	c := &grpcframe.Call{ConnID: 1, StreamID: stream, Method: method, GRPC: true}
	if entry > 0 {
		c.Method, c.MethodUnknown = "", true
		c.RequestHeaders = []h2decode.HeaderField{{NameUnknown: true, ValueUnknown: true,
			Ref: h2decode.TableRef{Conn: 1, Entry: entry}}}
	}
	for _, d := range reqs {
		c.Requests = append(c.Requests, &grpcframe.Message{Data: d})
	}
	for _, d := range resps {
		c.Responses = append(c.Responses, &grpcframe.Message{Data: d})
	}
	return c
}

// msg is a message with a varint field and a bytes field of these numbers.
func msg(varintField, bytesField protowire.Number) []byte {
	b := protowire.AppendTag(nil, varintField, protowire.VarintType)
	b = protowire.AppendVarint(b, 7)
	b = protowire.AppendTag(b, bytesField, protowire.BytesType)
	return protowire.AppendBytes(b, []byte("x"))
}

func one(m []byte) [][]byte { return [][]byte{m} }

func learnAll(b *MethodBook, calls ...*grpcframe.Call) {
	for _, c := range calls {
		b.Learn(c)
	}
}

// An unknown call is named after the known method of its shape, even when
// that method's calls come later; a field the method never had rules it
// out.
func TestMethodBookShapes(t *testing.T) {
	b := NewMethodBook()
	unknown := testCall(1, "", 9, one(msg(1, 2)), one(msg(3, 4)))
	odd := testCall(3, "", 8, one(msg(5, 6)), nil)
	learnAll(b, unknown, odd,
		testCall(5, "/s.S/A", 0, one(msg(1, 2)), one(msg(3, 4))),
		testCall(7, "/s.S/B", 0, one(msg(2, 1)), one(msg(3, 4))))
	b.Infer(unknown)
	if unknown.MethodInferred != "/s.S/A" {
		t.Errorf("inferred %q (candidates %v), want /s.S/A", unknown.MethodInferred, unknown.MethodCandidates)
	}
	b.Infer(odd)
	if odd.MethodInferred != "" || len(odd.MethodCandidates) != 0 {
		t.Errorf("a shape no method has: inferred %q, candidates %v", odd.MethodInferred, odd.MethodCandidates)
	}
}

// Calls of one unknown entry pool their evidence; a method the connection
// sent as a known entry before one of them is left out.
func TestMethodBookEntries(t *testing.T) {
	b := NewMethodBook()
	empty := testCall(1, "", 9, nil, nil)
	later := testCall(9, "", 9, one(msg(1, 2)), nil)
	learnAll(b, empty, testCall(3, "/s.S/B", 0, one(msg(1, 2)), nil), later,
		testCall(11, "/s.S/A", 0, one(msg(1, 2)), nil))
	b.Infer(empty)
	if empty.MethodInferred != "/s.S/A" || !slices.Equal(empty.MethodCandidates, []string{"/s.S/A"}) {
		t.Errorf("inferred %q, candidates %v; want /s.S/A alone (B was a known entry before stream 9)",
			empty.MethodInferred, empty.MethodCandidates)
	}
}

// Messages that are not protobuf, cut or compressed teach nothing, and
// never make the book fail.
func FuzzMethodBook(f *testing.F) {
	f.Add(msg(1, 2), msg(1, 2))
	f.Add([]byte{0x0b, 0x0c}, []byte{0xff})
	f.Fuzz(func(t *testing.T, known, unknown []byte) {
		b := NewMethodBook()
		c := testCall(3, "", 5, one(unknown), one(known))
		learnAll(b, testCall(1, "/s.S/A", 0, one(known), one(unknown)), c)
		b.Infer(c)
		if c.MethodInferred != "" && !slices.Contains(c.MethodCandidates, c.MethodInferred) {
			t.Fatalf("inferred %q is not among the candidates %v", c.MethodInferred, c.MethodCandidates)
		}
	})
}
