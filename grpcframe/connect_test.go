package grpcframe

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/klauspost/compress/gzip"
)

// connectCall plays one Connect or Twirp call on stream 1 and returns it.
type connectCase struct {
	req      []string // request header fields
	reqBody  []byte
	resp     []string // response header fields
	respBody []byte
}

func (cc connectCase) play(t *testing.T) *Call {
	t.Helper()
	h := newHarness(t, Options{})
	h.headers(cli, 1, cc.reqBody == nil, cc.req...)
	if cc.reqBody != nil {
		h.data(cli, 1, cc.reqBody, true)
	}
	h.headers(srv, 1, cc.respBody == nil, cc.resp...)
	if cc.respBody != nil {
		// In two pieces, as a body often comes.
		h.data(srv, 1, cc.respBody[:len(cc.respBody)/2], false)
		h.data(srv, 1, cc.respBody[len(cc.respBody)/2:], true)
	}
	calls := h.end()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	return calls[0]
}

func post(path, ct string, extra ...string) []string {
	return append([]string{":method", "POST", ":scheme", "http", ":path", path, "content-type", ct}, extra...)
}

func checkCall(t *testing.T, c *Call, proto Protocol, method string, req, resp []string, code int) {
	t.Helper()
	if c.Protocol != proto || c.Method != method || c.MethodUnknown {
		t.Fatalf("protocol %v method %q (unknown %v), want %v %q", c.Protocol, c.Method, c.MethodUnknown, proto, method)
	}
	for dir, want := range [][]string{req, resp} {
		got := c.Requests
		if dir == 1 {
			got = c.Responses
		}
		if len(got) != len(want) {
			t.Fatalf("direction %d: %d messages, want %d", dir, len(got), len(want))
		}
		for i := range got {
			if string(got[i].Data) != want[i] || got[i].Body || got[i].Err != "" {
				t.Fatalf("direction %d message %d: %+v, want %q", dir, i, got[i], want[i])
			}
		}
	}
	if code < 0 {
		if c.Status != nil {
			t.Fatalf("status %+v, want none", c.Status)
		}
		return
	}
	if c.Status == nil || c.Status.Code != code {
		t.Fatalf("status %+v, want code %d", c.Status, code)
	}
}

func TestConnectUnary(t *testing.T) {
	c := connectCase{
		req:      post("/connect.ping.v1.PingService/Ping", "application/proto", "connect-protocol-version", "1", "connect-timeout-ms", "5000"),
		reqBody:  []byte("\x08\x2a"),
		resp:     []string{":status", "200", "content-type", "application/proto", "trailer-x-count", "3", "x-head", "h"},
		respBody: []byte("\x08\x2a\x12\x02ok"),
	}.play(t)
	checkCall(t, c, ProtoConnect, "/connect.ping.v1.PingService/Ping", []string{"\x08\x2a"}, []string{"\x08\x2a\x12\x02ok"}, 0)
	if v, _ := Header(c.Trailers, "x-count"); v != "3" || len(c.Trailers) != 1 {
		t.Fatalf("trailers %v", c.Trailers)
	}
	if v, _ := Header(c.ResponseHeaders, "trailer-x-count"); v != "3" {
		t.Fatalf("response headers lost the trailer field as sent: %v", c.ResponseHeaders)
	}
	if c.State != StateComplete || len(c.Notes) != 0 || c.TrailersOnly {
		t.Fatalf("state %v notes %v trailers-only %v", c.State, c.Notes, c.TrailersOnly)
	}
}

// An empty message is no bytes at all: a body that never comes, both ways.
func TestConnectUnaryEmptyMessages(t *testing.T) {
	c := connectCase{
		req:  post("/grpc.testing.TestService/EmptyCall", "application/proto", "connect-protocol-version", "1"),
		resp: []string{":status", "200", "content-type", "application/proto", "content-length", "0"},
	}.play(t)
	checkCall(t, c, ProtoConnect, "/grpc.testing.TestService/EmptyCall", []string{""}, []string{""}, 0)
	if c.Requests[0].Format != FormatProto {
		t.Fatalf("format %v", c.Requests[0].Format)
	}
}

