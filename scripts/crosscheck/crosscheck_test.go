package main

import (
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
		{index: 0, side: [2]endpoint{ep(40000), ep(8080)}, client: 0, payload: true, upgrade: true},
		{index: 1, side: [2]endpoint{ep(40001), ep(8080)}, client: -1, payload: true},
		{index: 2, side: [2]endpoint{ep(40002), ep(9090)}, client: 0, payload: true, upgrade: true},
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
