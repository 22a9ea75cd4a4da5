package rpcconv

import (
	"testing"

	"github.com/grpcsniff/grpcsniff/grpcframe"
)

func TestFullMethod(t *testing.T) {
	tests := []struct {
		method  string
		unknown bool
		want    string
	}{
		{"/helloworld.Greeter/SayHello", false, "helloworld.Greeter/SayHello"},
		{"/twirp/acme.v1.Users/Get", false, "acme.v1.Users/Get"},
		{"/Service/Method", false, "Service/Method"},
		{"/nomethod", false, "_OTHER"},
		{"", true, "_OTHER"},
	}
	for _, tt := range tests {
		if got := FullMethod(&grpcframe.Call{Method: tt.method, MethodUnknown: tt.unknown}); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.method, got, tt.want)
		}
	}
}

func TestUncompressedSize(t *testing.T) {
	tests := []struct {
		m    grpcframe.Message
		want int64 // -1: not known
	}{
		{grpcframe.Message{Length: 7, Data: make([]byte, 7)}, 7},
		{grpcframe.Message{Length: 20, Compressed: true, Encoding: "gzip", Data: make([]byte, 300)}, 300},
		{grpcframe.Message{Length: 20, Compressed: true, Encoding: "gzip", Truncated: true, Data: make([]byte, 3)}, -1},
		{grpcframe.Message{Length: 20, Compressed: true, Data: make([]byte, 20)}, -1},
	}
	for i, tt := range tests {
		n, ok := UncompressedSize(&tt.m)
		if !ok {
			n = -1
		}
		if n != tt.want {
			t.Errorf("%d: %d, want %d", i, n, tt.want)
		}
	}
}
