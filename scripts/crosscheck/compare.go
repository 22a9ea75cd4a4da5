package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Known tshark limitations (4.0). A difference explained by one of them is
// printed as a note and does not fail the file:
//
//   - limitHPACK: tshark cannot resolve HPACK references to dynamic-table
//     entries inserted before the capture started; it shows them as
//     "<unknown>". Then it knows neither the method nor, when the trailers
//     are such references too, the grpc-status. grpcsniff reports null for
//     what it cannot recover either, so null vs unknown agree; a value only
//     grpcsniff recovered cannot be checked and is accepted.
//   - limitMidMessage: when a stream's header block is not in the capture,
//     its first captured DATA frame may start inside a gRPC message, and
//     tshark (given fake headers) reads a length prefix wherever the DATA
//     starts. Message lists of such a direction are not checked, and such a
//     stream seen only by tshark is not a grpcsniff bug.
//   - limitIncomplete: tshark shows a gRPC message only once all its bytes
//     are reassembled. A message grpcsniff reports as truncated because
//     its bytes never reached the capture (stream reset, capture ended,
//     packets lost) is absent from tshark's list; such trailing messages
//     are dropped from grpcsniff's list before comparing. Likewise a call
//     grpcsniff marks lost_bytes has its message lists reported but not
//     checked: tshark's TCP reassembly stops at a hole.
//   - limitUpgrade: on stream 1 of an h2c upgrade tshark 4.0 never saw
//     HTTP/2 request headers (the request was HTTP/1.1) and hits a
//     dissector assertion (packet-grpc.c:346) on the response DATA, so it
//     shows no response message. Only with -no-fake-headers: the fake :path
//     avoids it.
//   - not dissected: tshark 4.0 registers its gRPC dissector only for
//     application/grpc[+proto|+json], application/grpc-web[+proto] and
//     application/grpc-web-text[+proto] (see tsharkDissects), so e.g.
//     application/grpc-web+json is plain HTTP data to it. When tshark shows
//     no gRPC message at all on such a call, its de-chunked HTTP/1.x bodies
//     are framed by this tool and those lengths and the trailer frame's
//     grpc-status compared (a note says so; a disagreement still fails);
//     without the body bytes (HTTP/2) the message lists are not checked.
//   - gRPC-Web trailer frames: tshark shows them as gRPC messages of frame
//     type Trailer. They are not compared as messages; their grpc-status
//     line is tshark's grpc-status (a note says so).
const (
	limitHPACK      = "tshark cannot resolve HPACK dynamic-table entries inserted before the capture"
	limitMidMessage = "header block not captured: tshark's gRPC framing of this direction may start mid-message"
	limitIncomplete = "tshark shows only messages whose bytes were all captured"
	limitUpgrade    = "tshark 4.0 hits a dissector assertion (packet-grpc.c:346) on the response DATA of an h2c upgrade's stream 1 without the fake :path header"
)

type verdict int

const (
	agree verdict = iota
	differ
	onlySniff
	onlyTshark
	onlyTsharkExcused
)

type result struct {
	key     callKey
	verdict verdict
	g       *sniffCall
	t       *tsCall
	diffs   []string // failures
	notes   []string // explained differences and remarks
}

type report struct {
	results []*result
}

func (r *report) ok() bool {
	for _, x := range r.results {
		if x.verdict == differ || x.verdict == onlyTshark {
			return false
		}
	}
	return true
}

