package tui

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// A gRPC-Web call of a real capture is repeated with buf curl, over
// HTTP/1.1 as it was captured, with the request in JSON from the schema
// and the application's headers.
func TestReplayGRPCWeb(t *testing.T) {
	calls := loadCalls(t, "grpcweb_h1.pcap")
	reg := registry(t, "helloworld.proto")
	cmd, note := Replay(calls[1], pbdecodeDefault, reg, "-import-path", "protos", "-proto", "helloworld.proto")
	want := `buf curl --protocol grpcweb --schema 'protos' -H 'origin: http://localhost:8080' -d '{"name":"web"}' 'http://127.0.0.1:50150/helloworld.Greeter/SayHello'`
	if cmd != want || note != "" {
		t.Errorf("got  %s (%s)\nwant %s", cmd, note, want)
	}
	// Without a schema, buf curl cannot be given the request either.
	if cmd, note := Replay(calls[1], pbdecodeDefault, nil); cmd != "" || !strings.Contains(note, "buf curl needs the request's field names") {
		t.Errorf("without a schema: %q, %q", cmd, note)
	}
}

func connectCall(method, verb, path string, proto grpcframe.Protocol, transport h2decode.Transport, req *grpcframe.Message, hs ...string) *grpcframe.Call {
	c := &grpcframe.Call{Method: method, HTTPMethod: verb, Protocol: proto, Transport: transport,
		Server: netip.MustParseAddrPort("127.0.0.1:8080")}
	c.RequestHeaders = []h2decode.HeaderField{{Name: ":method", Value: verb}, {Name: ":path", Value: path}}
	for i := 0; i+1 < len(hs); i += 2 {
		c.RequestHeaders = append(c.RequestHeaders, h2decode.HeaderField{Name: hs[i], Value: hs[i+1]})
	}
	if req != nil {
		c.Requests = []*grpcframe.Message{req}
	}
	return c
}

func TestReplayConnectAndTwirp(t *testing.T) {
	jsonReq := &grpcframe.Message{Data: []byte(`{"sentence":"hi"}`), Format: grpcframe.FormatJSON}
	for _, tc := range []struct {
		name string
		call *grpcframe.Call
		want string
	}{
		{"connect h2c JSON with a deadline", connectCall("/eliza.v1.Eliza/Say", "POST", "/eliza.v1.Eliza/Say", grpcframe.ProtoConnect, h2decode.TransportH2C, jsonReq,
			"content-type", "application/json", "connect-protocol-version", "1", "connect-timeout-ms", "1500", "x-user", "ann"),
			`buf curl --protocol connect --http2-prior-knowledge --timeout 1.5s -H 'x-user: ann' -d '{"sentence":"hi"}' 'http://127.0.0.1:8080/eliza.v1.Eliza/Say'`},
		{"connect GET is its URL", connectCall("/a.B/C", "GET", "/a.B/C?connect=v1&encoding=proto&base64=1&message=CAE", grpcframe.ProtoConnect, h2decode.TransportHTTP1, nil,
			"connect-protocol-version", "1"),
			`curl -sS -H 'Connect-Protocol-Version: 1' 'http://127.0.0.1:8080/a.B/C?connect=v1&encoding=proto&base64=1&message=CAE'`},
		{"twirp JSON", connectCall("/ex.Hat/Make", "POST", "/twirp/ex.Hat/Make", grpcframe.ProtoTwirp, h2decode.TransportHTTP1, jsonReq,
			"content-type", "application/json"),
			`curl -sS -X POST -H 'Content-Type: application/json' -d '{"sentence":"hi"}' 'http://127.0.0.1:8080/twirp/ex.Hat/Make'`},
		{"twirp empty message", connectCall("/ex.Hat/Make", "POST", "/twirp/ex.Hat/Make", grpcframe.ProtoTwirp, h2decode.TransportHTTP1, &grpcframe.Message{}),
			`curl -sS -X POST -H 'Content-Type: application/json' -d '{}' 'http://127.0.0.1:8080/twirp/ex.Hat/Make'`},
	} {
		if cmd, note := Replay(tc.call, pbdecodeDefault, nil); cmd != tc.want || note != "" {
			t.Errorf("%s:\ngot  %s (%s)\nwant %s", tc.name, cmd, note, tc.want)
		}
	}
	plain := connectCall("/index.html", "GET", "/index.html", grpcframe.ProtoHTTP, h2decode.TransportHTTP1, nil)
	if cmd, note := Replay(plain, pbdecodeDefault, nil); cmd != "" || !strings.Contains(note, "plain HTTP") {
		t.Errorf("plain HTTP: %q, %q", cmd, note)
	}
}
