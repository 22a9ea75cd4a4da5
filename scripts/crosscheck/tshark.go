package main

// How tshark is driven.
//
// 1. A first run lists every TCP packet with its tcp.stream, endpoints
//    (ip.src / ipv6.src, tcp.srcport, and the dst counterparts), the SYN and
//    ACK flags, tcp.len and the start of tcp.payload. From it each TCP
//    connection gets its client: the side sending the SYN without ACK, else
//    the side that sent the HTTP/2 connection preface or an HTTP/1.1
//    request line. A connection with neither in the capture is decided from
//    tshark's HTTP/2 headers after the main run (the side sending
//    :method/:path is the client, the side sending :status the server);
//    until then grpcsniff's orientation of the same endpoint pair is used to
//    plan the run, and when the headers say nothing either, that (or,
//    failing it, "the higher port is the client") stays.
//
// 2. tshark dissects HTTP/2 on non-standard ports only with Decode As, so
//    the server port of every TCP connection carrying payload is decoded:
//    "-d tcp.port==P,http2", or "-d tcp.port==P,http" for an HTTP/1.x
//    connection: one whose first payload is an HTTP/1.x request line or
//    status line, or one grpcsniff reports calls on with transport
//    "http1.1" (e.g. a capture starting inside a body). That includes h2c
//    upgrades: Wireshark's http dissector follows "101 Switching Protocols"
//    into http2, and it also hands a connection starting with the HTTP/2
//    preface to http2, but a capture starting mid-connection needs http2
//    directly. Both ports are decoded
//    when the client is not known yet. A connection whose first payload is
//    TLS records gets "-d tcp.port==P,tls" instead (tshark's TLS dissector
//    then hands the decrypted data to http2 when ALPN negotiated h2), its
//    client being the side that sent the ClientHello when the capture has
//    no TCP handshake. The ports therefore come from the
//    capture itself, not only from grpcsniff's calls, so a connection
//    grpcsniff missed entirely is still dissected. Decode As works per
//    port; when a port needs "http" for one connection and "http2" for
//    another, tshark is run twice and each connection is read from the run
//    that suits it.
//
// 3. Fake headers (-o uat:http2_fake_headers:...; see -no-fake-headers):
//    tshark only hands DATA to its gRPC dissector when it knows the
//    stream's content-type and :path. In a capture that starts
//    mid-connection the request headers are mostly HPACK references to
//    dynamic-table entries inserted before the capture; tshark shows them
//    as "<unknown>" and then dissects no gRPC message at all. For every
//    server port the tool gives tshark "content-type: application/grpc" (both
//    directions) and ":path: /tshark-fake-header/unknown" (requests) as
//    fallbacks, which tshark uses only when the real header is missing, so
//    it still splits those streams into gRPC messages. The fake :path is
//    also what lets tshark dissect the response on stream 1 of an h2c
//    upgrade (its request headers were HTTP/1.1, and tshark 4.0 otherwise
//    hits a dissector assertion, packet-grpc.c:346). The fake values are
//    never taken as the method or the content-type: fake headers appear in
//    PDML under http2.fake.header and are skipped, and a message whose
//    tracked path is the fake one does not give a method.
//
// 4. The main run prints PDML (-T pdml) with
//    "-o grpc.embedded_under_http2:TRUE", which nests every gRPC message
//    (a <proto name="grpc">) inside the HTTP/2 frame that completed it. Flat
//    field output (-T fields) cannot be used to attribute messages to
//    streams: one TCP segment carries several HTTP/2 frames of several
//    streams, and one DATA frame several gRPC messages, so the
//    comma-separated http2.streamid and grpc.message_length lists do not
//    line up. From the PDML the tool reads, per HTTP/2 frame
//    (<field name="http2.stream">): http2.streamid, http2.type,
//    http2.flags.eh, http2.fake.header.count, and each http2.header's
//    http2.header.name / http2.header.value (":path", "content-type",
//    ":method", ":status", "grpc-status"; "<unknown>" is tshark's name for
//    an undecodable HPACK reference); per gRPC message
//    grpc.message_length and grpc.compressed_flag, plus the <proto
//    name="grpc"> showname "GRPC Message: PATH, Request|Response", which
//    shows that tshark carries the :path to later frames of the stream;
//    grpc.frame_type (1 = a gRPC-Web trailer frame, whose text lines tshark
//    shows as unnamed fields of a data-text-lines proto nested in it:
//    "grpc-status: 0\r\n"); the size of each DATA frame's http2.data.data.
//    For HTTP/1.x (<proto name="http">, with the gRPC-Web messages of its
//    body as sibling <proto name="grpc"> after it): http.request.method,
//    http.request.uri, http.response.code, http.content_type, http.upgrade,
//    the http.response.line header lines (Grpc-Status of a Trailers-Only
//    response) and http.file_data (the de-chunked body: its size, and its
//    bytes for content-types tshark does not dissect). Requests and final
//    responses are paired in order (see settleHTTP1); the request of an h2c
//    upgrade is HTTP/2 stream 1 (its body's gRPC message is stream 1's
//    request). tshark 4.0 has no gRPC-specific status field (tshark -G
//    fields | grep grpc lists only frame_type, compressed_flag,
//    message_length, message_data and two error flags), so grpc-status
//    comes from the header name/value pairs and trailer frame lines.
//    The direction of a frame is its packet's source endpoint compared with
//    the connection's client (not tshark's Request/Response guess).

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

const fakePath = "/tshark-fake-header/unknown"

type endpoint struct {
	addr netip.Addr
	port uint16
}

func (e endpoint) String() string { return netip.AddrPortFrom(e.addr, e.port).String() }

type tcpConn struct {
	index     int         // tcp.stream
	side      [2]endpoint // side[0] sent the first packet seen
	client    int         // index into side; -1 while unknown
	rolesFrom string
	first     [2][]byte // first payload bytes of each side
	payload   bool
	http1     bool // HTTP/1.x: a request line or status line opens it, or grpcsniff says transport http1.1
	upgraded  bool // an h2c upgrade: HTTP/1.1 request with Upgrade: h2c, then HTTP/2
	tls       bool // the first payload is TLS records (HTTP/2 inside by ALPN)
	run       int  // which tshark PDML run dissects it
	streams   map[uint32]*tsStream
	h1        []h1rec // HTTP/1.x messages in capture order
}