// compare matches the two views by callKey and compares each pair.
func compare(gs []*sniffCall, ts *tsView) *report {
	rep := &report{}
	tsByKey := map[callKey]*tsCall{}
	for _, t := range ts.calls {
		tsByKey[t.key] = t
	}
	used := map[*tsCall]bool{}
	for _, g := range gs {
		res := &result{key: g.key, g: g}
		t := tsByKey[g.key]
		if t == nil || used[t] {
			if s := tsByKey[g.key.swapped()]; s != nil && !used[s] {
				t = s
				if s.rolesGuessed || g.RolesGuessed {
					res.notes = append(res.notes, fmt.Sprintf("client/server roles differ (tshark's from %s; grpcsniff roles_guessed=%v)", s.conn.rolesFrom, g.RolesGuessed))
				} else {
					res.diffs = append(res.diffs, fmt.Sprintf("client/server swapped: tshark's client is %s (from %s)", s.key.Client, s.conn.rolesFrom))
				}
			} else {
				t = nil
			}
		}
		if t == nil {
			res.verdict = onlySniff
			if c := connOf(g.key, ts); c != nil && c.tls && len(c.streams) == 0 {
				// Nothing to compare with: a wrong or missing key log,
				// not a view of the call.
				res.verdict = differ
				res.diffs = append(res.diffs, fmt.Sprintf("tshark decrypted no HTTP/2 frame on this TLS connection (tcp.stream %d); is the key log right?", c.index))
				rep.results = append(rep.results, res)
				continue
			}
			res.notes = append(res.notes, whyNotInTshark(g, ts))
			rep.results = append(rep.results, res)
			continue
		}
		used[t] = true
		res.t = t
		switch {
		case g.isHTTP() && t.http:
			compareHTTP(res, g, t)
		case g.overHTTP() && t.http:
			compareOverHTTP(res, g, t)
		default:
			compareCall(res, g, t)
		}
		rep.results = append(rep.results, res)
	}
	for _, t := range ts.calls {
		if used[t] {
			continue
		}
		res := &result{key: t.key, t: t, verdict: onlyTshark}
		if t.inferred && !t.headersCaptured {
			res.verdict = onlyTsharkExcused
			res.notes = append(res.notes, "not counted: tshark dissected it only with the fake content-type and no request header block is in the capture ("+limitMidMessage+")")
		}
		if t.inferred && t.headersCaptured {
			res.notes = append(res.notes, "tshark dissected it with the fake content-type (its real one is an undecodable HPACK reference), but the stream's request headers are in the capture")
		}
		rep.results = append(rep.results, res)
	}
	sort.SliceStable(rep.results, func(i, j int) bool {
		a, b := rep.results[i].key, rep.results[j].key
		if a.Client != b.Client {
			return a.Client < b.Client
		}
		if a.Server != b.Server {
			return a.Server < b.Server
		}
		if a.Conn != b.Conn {
			return a.Conn < b.Conn
		}
		return a.Stream < b.Stream
	})
	return rep
}