func TestConnectUnaryJSONAndGzip(t *testing.T) {
	gz := func(b string) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write([]byte(b))
		w.Close()
		return buf.Bytes()
	}
	c := connectCase{
		// A server mounted under a prefix: the method is the last two
		// segments.
		req:      post("/api/svc.v1.Svc/Say", "application/json", "connect-protocol-version", "1", "content-encoding", "gzip"),
		reqBody:  gz(`{"sentence":"hi"}`),
		resp:     []string{":status", "200", "content-type", "application/json", "content-encoding", "gzip"},
		respBody: gz(`{"sentence":"hello"}`),
	}.play(t)
	checkCall(t, c, ProtoConnect, "/svc.v1.Svc/Say", []string{`{"sentence":"hi"}`}, []string{`{"sentence":"hello"}`}, 0)
	for _, m := range append(c.Requests, c.Responses...) {
		if m.Format != FormatJSON || !m.Compressed || m.Encoding != "gzip" {
			t.Fatalf("message %+v", m)
		}
	}
}

func TestConnectUnaryError(t *testing.T) {
	detail := base64.RawStdEncoding.EncodeToString([]byte("\x0a\x05field"))
	c := connectCase{
		req:      post("/svc.v1.Svc/Say", "application/proto", "connect-protocol-version", "1"),
		reqBody:  []byte("\x0a\x00"),
		resp:     []string{":status", "404", "content-type", "application/json"},
		respBody: []byte(`{"code":"not_found","message":"no such sentence","details":[{"type":"google.rpc.BadRequest","value":"` + detail + `","debug":{}}]}`),
	}.play(t)
	checkCall(t, c, ProtoConnect, "/svc.v1.Svc/Say", []string{"\x0a\x00"}, nil, 5)
	st := c.Status
	if st.Name != "NOT_FOUND" || st.Message != "no such sentence" || st.ProtocolCode != "not_found" {
		t.Fatalf("status %+v", st)
	}
	if len(st.Details) != 1 || st.Details[0].TypeURL != "google.rpc.BadRequest" || string(st.Details[0].Value) != "\x0a\x05field" || st.DetailsErr != "" {
		t.Fatalf("details %+v (%s)", st.Details, st.DetailsErr)
	}
}

// An error response that is not Connect's JSON (a proxy's page) gets the
// code Connect clients take from the HTTP status, said to be inferred.
func TestConnectErrorFromHTTPStatus(t *testing.T) {
	c := connectCase{
		req:      post("/svc.v1.Svc/Say", "application/proto", "connect-protocol-version", "1"),
		reqBody:  []byte("\x0a\x00"),
		resp:     []string{":status", "503", "content-type", "text/html"},
		respBody: []byte("<html>down</html>"),
	}.play(t)
	checkCall(t, c, ProtoConnect, "/svc.v1.Svc/Say", []string{"\x0a\x00"}, nil, 14)
	if len(c.Notes) != 1 || c.Notes[0].Kind != h2decode.NoteInferred || !strings.Contains(c.Notes[0].Text, "HTTP status 503") {
		t.Fatalf("notes %v", c.Notes)
	}
}

func TestConnectGet(t *testing.T) {
	msg := []byte("\x10\x14\x1a\x05\x12\x03\x00\x00\x00")
	for _, tc := range []struct {
		name, query string
		format      Format
		want        string
	}{
		{"proto base64", "connect=v1&encoding=proto&base64=1&message=" + base64.RawURLEncoding.EncodeToString(msg), FormatProto, string(msg)},
		{"json", "connect=v1&encoding=json&message=" + url.QueryEscape(`{"a":1}`), FormatJSON, `{"a":1}`},
		{"padded, no connect=v1", "encoding=proto&base64=1&message=" + base64.URLEncoding.EncodeToString(msg[:2]), FormatProto, string(msg[:2])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := connectCase{
				req:      []string{":method", "GET", ":scheme", "http", ":path", "/grpc.testing.TestService/CacheableUnaryCall?" + tc.query},
				resp:     []string{":status", "200", "content-type", "application/proto"},
				respBody: []byte("\x0a\x01x"),
			}.play(t)
			checkCall(t, c, ProtoConnect, "/grpc.testing.TestService/CacheableUnaryCall", []string{tc.want}, []string{"\x0a\x01x"}, 0)
			if c.Requests[0].Format != tc.format || c.HTTPMethod != "GET" {
				t.Fatalf("format %v method %s", c.Requests[0].Format, c.HTTPMethod)
			}
		})
	}
}