// h1rec is one HTTP/1.x request or response tshark dissected.
type h1rec struct {
	side int
	num  int // frame number
	msg  *h1msg
}

func (c *tcpConn) sideOf(addr netip.Addr, port uint16) int {
	for i, e := range c.side {
		if e.addr == addr && e.port == port {
			return i
		}
	}
	return -1
}

// tsStream is tshark's view of one HTTP/2 stream. Arrays are indexed by
// tcpConn side.
type tsStream struct {
	id          uint32
	blocks      [2]int  // header blocks (HEADERS frames, or the HTTP/1.1 upgrade request)
	unknown     [2]bool // a header field was "<unknown>" to tshark
	dataFirst   [2]bool // a DATA frame came before any header block of that side
	data        [2]int
	path        string // the real :path (or upgrade request URI)
	pathFrom    string
	method      [2]bool // :method sent by the side
	status      [2]bool // :status sent by the side
	contentType [2]string
	grpcStatus  *int
	grpcStatusS string
	statusFrame int // frame number of the grpc-status header
	msgs        [2][]tsMsg
	tracked     string // path from tshark's stream tracking (grpc showname)
	malformed   bool

	h1         bool   // an HTTP/1.x exchange: id 2n-1 for the n-th request on the connection
	httpMethod string // :method or the HTTP/1.x request method
	httpStatus int    // :status or the HTTP/1.x status code (0: none seen)
	statusFrom string // where grpc-status came from
	// Body bytes per side: HTTP/1.x http.file_data (de-chunked), or the
	// sum of HTTP/2 DATA payloads. bodyKnown is false when a DATA frame's
	// payload size was not shown.
	body      [2]int64
	bodyKnown [2]bool
	rawBody   [2][]byte // HTTP/1.x only: the body bytes (http.file_data value)
	// gRPC-Web trailer frames (frame type 1) tshark showed, by length; they
	// are not messages.
	trailers [2][]uint32
	// A trailer frame's text held no grpc-status line tshark showed.
	trailerNoStatus bool
}

type tsMsg struct {
	length     uint32
	compressed bool
	path, dir  string // from the grpc showname
	malformed  bool
	trailer    bool     // gRPC-Web frame type Trailer (1): not a message
	lines      []string // a trailer frame's text lines (data-text-lines)
}

// tsCall is a gRPC call as tshark sees it.
type tsCall struct {
	key  callKey
	conn *tcpConn
	st   *tsStream

	Method      string
	MethodKnown bool
	methodWhy   string // why the method is unknown

	Requests, Responses []message
	Status              *int
	StatusUnknown       bool // response header blocks held "<unknown>" fields and no grpc-status was decoded
	// Why tshark's request / response message list cannot be checked
	// ("" when it can).
	reqUnchecked, respUnchecked string
	inferred                    bool // gRPC only by the fake content-type
	headersCaptured             bool // some request header block is in the capture
	rolesGuessed                bool

	// http: tshark saw an HTTP request/response that is not gRPC (no gRPC
	// content-type, message or grpc-status); compared as a plain HTTP call.
	http        bool
	contentType string // the response's, else the request's
	// notDissected: the content-type is gRPC-Web for which tshark 4.0 has
	// no dissector (e.g. application/grpc-web+json); framed says the
	// message lists and status were then framed by this tool from tshark's
	// de-chunked HTTP/1.x body ("" when not).
	notDissected, framed string
	webTrailers          []uint32 // gRPC-Web trailer frames tshark showed in the response
}

type tsView struct {
	conns      []*tcpConn
	calls      []*tsCall
	runs       []string // one line per PDML run: its Decode As and fake headers
	notes      []string
	dissectBug int  // "Dissector bug" warnings on stderr
	fake       bool // fake headers were given to tshark
}

func tsharkVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return "using " + strings.TrimSpace(line)
}

// runTshark builds tshark's view of the capture.
// keylog, when not empty, is the NSS key log tshark decrypts TLS with (a
// pcapng's Decryption Secrets Blocks need no option).
func runTshark(bin, path, keylog string, gs []*sniffCall, fake bool) (*tsView, error) {
	conns, err := listConns(bin, path)
	if err != nil {
		return nil, err
	}
	v := &tsView{conns: conns, fake: fake}
	orient(conns, gs)

	runs := planRuns(conns)
	for r, ports := range runs {
		args := []string{"-r", path, "-n", "-o", "grpc.embedded_under_http2:TRUE", "--disable-protocol", "protobuf"}
		var desc []string
		if keylog != "" {
			args = append(args, "-o", "tls.keylog_file:"+keylog)
			desc = append(desc, "-o tls.keylog_file:"+keylog)
		}
		for _, p := range sortedPorts(ports) {
			args = append(args, "-d", fmt.Sprintf("tcp.port==%d,%s", p, ports[p].proto))
			desc = append(desc, fmt.Sprintf("-d tcp.port==%d,%s", p, ports[p].proto))
		}
		var fakes []string
		if fake {
			for _, p := range sortedPorts(ports) {
				if !ports[p].server {
					continue
				}
				args = append(args,
					"-o", fmt.Sprintf(`uat:http2_fake_headers:"%d","0","IN","content-type","application/grpc","TRUE"`, p),
					"-o", fmt.Sprintf(`uat:http2_fake_headers:"%d","0","OUT","content-type","application/grpc","TRUE"`, p),
					"-o", fmt.Sprintf(`uat:http2_fake_headers:"%d","0","IN",":path","%s","TRUE"`, p, fakePath))
				fakes = append(fakes, strconv.Itoa(int(p)))
			}
		}
		args = append(args, "-Y", "http2 || http || grpc", "-T", "pdml")
		d := strings.Join(desc, " ")
		if len(fakes) > 0 {
			d += "; fake content-type/:path headers for server port(s) " + strings.Join(fakes, ", ")
		}
		v.runs = append(v.runs, d)
		if err := v.pdmlRun(bin, args, r); err != nil {
			return nil, err
		}
	}
	v.finish()
	return v, nil
}