func compareCall(res *result, g *sniffCall, t *tsCall) {
	// Not gRPC by grpcsniff's reading of the content-type.
	if !g.GRPC {
		res.diffs = append(res.diffs, fmt.Sprintf("grpcsniff says protocol %q (not gRPC), tshark dissects gRPC on this stream", g.Protocol))
	}
	if t.http {
		if t.contentType != "" {
			res.diffs = append(res.diffs, fmt.Sprintf("grpcsniff says protocol %q, tshark sees plain HTTP (content-type %s, no gRPC message)", g.Protocol, t.contentType))
		} else {
			res.notes = append(res.notes, "tshark decoded no content-type and no gRPC message on this stream")
		}
	}
	compareHTTPHead(res, g, t, false)
	if t.notDissected != "" {
		if t.framed != "" {
			res.notes = append(res.notes, t.notDissected+": "+t.framed)
		} else {
			res.notes = append(res.notes, t.notDissected+": message lists not checked")
		}
	}

	// Method.
	switch {
	case g.Method != nil && t.MethodKnown:
		if *g.Method != t.Method {
			res.diffs = append(res.diffs, fmt.Sprintf("method: grpcsniff %q, tshark %q (from %s)", *g.Method, t.Method, t.st.pathFrom))
		}
	case g.Method == nil && !t.MethodKnown:
		res.notes = append(res.notes, "method unknown to both: "+t.methodWhy)
	case g.Method == nil && t.MethodKnown:
		res.diffs = append(res.diffs, fmt.Sprintf("method: grpcsniff null, tshark %q (from %s)", t.Method, t.st.pathFrom))
	default:
		res.notes = append(res.notes, fmt.Sprintf("method %q only from grpcsniff, not checked: %s", *g.Method, t.methodWhy))
	}

	// Messages. tshark 4.0 shows a gRPC-Web trailer frame (flag 0x80) as
	// a gRPC message of frame type Trailer; such frames are kept apart
	// (webTrailers), not compared as messages, and their grpc-status line
	// is tshark's grpc-status.
	webTrailer := len(t.webTrailers) > 0
	if webTrailer && t.framed == "" {
		res.notes = append(res.notes, fmt.Sprintf("tshark shows the gRPC-Web trailer frame (%s bytes) as a GRPC message of frame type Trailer; not counted as a response message, its grpc-status is compared", fmtLens(t.webTrailers)))
	}
	compareMsgs(res, "requests", g.Requests, t.Requests, t.reqUnchecked, g.LostBytes)
	compareMsgs(res, "responses", g.Responses, t.Responses, t.respUnchecked, g.LostBytes)

	// grpc-status.
	gs, ts := fmtStatus(g.Status, g.StatusUnknown), fmtStatus(t.Status, t.StatusUnknown)
	switch {
	case g.Status != nil && t.Status != nil:
		if *g.Status != *t.Status {
			res.diffs = append(res.diffs, fmt.Sprintf("grpc-status: grpcsniff %s, tshark %s (%s, frame %d)", gs, ts, t.st.statusFrom, t.st.statusFrame))
		}
	case g.Status == nil && t.Status == nil:
		if t.StatusUnknown {
			res.notes = append(res.notes, fmt.Sprintf("grpc-status unknown to both (grpcsniff %s; tshark could not decode all fields of the response header blocks: %s)", gs, limitHPACK))
		}
	case g.Status == nil && g.StatusLostInGap:
		// After a gap that swallowed frame headers, grpcsniff treats the
		// HPACK table as unknown (a lost header block may have changed it);
		// tshark decodes on as if the gap held no header block. tshark is
		// right when that assumption holds, which the capture cannot show.
		res.notes = append(res.notes, fmt.Sprintf("grpc-status unknown to grpcsniff (HPACK state lost in an earlier gap), tshark %s (decoded assuming the gap held no header block)", ts))
	case g.Status == nil:
		res.diffs = append(res.diffs, fmt.Sprintf("grpc-status: grpcsniff %s, tshark %s (grpc-status: %q in frame %d)", gs, ts, t.st.grpcStatusS, t.st.statusFrame))
	default:
		switch {
		case t.StatusUnknown:
			res.notes = append(res.notes, fmt.Sprintf("grpc-status %d only from grpcsniff, not checked: tshark could not decode all fields of the response header blocks (%s)", *g.Status, limitHPACK))
		case t.respUnchecked != "":
			res.notes = append(res.notes, fmt.Sprintf("grpc-status %d only from grpcsniff, not checked: %s (tshark's response dissection of such a stream is unreliable)", *g.Status, t.respUnchecked))
		case g.LostBytes:
			res.notes = append(res.notes, fmt.Sprintf("grpc-status %d only from grpcsniff, not checked: grpcsniff marks lost_bytes, and tshark's TCP reassembly stops at the hole", *g.Status))
		case webTrailer && t.st.trailerNoStatus:
			res.notes = append(res.notes, fmt.Sprintf("grpc-status %d only from grpcsniff, not checked: tshark showed no grpc-status line in the gRPC-Web trailer frame's text", *g.Status))
		default:
			res.diffs = append(res.diffs, fmt.Sprintf("grpc-status: grpcsniff %s, tshark saw no grpc-status", gs))
		}
	}

	if t.st.malformed {
		res.notes = append(res.notes, "tshark flagged a gRPC message of this stream as malformed")
	}
	if t.inferred {
		res.notes = append(res.notes, "tshark framed the messages only thanks to the fake content-type header (the real one is not decodable)")
	}
	if len(res.diffs) > 0 {
		res.verdict = differ
	}
}

