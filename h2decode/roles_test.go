package h2decode

import (
	"testing"

	"github.com/grpcsniff/grpcsniff/capture"
)

// TestSetClient checks which evidence replaces which: up to
// ClientByHeaders only fills in what nothing showed; stronger evidence
// replaces anything, the latest deciding.
func TestSetClient(t *testing.T) {
	for cur := ClientUnknown; cur <= ClientByPreface; cur++ {
		for e := ClientByPort; e <= ClientByPreface; e++ {
			c := &Conn{Client: capture.SideA, ClientBy: cur}
			c.setClient(capture.SideB, e)
			replaced := c.Client == capture.SideB
			want := cur == ClientUnknown || e > ClientByHeaders
			if replaced != want || (replaced && c.ClientBy != e) || (!replaced && c.ClientBy != cur) {
				t.Errorf("%q then %q: client %d by %q", cur, e, c.Client, c.ClientBy)
			}
		}
	}
}

func TestRoleOf(t *testing.T) {
	if r := RoleOf(capture.SideB, capture.SideB); r != RoleClient || r.String() != "client" {
		t.Errorf("client side: %v", r)
	}
	if r := RoleOf(capture.SideA, capture.SideB); r != RoleServer || r.String() != "server" {
		t.Errorf("server side: %v", r)
	}
	if Role(0).String() != "" {
		t.Errorf("zero Role: %q", Role(0))
	}
}
