package filter

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

func (c *cmp) match(call *grpcframe.Call, e *Expr) bool {
	switch c.kind {
	case kString:
		return c.methodOrProtocol(call.Method, call.MethodInferred, call.Protocol)
	case kAddr:
		return c.clientOrServer(call.Client, call.Server)
	case kNumber:
		return c.order(c.number(call))
	case kBytes:
		return c.order(grpcframe.WireBytes(call.Requests) + grpcframe.WireBytes(call.Responses))
	case kDuration:
		if call.End.IsZero() {
			return false
		}
		return c.order(int64(call.Duration()))
	case kStatus:
		return c.status(call)
	case kState:
		return c.eqNeg(call.State.String() == c.str)
	case kMetadata:
		return c.metadata(call)
	case kMessage:
		return c.message(call, e)
	}
	return false
}

// Service returns the service part of a method path, "/pkg.Svc/M" → "pkg.Svc".
func Service(method string) string {
	s := strings.TrimPrefix(method, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return s
}

func (c *cmp) number(call *grpcframe.Call) int64 {
	switch c.name {
	case "messages":
		return int64(len(call.Requests) + len(call.Responses))
	case "requests":
		return int64(len(call.Requests))
	case "responses":
		return int64(len(call.Responses))
	case "stream":
		return int64(call.StreamID)
	}
	return int64(call.ConnID)
}

// eqNeg applies == or != to an equality result.
func (c *cmp) eqNeg(eq bool) bool {
	if c.op == "!=" {
		return !eq
	}
	return eq
}

// text compares a string field by ==, !=, ~ or !~.
func (c *cmp) text(s string) bool {
	switch c.op {
	case "~":
		return c.re.MatchString(s)
	case "!~":
		return !c.re.MatchString(s)
	case "!=":
		return s != c.str
	}
	return s == c.str
}

// order compares a number with any operator.
func (c *cmp) order(v int64) bool {
	switch c.op {
	case "==":
		return v == c.num
	case "!=":
		return v != c.num
	case "<":
		return v < c.num
	case "<=":
		return v <= c.num
	case ">":
		return v > c.num
	case ">=":
		return v >= c.num
	}
	return false
}

// methodOrProtocol compares the method, its service, the method inferred
// for a call whose :path is unknown, or the protocol (grpc, grpc-web,
// grpc-web-text, connect, twirp, http), as the comparison names.
func (c *cmp) methodOrProtocol(method, inferred string, p grpcframe.Protocol) bool {
	switch c.name {
	case "service":
		return c.text(Service(method))
	case "method_inferred":
		return c.text(inferred)
	case "protocol":
		return c.text(p.String())
	}
	return c.text(method)
}

// clientOrServer compares the address the comparison names.
func (c *cmp) clientOrServer(client, server netip.AddrPort) bool {
	if c.name == "server" {
		return c.addr(server)
	}
	return c.addr(client)
}

// addr compares a client or server address.
func (c *cmp) addr(ap netip.AddrPort) bool {
	if c.isRegex {
		return c.text(ap.String())
	}
	if c.noPort {
		return c.eqNeg(ap.Addr().String() == strings.Trim(c.str, "[]"))
	}
	return c.eqNeg(ap.String() == c.str)
}

func (c *cmp) status(call *grpcframe.Call) bool {
	if call.Status == nil {
		return c.statusOf(false, 0, call.StatusUnknown)
	}
	return c.statusOf(true, call.Status.Code, call.StatusUnknown)
}

// statusOf compares a status: code when has, else none (or unrecovered).
func (c *cmp) statusOf(has bool, code int, unknown bool) bool {
	switch c.special {
	case statusNone:
		return c.eqNeg(!has)
	case statusUnrecovered:
		return c.eqNeg(!has && unknown)
	}
	if !has {
		// No status is "not OK" but neither greater nor less than a code.
		return c.op == "!="
	}
	return c.order(int64(code))
}

func (c *cmp) metadata(call *grpcframe.Call) bool {
	any := false
	for _, hs := range [][]h2decode.HeaderField{call.RequestHeaders, call.ResponseHeaders, call.Trailers} {
		for i := range hs {
			h := &hs[i]
			if h.NameUnknown || h.Name != c.key {
				continue
			}
			if c.op == "exists" {
				return true
			}
			if h.ValueUnknown {
				continue
			}
			switch c.op {
			case "==", "!=":
				any = any || h.Value == c.str
			default:
				any = any || c.re.MatchString(h.Value)
			}
		}
	}
	switch c.op {
	case "exists":
		return false
	case "!=", "!~":
		return !any
	}
	return any
}

// String renders a comparison for debugging and tests.
func (c *cmp) String() string {
	if c.op == "exists" {
		return c.name
	}
	v := c.str
	switch c.kind {
	case kNumber, kBytes, kStatus:
		v = strconv.FormatInt(c.num, 10)
	case kDuration:
		v = time.Duration(c.num).String()
	}
	return c.name + " " + c.op + " " + v
}