// listConns is the first tshark run: TCP connections, their endpoints,
// handshakes and first payload bytes.
func listConns(bin, path string) ([]*tcpConn, error) {
	cmd := exec.Command(bin, "-r", path, "-n", "-Y", "tcp", "-T", "fields",
		"-E", "separator=/t", "-E", "occurrence=l",
		"-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
		"-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
		"-e", "tcp.flags.syn", "-e", "tcp.flags.ack", "-e", "tcp.len", "-e", "tcp.payload")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	byIndex := map[int]*tcpConn{}
	var conns []*tcpConn
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<28)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 11 {
			continue
		}
		idx, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		src, ok1 := parseEndpoint(f[1], f[2], f[3])
		dst, ok2 := parseEndpoint(f[4], f[5], f[6])
		if !ok1 || !ok2 {
			continue
		}
		c := byIndex[idx]
		if c == nil {
			c = &tcpConn{index: idx, side: [2]endpoint{src, dst}, client: -1, streams: map[uint32]*tsStream{}}
			byIndex[idx] = c
			conns = append(conns, c)
		}
		s := c.sideOf(src.addr, src.port)
		if s < 0 {
			continue
		}
		if isTrue(f[7]) && !isTrue(f[8]) && c.client < 0 {
			c.client, c.rolesFrom = s, "TCP handshake"
		}
		if n, _ := strconv.Atoi(f[9]); n > 0 {
			c.payload = true
			if c.first[s] == nil {
				h := f[10]
				if len(h) > 64 {
					h = h[:64]
				}
				b, _ := hex.DecodeString(h)
				if b == nil {
					b = []byte{}
				}
				c.first[s] = b
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", bin, err, firstLines(stderr.String()))
	}
	return conns, nil
}

func parseEndpoint(ip4, ip6, port string) (endpoint, bool) {
	s := ip4
	if s == "" {
		s = ip6
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return endpoint{}, false
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return endpoint{}, false
	}
	return endpoint{a.Unmap(), uint16(p)}, true
}

func isTrue(s string) bool { return s == "1" || strings.EqualFold(s, "true") }

var http1Methods = []string{"GET ", "POST ", "PUT ", "HEAD ", "OPTIONS ", "DELETE ", "PATCH ", "CONNECT ", "TRACE "}

const h2Preface = "PRI * HTTP/2.0\r\n"

// orient decides each connection's client where the handshake did not.
func orient(conns []*tcpConn, gs []*sniffCall) {
	pairs := map[[2]string]bool{}
	h1pairs := map[[2]string]bool{} // grpcsniff's HTTP/1.x connections
	for _, c := range gs {
		pairs[[2]string{c.key.Client, c.key.Server}] = true
		if strings.HasPrefix(c.Transport, "http1") {
			h1pairs[[2]string{c.key.Client, c.key.Server}] = true
		}
	}
	for _, c := range conns {
		c.tls = isTLSRecord(c.first[0]) || isTLSRecord(c.first[1])
		if c.client < 0 {
			for s := 0; s < 2; s++ {
				if isClientHello(c.first[s]) {
					c.client, c.rolesFrom = s, "TLS ClientHello"
					break
				}
				if bytes.HasPrefix(c.first[s], []byte(h2Preface)) || isHTTP1Request(c.first[s]) {
					c.client, c.rolesFrom = s, "connection preface / request line"
					break
				}
			}
		}
		if c.client < 0 {
			// Provisional: finish checks it against the HTTP/2 headers.
			a, b := c.side[0].String(), c.side[1].String()
			switch {
			case pairs[[2]string{a, b}]:
				c.client, c.rolesFrom = 0, "grpcsniff's roles for this endpoint pair (no handshake in the capture)"
			case pairs[[2]string{b, a}]:
				c.client, c.rolesFrom = 1, "grpcsniff's roles for this endpoint pair (no handshake in the capture)"
			}
		}
		if c.client < 0 {
			for s := 0; s < 2; s++ {
				if bytes.HasPrefix(c.first[s], []byte("HTTP/1.")) {
					c.client, c.rolesFrom = 1-s, "HTTP/1.x status line"
					break
				}
			}
		}
		if !c.tls {
			a, b := c.side[0].String(), c.side[1].String()
			c.http1 = isHTTP1Request(c.first[0]) || isHTTP1Request(c.first[1]) ||
				bytes.HasPrefix(c.first[0], []byte("HTTP/1.")) || bytes.HasPrefix(c.first[1], []byte("HTTP/1.")) ||
				h1pairs[[2]string{a, b}] || h1pairs[[2]string{b, a}]
		}
	}
}

func isHTTP1Request(b []byte) bool {
	for _, m := range http1Methods {
		if bytes.HasPrefix(b, []byte(m)) {
			return true
		}
	}
	return false
}

// isTLSRecord reports whether b starts with a TLS record header: content
// type change_cipher_spec, alert, handshake or application_data, version
// 3.1-3.4 (TLS 1.0-1.3; TLS 1.3 records say 3.3, ClientHellos often 3.1).
func isTLSRecord(b []byte) bool {
	return len(b) >= 5 && b[0] >= 20 && b[0] <= 23 && b[1] == 3 && b[2] >= 1 && b[2] <= 4
}

// isClientHello reports whether b starts with a TLS handshake record holding
// a ClientHello.
func isClientHello(b []byte) bool {
	return isTLSRecord(b) && b[0] == 22 && len(b) >= 6 && b[5] == 1
}

type portUse struct {
	proto  string // "http2", "http" or "tls"
	server bool   // a known server port (gets fake headers)
}

