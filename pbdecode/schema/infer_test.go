package schema

import (
	"fmt"
	"strings"
	"testing"
)

func TestMethodsFitting(t *testing.T) {
	reg, err := Load(Options{ProtoFiles: []string{"../../testdata/gen/proto/helloworld.proto", "../../testdata/gen/proto/demo.proto"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		reqs, resp [][]byte
		want       string
	}{
		// HelloRequest{name:"delta"} / HelloReply{message:"Hello, delta!"}:
		// SayHello and the server-streaming SayHelloStream both fit.
		{"hello", [][]byte{[]byte("\x0a\x05delta")}, [][]byte{[]byte("\x0a\x0dHello, delta!")},
			"/helloworld.Greeter/SayHello /helloworld.Greeter/SayHelloStream"},
		// Number{value: 5.0} (float, fixed32) fits only Square.
		{"square", [][]byte{[]byte("\x0d\x00\x00\xa0\x40")}, [][]byte{[]byte("\x0d\x00\x00\xc8\x41")}, "/helloworld.Greeter/Square"},
		// Three replies rule out the unary methods; demo.Request's field 1
		// is an int64, which a length-delimited field 1 does not fit.
		{"stream", [][]byte{[]byte("\x0a\x01x")}, [][]byte{[]byte("\x0a\x01a"), []byte("\x0a\x01b"), []byte("\x0a\x01c")},
			"/helloworld.Greeter/SayHelloStream"},
		// A field no type has fits nothing.
		{"none", [][]byte{[]byte("\xf8\x01\x01")}, nil, ""},
	} {
		if got := strings.Join(reg.MethodsFitting(tc.reqs, tc.resp), " "); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFieldNumbers(t *testing.T) {
	reg, err := Load(Options{ProtoFiles: []string{"../../testdata/gen/proto/route_guide.proto"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path     string
		response bool
		want     string
	}{
		{"latitude", false, "[1]"},
		{"location.longitude", true, "[2 2]"},
		{"2.1", true, "[2 1]"},
		{"location.nope", true, "unknown"},
		{"name.x", true, "unknown"},
	} {
		nums, ok := reg.FieldNumbers("/routeguide.RouteGuide/GetFeature", tc.response, strings.Split(tc.path, "."))
		got := fmt.Sprint(nums)
		if !ok {
			got = "unknown"
		}
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.path, got, tc.want)
		}
	}
}