func compareMsgs(res *result, what string, g, t []message, unchecked string, lost bool) {
	if sameLengths(g, t) {
		if d := compressedDiff(g, t); d != "" {
			res.diffs = append(res.diffs, what+" compressed flags: "+d)
		}
		if unchecked != "" && len(g) > 0 {
			res.notes = append(res.notes, what+" agree, but that proves little: "+unchecked+" (and so may grpcsniff's)")
		}
		return
	}
	desc := fmt.Sprintf("%s: grpcsniff %s, tshark %s (%s)", what, fmtMsgs(g), fmtMsgs(t), firstDiff(g, t))
	// Trailing messages grpcsniff saw only partly on the wire.
	trimmed := g
	for len(trimmed) > 0 && incomplete(trimmed[len(trimmed)-1]) {
		trimmed = trimmed[:len(trimmed)-1]
	}
	switch {
	case len(trimmed) < len(g) && sameLengths(trimmed, t):
		res.notes = append(res.notes, desc+" ("+limitIncomplete+"; grpcsniff marks the extra message(s) truncated)")
		if d := compressedDiff(trimmed, t); d != "" {
			res.diffs = append(res.diffs, what+" compressed flags: "+d)
		}
	case unchecked != "":
		res.notes = append(res.notes, desc+" (not checked: "+unchecked+")")
	case lost:
		res.notes = append(res.notes, desc+" (not checked: grpcsniff marks lost_bytes; "+limitIncomplete+")")
	default:
		res.diffs = append(res.diffs, desc)
	}
}

// incomplete: the message's bytes did not all reach the capture (not a
// message cut by grpcsniff's own size limit, which tshark shows in full).
func incomplete(m message) bool {
	return m.Truncated && !strings.Contains(m.Err, "size limit")
}

func sameLengths(a, b []message) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Length != b[i].Length {
			return false
		}
	}
	return true
}

func compressedDiff(g, t []message) string {
	var d []string
	for i := range g {
		if i < len(t) && g[i].Compressed != t[i].Compressed {
			d = append(d, fmt.Sprintf("#%d grpcsniff %v tshark %v", i+1, g[i].Compressed, t[i].Compressed))
		}
	}
	return strings.Join(d, ", ")
}

// firstDiff says where two message lists part.
func firstDiff(g, t []message) string {
	for i := range g {
		if i >= len(t) {
			return fmt.Sprintf("%d vs %d messages; grpcsniff has more from #%d", len(g), len(t), i+1)
		}
		if g[i].Length != t[i].Length {
			return fmt.Sprintf("%d vs %d messages; first difference at #%d", len(g), len(t), i+1)
		}
	}
	return fmt.Sprintf("%d vs %d messages; tshark has more from #%d", len(g), len(t), len(g)+1)
}

// fmtMsgs lists message lengths ("z" = compressed flag set); long lists are
// cut after maxListed entries.
func fmtMsgs(ms []message) string {
	const maxListed = 24
	parts := make([]string, 0, min(len(ms), maxListed)+1)
	for i, m := range ms {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("... %d more", len(ms)-maxListed))
			break
		}
		p := fmt.Sprint(m.Length)
		if m.Compressed {
			p += "z"
		}
		if m.Truncated {
			p += "(truncated)"
		}
		parts = append(parts, p)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func fmtStatus(code *int, unknown bool) string {
	switch {
	case code != nil:
		return fmt.Sprint(*code)
	case unknown:
		return "unknown"
	}
	return "none"
}

func fmtMethod(m *string) string {
	if m == nil {
		return "?"
	}
	return *m
}

// connOf finds the TCP connection of a call in tshark's view (the first
// between the call's endpoints, either way round).
func connOf(k callKey, ts *tsView) *tcpConn {
	for _, c := range ts.conns {
		a, b := c.side[0].String(), c.side[1].String()
		if (a == k.Client && b == k.Server) || (a == k.Server && b == k.Client) {
			return c
		}
	}
	return nil
}