// planRuns assigns each connection with payload to a tshark run and returns
// each run's Decode As table. HTTP/2 and TLS connections are placed first,
// h2c upgrades after them; a connection goes to the first run whose table
// does not already decode one of its ports as something else.
func planRuns(conns []*tcpConn) []map[uint16]portUse {
	var runs []map[uint16]portUse
	place := func(c *tcpConn, ports []uint16, u portUse) {
		for r := 0; ; r++ {
			if r == len(runs) {
				runs = append(runs, map[uint16]portUse{})
			}
			fits := true
			for _, p := range ports {
				if old, ok := runs[r][p]; ok && old.proto != u.proto {
					fits = false
				}
			}
			if !fits {
				continue
			}
			c.run = r
			for _, p := range ports {
				v := u
				if runs[r][p].server {
					v.server = true
				}
				runs[r][p] = v
			}
			return
		}
	}
	for _, http1 := range []bool{false, true} {
		for _, c := range conns {
			if !c.payload || c.http1 != http1 {
				continue
			}
			proto := c.decodeAs()
			if c.client < 0 {
				place(c, []uint16{c.side[0].port, c.side[1].port}, portUse{proto: proto})
				continue
			}
			place(c, []uint16{c.side[1-c.client].port}, portUse{proto: proto, server: true})
		}
	}
	return runs
}

// decodeAs is the Decode As protocol for the connection's server port.
func (c *tcpConn) decodeAs() string {
	switch {
	case c.tls:
		return "tls"
	case c.http1:
		return "http"
	}
	return "http2"
}

func sortedPorts(m map[uint16]portUse) []uint16 {
	ps := make([]uint16, 0, len(m))
	for p := range m {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}

func firstLines(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.Contains(l, "Running as user") || strings.TrimSpace(l) == "" {
			continue
		}
		keep = append(keep, strings.TrimSpace(l))
		if len(keep) == 3 {
			break
		}
	}
	return strings.Join(keep, " | ")
}

// pdmlRun runs tshark with args (PDML output) and applies every packet of a
// connection assigned to run r.
func (v *tsView) pdmlRun(bin string, args []string, r int) error {
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	byIndex := map[int]*tcpConn{}
	for _, c := range v.conns {
		byIndex[c.index] = c
	}
	perr := parsePDML(out, func(p *pdmlPacket) {
		c := byIndex[p.tcpStream]
		if c == nil || c.run != r {
			return
		}
		v.apply(c, p)
	})
	if perr != nil {
		_, _ = io.Copy(io.Discard, out)
	}
	werr := cmd.Wait()
	if perr != nil {
		return fmt.Errorf("reading tshark PDML: %v", perr)
	}
	if werr != nil {
		return fmt.Errorf("%s: %v: %s", bin, werr, firstLines(stderr.String()))
	}
	v.dissectBug += strings.Count(stderr.String(), "Dissector bug")
	return nil
}

// apply adds one packet's HTTP/2 frames and gRPC messages to the
// connection's streams.
func (v *tsView) apply(c *tcpConn, p *pdmlPacket) {
	s := c.sideOf(p.src.addr, p.src.port)
	if s < 0 {
		return
	}
	for _, h := range p.http1 {
		if h.request || h.response {
			c.h1 = append(c.h1, h1rec{side: s, num: p.num, msg: h})
		} else if len(h.msgs) > 0 {
			v.notes = append(v.notes, fmt.Sprintf("packet %d: gRPC message in an HTTP/1.x body tshark shows neither as request nor as response, ignored", p.num))
		}
	}
	for _, f := range p.frames {
		if f.stream == 0 {
			continue
		}
		st := c.stream(f.stream)
		switch f.typ {
		case 0: // DATA
			if st.blocks[s] == 0 {
				st.dataFirst[s] = true
			}
			st.data[s]++
			if st.data[s] == 1 {
				st.bodyKnown[s] = true
			}
			if f.dataKnown {
				st.body[s] += f.payloadLen()
			} else {
				st.bodyKnown[s] = false
			}
		case 1: // HEADERS
			st.blocks[s]++
			if f.endHdrs && len(f.headers) == 0 {
				// tshark could not decode the block at all.
				st.unknown[s] = true
			}
		}
		for _, h := range f.headers {
			switch h.name {
			case "<unknown>":
				st.unknown[s] = true
			case ":path":
				if st.path == "" {
					st.path, st.pathFrom = h.value, "HEADERS :path"
				}
				st.method[s] = true
			case ":method":
				st.method[s] = true
				st.httpMethod = h.value
			case ":status":
				st.status[s] = true
				if n, err := strconv.Atoi(strings.TrimSpace(h.value)); err == nil && n >= 200 {
					st.httpStatus = n
				}
			case "content-type":
				st.contentType[s] = h.value
			case "grpc-status":
				st.setGRPCStatus(h.value, p.num, "HEADERS grpc-status")
			}
		}
		st.addMsgs(s, f.msgs, p.num)
	}
}

func (st *tsStream) setGRPCStatus(v string, frame int, from string) {
	st.grpcStatusS, st.statusFrame, st.statusFrom = v, frame, from
	st.grpcStatus = nil
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		st.grpcStatus = &n
	}
}

