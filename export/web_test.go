package export

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode"
)

func restCall() *grpcframe.Call {
	start := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	return &grpcframe.Call{
		ConnID: 1, Client: netip.MustParseAddrPort("127.0.0.1:40000"), Server: netip.MustParseAddrPort("127.0.0.1:8080"),
		Transport: h2decode.TransportHTTP1, StreamID: 3, Method: "/v1/users", Protocol: grpcframe.ProtoHTTP, HTTPMethod: "POST", HTTPStatus: 200,
		RequestHeaders:  []h2decode.HeaderField{{Name: ":method", Value: "POST"}, {Name: ":path", Value: "/v1/users"}},
		ResponseHeaders: []h2decode.HeaderField{{Name: ":status", Value: "200"}},
		Requests:        []*grpcframe.Message{{Body: true, Length: 14, Format: grpcframe.FormatJSON, Time: start, Data: []byte("{\n \"a\": [1]\n}")}},
		Responses: []*grpcframe.Message{
			{Body: true, Length: 8, Format: grpcframe.FormatJSON, Time: start, Data: []byte("{\"a\":1}\n{\"a\":2}\n")},
		},
		Preflight: &grpcframe.Preflight{ConnID: 1, StreamID: 1, Start: start, HTTPStatus: 204},
		Start:     start, End: start.Add(time.Millisecond), State: grpcframe.StateComplete,
	}
}

func TestHTTPCallJSON(t *testing.T) {
	b := AppendCallJSON(nil, restCall(), pbdecode.Options{})
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	for _, want := range []string{`"protocol":"http"`, `"http_method":"POST","path":"/v1/users","http_status":200`,
		`"preflight":{"conn":1,"stream_id":1,"start":"2026-11-21T07:00:00.000000000Z","http_status":204}`,
		`"body":true,"length":14`, `"json":{"a":[1]}`, `"json_seq":[{"a":1},{"a":2}]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("missing %s in\n%s", want, b)
		}
	}
	if strings.Contains(string(b), `"raw"`) || strings.Contains(string(b), "\n") {
		t.Errorf("JSON bodies are not decoded as protobuf, and the line is one line:\n%s", b)
	}
	line := FormatLine(restCall(), time.UTC)
	if want := "07:00:00.000000 127.0.0.1:40000 → 127.0.0.1:8080 POST /v1/users 200 1.0ms ↑1 14B ↓1 8B [http]"; line != want {
		t.Errorf("text:\n%s\nwant\n%s", line, want)
	}
}

func TestGRPCWebJSONMessages(t *testing.T) {
	c := restCall()
	c.Protocol, c.HTTPMethod, c.Preflight = grpcframe.ProtoGRPCWeb, "POST", nil
	c.Method = "/helloworld.Greeter/SayHello"
	c.Status = &grpcframe.Status{Name: "OK"}
	c.Requests = []*grpcframe.Message{{Length: 12, Format: grpcframe.FormatJSON, Data: []byte(`{"name":"x"}`)}}
	c.Responses = []*grpcframe.Message{{Length: 3, Format: grpcframe.FormatJSON, Data: []byte(`{"m`)}}
	b := string(AppendCallJSON(nil, c, pbdecode.Options{}))
	for _, want := range []string{`"protocol":"grpc-web"`, `"http_status":200`, `"json":{"name":"x"}`, `"json_error":`} {
		if !strings.Contains(b, want) {
			t.Errorf("missing %s in\n%s", want, b)
		}
	}
	if strings.Contains(b, `"http_method"`) {
		t.Errorf("http_method on a gRPC-Web call:\n%s", b)
	}
	if line := FormatLine(c, time.UTC); !strings.HasSuffix(line, "/helloworld.Greeter/SayHello OK 1.0ms ↑1 12B ↓1 3B [grpc-web]") {
		t.Errorf("text: %s", line)
	}
}
