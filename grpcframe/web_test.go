package grpcframe

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/klauspost/compress/gzip"
)

func (h *harness) webRequest(id uint32, ct string) {
	h.headers(cli, id, false, ":method", "POST", ":scheme", "http", ":path", "/helloworld.Greeter/SayHello",
		"content-type", ct, "x-grpc-web", "1")
}

// webResponse is a server-streaming gRPC-Web response body: two messages
// and the trailer frame.
func webResponse() []byte {
	var b []byte
	b = append(b, frame(0, []byte("\x0a\x05hello"))...)
	b = append(b, frame(0, []byte("\x0a\x05world"))...)
	b = append(b, frame(0x80, []byte("grpc-status:5\r\ngrpc-message:not%20found\r\nx-extra: 1\r\n"))...)
	return b
}

func checkWebCall(t *testing.T, c *Call, proto Protocol) {
	t.Helper()
	if c.Protocol != proto || !c.GRPC {
		t.Fatalf("protocol %v grpc=%v, want %v", c.Protocol, c.GRPC, proto)
	}
	if len(c.Requests) != 1 || string(c.Requests[0].Data) != "\x0a\x02hi" {
		t.Fatalf("requests %+v", c.Requests)
	}
	if len(c.Responses) != 2 || string(c.Responses[0].Data) != "\x0a\x05hello" || string(c.Responses[1].Data) != "\x0a\x05world" {
		t.Fatalf("responses %+v", c.Responses)
	}
	if c.Status == nil || c.Status.Code != 5 || c.Status.Message != "not found" {
		t.Fatalf("status %+v", c.Status)
	}
	if v, _ := Header(c.Trailers, "x-extra"); v != "1" {
		t.Fatalf("trailers %v", c.Trailers)
	}
	if c.State != StateComplete || len(c.Notes) > 0 {
		t.Fatalf("state %v notes %q", c.State, c.Notes)
	}
}

// gRPC-Web: messages split on the 5-byte prefix; the 0x80 frame holds the
// trailers.
func TestGRPCWeb(t *testing.T) {
	body := webResponse()
	for cut := 0; cut <= len(body); cut++ {
		h := newHarness(t, Options{})
		h.webRequest(1, "application/grpc-web+proto")
		h.data(cli, 1, frame(0, []byte("\x0a\x02hi")), true)
		h.headers(srv, 1, false, ":status", "200", "content-type", "application/grpc-web+proto")
		h.data(srv, 1, body[:cut], false)
		h.data(srv, 1, body[cut:], false)
		h.data(srv, 1, nil, true)
		calls := h.end()
		if len(calls) != 1 {
			t.Fatalf("%d calls", len(calls))
		}
		checkWebCall(t, calls[0], ProtoGRPCWeb)
	}
}

// gRPC-Web-Text: the body is base64, decoded whatever the cuts, including a
// response made of several base64 runs each with its own padding.
func TestGRPCWebTextEverySplit(t *testing.T) {
	// One run per frame, as servers that flush per message write it.
	var runs string
	for _, b := range [][]byte{frame(0, []byte("\x0a\x05hello")), frame(0, []byte("\x0a\x05world")),
		frame(0x80, []byte("grpc-status:5\r\ngrpc-message:not%20found\r\nx-extra: 1\r\n"))} {
		runs += base64.StdEncoding.EncodeToString(b)
	}
	if !strings.Contains(runs, "=") {
		t.Fatal("test wants padding inside the body")
	}
	whole := base64.StdEncoding.EncodeToString(webResponse())
	req := base64.StdEncoding.EncodeToString(frame(0, []byte("\x0a\x02hi")))
	for _, body := range []string{runs, whole, "\r\n" + strings.ReplaceAll(runs, "AAAA", "AA\r\nAA")} {
		for a := 0; a <= len(body); a++ {
			for _, b := range []int{a, min(a+1, len(body)), min(a+3, len(body))} {
				h := newHarness(t, Options{})
				h.webRequest(1, "application/grpc-web-text")
				h.data(cli, 1, []byte(req[:a%len(req)]), false)
				h.data(cli, 1, []byte(req[a%len(req):]), true)
				h.headers(srv, 1, false, ":status", "200", "content-type", "application/grpc-web-text+proto")
				h.data(srv, 1, []byte(body[:a]), false)
				h.data(srv, 1, []byte(body[a:b]), false)
				h.data(srv, 1, []byte(body[b:]), true)
				calls := h.end()
				checkWebCall(t, calls[0], ProtoGRPCWebText)
			}
		}
	}
}

