package h2decode

import (
	"testing"

	"github.com/grpcsniff/grpcsniff/capture"
)

// TestTransport checks how a connection's kind, with TLS below or not,
// reads as a call's transport and as a summary's connection kind.
func TestTransport(t *testing.T) {
	for _, tc := range []struct {
		kind                Kind
		tls                 bool
		transport, connKind string
	}{
		{KindUnknown, false, "unknown", "unknown"},
		{KindH2, false, "h2c", "h2c"},
		{KindUpgrade, false, "h2c-upgrade", "h2c-upgrade"},
		{KindMidH2, false, "h2c-midstream", "h2c-midstream"},
		{KindHTTP1, false, "http1.1", "http1.1"},
		{KindTLS, false, "tls", "tls"},
		{KindNotHTTP2, false, "not-http2", "not-http2"},
		{KindUnknown, true, "h2", "TLS not decrypted"},
		{KindH2, true, "h2", "h2 over TLS"},
		{KindMidH2, true, "h2", "h2 over TLS"},
		{KindNotHTTP2, true, "h2", "h2 over TLS"},
		{KindHTTP1, true, "http1.1", "http1.1 over TLS"},
	} {
		info := &capture.ConnInfo{}
		if tc.tls {
			info.TLS = &capture.TLSInfo{}
		}
		c := &Conn{Info: info, Kind: tc.kind}
		if got := c.Transport().String(); got != tc.transport {
			t.Errorf("%v (TLS %v): transport %q, want %q", tc.kind, tc.tls, got, tc.transport)
		}
		if got := c.ConnKind().String(); got != tc.connKind {
			t.Errorf("%v (TLS %v): connection kind %q, want %q", tc.kind, tc.tls, got, tc.connKind)
		}
		if !tc.tls && tc.kind.String() != tc.transport {
			t.Errorf("kind %q, its transport %q", tc.kind, tc.transport)
		}
	}
	if s := Transport(200).String(); s != "transport(200)" {
		t.Errorf("out of range: %q", s)
	}
}