// whyNotInTshark explains a call only grpcsniff reports.
func whyNotInTshark(g *sniffCall, ts *tsView) string {
	conn := connOf(g.key, ts)
	if conn == nil {
		return "tshark lists no TCP connection between these endpoints"
	}
	if !g.GRPC && g.Protocol == "" {
		return "grpcsniff marks it grpc:false (not a gRPC content-type); tshark does not dissect it as gRPC either"
	}
	st := conn.streams[g.key.Stream]
	if st == nil && conn.http1 && !conn.upgraded {
		return fmt.Sprintf("tshark's HTTP/1.x dissection of tcp.stream %d has no request #%d", conn.index, (g.key.Stream+1)/2)
	}
	if st == nil {
		return fmt.Sprintf("tshark's HTTP/2 dissection of tcp.stream %d has no frame of this stream", conn.index)
	}
	cs, ss := conn.client, 1-conn.client
	var parts []string
	switch {
	case st.blocks[cs] == 0:
		parts = append(parts, "its request headers are not in the capture")
	case st.unknown[cs]:
		parts = append(parts, "its request headers are undecodable HPACK references ("+limitHPACK+")")
	}
	if ct := st.contentType[cs] + st.contentType[ss]; ct != "" {
		parts = append(parts, "content-type "+ct)
	}
	parts = append(parts, fmt.Sprintf("tshark saw %d DATA frame(s) and no gRPC message, no gRPC content-type and no grpc-status on it", st.data[cs]+st.data[ss]))
	return strings.Join(parts, "; ")
}

func (r *report) print(w io.Writer, ts *tsView, nSniff int, quiet bool) {
	for _, run := range ts.runs {
		fmt.Fprintf(w, "tshark run: %s\n", run)
	}
	for _, c := range ts.conns {
		if !c.payload {
			continue
		}
		proto := "http2"
		switch {
		case c.tls:
			proto = "tls (HTTP/2 inside when ALPN says h2)"
		case c.upgraded:
			proto = "http (HTTP/1.1, then HTTP/2 after an h2c upgrade)"
		case c.http1:
			proto = "http (HTTP/1.x)"
		}
		fmt.Fprintf(w, "tcp.stream %d: client %s, server %s (roles from %s), decoded as %s\n",
			c.index, c.side[c.client], c.side[1-c.client], c.rolesFrom, proto)
	}
	for _, c := range ts.conns {
		if c.payload && c.tls && len(c.streams) == 0 {
			fmt.Fprintf(w, "note: tshark found no HTTP/2 inside TLS tcp.stream %d (not h2 by ALPN, or not decrypted)\n", c.index)
		}
	}
	if ts.dissectBug > 0 {
		fmt.Fprintf(w, "tshark reported %d dissector bug warning(s)\n", ts.dissectBug)
	}
	for _, n := range ts.notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "calls: grpcsniff %d, tshark %d\n", nSniff, len(ts.calls))

	var nAgree, nNoted, nDiffer, nOnlyG, nOnlyT, nOnlyTX int
	for _, x := range r.results {
		var label string
		switch x.verdict {
		case agree:
			nAgree++
			label = "ok"
			if len(x.notes) > 0 {
				nNoted++
				label = "ok*"
			}
		case differ:
			nDiffer++
			label = "DIFF"
		case onlySniff:
			nOnlyG++
			label = "only-grpcsniff"
		case onlyTshark:
			nOnlyT++
			label = "ONLY-TSHARK"
		case onlyTsharkExcused:
			nOnlyTX++
			label = "only-tshark*"
		}
		if quiet && x.verdict == agree && len(x.notes) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %-14s %s  %s\n", label, x.key, describe(x))
		for _, d := range x.diffs {
			fmt.Fprintf(w, "      differs: %s\n", d)
		}
		for _, n := range x.notes {
			fmt.Fprintf(w, "      note: %s\n", n)
		}
	}
	verdict := "PASS"
	if !r.ok() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "result: %d agree (%d with notes), %d differ, %d only grpcsniff, %d only tshark",
		nAgree, nNoted, nDiffer, nOnlyG, nOnlyT)
	if nOnlyTX > 0 {
		fmt.Fprintf(w, " (+%d not counted)", nOnlyTX)
	}
	fmt.Fprintf(w, ": %s\n", verdict)
}