// settleHTTP1 turns the connection's HTTP/1.x messages into streams: the
// n-th request and the n-th final response (1xx other than 101 skipped)
// are stream 2n-1, as grpcsniff numbers HTTP/1.x calls. A first request
// with "Upgrade: h2c" answered by 101 (or unanswered on a connection that
// goes on in HTTP/2) is the request of HTTP/2 stream 1 (RFC 7540 3.2), and
// the connection's HTTP/1.x part ends there.
func (c *tcpConn) settleHTTP1() {
	var reqs, resps []h1rec
	for _, r := range c.h1 {
		switch {
		case r.msg.request:
			reqs = append(reqs, r)
		case r.msg.response && (r.msg.code >= 200 || r.msg.code == 101):
			resps = append(resps, r)
		}
	}
	for i, rq := range reqs {
		var rs *h1rec
		if i < len(resps) {
			rs = &resps[i]
		}
		if i == 0 && strings.Contains(strings.ToLower(rq.msg.upgrade), "h2c") &&
			((rs != nil && rs.msg.code == 101) || (rs == nil && len(c.streams) > 0)) {
			c.upgraded = true
			st := c.stream(1)
			st.blocks[rq.side]++
			st.method[rq.side] = true
			st.httpMethod = rq.msg.method
			if st.path == "" && rq.msg.uri != "" {
				st.path, st.pathFrom = rq.msg.uri, "HTTP/1.1 upgrade request"
			}
			if rq.msg.contentType != "" {
				st.contentType[rq.side] = rq.msg.contentType
			}
			st.addMsgs(rq.side, rq.msg.msgs, rq.num)
			return
		}
		id := uint32(2*i + 1)
		st := c.stream(id)
		st.h1 = true
		st.fillH1(rq)
		if rs != nil {
			st.fillH1(*rs)
		}
	}
	// Responses without a request in the capture.
	for i := len(reqs); i < len(resps); i++ {
		st := c.stream(uint32(2*i + 1))
		st.h1 = true
		st.fillH1(resps[i])
	}
}

func (st *tsStream) fillH1(r h1rec) {
	s, h := r.side, r.msg
	st.blocks[s]++
	if h.request {
		st.method[s] = true
		st.httpMethod = h.method
		if h.uri != "" {
			st.path, st.pathFrom = h.uri, "HTTP/1.x request line"
		}
	} else {
		st.status[s] = true
		st.httpStatus = h.code
		if h.grpcStatus != "" {
			st.setGRPCStatus(h.grpcStatus, r.num, "HTTP/1.x response header Grpc-Status (Trailers-Only)")
		}
	}
	if h.contentType != "" {
		st.contentType[s] = h.contentType
	}
	st.body[s], st.bodyKnown[s], st.rawBody[s] = h.bodyLen, true, h.body
	if h.bodyLen > 0 {
		st.data[s]++
	}
	st.addMsgs(s, h.msgs, r.num)
}

func (c *tcpConn) stream(id uint32) *tsStream {
	st := c.streams[id]
	if st == nil {
		st = &tsStream{id: id}
		c.streams[id] = st
	}
	return st
}

func (st *tsStream) addMsgs(s int, ms []*tsMsg, frame int) {
	for _, m := range ms {
		if m.trailer {
			st.trailers[s] = append(st.trailers[s], m.length)
			found := false
			for _, l := range m.lines {
				if name, val, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "grpc-status") {
					st.setGRPCStatus(strings.TrimSpace(val), frame, "gRPC-Web trailer frame")
					found = true
				}
			}
			if !found {
				st.trailerNoStatus = true
			}
			continue
		}
		st.msgs[s] = append(st.msgs[s], *m)
		if m.path != "" && m.path != fakePath && st.tracked == "" {
			st.tracked = m.path
		}
		if m.malformed {
			st.malformed = true
		}
	}
}

// finish settles the roles still unknown and builds the calls.
func (v *tsView) finish() {
	for _, c := range v.conns {
		c.settleHTTP1()
	}
	for _, c := range v.conns {
		var vote [2]int
		for _, st := range c.streams {
			for s := 0; s < 2; s++ {
				if st.method[s] {
					vote[s]++
				}
				if st.status[s] {
					vote[1-s]++
				}
			}
		}
		if c.client >= 0 && strings.HasPrefix(c.rolesFrom, "grpcsniff") && vote[0] != vote[1] {
			// No handshake: tshark's own reading of the headers wins over
			// grpcsniff's roles, so that those are checked too.
			was := c.client
			c.client, c.rolesFrom = 0, "HTTP request/response headers (no handshake in the capture)"
			if vote[1] > vote[0] {
				c.client = 1
			}
			if c.client != was {
				c.rolesFrom += "; grpcsniff has them the other way round"
			}
		}
		if c.client >= 0 {
			continue
		}
		switch {
		case vote[0] > vote[1]:
			c.client, c.rolesFrom = 0, "HTTP request/response headers"
		case vote[1] > vote[0]:
			c.client, c.rolesFrom = 1, "HTTP request/response headers"
		default:
			c.client, c.rolesFrom = 0, "port numbers (guess: the higher port is the client)"
			if c.side[1].port > c.side[0].port {
				c.client = 1
			}
		}
	}

	connsOfPair := map[[2]string]int{}
	for _, c := range v.conns {
		cs, ss := c.client, 1-c.client
		client, server := c.side[cs].String(), c.side[ss].String()
		pair := [2]string{client, server}
		n := connsOfPair[pair]
		connsOfPair[pair] = n + 1
		ids := make([]uint32, 0, len(c.streams))
		for id := range c.streams {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			st := c.streams[id]
			realGRPC := strings.HasPrefix(st.contentType[0], "application/grpc") || strings.HasPrefix(st.contentType[1], "application/grpc")
			nmsg := len(st.msgs[0]) + len(st.msgs[1]) + len(st.trailers[0]) + len(st.trailers[1])
			isHTTP := !realGRPC && nmsg == 0 && st.grpcStatus == nil
			if isHTTP && !st.h1 && (st.httpMethod == "" && st.httpStatus == 0 || st.unknown[0] || st.unknown[1]) {
				// Not an HTTP/2 request or response tshark decoded whole
				// (only RST_STREAM / WINDOW_UPDATE, or a header block with
				// "<unknown>" fields, which may hide a gRPC content-type).
				continue
			}
			tc := &tsCall{
				key:             callKey{Client: client, Server: server, Conn: n, Stream: id},
				conn:            c,
				st:              st,
				Requests:        convTs(st.msgs[cs]),
				Responses:       convTs(st.msgs[ss]),
				Status:          st.grpcStatus,
				inferred:        !realGRPC,
				headersCaptured: st.blocks[cs] > 0,
				rolesGuessed:    strings.HasPrefix(c.rolesFrom, "port numbers"),
				http:            isHTTP,
				contentType:     st.contentType[ss],
				webTrailers:     st.trailers[ss],
			}
			if tc.contentType == "" {
				tc.contentType = st.contentType[cs]
			}
			if realGRPC && nmsg == 0 {
				for _, ct := range []string{st.contentType[cs], st.contentType[ss]} {
					if ct != "" && !tsharkDissects(ct) {
						tc.notDissected = fmt.Sprintf("tshark 4.0 has no gRPC dissector for content-type %s (it shows the body as plain HTTP data)", mediaType(ct))
						break
					}
				}
				if tc.notDissected != "" {
					tc.frameBodies(st, cs, ss)
				}
			}
			switch {
			case st.path != "":
				tc.Method, tc.MethodKnown = st.path, true
			case st.tracked != "":
				tc.Method, tc.MethodKnown = st.tracked, true
			case st.blocks[cs] == 0:
				tc.methodWhy = "tshark saw no request headers for this stream (sent before the capture started)"
			case st.unknown[cs]:
				tc.methodWhy = "the request headers are HPACK references to dynamic-table entries inserted before the capture, which tshark shows as <unknown>"
			default:
				tc.methodWhy = "no :path in the request headers tshark decoded"
			}
			if st.dataFirst[cs] && len(st.msgs[cs]) > 0 {
				tc.reqUnchecked = limitMidMessage
			}
			if st.dataFirst[ss] && len(st.msgs[ss]) > 0 {
				tc.respUnchecked = limitMidMessage
			}
			if c.upgraded && id == 1 && !v.fake {
				tc.respUnchecked = limitUpgrade
			}
			if st.grpcStatus == nil && st.unknown[ss] {
				tc.StatusUnknown = true
			}
			v.calls = append(v.calls, tc)
		}
	}
}

