package grpcframe

import (
	"testing"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// TestCallFacts checks the questions a call answers from its facts.
func TestCallFacts(t *testing.T) {
	for _, tc := range []struct {
		c    Call
		tls  bool
		what string
	}{
		{Call{Transport: h2decode.TransportH2C}, false, "h2c"},
		{Call{Transport: h2decode.TransportH2}, true, "h2 without its TLS facts"},
		{Call{Transport: h2decode.TransportHTTP1, TLS: &capture.TLSInfo{}}, true, "HTTP/1.1 inside TLS"},
		{Call{Transport: h2decode.TransportHTTP1}, false, "HTTP/1.1"},
	} {
		if got := tc.c.OverTLS(); got != tc.tls {
			t.Errorf("%s: OverTLS %v", tc.what, got)
		}
	}
	for by := h2decode.ClientUnknown; by <= h2decode.ClientByPreface; by++ {
		if got := (&Call{ClientBy: by}).RolesGuessed(); got != (by == h2decode.ClientByPort) {
			t.Errorf("client by %q: RolesGuessed %v", by, got)
		}
	}
	var c Call
	if c.Protocol != ProtoGRPC || c.Protocol.String() != "grpc" {
		t.Errorf("zero Protocol %v", c.Protocol)
	}
}
