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

func (m *Model) makeRow(c *grpcframe.Call) row {
	up, down := grpcframe.WireBytes(c.Requests), grpcframe.WireBytes(c.Responses)
	r := row{
		time:   relTime(c.Start.Sub(m.base)),
		stream: strconv.FormatUint(c.ConnID, 10) + "/" + strconv.FormatUint(uint64(c.StreamID), 10),
		client: c.Client.String(),
		server: c.Server.String(),
		method: c.Method,
		short:  shortMethod(c.Method),
		status: "-",
		code:   -1,
		dur:    durationText(c),
		up:     fmt.Sprintf("↑%d", len(c.Requests)),
		down:   fmt.Sprintf("↓%d", len(c.Responses)),
		bup:    "↑" + export.FormatBytes(up),
		bdown:  "↓" + export.FormatBytes(down),
		bytes:  export.FormatBytes(up + down),
		flags:  flags(c),
	}
	if c.MethodUnknown {
		r.method, r.short = "(method unknown)", "(method unknown)"
	}
	if c.StatusUnknown {
		r.status = "?"
	}
	if c.Status != nil {
		r.status, r.code = c.Status.Name, c.Status.Code
	}
	if c.Protocol == grpcframe.ProtoHTTP {
		// A REST or other HTTP call: "GET /path", status "404".
		if c.HTTPMethod != "" {
			r.method = c.HTTPMethod + " " + r.method
			r.short = c.HTTPMethod + " " + r.short
		}
		if c.HTTPStatus != 0 {
			r.status = strconv.Itoa(c.HTTPStatus)
		}
	}
	return r
}

// durationText is the call's duration, "≥ X" when the capture shows only
// part of it (it started before the capture, or the capture ended or the
// call was evicted before it did, or it is still open: then up to its last
// message), and "-" when it has no end at all.
func durationText(c *grpcframe.Call) string {
	switch {
	case c.State == 0 && !c.Start.IsZero():
		return "≥" + export.FormatDuration(lastActivity(c).Sub(c.Start))
	case c.End.IsZero():
		return "-"
	case c.StartedBeforeCapture, c.State == grpcframe.StateCut, c.State == grpcframe.StateEvicted:
		return "≥" + export.FormatDuration(c.Duration())
	}
	return export.FormatDuration(c.Duration())
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
// incomplete, and "lost" when bytes were not captured.
func flags(c *grpcframe.Call) string {
	var f string
	switch c.State {
	case grpcframe.StateComplete:
	case grpcframe.StateStartedBeforeCapture:
		f = "pre-capture"
	default:
		f = c.State.String()
	}
	if c.LostBytes && c.State != grpcframe.StateIncomplete {
		f = strings.TrimPrefix(f+",lost", ",")
	}
	if c.Protocol != grpcframe.ProtoGRPC {
		p := c.Protocol.String()
		// gRPC-Web and plain HTTP calls say so; gRPC is the default.
		if c.CORSPreflight {
			p += ",preflight"
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