func convTs(ms []tsMsg) []message {
	out := make([]message, len(ms))
	for i, m := range ms {
		out[i] = message{Length: m.length, Compressed: m.compressed}
	}
	return out
}

// PDML reading.

type pdmlPacket struct {
	num       int
	tcpStream int
	src       endpoint
	srcAddr   string
	srcPort   string
	frames    []*h2frame
	http1     []*h1msg
}

type h2frame struct {
	stream    uint32
	typ       int
	endHdrs   bool
	fake      bool
	headers   []header
	msgs      []*tsMsg
	dataLen   int64 // DATA payload bytes (http2.data.data), padding excluded
	dataKnown bool
	// The frame header's payload length (http2.length) and padding
	// (http2.pad_length, when the frame is padded): what the DATA frame
	// carries on the wire. http2.data.data is not: tshark shows there the
	// body it reassembled from the stream's DATA frames (on the frame with
	// END_STREAM), or the body after undoing a Content-Encoding.
	length, padding int64
	lengthKnown     bool
}

// payloadLen is the DATA frame's payload size on the wire, padding
// excluded: from the frame header when tshark showed it, else from
// http2.data.data.
func (f *h2frame) payloadLen() int64 {
	if f.lengthKnown {
		return max(f.length-f.padding, 0)
	}
	return f.dataLen
}

type header struct{ name, value string }

type h1msg struct {
	request, response bool
	method, uri       string
	code              int // status code of a response
	contentType       string
	upgrade           string
	grpcStatus        string // a Grpc-Status response header line (Trailers-Only)
	bodyLen           int64  // http.file_data: the de-chunked body
	// encodedLen is the body's length before tshark undid its
	// Content-Encoding (gzip): http.file_data is then the decoded body.
	encodedLen int64
	encoded    bool
	body       []byte
	msgs       []*tsMsg
}

type pnode struct {
	kind  string // "packet", "proto", "field"
	name  string
	frame *h2frame // http2 proto: its current frame; http2.stream field: the frame
	h1    *h1msg
	msg   *tsMsg
	hdr   *header
}

// parsePDML streams tshark's PDML and calls fn for every packet.
func parsePDML(r io.Reader, fn func(*pdmlPacket)) error {
	dec := xml.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	var stack []*pnode
	var pkt *pdmlPacket

	nearest := func(pred func(*pnode) bool) *pnode {
		for i := len(stack) - 1; i >= 0; i-- {
			if pred(stack[i]) {
				return stack[i]
			}
		}
		return nil
	}
	curFrame := func() *h2frame {
		n := nearest(func(n *pnode) bool { return n.frame != nil })
		if n == nil {
			return nil
		}
		return n.frame
	}
	innerProto := func() string {
		n := nearest(func(n *pnode) bool { return n.kind == "proto" })
		if n == nil {
			return ""
		}
		return n.name
	}

	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &pnode{kind: t.Name.Local}
			var at fieldAttrs
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "name":
					n.name = a.Value
				case "show":
					at.show = a.Value
				case "showname":
					at.showname = a.Value
				case "value":
					at.value = a.Value
				case "size":
					at.size = a.Value
				}
			}
			showname := at.showname
			switch n.kind {
			case "packet":
				pkt = &pdmlPacket{tcpStream: -1}
			case "proto":
				if pkt == nil {
					break
				}
				switch n.name {
				case "http":
					n.h1 = &h1msg{}
					pkt.http1 = append(pkt.http1, n.h1)
				case "grpc":
					n.msg = parseGRPCShowname(showname)
				}
			case "field":
				if pkt == nil {
					break
				}
				handleField(pkt, n, at, nearest, curFrame, innerProto)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			switch {
			case n.kind == "packet" && pkt != nil:
				if a, err := netip.ParseAddr(pkt.srcAddr); err == nil {
					if p, err := strconv.ParseUint(pkt.srcPort, 10, 16); err == nil {
						pkt.src = endpoint{a.Unmap(), uint16(p)}
						fn(pkt)
					}
				}
				pkt = nil
			case n.hdr != nil:
				if f := curFrame(); f != nil {
					f.headers = append(f.headers, *n.hdr)
				}
			case n.msg != nil && pkt != nil:
				// Attach the message to the HTTP/2 frame it is nested in,
				// else to the HTTP/1.1 message, else (not nested) to the
				// packet's last frame.
				switch {
				case curFrame() != nil:
					f := curFrame()
					f.msgs = append(f.msgs, n.msg)
				case nearest(func(x *pnode) bool { return x.h1 != nil }) != nil:
					h := nearest(func(x *pnode) bool { return x.h1 != nil }).h1
					h.msgs = append(h.msgs, n.msg)
				case len(pkt.frames) > 0:
					f := pkt.frames[len(pkt.frames)-1]
					f.msgs = append(f.msgs, n.msg)
				case len(pkt.http1) > 0:
					h := pkt.http1[len(pkt.http1)-1]
					h.msgs = append(h.msgs, n.msg)
				}
			}
		}
	}
}