func TestB64ReaderErrors(t *testing.T) {
	for _, in := range []string{"AA*A", "A===", "=AAA", "AAAA=="} {
		var r b64Reader
		if _, err := r.decode([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	var r b64Reader
	out, err := r.decode([]byte("AQ==Ag=="))
	if err != nil || !bytes.Equal(out, []byte{1, 2}) {
		t.Fatalf("concatenated padded runs: %v %v", out, err)
	}
}

// Malformed trailer frames: lines that are not header fields are noted,
// the good ones kept; a truncated frame is noted; 0x80 from the client is
// not a trailer frame.
func TestGRPCWebMalformedTrailers(t *testing.T) {
	h := newHarness(t, Options{})
	h.webRequest(1, "application/grpc-web")
	h.data(cli, 1, frame(0x80, []byte("x")), true)
	h.headers(srv, 1, false, ":status", "200", "content-type", "application/grpc-web")
	h.data(srv, 1, frame(0x80, []byte("no colon here\r\n\xff\xfe:bad\r\n: empty\r\ngrpc-status: 0\r\n")), true)
	c := h.end()[0]
	if c.Status == nil || c.Status.Code != 0 {
		t.Fatalf("status %+v", c.Status)
	}
	if len(c.Requests) != 1 || c.Requests[0].Err == "" {
		t.Fatalf("client 0x80 frame: %+v", c.Requests)
	}
	if n := strings.Count(strings.Join(noteLines(c.Notes), "\n"), "malformed: grpc-web trailer frame: "); n != 3 {
		t.Fatalf("notes %q", c.Notes)
	}

	h = newHarness(t, Options{})
	h.webRequest(1, "application/grpc-web")
	h.data(cli, 1, nil, true)
	h.headers(srv, 1, false, ":status", "200", "content-type", "application/grpc-web")
	h.data(srv, 1, frame(0x80, []byte("grpc-status: 0\r\n"))[:10], true)
	c = h.end()[0]
	if c.Status != nil || !strings.Contains(strings.Join(noteLines(c.Notes), "\n"), "unfinished: grpc-web trailer frame: stream ended") {
		t.Fatalf("truncated trailer frame: status %+v notes %q", c.Status, c.Notes)
	}
}

// gRPC-Web Trailers-Only over HTTP/1.1: the status in the response headers,
// then an empty body.
func TestGRPCWebTrailersOnlyHTTP1(t *testing.T) {
	h := newHarness(t, Options{})
	h.webRequest(1, "application/grpc-web")
	h.data(cli, 1, frame(0, nil), true)
	h.headers(srv, 1, false, ":status", "200", "content-type", "application/grpc-web", "grpc-status", "3", "grpc-message", "bad")
	h.data(srv, 1, nil, true)
	c := h.end()[0]
	if c.Status == nil || c.Status.Code != 3 || !c.TrailersOnly || len(c.Notes) > 0 {
		t.Fatalf("status %+v trailers-only %v notes %q", c.Status, c.TrailersOnly, c.Notes)
	}
}

// application/grpc+json: messages are marked JSON.
func TestGRPCJSON(t *testing.T) {
	h := newHarness(t, Options{})
	h.headers(cli, 1, false, ":method", "POST", ":path", "/helloworld.Greeter/SayHello", "content-type", "application/grpc+json")
	h.data(cli, 1, frame(0, []byte(`{"name":"x"}`)), true)
	h.headers(srv, 1, false, ":status", "200", "content-type", "application/grpc+json")
	h.data(srv, 1, frame(0, []byte(`{"message":"hi"}`)), false)
	h.headers(srv, 1, true, "grpc-status", "0")
	c := h.end()[0]
	if c.Protocol != ProtoGRPC || c.Requests[0].Format != FormatJSON || c.Responses[0].Format != FormatJSON {
		t.Fatalf("protocol %q formats %q %q", c.Protocol, c.Requests[0].Format, c.Responses[0].Format)
	}
}

// Plain HTTP: bodies kept whole (bounded), a header-only response is the
// response headers (not Trailers-Only), preflights are linked.
func TestHTTPCalls(t *testing.T) {
	h := newHarness(t, Options{MaxMessageSize: 8})
	h.c.Kind = h2decode.KindHTTP1
	h.headers(cli, 1, true, ":method", "OPTIONS", ":path", "/helloworld.Greeter/SayHello",
		"origin", "http://x", "access-control-request-method", "POST")
	h.headers(srv, 1, true, ":status", "204", "access-control-allow-origin", "*")
	h.headers(cli, 3, false, ":method", "POST", ":path", "/helloworld.Greeter/SayHello", "content-type", "application/grpc-web")
	h.data(cli, 3, frame(0, nil), true)
	h.headers(srv, 3, false, ":status", "200", "content-type", "application/grpc-web", "grpc-status", "0")
	h.data(srv, 3, nil, true)
	h.headers(cli, 5, false, ":method", "POST", ":path", "/v1/x", "content-type", "application/json")
	h.data(cli, 5, []byte(`{"a":`), false)
	h.data(cli, 5, []byte(`1}`), true)
	h.headers(srv, 5, false, ":status", "200", "content-type", "application/json")
	h.data(srv, 5, []byte(`{"long":"0123456789"}`), false)
	h.a.Data(h.c, &h2decode.DataEvent{Side: srv, StreamID: 5, Lost: 3, Time: h.tick()})
	h.data(srv, 5, []byte(`x`), true)
	calls := h.end()
	if len(calls) != 3 {
		t.Fatalf("%d calls", len(calls))
	}
	pf, web, rest := calls[0], calls[1], calls[2]
	if pf.Protocol != ProtoHTTP || !pf.CORSPreflight || pf.HTTPStatus != 204 || pf.TrailersOnly || pf.ResponseHeaders == nil || len(pf.Notes) > 0 {
		t.Fatalf("preflight %+v", pf)
	}
	if web.Preflight == nil || web.Preflight.StreamID != 1 || web.Preflight.HTTPStatus != 204 {
		t.Fatalf("link %+v", web.Preflight)
	}
	if web.Transport != h2decode.TransportHTTP1 {
		t.Fatalf("transport %v", web.Transport)
	}
	if rest.HTTPMethod != "POST" || rest.Method != "/v1/x" || rest.HTTPStatus != 200 {
		t.Fatalf("rest %+v", rest)
	}
	rq, rs := rest.Requests[0], rest.Responses[0]
	if !rq.Body || rq.Format != FormatJSON || string(rq.Data) != `{"a":1}` || rq.Length != 7 || rq.Truncated {
		t.Fatalf("request body %+v", rq)
	}
	if !rs.Body || rs.Length != 25 || len(rs.Data) != 8 || !rs.Truncated {
		t.Fatalf("response body %+v", rs)
	}
}

// The response side of a gRPC call that is not gRPC (a proxy's error page)
// is kept as a body.
func TestGRPCWithHTMLResponse(t *testing.T) {
	h := newHarness(t, Options{})
	h.request(1)
	h.data(cli, 1, frame(0, []byte("\x0a\x01x")), true)
	h.headers(srv, 1, false, ":status", "502", "content-type", "text/html")
	h.data(srv, 1, []byte("<h1>bad gateway</h1>"), true)
	c := h.end()[0]
	if c.Protocol != ProtoGRPC || len(c.Responses) != 1 || !c.Responses[0].Body || c.Responses[0].Format != FormatText || c.HTTPStatus != 502 {
		t.Fatalf("%+v %+v", c, c.Responses)
	}
}

// The whole way: gRPC-Web-Text over HTTP/1.1 with a chunked response whose
// chunks cut the base64 anywhere, fed one split at a time through h2decode.
func TestGRPCWebTextHTTP1Stack(t *testing.T) {
	req := base64.StdEncoding.EncodeToString(frame(0, []byte("\x0a\x02hi")))
	client := "POST /helloworld.Greeter/SayHello HTTP/1.1\r\nHost: h\r\nContent-Type: application/grpc-web-text\r\nContent-Length: " +
		strconv.Itoa(len(req)) + "\r\n\r\n" + req
	var body string
	for _, b := range [][]byte{frame(0, []byte("\x0a\x05hello")), frame(0, []byte("\x0a\x05world")),
		frame(0x80, []byte("grpc-status:5\r\ngrpc-message:not%20found\r\nx-extra: 1\r\n"))} {
		body += base64.StdEncoding.EncodeToString(b)
	}
	// Chunks of 7 characters: quanta and padding cut across chunks.
	var chunked strings.Builder
	for s := body; len(s) > 0; {
		n := min(7, len(s))
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", n, s[:n])
		s = s[n:]
	}
	server := "HTTP/1.1 200 OK\r\nContent-Type: application/grpc-web-text\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked.String() + "0\r\n\r\n"
	for split := 1; split <= len(server); split++ {
		var calls []*Call
		a := NewAssembler(SinkFunc(func(c *Call) { calls = append(calls, c) }), Options{})
		conn := h2decode.NewFactory(a, h2decode.Options{}).NewConn(&capture.ConnInfo{ID: 1, SYNSeen: true,
			Addr: [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:8080")}})
		ts := time.Unix(1, 0)
		conn.Data(0, []byte(client), ts)
		for s := server; len(s) > 0; {
			n := min(split, len(s))
			conn.Data(1, []byte(s[:n]), ts)
			s = s[n:]
		}
		conn.End(capture.EndFIN, ts)
		a.Close()
		if len(calls) != 1 {
			t.Fatalf("split %d: %d calls", split, len(calls))
		}
		checkWebCall(t, calls[0], ProtoGRPCWebText)
		if calls[0].Transport != h2decode.TransportHTTP1 || calls[0].StreamID != 1 || calls[0].HTTPStatus != 200 {
			t.Fatalf("transport %v stream %d status %d", calls[0].Transport, calls[0].StreamID, calls[0].HTTPStatus)
		}
	}
}

// An HTTP body with Content-Encoding: gzip is shown decompressed; an
// unknown coding is said so.
func TestHTTPBodyContentEncoding(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(`{"ok":true}`))
	w.Close()
	h := newHarness(t, Options{})
	h.headers(cli, 1, true, ":method", "GET", ":path", "/x")
	h.headers(srv, 1, false, ":status", "200", "content-type", "application/json", "content-encoding", "gzip")
	h.data(srv, 1, gz.Bytes(), true)
	h.headers(cli, 3, true, ":method", "GET", ":path", "/y")
	h.headers(srv, 3, false, ":status", "200", "content-encoding", "br")
	h.data(srv, 3, []byte{1, 2, 3}, true)
	calls := h.end()
	m := calls[0].Responses[0]
	if string(m.Data) != `{"ok":true}` || m.Encoding != "gzip" || !m.Compressed || int(m.Length) != gz.Len() || m.Format != FormatJSON {
		t.Fatalf("gzip body %+v", m)
	}
	if m := calls[1].Responses[0]; !strings.Contains(m.Err, `content-encoding "br"`) || string(m.Data) != "\x01\x02\x03" {
		t.Fatalf("br body %+v", m)
	}
}

// A native gRPC call is never paired with a CORS preflight: a browser cannot
// make one, so a preflight for the same path waits for a gRPC-Web call.
func TestPreflightNotLinkedToNativeGRPC(t *testing.T) {
	h := newHarness(t, Options{})
	h.headers(cli, 1, true, ":method", "OPTIONS", ":path", "/helloworld.Greeter/SayHello",
		"origin", "http://x", "access-control-request-method", "POST")
	h.headers(srv, 1, true, ":status", "204", "access-control-allow-origin", "*")
	h.request(3)
	h.data(cli, 3, frame(0, nil), true)
	h.headers(srv, 3, true, ":status", "200", "content-type", "application/grpc", "grpc-status", "0")
	h.webRequest(5, "application/grpc-web")
	h.data(cli, 5, frame(0, nil), true)
	h.headers(srv, 5, false, ":status", "200", "content-type", "application/grpc-web", "grpc-status", "0")
	h.data(srv, 5, nil, true)
	calls := h.end()
	if len(calls) != 3 {
		t.Fatalf("%d calls", len(calls))
	}
	if native, web := calls[1], calls[2]; native.Protocol != ProtoGRPC || native.Preflight != nil ||
		web.Protocol != ProtoGRPCWeb || web.Preflight == nil || web.Preflight.StreamID != 1 {
		t.Fatalf("native %q %+v, web %q %+v", native.Protocol, native.Preflight, web.Protocol, web.Preflight)
	}
}