// describe is the one-line summary of a call: grpcsniff's view when it has
// the call, tshark's otherwise.
func describe(x *result) string {
	if x.g != nil && x.g.isHTTP() {
		g := x.g
		return fmt.Sprintf("HTTP %s %s -> %s req body %s resp body %s", orQ(g.HTTPMethod), orQ(g.Path), fmtCode(g.HTTPStatus), fmtMsgs(g.Requests), fmtMsgs(g.Responses))
	}
	if x.g == nil && x.t.http {
		t := x.t
		return fmt.Sprintf("HTTP %s %s -> %s req body %s resp body %s (tshark, tcp.stream %d)", orQ(t.st.httpMethod), orQ(t.st.path), fmtCode(t.st.httpStatus),
			fmtBody(t.st, t.conn.client), fmtBody(t.st, 1-t.conn.client), t.conn.index)
	}
	if x.g != nil {
		g := x.g
		s := fmt.Sprintf("%s req %s resp %s status %s", fmtMethod(g.Method), fmtMsgs(g.Requests), fmtMsgs(g.Responses), fmtStatus(g.Status, g.StatusUnknown))
		if g.State != "" && g.State != "complete" {
			s += " state " + g.State
		}
		return s
	}
	t := x.t
	m := "?"
	if t.MethodKnown {
		m = t.Method
	}
	return fmt.Sprintf("%s req %s resp %s status %s (tshark, tcp.stream %d)", m, fmtMsgs(t.Requests), fmtMsgs(t.Responses), fmtStatus(t.Status, t.StatusUnknown), t.conn.index)
}

// compareHTTP compares a plain HTTP call (grpcsniff protocol "http"):
// request method, path, response status code and body lengths (grpcsniff's
// body parts summed; tshark's de-chunked http.file_data, or its HTTP/2 DATA
// payloads summed).
func compareHTTP(res *result, g *sniffCall, t *tsCall) {
	compareHTTPHead(res, g, t, true)
	cs, ss := t.conn.client, 1-t.conn.client
	for _, d := range []struct {
		what string
		ms   []message
		side int
	}{{"request body", g.Requests, cs}, {"response body", g.Responses, ss}} {
		var n int64
		trunc := false
		for _, m := range d.ms {
			n += int64(m.Length)
			trunc = trunc || m.Truncated
		}
		switch {
		case !t.st.bodyKnown[d.side] && (n > 0 || t.st.data[d.side] > 0):
			res.notes = append(res.notes, fmt.Sprintf("%s: grpcsniff %d bytes, tshark's length unknown", d.what, n))
		case !t.st.bodyKnown[d.side] || n == t.st.body[d.side]:
		case trunc:
			res.notes = append(res.notes, fmt.Sprintf("%s: grpcsniff %d bytes (truncated), tshark %d bytes", d.what, n, t.st.body[d.side]))
		case g.LostBytes:
			res.notes = append(res.notes, fmt.Sprintf("%s: grpcsniff %d bytes, tshark %d bytes (not checked: grpcsniff marks lost_bytes)", d.what, n, t.st.body[d.side]))
		default:
			res.diffs = append(res.diffs, fmt.Sprintf("%s: grpcsniff %d bytes, tshark %d bytes", d.what, n, t.st.body[d.side]))
		}
	}
	if len(res.diffs) > 0 {
		res.verdict = differ
	}
}

