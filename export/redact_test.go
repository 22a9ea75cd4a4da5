package export

import (
	"testing"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// TestRedactCopies checks that masking leaves the list it was given alone:
// calls of a connection share their header lists, which other goroutines
// read as they are.
func TestRedactCopies(t *testing.T) {
	r := NewRedactor(CredentialHeaders, grpcframe.SinkFunc(func(*grpcframe.Call) {}))
	shared := []h2decode.HeaderField{{Name: ":path", Value: "/a.B/C"}, {Name: "authorization", Value: "Bearer x"}}
	got := r.mask(shared)
	if got[1].Value != RedactedValue || shared[1].Value != "Bearer x" {
		t.Fatalf("masked %v, given %v", got, shared)
	}
	if clean := shared[:1]; &r.mask(clean)[0] != &clean[0] {
		t.Error("a list with nothing to mask was copied")
	}
}
