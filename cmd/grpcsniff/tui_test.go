package main

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/sniff"
	"github.com/grpcsniff/grpcsniff/tui"
)

// The view's reloader finds each call of a capture again, by connection
// and stream number, as the first reading numbered them: with workers,
// over captures of many connections, TLS and gRPC-Web included.
func TestReloaderFindsTheSameCalls(t *testing.T) {
	for _, name := range []string{"grpcgo_concurrent.pcap", "mixed_ports.pcap", "grpcweb_h1.pcap", "py_routeguide_lossy.pcap",
		"grpcgo_interop_gzip.pcapng", "tls/tls13_secrets.pcapng"} {
		t.Run(name, func(t *testing.T) {
			var c config
			root := newRootCommand(&c, stdio{}, new(int))
			path := filepath.Join("..", "..", "testdata", "pcaps", name)
			if err := root.ParseFlags([]string{"-r", path, "--workers", "2"}); err != nil {
				t.Fatal(err)
			}
			src, err := capture.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			in := &input{src: src, file: src, name: name}
			var first []*sniff.Call
			for call, err := range sniff.Calls(context.Background(), src, c.sniffOptions(in, nil, io.Discard)) {
				if err != nil {
					t.Fatal(err)
				}
				first = append(first, call)
			}
			src.Close()
			reload := reloaderFor(&c, in, nil)
			for k, want := range first {
				var got *sniff.Call
				err := reload(context.Background(), nil, func(c *sniff.Call) bool {
					return c.ConnID == want.ConnID && c.StreamID == want.StreamID
				}, func(c *sniff.Call) bool { got = c; return false })
				if err != nil || got == nil {
					t.Fatalf("call %d (%d/%d): found %v, %v", k, want.ConnID, want.StreamID, got, err)
				}
				sameCall(t, k, got, want)
				// Narrowed to its connection, it is found by stream and
				// start, the same.
				got = nil
				err = reload(context.Background(), &tui.Scope{Client: want.Client, Server: want.Server}, func(c *sniff.Call) bool {
					return c.StreamID == want.StreamID && c.Start.Equal(want.Start)
				}, func(c *sniff.Call) bool { got = c; return false })
				if err != nil || got == nil {
					t.Fatalf("call %d narrowed to its connection: found %v, %v", k, got, err)
				}
				sameCall(t, k, got, want)
			}
			t.Logf("%d calls found again", len(first))
		})
	}
}

// sameCall fails t unless got, read again, is the call want.
func sameCall(t *testing.T, k int, got, want *sniff.Call) {
	t.Helper()
	if got.Method != want.Method || !got.Start.Equal(want.Start) || len(got.Responses) != len(want.Responses) ||
		got.State != want.State || got.OverTLS() != want.OverTLS() || (got.Status == nil) != (want.Status == nil) {
		t.Errorf("call %d read again is %s at %v with %d responses (%v, TLS %v), was %s at %v with %d (%v, TLS %v)",
			k, got.Method, got.Start, len(got.Responses), got.State, got.OverTLS(),
			want.Method, want.Start, len(want.Responses), want.State, want.OverTLS())
	}
}