type fieldAttrs struct{ show, showname, value, size string }

func handleField(pkt *pdmlPacket, n *pnode, at fieldAttrs,
	nearest func(func(*pnode) bool) *pnode, curFrame func() *h2frame, innerProto func() string) {
	show := at.show
	switch n.name {
	case "frame.number":
		pkt.num, _ = strconv.Atoi(show)
	case "tcp.stream":
		if innerProto() == "tcp" {
			pkt.tcpStream, _ = strconv.Atoi(show)
		}
	case "ip.src", "ipv6.src":
		if p := innerProto(); p == "ip" || p == "ipv6" {
			pkt.srcAddr = show
		}
	case "tcp.srcport":
		if innerProto() == "tcp" {
			pkt.srcPort = show
		}
	case "http2.stream":
		f := &h2frame{}
		pkt.frames = append(pkt.frames, f)
		n.frame = f
		if p := nearest(func(x *pnode) bool { return x.kind == "proto" && x.name == "http2" }); p != nil {
			p.frame = f
		}
	case "http2.streamid":
		if f := curFrame(); f != nil {
			v, _ := strconv.ParseUint(show, 10, 32)
			f.stream = uint32(v)
		}
	case "http2.type":
		if f := curFrame(); f != nil {
			f.typ, _ = strconv.Atoi(show)
		}
	case "http2.flags.eh":
		if f := curFrame(); f != nil {
			f.endHdrs = isTrue(show)
		}
	case "http2.data.data":
		if f := curFrame(); f != nil {
			f.dataLen, f.dataKnown = sizeFrom(at.showname, at.size)
		}
	case "http2.length":
		if f := curFrame(); f != nil {
			f.length, _ = strconv.ParseInt(show, 10, 64)
			f.lengthKnown = true
		}
	case "http2.pad_length":
		// Shown with size 0 on a frame without the PADDED flag; a padded
		// frame spends one byte on the pad length itself.
		if f := curFrame(); f != nil && at.size == "1" {
			n, _ := strconv.ParseInt(show, 10, 64)
			f.padding = n + 1
		}
	case "http2.fake.header.count":
		if f := curFrame(); f != nil {
			f.fake = true
		}
	case "http2.header":
		n.hdr = &header{}
	case "http2.header.name", "http2.header.value":
		// The nearest of http2.header / http2.fake.header decides; fake
		// headers are skipped.
		h := nearest(func(x *pnode) bool { return x.name == "http2.header" || x.name == "http2.fake.header" })
		if h == nil || h.hdr == nil {
			return
		}
		if n.name == "http2.header.name" {
			h.hdr.name = show
		} else {
			h.hdr.value = show
		}
	case "http.request.method", "http.request.uri", "http.content_type", "http.upgrade", "http.response.code",
		"http.response.line", "http.file_data":
		hn := nearest(func(x *pnode) bool { return x.h1 != nil })
		if hn == nil {
			return
		}
		h := hn.h1
		switch n.name {
		case "http.request.method":
			h.request, h.method = true, show
		case "http.request.uri":
			h.uri = show
		case "http.response.code":
			h.response = true
			h.code, _ = strconv.Atoi(show)
		case "http.content_type":
			h.contentType = show
		case "http.upgrade":
			h.upgrade = show
		case "http.response.line":
			if name, val, ok := headerLine(show, at.value); ok && strings.EqualFold(name, "grpc-status") {
				h.grpcStatus = val
			}
		case "http.file_data":
			h.bodyLen, _ = sizeFrom(at.showname, at.size)
			h.body, _ = hex.DecodeString(at.value)
			if h.encoded {
				h.bodyLen = h.encodedLen
			}
		}
	case "":
		if n, ok := contentEncodedLen(show); ok && innerProto() == "http" {
			if hn := nearest(func(x *pnode) bool { return x.h1 != nil }); hn != nil {
				hn.h1.encodedLen, hn.h1.encoded = n, true
			}
			return
		}
		// A text line of the data-text-lines inside a gRPC-Web trailer
		// frame ("grpc-status: 0\r\n").
		if innerProto() != "data-text-lines" {
			return
		}
		mn := nearest(func(x *pnode) bool { return x.msg != nil })
		if mn == nil || !mn.msg.trailer {
			return
		}
		if name, val, ok := headerLine(show, at.value); ok {
			mn.msg.lines = append(mn.msg.lines, name+": "+val)
		}
	case "grpc.message_length", "grpc.compressed_flag", "grpc.frame_type", "_ws.malformed":
		mn := nearest(func(x *pnode) bool { return x.msg != nil })
		if mn == nil {
			return
		}
		switch n.name {
		case "grpc.frame_type":
			mn.msg.trailer = show == "1"
		case "grpc.message_length":
			v, _ := strconv.ParseUint(show, 10, 32)
			mn.msg.length = uint32(v)
		case "grpc.compressed_flag":
			mn.msg.compressed = show != "0" && !strings.EqualFold(show, "false")
		case "_ws.malformed":
			mn.msg.malformed = true
		}
	}
}

// contentEncodedLen reads the encoded size from tshark's line before a body
// it decoded: "Content-encoded entity body (gzip): 58 bytes -> 1009 bytes".
func contentEncodedLen(show string) (int64, bool) {
	rest, ok := strings.CutPrefix(show, "Content-encoded entity body (")
	if !ok {
		return 0, false
	}
	_, rest, ok = strings.Cut(rest, "): ")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, " bytes")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	return n, err == nil
}

