package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// row is one call's cells, formatted for the list.
type row struct {
	time, client, server, method, short, status, dur string
	stream                                           string // "conn/stream"
	up, down, bup, bdown, bytes, flags               string
	code                                             int // status code, -1 without one
}

// makeRow formats the cells of call i.
func (m *Model) makeRow(i int32) row {
	c, in := &m.recs[i], &m.in
	up, down := in.bytesOf(c)
	r := row{
		time:   relTime(time.Duration(c.start - m.base.UnixNano())),
		stream: strconv.FormatUint(uint64(c.conn), 10) + "/" + strconv.FormatUint(uint64(c.stream), 10),
		client: in.addrs[c.client].String(),
		server: in.addrs[c.server].String(),
		method: export.Printable(in.strs[c.method]),
		short:  export.Printable(shortMethod(in.strs[c.method])),
		status: "-",
		code:   -1,
		dur:    durationText(c),
		up:     fmt.Sprintf("↑%d", c.reqs),
		down:   fmt.Sprintf("↓%d", c.resps),
		bup:    "↑" + export.FormatBytes(up),
		bdown:  "↓" + export.FormatBytes(down),
		bytes:  export.FormatBytes(up + down),
		flags:  flags(c, in.names[c.httpVerb]),
	}
	if !c.has(fStarted) {
		r.time = relTime(-time.Duration(m.base.UnixNano()))
	}
	switch {
	case c.has(fMethodUnknown) && in.strs[c.inferred] != "":
		// An inference, marked as the text output marks it.
		inferred := export.Printable(in.strs[c.inferred])
		r.method, r.short = "~"+inferred, "~"+shortMethod(inferred)
	case c.has(fMethodUnknown):
		r.method, r.short = "(method unknown)", "(method unknown)"
	}
	if c.has(fStatusUnknown) {
		r.status = "?"
	}
	if c.code >= 0 {
		r.status, r.code = in.names[c.status], int(c.code)
	}
	if c.proto == grpcframe.ProtoHTTP {
		// A REST or other HTTP call: "GET /path", status "404".
		if verb := in.names[c.httpVerb]; verb != "" {
			r.method = verb + " " + r.method
			r.short = verb + " " + r.short
		}
		if c.httpStatus != 0 {
			r.status = strconv.Itoa(int(c.httpStatus))
		}
	}
	return r
}

// callDurationText is durationText of a call.
func callDurationText(c *grpcframe.Call) string {
	var r rec
	setTiming(&r, c)
	return durationText(&r)
}

// durationText is the call's duration, "≥ X" when the capture shows only
// part of it (it started before the capture, or the capture ended or the
// call was evicted before it did, or it is still open: then up to its last
// message), and "-" when it has no end at all.
func durationText(c *rec) string {
	switch {
	case c.state == 0 && c.has(fStarted):
		return "≥" + export.FormatDuration(time.Duration(c.dur))
	case !c.has(fEnded):
		return "-"
	case c.has(fBeforeCapture), c.state == grpcframe.StateCut, c.state == grpcframe.StateEvicted:
		return "≥" + export.FormatDuration(time.Duration(c.dur))
	}
	return export.FormatDuration(time.Duration(c.dur))
}

// relTime prints an offset from the first call, in seconds like tshark's
// relative time column.
func relTime(d interface{ Seconds() float64 }) string {
	s := d.Seconds()
	if s >= 10000 {
		return fmt.Sprintf("%.0f", s)
	}
	return fmt.Sprintf("%.6f", s)
}

// shortMethod drops the package from the service: "/helloworld.Greeter/SayHello"
// → "Greeter/SayHello". Narrow screens need the space, and the package
// rarely tells calls in one capture apart.
func shortMethod(m string) string {
	s := strings.TrimPrefix(m, "/")
	svc, meth, ok := strings.Cut(s, "/")
	if !ok {
		return m
	}
	if i := strings.LastIndexByte(svc, '.'); i >= 0 {
		svc = svc[i+1:]
	}
	return svc + "/" + meth
}

// flags marks calls that did not end normally, in one word each (the
// detail screen says more): reset, refused, closed, cut, pre-capture,
// incomplete, and "lost" when bytes were not captured; and the protocol
// when it is not gRPC, with "GET" for a Connect GET (verb is the call's
// HTTP method).
func flags(c *rec, verb string) string {
	var f string
	switch c.state {
	case grpcframe.StateComplete:
	case grpcframe.StateStartedBeforeCapture:
		f = "pre-capture"
	default:
		f = c.state.String()
	}
	if c.has(fLost) && c.state != grpcframe.StateIncomplete {
		f = strings.TrimPrefix(f+",lost", ",")
	}
	if c.proto != grpcframe.ProtoGRPC {
		p := c.proto.String()
		// gRPC-Web, Connect, Twirp and plain HTTP calls say so; gRPC is
		// the default. A Connect GET says it is one.
		if c.has(fPreflight) {
			p += ",preflight"
		}
		if c.proto.OverHTTP() && verb == "GET" {
			p += ",GET"
		}
		f = strings.TrimSuffix(p+","+f, ",")
	}
	if f != "" {
		f = "[" + f + "]"
	}
	return f
}

// lastActivity is when a call last showed a sign of life: its last message,
// or its start.
func lastActivity(c *grpcframe.Call) time.Time {
	t := c.Start
	for _, ms := range [][]*grpcframe.Message{c.Requests, c.Responses} {
		if n := len(ms); n > 0 && ms[n-1].Time.After(t) {
			t = ms[n-1].Time
		}
	}
	return t
}
