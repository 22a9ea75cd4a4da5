package main

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A packet as tshark 4.0 writes it with grpc.embedded_under_http2: one
// http2 proto per frame, gRPC messages nested in the DATA frame's proto,
// fake headers under http2.fake.header.
const samplePDML = `<?xml version="1.0" encoding="utf-8"?>
<pdml version="0">
<packet>
  <proto name="frame"><field name="frame.number" show="10"/></proto>
  <proto name="ip"><field name="ip.src" show="127.0.0.1"/></proto>
  <proto name="tcp">
    <field name="tcp.srcport" show="47116"/>
    <field name="tcp.stream" show="0"/>
  </proto>
  <proto name="http2">
    <field name="http2.stream" show="">
      <field name="http2.type" show="1"/>
      <field name="http2.flags" show="0x04">
        <field name="http2.flags.eh" show="1"/>
        <field name="http2.flags.end_stream" show="0"/>
      </field>
      <field name="http2.streamid" show="1"/>
      <field name="http2.header" show="">
        <field name="http2.header.name" show=":path"/>
        <field name="http2.header.value" show="/helloworld.Greeter/SayHello"/>
      </field>
      <field name="http2.header" show="">
        <field name="http2.header.name" show="&lt;unknown&gt;"/>
        <field name="http2.header.value" show=""/>
      </field>
    </field>
  </proto>
  <proto name="http2">
    <field name="http2.stream" show="">
      <field name="http2.type" show="0"/>
      <field name="http2.streamid" show="1"/>
      <field name="http2.fake.header.count" show="1"/>
      <field name="http2.fake.header" show="">
        <field name="http2.header.name" show="content-type"/>
        <field name="http2.header.value" show="application/grpc"/>
      </field>
    </field>
    <proto name="grpc" showname="GRPC Message: /helloworld.Greeter/SayHello, Request">
      <field name="grpc.compressed_flag" show="0"/>
      <field name="grpc.message_length" show="5"/>
    </proto>
    <proto name="grpc" showname="GRPC Message: /helloworld.Greeter/SayHello, Request">
      <field name="grpc.compressed_flag" show="1"/>
      <field name="grpc.message_length" show="7"/>
    </proto>
  </proto>
</packet>
</pdml>
`

func TestParsePDML(t *testing.T) {
	var pkts []*pdmlPacket
	if err := parsePDML(strings.NewReader(samplePDML), func(p *pdmlPacket) { pkts = append(pkts, p) }); err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 1 {
		t.Fatalf("got %d packets", len(pkts))
	}
	p := pkts[0]
	if p.num != 10 || p.tcpStream != 0 || p.src.String() != "127.0.0.1:47116" {
		t.Fatalf("packet %d stream %d src %s", p.num, p.tcpStream, p.src)
	}
	if len(p.frames) != 2 {
		t.Fatalf("got %d frames", len(p.frames))
	}
	h, d := p.frames[0], p.frames[1]
	if h.typ != 1 || h.stream != 1 || !h.endHdrs || len(h.headers) != 2 || h.headers[0] != (header{":path", "/helloworld.Greeter/SayHello"}) || h.headers[1].name != "<unknown>" {
		t.Errorf("HEADERS frame: %+v", h)
	}
	if d.typ != 0 || d.stream != 1 || !d.fake || len(d.headers) != 0 {
		t.Errorf("DATA frame (fake headers must be skipped): %+v", d)
	}
	if len(d.msgs) != 2 || d.msgs[0].length != 5 || d.msgs[0].compressed || d.msgs[1].length != 7 || !d.msgs[1].compressed || d.msgs[0].dir != "Request" {
		t.Errorf("messages: %+v %+v", d.msgs[0], d.msgs[1])
	}

	// Applied to a connection whose client is 127.0.0.1:47116.
	c := &tcpConn{client: 0, streams: map[uint32]*tsStream{}, side: [2]endpoint{
		{netip.MustParseAddr("127.0.0.1"), 47116}, {netip.MustParseAddr("127.0.0.1"), 50103}}}
	v := &tsView{conns: []*tcpConn{c}, fake: true}
	v.apply(c, p)
	v.finish()
	if len(v.calls) != 1 {
		t.Fatalf("got %d calls", len(v.calls))
	}
	tc := v.calls[0]
	if !tc.MethodKnown || tc.Method != "/helloworld.Greeter/SayHello" || len(tc.Requests) != 2 || !tc.inferred || tc.reqUnchecked != "" {
		t.Errorf("call: %+v", tc)
	}
}