func TestConnectGetCompressed(t *testing.T) {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write([]byte("\x08\x01"))
	w.Close()
	q := "connect=v1&encoding=proto&compression=gzip&base64=1&message=" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
	c := connectCase{
		req:  []string{":method", "GET", ":path", "/a.B/C?" + q, "connect-protocol-version", "1"},
		resp: []string{":status", "200", "content-type", "application/proto", "content-length", "0"},
	}.play(t)
	checkCall(t, c, ProtoConnect, "/a.B/C", []string{"\x08\x01"}, []string{""}, 0)
	if m := c.Requests[0]; !m.Compressed || m.Encoding != "gzip" || int(m.Length) != buf.Len() {
		t.Fatalf("request %+v", m)
	}
}

// A plain GET with a query is not Connect, nor is a POST of JSON to a REST
// path.
func TestNotConnect(t *testing.T) {
	for _, req := range [][]string{
		{":method", "GET", ":path", "/v1/users?id=1"},
		{":method", "GET", ":path", "/static/app.js"},
		{":method", "GET", ":path", "/docs/twirp/intro/page.html"},
		post("/v1/users", "application/json"),
		post("/api/thing/do", "application/json"),
		post("/", "application/protobuf"),
	} {
		c := connectCase{req: req, resp: []string{":status", "200", "content-type", "application/json"}, respBody: []byte("{}")}.play(t)
		if c.Protocol != ProtoHTTP {
			t.Errorf("%v: protocol %v, want http", req, c.Protocol)
		}
	}
}

func TestConnectStreaming(t *testing.T) {
	h := newHarness(t, Options{})
	h.headers(cli, 1, false, post("/svc.v1.Svc/Converse", "application/connect+proto", "connect-protocol-version", "1", "connect-content-encoding", "gzip")...)
	h.data(cli, 1, frame(0, []byte("\x0a\x01a")), false)
	h.data(cli, 1, frame(0, []byte("\x0a\x01b")), true)
	h.headers(srv, 1, false, ":status", "200", "content-type", "application/connect+proto")
	body := append(frame(0, []byte("\x0a\x01A")), frame(0, []byte("\x0a\x01B"))...)
	body = append(body, frame(2, []byte(`{"error":{"code":"resource_exhausted","message":"too many"},"metadata":{"X-Trailer":["t1","t2"]}}`))...)
	for i := range body { // one byte at a time
		h.data(srv, 1, body[i:i+1], false)
	}
	h.data(srv, 1, nil, true)
	c := h.end()[0]
	checkCall(t, c, ProtoConnect, "/svc.v1.Svc/Converse", []string{"\x0a\x01a", "\x0a\x01b"}, []string{"\x0a\x01A", "\x0a\x01B"}, 8)
	if c.Status.Message != "too many" || c.Status.ProtocolCode != "resource_exhausted" {
		t.Fatalf("status %+v", c.Status)
	}
	if len(c.Trailers) != 2 || c.Trailers[0].Name != "x-trailer" || c.Trailers[1].Value != "t2" {
		t.Fatalf("trailers %v", c.Trailers)
	}
	if len(c.Notes) != 0 {
		t.Fatalf("notes %v", c.Notes)
	}
}

// The end-of-stream message may itself be compressed (flags 0x03).
func TestConnectStreamingCompressedEnd(t *testing.T) {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write([]byte(`{}`))
	w.Close()
	h := newHarness(t, Options{})
	h.headers(cli, 1, false, post("/svc.v1.Svc/List", "application/connect+json", "connect-content-encoding", "gzip")...)
	h.data(cli, 1, frame(0, []byte(`{}`)), true)
	h.headers(srv, 1, false, ":status", "200", "content-type", "application/connect+json", "connect-content-encoding", "gzip")
	h.data(srv, 1, append(frame(0, []byte(`{"n":1}`)), frame(3, buf.Bytes())...), true)
	c := h.end()[0]
	checkCall(t, c, ProtoConnect, "/svc.v1.Svc/List", []string{`{}`}, []string{`{"n":1}`}, 0)
	if c.Responses[0].Format != FormatJSON {
		t.Fatalf("format %v", c.Responses[0].Format)
	}
}