// parseGRPCShowname reads "GRPC Message: /pkg.Svc/Method, Request".
func parseGRPCShowname(s string) *tsMsg {
	m := &tsMsg{}
	s = strings.TrimPrefix(s, "GRPC Message: ")
	if i := strings.LastIndex(s, ", "); i >= 0 {
		m.path, m.dir = s[:i], s[i+2:]
	}
	return m
}

// mediaType is a content-type without parameters, lower case.
func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// tsharkDissects reports whether tshark 4.0's gRPC dissector is registered
// for the gRPC content-type ct (packet-grpc.c: media types
// application/grpc[+proto|+json], application/grpc-web[+proto] and
// application/grpc-web-text[+proto]). Any other application/grpc* type,
// e.g. application/grpc-web+json or application/grpc-web-text+json, is
// shown as plain HTTP data.
func tsharkDissects(ct string) bool {
	switch mediaType(ct) {
	case "application/grpc", "application/grpc+proto", "application/grpc+json",
		"application/grpc-web", "application/grpc-web+proto",
		"application/grpc-web-text", "application/grpc-web-text+proto":
		return true
	}
	return false
}

// frameBodies fills the call's messages and status by framing tshark's
// de-chunked HTTP/1.x bodies (http.file_data) as gRPC-Web, for a
// content-type tshark does not dissect. This checks tshark's HTTP/1.x
// reassembly and de-chunking against grpcsniff's, not tshark's gRPC-Web
// reading. Without the bytes (HTTP/2) or when a body does not frame, the
// message lists are marked unchecked.
func (tc *tsCall) frameBodies(st *tsStream, cs, ss int) {
	text := strings.HasPrefix(mediaType(tc.contentType), "application/grpc-web-text")
	lists := [2]*[]message{&tc.Requests, &tc.Responses}
	unchecked := [2]*string{&tc.reqUnchecked, &tc.respUnchecked}
	ok := true
	for i, s := range []int{cs, ss} {
		if !st.h1 || !st.bodyKnown[s] || int64(len(st.rawBody[s])) != st.body[s] {
			*unchecked[i] = tc.notDissected
			ok = false
			continue
		}
		frames, err := frameWeb(st.rawBody[s], text)
		if err != nil {
			*unchecked[i] = tc.notDissected + "; framing its HTTP body failed: " + err.Error()
			ok = false
			continue
		}
		for _, f := range frames {
			if !f.trailer {
				*lists[i] = append(*lists[i], message{Length: f.length, Compressed: f.compressed})
				continue
			}
			if i == 1 {
				tc.webTrailers = append(tc.webTrailers, f.length)
				for _, l := range f.lines {
					if name, val, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "grpc-status") {
						if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil {
							tc.Status = &n
							st.grpcStatusS, st.statusFrom = strings.TrimSpace(val), "gRPC-Web trailer frame framed by crosscheck from tshark's HTTP body"
						}
					}
				}
			}
		}
	}
	if ok {
		tc.framed = "message lengths and the trailer frame's grpc-status framed by crosscheck from tshark's de-chunked HTTP body (http.file_data)"
	}
}

type webFrame struct {
	trailer, compressed bool
	length              uint32
	lines               []string
}

// frameWeb splits a gRPC-Web body into its frames (5-byte prefix: flags,
// 32-bit length). text: the body is grpc-web-text, base64 in 4-character
// groups that may each end a padded piece.
func frameWeb(b []byte, text bool) ([]webFrame, error) {
	if text {
		d, err := decodeWebText(b)
		if err != nil {
			return nil, err
		}
		b = d
	}
	var out []webFrame
	for len(b) > 0 {
		if len(b) < 5 {
			return nil, fmt.Errorf("%d stray bytes after the last frame", len(b))
		}
		n := uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4])
		if uint64(len(b)-5) < uint64(n) {
			return nil, fmt.Errorf("frame of %d bytes, only %d left", n, len(b)-5)
		}
		f := webFrame{trailer: b[0]&0x80 != 0, compressed: b[0]&1 != 0, length: n}
		if f.trailer {
			for _, l := range strings.Split(string(b[5:5+n]), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					f.lines = append(f.lines, l)
				}
			}
		}
		out = append(out, f)
		b = b[5+n:]
	}
	return out, nil
}

// decodeWebText decodes grpc-web-text: concatenated padded base64 pieces,
// so every 4-character group is decoded on its own.
func decodeWebText(b []byte) ([]byte, error) {
	var clean []byte
	for _, c := range b {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			clean = append(clean, c)
		}
	}
	if len(clean)%4 != 0 {
		return nil, fmt.Errorf("base64 text of %d characters, not a multiple of 4", len(clean))
	}
	var out []byte
	for i := 0; i < len(clean); i += 4 {
		d, err := base64.StdEncoding.DecodeString(string(clean[i : i+4]))
		if err != nil {
			return nil, fmt.Errorf("base64 at character %d: %v", i, err)
		}
		out = append(out, d...)
	}
	return out, nil
}

// headerLine reads an HTTP/1.x header line field: the bytes from its hex
// value when tshark gives them, else the show text ("Name: value\r\n").
func headerLine(show, value string) (name, val string, ok bool) {
	line := show
	if b, err := hex.DecodeString(value); err == nil && len(b) > 0 {
		line = string(b)
	}
	line = strings.TrimSuffix(strings.TrimSpace(line), `\r\n`)
	name, val, ok = strings.Cut(line, ":")
	return strings.TrimSpace(name), strings.TrimSpace(val), ok
}

// sizeFrom reads N from a showname such as "File Data: N bytes" or
// "DATA payload (N bytes)", else the field's size attribute.
func sizeFrom(showname, size string) (int64, bool) {
	if i := strings.LastIndex(showname, " bytes"); i > 0 {
		j := strings.LastIndexAny(showname[:i], " (")
		if n, err := strconv.ParseInt(showname[j+1:i], 10, 64); err == nil {
			return n, true
		}
	}
	if n, err := strconv.ParseInt(size, 10, 64); err == nil {
		return n, true
	}
	return 0, false
}