func TestParseSniff(t *testing.T) {
	out := `{"conn":1,"client":"[::1]:57104","server":"[::1]:50110","stream_id":3,"method":null,"state":"complete","status":null,"status_unknown":true,"requests":[{"length":6,"compressed":false}],"responses":[{"length":9,"compressed":true,"truncated":true,"error":"stream ended 3 bytes before the end of this message"}]}
{"conn":2,"client":"[::1]:57104","server":"[::1]:50110","stream_id":1,"method":"/a.B/C","grpc":false,"state":"complete","status":{"code":5,"name":"NOT_FOUND","message":""},"requests":[],"responses":[]}
`
	calls, err := parseSniff([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 {
		t.Fatalf("got %d calls", len(calls))
	}
	a, b := calls[0], calls[1]
	if a.key != (callKey{"[::1]:57104", "[::1]:50110", 0, 3}) || a.Method != nil || a.Status != nil || !a.StatusUnknown || !a.GRPC {
		t.Errorf("first call: %+v", a)
	}
	if len(a.Responses) != 1 || !a.Responses[0].Truncated || !incomplete(a.Responses[0]) {
		t.Errorf("first call responses: %+v", a.Responses)
	}
	if b.key.Conn != 1 || b.GRPC || b.Status == nil || *b.Status != 5 {
		t.Errorf("second call: %+v", b)
	}
}

func TestCompare(t *testing.T) {
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	key := callKey{"127.0.0.1:1", "127.0.0.1:2", 0, 1}
	st := &tsStream{}
	conn := &tcpConn{rolesFrom: "TCP handshake"}
	cases := []struct {
		name  string
		g     sniffCall
		t     tsCall
		want  verdict
		notes int
	}{
		{"agree",
			sniffCall{Method: str("/a.B/C"), GRPC: true, Requests: []message{{Length: 5}}, Status: num(0)},
			tsCall{Method: "/a.B/C", MethodKnown: true, Requests: []message{{Length: 5}}, Status: num(0)},
			agree, 0},
		{"method null vs unknown",
			sniffCall{GRPC: true, StatusUnknown: true},
			tsCall{methodWhy: "x", StatusUnknown: true},
			agree, 2},
		{"method null vs known",
			sniffCall{GRPC: true},
			tsCall{Method: "/a.B/C", MethodKnown: true},
			differ, 0},
		{"lengths differ",
			sniffCall{Method: str("/a.B/C"), GRPC: true, Responses: []message{{Length: 5}, {Length: 6}}},
			tsCall{Method: "/a.B/C", MethodKnown: true, Responses: []message{{Length: 5}, {Length: 7}}},
			differ, 0},
		{"trailing truncated message",
			sniffCall{Method: str("/a.B/C"), GRPC: true, Requests: []message{{Length: 5}, {Length: 9, Truncated: true, Err: "stream ended 3 bytes before the end of this message"}}},
			tsCall{Method: "/a.B/C", MethodKnown: true, Requests: []message{{Length: 5}}},
			agree, 1},
		{"size-limit truncation is not an excuse",
			sniffCall{Method: str("/a.B/C"), GRPC: true, Requests: []message{{Length: 9, Truncated: true, Err: "only the first 4 kept (message size limit)"}}},
			tsCall{Method: "/a.B/C", MethodKnown: true},
			differ, 0},
		{"status missing in grpcsniff",
			sniffCall{Method: str("/a.B/C"), GRPC: true},
			tsCall{Method: "/a.B/C", MethodKnown: true, Status: num(4)},
			differ, 0},
		{"compressed flag differs",
			sniffCall{Method: str("/a.B/C"), GRPC: true, Requests: []message{{Length: 5, Compressed: true}}},
			tsCall{Method: "/a.B/C", MethodKnown: true, Requests: []message{{Length: 5}}},
			differ, 0},
	}
	for _, c := range cases {
		g, tc := c.g, c.t
		g.key, tc.key, tc.st, tc.conn = key, key, st, conn
		rep := compare([]*sniffCall{&g}, &tsView{calls: []*tsCall{&tc}})
		if len(rep.results) != 1 {
			t.Errorf("%s: %d results", c.name, len(rep.results))
			continue
		}
		r := rep.results[0]
		if r.verdict != c.want || len(r.notes) != c.notes {
			t.Errorf("%s: verdict %d notes %q diffs %q; want verdict %d with %d notes", c.name, r.verdict, r.notes, r.diffs, c.want, c.notes)
		}
	}

	// Connect and Twirp calls, which tshark sees as plain HTTP: path, and
	// the bytes the messages took against the body lengths.
	for _, c := range []struct {
		name      string
		g         sniffCall
		path      string
		req, resp int64
		want      verdict
	}{
		{"unary agrees", sniffCall{Protocol: "connect", GRPC: true, Method: str("/a.B/C"), HTTPMethod: "POST", HTTPStatus: 200,
			Requests: []message{{Length: 7}}, Responses: []message{{Length: 9}}}, "/api/a.B/C", 7, 9, agree},
		{"unary body differs", sniffCall{Protocol: "twirp", GRPC: true, Method: str("/a.B/C"), HTTPStatus: 200,
			Requests: []message{{Length: 7}}, Responses: []message{{Length: 9}}}, "/twirp/a.B/C", 7, 10, differ},
		{"path differs", sniffCall{Protocol: "twirp", GRPC: true, Method: str("/a.B/C"), HTTPStatus: 200,
			Requests: []message{{Length: 7}}, Responses: []message{{Length: 9}}}, "/twirp/a.B/D", 7, 9, differ},
		{"stream with its end-of-stream message", sniffCall{Protocol: "connect", GRPC: true, Method: str("/a.B/C"), HTTPStatus: 200,
			ContentType: "application/connect+proto", RespContentType: "application/connect+proto",
			Requests: []message{{Length: 2}}, Responses: []message{{Length: 3}, {Length: 4}}}, "/a.B/C", 7, 17 + 7, agree},
		{"stream body short", sniffCall{Protocol: "connect", GRPC: true, Method: str("/a.B/C"), HTTPStatus: 200,
			ContentType: "application/connect+proto", RespContentType: "application/connect+proto",
			Requests: []message{{Length: 2}}, Responses: []message{{Length: 3}}}, "/a.B/C", 7, 7, differ},
		{"GET and an error", sniffCall{Protocol: "connect", GRPC: true, Method: str("/a.B/C"), HTTPMethod: "GET", HTTPStatus: 404,
			Requests: []message{{Length: 2}}}, "/a.B/C?connect=v1&message=CAE", 0, 80, agree},
	} {
		g := c.g
		st := &tsStream{path: c.path, httpMethod: g.HTTPMethod, bodyKnown: [2]bool{true, true}, body: [2]int64{c.req, c.resp}}
		tc := &tsCall{key: key, st: st, conn: conn, http: true}
		g.key = key
		r := compare([]*sniffCall{&g}, &tsView{calls: []*tsCall{tc}}).results[0]
		if r.verdict != c.want {
			t.Errorf("%s: verdict %d, want %d (diffs %q, notes %q)", c.name, r.verdict, c.want, r.diffs, r.notes)
		}
	}

	// A call only tshark sees fails the file; one only grpcsniff sees does not.
	tc := &tsCall{key: key, st: st, conn: conn, MethodKnown: true, Method: "/a.B/C"}
	if compare(nil, &tsView{calls: []*tsCall{tc}}).ok() {
		t.Error("a call only tshark sees must fail")
	}
	g := &sniffCall{key: key, GRPC: true}
	if !compare([]*sniffCall{g}, &tsView{}).ok() {
		t.Error("a call only grpcsniff sees must not fail")
	}
}

func TestPlanRuns(t *testing.T) {
	ep := func(port uint16) endpoint { return endpoint{netip.MustParseAddr("10.0.0.1"), port} }
	conns := []*tcpConn{
		{index: 0, side: [2]endpoint{ep(40000), ep(8080)}, client: 0, payload: true, http1: true},
		{index: 1, side: [2]endpoint{ep(40001), ep(8080)}, client: -1, payload: true},
		{index: 2, side: [2]endpoint{ep(40002), ep(9090)}, client: 0, payload: true, http1: true},
	}
	runs := planRuns(conns)
	if len(runs) != 2 {
		t.Fatalf("got %d runs: %v", len(runs), runs)
	}
	if runs[0][8080].proto != "http2" || runs[0][40001].proto != "http2" || runs[0][8080].server || runs[0][9090].proto != "http" {
		t.Errorf("run 0: %v", runs[0])
	}
	if runs[1][8080].proto != "http" || conns[0].run != 1 || conns[1].run != 0 || conns[2].run != 0 {
		t.Errorf("run 1: %v; runs of conns %d %d %d", runs[1], conns[0].run, conns[1].run, conns[2].run)
	}
}

func TestTLSConns(t *testing.T) {
	ep := func(port uint16) endpoint { return endpoint{netip.MustParseAddr("10.0.0.1"), port} }
	clientHello := []byte{22, 3, 1, 0, 200, 1, 0, 0, 196}
	appData := []byte{23, 3, 3, 0, 40, 0xaa}
	if !isTLSRecord(clientHello) || !isClientHello(clientHello) || !isTLSRecord(appData) || isClientHello(appData) {
		t.Error("TLS record detection")
	}
	if isTLSRecord([]byte(h2Preface)) || isTLSRecord([]byte("POST / HTTP/1.1\r\n")) {
		t.Error("HTTP taken for TLS")
	}

	// No TCP handshake in the capture: the ClientHello tells the client.
	conns := []*tcpConn{
		{index: 0, side: [2]endpoint{ep(8443), ep(40000)}, client: -1, payload: true, first: [2][]byte{{22, 3, 3, 0, 90, 2}, clientHello}},
		{index: 1, side: [2]endpoint{ep(40001), ep(8443)}, client: 0, payload: true, first: [2][]byte{[]byte(h2Preface), nil}},
	}
	orient(conns, nil)
	if conns[0].client != 1 || !conns[0].tls || conns[1].tls {
		t.Fatalf("conn 0 client %d tls %v, conn 1 tls %v", conns[0].client, conns[0].tls, conns[1].tls)
	}
	runs := planRuns(conns)
	if len(runs) != 2 || runs[0][8443].proto != "tls" || !runs[0][8443].server || runs[1][8443].proto != "http2" || conns[1].run != 1 {
		t.Errorf("runs %v, conn 1 in run %d", runs, conns[1].run)
	}

	// A call grpcsniff decrypted on a TLS connection of which tshark
	// dissected nothing fails the file.
	key := callKey{Client: "10.0.0.1:40000", Server: "10.0.0.1:8443", Stream: 1}
	g := &sniffCall{key: key, GRPC: true}
	if compare([]*sniffCall{g}, &tsView{conns: conns[:1]}).ok() {
		t.Error("a TLS connection tshark did not decrypt must fail")
	}
}

func TestKeylogFor(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.pcap", "a.keys", "b.pcapng", "c.pcap.gz", "c.keys"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for f, want := range map[string]string{"a.pcap": "a.keys", "b.pcapng": "", "c.pcap.gz": "c.keys"} {
		got := keylogFor(filepath.Join(dir, f))
		if want != "" {
			want = filepath.Join(dir, want)
		}
		if got != want {
			t.Errorf("keylogFor(%s) = %q, want %q", f, got, want)
		}
	}
}

// pdmlPkt wraps the protos of one packet from 127.0.0.1:src in tcp.stream 0.
func pdmlPkt(num int, src uint16, protos string) string {
	return fmt.Sprintf(`<packet>
  <proto name="frame"><field name="frame.number" show="%d"/></proto>
  <proto name="ip"><field name="ip.src" show="127.0.0.1"/></proto>
  <proto name="tcp"><field name="tcp.srcport" show="%d"/><field name="tcp.stream" show="0"/></proto>
%s
</packet>
`, num, src, protos)
}

func hexOf(s string) string { return hex.EncodeToString([]byte(s)) }

// tsharkCalls parses PDML packets of one connection 127.0.0.1:40000 >
// 127.0.0.1:8080 and returns tshark's calls by stream id.
func tsharkCalls(t *testing.T, packets ...string) (map[uint32]*tsCall, *tsView) {
	t.Helper()
	doc := `<?xml version="1.0" encoding="utf-8"?>` + "\n<pdml>\n" + strings.Join(packets, "") + "</pdml>\n"
	c := &tcpConn{client: 0, streams: map[uint32]*tsStream{}, side: [2]endpoint{
		{netip.MustParseAddr("127.0.0.1"), 40000}, {netip.MustParseAddr("127.0.0.1"), 8080}}, http1: true}
	v := &tsView{conns: []*tcpConn{c}, fake: true}
	if err := parsePDML(strings.NewReader(doc), func(p *pdmlPacket) { v.apply(c, p) }); err != nil {
		t.Fatal(err)
	}
	v.finish()
	calls := map[uint32]*tsCall{}
	for _, tc := range v.calls {
		calls[tc.key.Stream] = tc
	}
	return calls, v
}

// gRPC-Web over HTTP/1.1 as tshark 4.0 shows it with -d tcp.port==P,http:
// the grpc protos are siblings after the http proto; a trailer frame is a
// grpc proto of frame type 1 with its text in data-text-lines; a
// Trailers-Only status is a Grpc-Status response line.
func TestParsePDMLHTTP1GRPCWeb(t *testing.T) {
	const client, server = 40000, 8080
	req := func(num int, uri, ct string) string {
		return pdmlPkt(num, client, `<proto name="http">
    <field name="" show="POST `+uri+` HTTP/1.1\r\n">
      <field name="http.request.method" show="POST"/>
      <field name="http.request.uri" show="`+uri+`"/>
    </field>
    <field name="http.content_type" show="`+ct+`"/>
    <field name="http.file_data" showname="File Data: 10 bytes" size="10" show="" value="00000000050a03776562"/>
  </proto>
  <proto name="grpc" showname="GRPC-Web Message: `+uri+`, Request">
    <field name="grpc.frame_type" show="0"/>
    <field name="grpc.compressed_flag" show="0"/>
    <field name="grpc.message_length" show="5"/>
  </proto>`)
	}
	resp1 := pdmlPkt(12, server, `<proto name="http">
    <field name="" show="HTTP/1.1 200 OK\r\n"><field name="http.response.code" show="200"/></field>
    <field name="http.content_type" show="application/grpc-web+proto"/>
    <field name="http.response.line" show="Transfer-Encoding: chunked\r\n" value="`+hexOf("Transfer-Encoding: chunked\r\n")+`"/>
    <field name="http.file_data" showname="File Data: 39 bytes" size="39" show=""/>
  </proto>
  <proto name="grpc" showname="GRPC-Web Message: /a.B/C, Response">
    <field name="grpc.frame_type" show="0"/>
    <field name="grpc.compressed_flag" show="0"/>
    <field name="grpc.message_length" show="13"/>
  </proto>
  <proto name="grpc" showname="GRPC-Web Message: /a.B/C, Response (Trailer)">
    <field name="grpc.frame_type" show="1"/>
    <field name="grpc.compressed_flag" show="0"/>
    <field name="grpc.message_length" show="17"/>
    <proto name="data-text-lines" showname="Line-based text data">
      <field name="" show="grpc-status: 10\r\n" value="`+hexOf("grpc-status: 10\r\n")+`"/>
    </proto>
  </proto>`)
	resp2 := pdmlPkt(16, server, `<proto name="http">
    <field name="" show="HTTP/1.1 200 OK\r\n"><field name="http.response.code" show="200"/></field>
    <field name="http.content_type" show="application/grpc-web"/>
    <field name="http.response.line" show="Grpc-Status: 3\r\n" value="`+hexOf("Grpc-Status: 3\r\n")+`"/>
    <field name="http.file_data" showname="File Data: 0 bytes" size="0" show=""/>
  </proto>`)
	calls, _ := tsharkCalls(t, req(8, "/a.B/C", "application/grpc-web+proto"), resp1, req(14, "/a.B/D", "application/grpc-web"), resp2)
	if len(calls) != 2 {
		t.Fatalf("got %d calls: %v", len(calls), calls)
	}
	a, b := calls[1], calls[3]
	if a == nil || b == nil {
		t.Fatalf("want streams 1 and 3: %v", calls)
	}
	if a.http || a.Method != "/a.B/C" || a.st.httpMethod != "POST" || a.st.httpStatus != 200 ||
		!sameLengths(a.Requests, []message{{Length: 5}}) || !sameLengths(a.Responses, []message{{Length: 13}}) ||
		len(a.webTrailers) != 1 || a.webTrailers[0] != 17 || a.Status == nil || *a.Status != 10 || a.st.statusFrom != "gRPC-Web trailer frame" {
		t.Errorf("call 1: %+v (st %+v)", a, a.st)
	}
	if b.Method != "/a.B/D" || b.Status == nil || *b.Status != 3 || len(b.Responses) != 0 || !strings.Contains(b.st.statusFrom, "Trailers-Only") {
		t.Errorf("call 3: %+v", b)
	}

	// Compared with grpcsniff's view of the same calls.
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	g := []*sniffCall{
		{key: a.key, Method: str("/a.B/C"), GRPC: true, Protocol: "grpc-web", HTTPMethod: "POST", HTTPStatus: 200, Transport: "http1.1",
			Requests: []message{{Length: 5}}, Responses: []message{{Length: 13}}, Status: num(10)},
		{key: b.key, Method: str("/a.B/D"), GRPC: true, Protocol: "grpc-web", HTTPStatus: 200, Transport: "http1.1",
			Requests: []message{{Length: 5}}, Status: num(3)},
	}
	rep := compare(g, &tsView{calls: []*tsCall{a, b}})
	if !rep.ok() || rep.results[0].verdict != agree || rep.results[1].verdict != agree {
		for _, r := range rep.results {
			t.Errorf("%s: verdict %d diffs %q notes %q", r.key, r.verdict, r.diffs, r.notes)
		}
	}
	// A different grpc-status in the trailer frame is a failure.
	g[0].Status = num(0)
	if compare(g, &tsView{calls: []*tsCall{a, b}}).ok() {
		t.Error("grpc-status 0 vs tshark's trailer frame 10 must fail")
	}
}

// Plain HTTP/1.1 calls: method, path, status and body length; a 100
// Continue is skipped; an h2c upgrade request stays HTTP/2 stream 1.
func TestParsePDMLHTTP1Plain(t *testing.T) {
	get := func(num int, uri string) string {
		return pdmlPkt(num, 40000, `<proto name="http">
    <field name="" show="GET `+uri+` HTTP/1.1\r\n"><field name="http.request.method" show="GET"/><field name="http.request.uri" show="`+uri+`"/></field>
  </proto>`)
	}
	resp := func(num, code, n int) string {
		return pdmlPkt(num, 8080, fmt.Sprintf(`<proto name="http">
    <field name="" show="HTTP/1.1 %d X\r\n"><field name="http.response.code" show="%d"/></field>
    <field name="http.content_type" show="text/html"/>
    <field name="http.file_data" showname="File Data: %d bytes" size="%d" show=""/>
  </proto>`, code, code, n, n))
	}
	calls, _ := tsharkCalls(t, get(4, "/index.html"), resp(5, 100, 0), resp(6, 200, 786), get(8, "/nope"), resp(9, 404, 335))
	a, b := calls[1], calls[3]
	if len(calls) != 2 || a == nil || b == nil {
		t.Fatalf("calls: %v", calls)
	}
	if !a.http || a.st.httpMethod != "GET" || a.st.path != "/index.html" || a.st.httpStatus != 200 || a.st.body[1] != 786 || !a.st.bodyKnown[1] || a.st.body[0] != 0 {
		t.Errorf("call 1: %+v", a.st)
	}
	if b.st.path != "/nope" || b.st.httpStatus != 404 || b.st.body[1] != 335 {
		t.Errorf("call 3: %+v", b.st)
	}

	g := &sniffCall{key: b.key, Protocol: "http", HTTPMethod: "GET", Path: "/nope", HTTPStatus: 404, Responses: []message{{Length: 335}}}
	if r := compare([]*sniffCall{g}, &tsView{calls: []*tsCall{b}}).results[0]; r.verdict != agree || len(r.notes) != 0 {
		t.Errorf("agreeing HTTP call: verdict %d diffs %q notes %q", r.verdict, r.diffs, r.notes)
	}
	for name, mod := range map[string]func(*sniffCall){
		"path":   func(g *sniffCall) { g.Path = "/nope2" },
		"method": func(g *sniffCall) { g.HTTPMethod = "HEAD" },
		"status": func(g *sniffCall) { g.HTTPStatus = 200 },
		"body":   func(g *sniffCall) { g.Responses = []message{{Length: 334}} },
	} {
		gg := *g
		mod(&gg)
		if r := compare([]*sniffCall{&gg}, &tsView{calls: []*tsCall{b}}).results[0]; r.verdict != differ {
			t.Errorf("%s: want a difference, got verdict %d notes %q", name, r.verdict, r.notes)
		}
	}

	// h2c upgrade: the HTTP/1.1 request is HTTP/2 stream 1, no HTTP/1.x call.
	up := pdmlPkt(4, 40000, `<proto name="http">
    <field name="" show="POST /a.B/C HTTP/1.1\r\n"><field name="http.request.method" show="POST"/><field name="http.request.uri" show="/a.B/C"/></field>
    <field name="http.upgrade" show="h2c"/>
    <field name="http.content_type" show="application/grpc"/>
  </proto>`)
	sw := pdmlPkt(5, 8080, `<proto name="http">
    <field name="" show="HTTP/1.1 101 Switching Protocols\r\n"><field name="http.response.code" show="101"/></field>
  </proto>`)
	h2 := pdmlPkt(7, 8080, `<proto name="http2"><field name="http2.stream" show="">
      <field name="http2.type" show="1"/><field name="http2.streamid" show="1"/>
      <field name="http2.header" show=""><field name="http2.header.name" show=":status"/><field name="http2.header.value" show="200"/></field>
      <field name="http2.header" show=""><field name="http2.header.name" show="grpc-status"/><field name="http2.header.value" show="0"/></field>
    </field></proto>`)
	calls, v := tsharkCalls(t, up, sw, h2)
	if len(calls) != 1 || calls[1] == nil || calls[1].http || calls[1].Method != "/a.B/C" || !v.conns[0].upgraded || calls[1].st.h1 {
		t.Errorf("h2c upgrade: %v", calls)
	}
}

// A plain HTTP/2 request: :method/:path/:status and DATA payload sizes.
func TestParsePDMLHTTP2Plain(t *testing.T) {
	frame := func(typ int, body string) string {
		return fmt.Sprintf(`<proto name="http2"><field name="http2.stream" show="">
      <field name="http2.type" show="%d"/><field name="http2.streamid" show="5"/>%s
    </field></proto>`, typ, body)
	}
	hdr := func(n, v string) string {
		return `<field name="http2.header" show=""><field name="http2.header.name" show="` + n + `"/><field name="http2.header.value" show="` + v + `"/></field>`
	}
	calls, _ := tsharkCalls(t,
		pdmlPkt(1, 40000, frame(1, hdr(":method", "PUT")+hdr(":path", "/up")+hdr("content-type", "text/plain"))+
			frame(0, `<field name="http2.data.data" showname="DATA payload (7 bytes)" size="7"/>`)),
		pdmlPkt(2, 8080, frame(1, hdr(":status", "201"))+frame(0, `<field name="http2.data.data" showname="DATA payload (0 bytes)" size="0"/>`)))
	c := calls[5]
	if len(calls) != 1 || c == nil || !c.http || c.st.httpMethod != "PUT" || c.st.path != "/up" || c.st.httpStatus != 201 ||
		c.st.body != [2]int64{7, 0} || c.st.bodyKnown != [2]bool{true, true} {
		t.Fatalf("calls %v; stream %+v", calls, c.st)
	}
	// With an undecodable header field the stream may be gRPC: no HTTP call.
	unk, _ := tsharkCalls(t, pdmlPkt(1, 40000, frame(1, hdr(":method", "POST")+hdr("&lt;unknown&gt;", ""))),
		pdmlPkt(2, 8080, frame(1, hdr(":status", "200"))))
	if len(unk) != 0 {
		t.Errorf("stream with <unknown> headers taken as an HTTP call: %v", unk)
	}

	g := &sniffCall{key: c.key, Protocol: "http", HTTPMethod: "PUT", Path: "/up", HTTPStatus: 201, Requests: []message{{Length: 7}}}
	if r := compare([]*sniffCall{g}, &tsView{calls: []*tsCall{c}}).results[0]; r.verdict != agree {
		t.Errorf("verdict %d diffs %q notes %q", r.verdict, r.diffs, r.notes)
	}
}

// What a DATA frame carries on the wire is its header's length less any
// padding, not http2.data.data: on the frame that ends a stream tshark puts
// there the body it reassembled from all the stream's DATA frames, and on a
// gzip Content-Encoding body the decoded bytes (as in connect_h2c.pcap).
func TestParsePDMLHTTP2DataLength(t *testing.T) {
	frame := func(body string) string {
		return `<proto name="http2"><field name="http2.stream" show="">
      <field name="http2.type" show="0"/><field name="http2.streamid" show="7"/>` + body + `
    </field></proto>`
	}
	hdrs := `<proto name="http2"><field name="http2.stream" show="">
      <field name="http2.type" show="1"/><field name="http2.streamid" show="7"/>
      <field name="http2.header" show=""><field name="http2.header.name" show=":status"/><field name="http2.header.value" show="200"/></field>
    </field></proto>`
	req := `<proto name="http2"><field name="http2.stream" show="">
      <field name="http2.type" show="1"/><field name="http2.streamid" show="7"/>
      <field name="http2.header" show=""><field name="http2.header.name" show=":method"/><field name="http2.header.value" show="POST"/></field>
      <field name="http2.header" show=""><field name="http2.header.name" show=":path"/><field name="http2.header.value" show="/a"/></field>
    </field></proto>`
	calls, _ := tsharkCalls(t,
		// request: gzip body, 58 bytes on the wire, 1009 decoded
		pdmlPkt(1, 40000, req+frame(`<field name="http2.length" show="58"/><field name="http2.pad_length" size="0" show="0"/>
      <field name="" show="Content-encoded entity body (gzip): 58 bytes -&gt; 1009 bytes" size="58">
        <field name="http2.data.data" showname="Data: 10e807" size="1009"/></field>`)),
		// response: a padded frame (19 bytes of data, 4 of padding, 1 of pad length),
		// then the END_STREAM frame of length 0 with the reassembled body
		pdmlPkt(2, 8080, hdrs+frame(`<field name="http2.length" show="24"/><field name="http2.pad_length" size="1" show="4"/>
      <field name="http2.data.data" showname="Data: 00" size="19"/>`)),
		pdmlPkt(3, 8080, frame(`<field name="http2.length" show="0"/><field name="http2.pad_length" size="0" show="0"/>
      <field name="http2.body.fragments" show=""/><field name="http2.data.data" showname="Data: 00" size="19"/>`)))
	c := calls[7]
	if c == nil || c.st.body != [2]int64{58, 19} || c.st.bodyKnown != [2]bool{true, true} {
		t.Fatalf("calls %v; want bodies 58 and 19 bytes, got stream %+v", calls, c.st)
	}
}

// An HTTP/1.1 body with Content-Encoding: gzip is its encoded length;
// tshark's http.file_data is the decoded body.
func TestParsePDMLHTTP1ContentEncoded(t *testing.T) {
	req := pdmlPkt(1, 40000, `<proto name="http">
    <field name="" show="POST /a HTTP/1.1\r\n">
      <field name="http.request.method" show="POST"/><field name="http.request.uri" show="/a"/>
    </field>
    <field name="http.content_type" show="application/proto"/>
    <field name="" show="Content-encoded entity body (gzip): 58 bytes -&gt; 1009 bytes" size="58"/>
    <field name="http.file_data" showname="File Data: 1009 bytes" size="1009" show=""/>
  </proto>`)
	resp := pdmlPkt(2, 8080, `<proto name="http">
    <field name="" show="HTTP/1.1 200 OK\r\n"><field name="http.response.code" show="200"/></field>
    <field name="http.content_type" show="application/proto"/>
    <field name="http.file_data" showname="File Data: 37 bytes" size="37" show=""/>
  </proto>`)
	calls, _ := tsharkCalls(t, req, resp)
	c := calls[1]
	if c == nil || c.st.body != [2]int64{58, 37} {
		t.Fatalf("calls %v; want bodies 58 and 37 bytes", calls)
	}
	for _, bad := range []string{"Content-encoded entity body (gzip)", "Content-encoded entity body (gzip): x bytes", "File Data: 3 bytes"} {
		if n, ok := contentEncodedLen(bad); ok {
			t.Errorf("contentEncodedLen(%q) = %d, true", bad, n)
		}
	}
}

// application/grpc-web-text+json is not dissected by tshark 4.0: the
// tool frames tshark's de-chunked body itself, and says so in a note.
func TestNotDissectedGRPCWeb(t *testing.T) {
	body := "AAAAAA4KDEhlbGxvLCB0ZXh0IQ==gAAAABBncnBjLXN0YXR1czogMA0K" // one 14-byte message, then trailer grpc-status 0
	frames, err := frameWeb([]byte(body), true)
	if err != nil || len(frames) != 2 || frames[0].trailer || frames[0].length != 14 || !frames[1].trailer || frames[1].length != 16 || frames[1].lines[0] != "grpc-status: 0" {
		t.Fatalf("frameWeb: %+v %v", frames, err)
	}
	if _, err := frameWeb([]byte{0, 0, 0, 0, 9, 1}, false); err == nil {
		t.Error("a short frame must not frame")
	}
	if !tsharkDissects("application/grpc-web-text; charset=utf-8") || tsharkDissects("application/grpc-web+json") || tsharkDissects("application/grpc-web-text+json") {
		t.Error("tsharkDissects")
	}

	reqBody := "AAAAAAUKA3dlYg=="
	calls, _ := tsharkCalls(t,
		pdmlPkt(4, 40000, `<proto name="http">
    <field name="" show="POST /a.B/C HTTP/1.1\r\n"><field name="http.request.method" show="POST"/><field name="http.request.uri" show="/a.B/C"/></field>
    <field name="http.content_type" show="application/grpc-web-text+json"/>
    <field name="http.file_data" showname="File Data: 16 bytes" size="16" show="`+reqBody+`" value="`+hexOf(reqBody)+`"/>
  </proto>
  <proto name="media" showname="Media Type"/>`),
		pdmlPkt(6, 8080, `<proto name="http">
    <field name="" show="HTTP/1.1 200 OK\r\n"><field name="http.response.code" show="200"/></field>
    <field name="http.content_type" show="application/grpc-web-text+json"/>
    <field name="http.file_data" showname="File Data: 56 bytes" size="56" show="`+body+`" value="`+hexOf(body)+`"/>
  </proto>`))
	c := calls[1]
	if c == nil || c.http || c.notDissected == "" || c.framed == "" || !sameLengths(c.Requests, []message{{Length: 5}}) ||
		!sameLengths(c.Responses, []message{{Length: 14}}) || c.Status == nil || *c.Status != 0 {
		t.Fatalf("call: %+v", c)
	}
	str := func(s string) *string { return &s }
	zero := 0
	g := &sniffCall{key: c.key, Method: str("/a.B/C"), GRPC: true, Protocol: "grpc-web-text", HTTPStatus: 200,
		Requests: []message{{Length: 5}}, Responses: []message{{Length: 14}}, Status: &zero}
	r := compare([]*sniffCall{g}, &tsView{calls: []*tsCall{c}}).results[0]
	if r.verdict != agree || len(r.notes) != 1 || !strings.Contains(r.notes[0], "no gRPC dissector") {
		t.Errorf("verdict %d diffs %q notes %q", r.verdict, r.diffs, r.notes)
	}
	g.Responses = []message{{Length: 13}}
	if r := compare([]*sniffCall{g}, &tsView{calls: []*tsCall{c}}).results[0]; r.verdict != differ {
		t.Errorf("a length the framed body contradicts must fail: verdict %d notes %q", r.verdict, r.notes)
	}
}

func TestParseSniffHTTP(t *testing.T) {
	out := `{"conn":1,"client":"127.0.0.1:5","server":"127.0.0.1:80","transport":"http1.1","protocol":"http","stream_id":3,"method":"/x","http_method":"GET","path":"/x","http_status":404,"status":null,"requests":[],"responses":[{"body":true,"length":9}]}
{"conn":1,"client":"127.0.0.1:5","server":"127.0.0.1:80","transport":"http1.1","protocol":"grpc-web","stream_id":5,"method":"/a.B/C","http_status":200,"request_headers":{":method":["POST"],":path":["/a.B/C"]},"status":{"code":0},"requests":[],"responses":[]}
`
	calls, err := parseSniff([]byte(out))
	if err != nil || len(calls) != 2 {
		t.Fatal(calls, err)
	}
	a, b := calls[0], calls[1]
	if !a.isHTTP() || a.HTTPMethod != "GET" || a.Path != "/x" || a.HTTPStatus != 404 || a.Transport != "http1.1" {
		t.Errorf("http call: %+v", a)
	}
	if b.isHTTP() || b.HTTPMethod != "POST" || b.Path != "/a.B/C" || b.HTTPStatus != 200 {
		t.Errorf("grpc-web call: %+v", b)
	}
}

func TestOrientHTTP1(t *testing.T) {
	ep := func(port uint16) endpoint { return endpoint{netip.MustParseAddr("10.0.0.1"), port} }
	conns := []*tcpConn{
		// Capture starts with a response: the status line tells the server.
		{index: 0, side: [2]endpoint{ep(8080), ep(40000)}, client: -1, payload: true, first: [2][]byte{[]byte("HTTP/1.1 200 OK\r\n"), nil}},
		// Mid-body, nothing recognisable: grpcsniff's transport says HTTP/1.1.
		{index: 1, side: [2]endpoint{ep(40001), ep(8081)}, client: 0, payload: true, first: [2][]byte{{1, 2, 3}, {4, 5}}},
		{index: 2, side: [2]endpoint{ep(40002), ep(8082)}, client: 0, payload: true, first: [2][]byte{[]byte(h2Preface), nil}},
	}
	gs := []*sniffCall{{key: callKey{Client: "10.0.0.1:40001", Server: "10.0.0.1:8081"}, Transport: "http1.1"}}
	orient(conns, gs)
	if conns[0].client != 1 || !conns[0].http1 || !conns[1].http1 || conns[2].http1 {
		t.Errorf("client %d, http1 %v %v %v", conns[0].client, conns[0].http1, conns[1].http1, conns[2].http1)
	}
	runs := planRuns(conns)
	if len(runs) != 1 || runs[0][8080].proto != "http" || runs[0][8081].proto != "http" || runs[0][8082].proto != "http2" {
		t.Errorf("runs %v", runs)
	}
}