func TestConnectStreamingWithoutEnd(t *testing.T) {
	h := newHarness(t, Options{})
	h.headers(cli, 1, false, post("/svc.v1.Svc/List", "application/connect+proto")...)
	h.data(cli, 1, frame(0, nil), true)
	h.headers(srv, 1, false, ":status", "200", "content-type", "application/connect+proto")
	h.data(srv, 1, frame(0, []byte("\x08\x01")), true)
	c := h.end()[0]
	checkCall(t, c, ProtoConnect, "/svc.v1.Svc/List", []string{""}, []string{"\x08\x01"}, -1)
	if len(c.Notes) != 1 || !strings.Contains(c.Notes[0].Text, "end-of-stream message") {
		t.Fatalf("notes %v", c.Notes)
	}
}

func TestTwirp(t *testing.T) {
	c := connectCase{
		req:      post("/twirp/example.Haberdasher/MakeHat", "application/protobuf"),
		reqBody:  []byte("\x08\x0c"),
		resp:     []string{":status", "200", "content-type", "application/protobuf"},
		respBody: []byte("\x08\x0c\x12\x03red"),
	}.play(t)
	checkCall(t, c, ProtoTwirp, "/example.Haberdasher/MakeHat", []string{"\x08\x0c"}, []string{"\x08\x0c\x12\x03red"}, 0)

	c = connectCase{
		req:      post("/custom/prefix/example.Haberdasher/MakeHat", "application/protobuf"),
		reqBody:  []byte("\x08\x00"),
		resp:     []string{":status", "400", "content-type", "application/json"},
		respBody: []byte(`{"code":"invalid_argument","msg":"inches must be positive","meta":{"b":"2","a":"1"}}`),
	}.play(t)
	checkCall(t, c, ProtoTwirp, "/example.Haberdasher/MakeHat", []string{"\x08\x00"}, nil, 3)
	if c.Status.Message != "inches must be positive" || len(c.Trailers) != 2 || c.Trailers[0].Name != "a" {
		t.Fatalf("status %+v trailers %v", c.Status, c.Trailers)
	}

	// JSON to another prefix, told by Twirp's own header.
	c = connectCase{
		req:      post("/rpc/example.Haberdasher/MakeHat", "application/json", "twirp-version", "v8.1.3"),
		reqBody:  []byte(`{"inches":10}`),
		resp:     []string{":status", "200", "content-type", "application/json"},
		respBody: []byte(`{"inches":10,"color":"red"}`),
	}.play(t)
	checkCall(t, c, ProtoTwirp, "/example.Haberdasher/MakeHat", []string{`{"inches":10}`}, []string{`{"inches":10,"color":"red"}`}, 0)

	// A GET to a Twirp route: refused, and no request message.
	c = connectCase{
		req:      []string{":method", "GET", ":path", "/twirp/example.Haberdasher/MakeHat"},
		resp:     []string{":status", "404", "content-type", "application/json"},
		respBody: []byte(`{"code":"bad_route","msg":"unsupported method \"GET\""}`),
	}.play(t)
	checkCall(t, c, ProtoTwirp, "/example.Haberdasher/MakeHat", nil, nil, 12)

	c = connectCase{
		req:      post("/twirp/example.Haberdasher/MakeHat", "application/json"),
		reqBody:  []byte(`{"inches":10}`),
		resp:     []string{":status", "404", "content-type", "application/json"},
		respBody: []byte(`{"code":"bad_route","msg":"no handler"}`),
	}.play(t)
	checkCall(t, c, ProtoTwirp, "/example.Haberdasher/MakeHat", []string{`{"inches":10}`}, nil, 12)
	if c.Status.ProtocolCode != "bad_route" || c.Requests[0].Format != FormatJSON {
		t.Fatalf("status %+v", c.Status)
	}
}

func TestProtocolCodes(t *testing.T) {
	for word, want := range map[string]int{"canceled": 1, "unknown": 2, "invalid_argument": 3, "deadline_exceeded": 4,
		"not_found": 5, "data_loss": 15, "unauthenticated": 16, "OK": 2, "ok": 2, "bogus": 2, "": 2} {
		if got, _ := connectCode(word); got != want {
			t.Errorf("connect %q: %d, want %d", word, got, want)
		}
	}
	for word, want := range map[string]int{"malformed": 3, "bad_route": 12, "dataloss": 15, "canceled": 1, "internal": 13} {
		if got, _ := twirpCode(word); got != want {
			t.Errorf("twirp %q: %d, want %d", word, got, want)
		}
	}
}