// compareOverHTTP compares a Connect or Twirp call with tshark's view of
// it as plain HTTP: the request method and response status; the path,
// whose last two segments (its query and any prefix left out) must be
// grpcsniff's method; and each body's length, which must be what
// grpcsniff's messages took on the wire: a unary message's length, or
// for a Connect stream each message with its 5-byte prefix (a response
// also holds the end-of-stream message, which is not one of the call's
// messages: its body is only checked to be longer). A response that is an
// error holds no message; its body is not compared.
func compareOverHTTP(res *result, g *sniffCall, t *tsCall) {
	compareHTTPHead(res, g, t, false)
	path, _, _ := strings.Cut(t.st.path, "?")
	if m := g.Method; m != nil && path != "" && !strings.HasSuffix(path, *m) {
		res.diffs = append(res.diffs, fmt.Sprintf("path: tshark %q does not end in grpcsniff's method %q", t.st.path, *m))
	}
	cs, ss := t.conn.client, 1-t.conn.client
	for _, d := range []struct {
		what      string
		ms        []message
		side      int
		streaming bool
	}{
		{"request body", g.Requests, cs, strings.HasPrefix(g.ContentType, "application/connect+")},
		{"response body", g.Responses, ss, strings.HasPrefix(g.RespContentType, "application/connect+")},
	} {
		want, trunc := wireBytes(d.ms, d.streaming)
		got := t.st.body[d.side]
		switch {
		case !t.st.bodyKnown[d.side] || (d.side == cs && g.HTTPMethod == "GET"):
		case d.side == ss && len(d.ms) == 0 && g.HTTPStatus != 200:
			res.notes = append(res.notes, fmt.Sprintf("%s: an error of %d bytes, not a message", d.what, got))
		case trunc || g.LostBytes:
			res.notes = append(res.notes, fmt.Sprintf("%s: grpcsniff %d bytes of messages (truncated or lost), tshark %d bytes", d.what, want, got))
		case d.streaming && d.side == ss && got > want+5:
		case got != want:
			res.diffs = append(res.diffs, fmt.Sprintf("%s: grpcsniff's messages took %d bytes, tshark's body is %d bytes", d.what, want, got))
		}
	}
	if len(res.diffs) > 0 {
		res.verdict = differ
	}
}

// wireBytes is the bytes messages took on the wire: their lengths, each
// with its 5-byte prefix when enveloped; trunc when one of them is not
// whole.
func wireBytes(ms []message, enveloped bool) (n int64, trunc bool) {
	for _, m := range ms {
		n += int64(m.Length)
		if enveloped {
			n += 5
		}
		trunc = trunc || m.Truncated
	}
	return n, trunc
}

// compareHTTPHead compares the HTTP request method, path and response
// status code where both tools know them; full (plain HTTP calls) also
// fails on a value only one of them has.
func compareHTTPHead(res *result, g *sniffCall, t *tsCall, full bool) {
	for _, f := range []struct{ what, g, t string }{
		{"HTTP method", g.HTTPMethod, t.st.httpMethod},
		{"path", g.Path, t.st.path},
		{"HTTP status", codeStr(g.HTTPStatus), codeStr(t.st.httpStatus)},
	} {
		if f.what == "path" && !full {
			continue // a gRPC call's path is its method, compared already
		}
		switch {
		case f.g != "" && f.t != "" && f.g != f.t:
			res.diffs = append(res.diffs, fmt.Sprintf("%s: grpcsniff %q, tshark %q", f.what, f.g, f.t))
		case full && f.g != f.t:
			res.notes = append(res.notes, fmt.Sprintf("%s only known to one tool: grpcsniff %q, tshark %q", f.what, f.g, f.t))
		}
	}
}

func codeStr(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func fmtCode(n int) string {
	if n == 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

func orQ(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

func fmtBody(st *tsStream, side int) string {
	if !st.bodyKnown[side] {
		return "[?]"
	}
	if st.body[side] == 0 {
		return "[]"
	}
	return fmt.Sprintf("[%d]", st.body[side])
}

func fmtLens(ls []uint32) string {
	p := make([]string, len(ls))
	for i, l := range ls {
		p[i] = fmt.Sprint(l)
	}
	return strings.Join(p, ", ")
}
