package filter

import (
	"net/netip"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// Summary is a call as a list of millions of calls keeps it: the numbers
// and names every comparison reads but metadata[KEY], req.PATH, resp.PATH
// and searches (which read headers and messages). A view that keeps only
// summaries filters them with [Expr.MatchSummary] when
// [Expr.Summarizable], and gets the same answer Match gives on the call.
type Summary struct {
	ConnID   uint64
	StreamID uint32
	Method   string
	// MethodInferred is the method named for a call whose :path was not
	// recovered (grpcframe.Call.MethodInferred).
	MethodInferred string
	Protocol       grpcframe.Protocol
	Client         netip.AddrPort
	Server         netip.AddrPort
	// HasStatus says Code holds the grpc-status; StatusUnknown that the
	// trailers were seen but HPACK lost them.
	HasStatus     bool
	Code          int
	StatusUnknown bool
	State         grpcframe.State
	// Ended says the call has an end time, and Duration is then its
	// duration.
	Ended     bool
	Duration  time.Duration
	Requests  int
	Responses int
	Bytes     int64 // wire bytes both ways
}

// SummaryOf returns the summary of c.
func SummaryOf(c *grpcframe.Call) Summary {
	s := Summary{
		ConnID: c.ConnID, StreamID: c.StreamID, Method: c.Method, MethodInferred: c.MethodInferred, Protocol: c.Protocol,
		Client: c.Client, Server: c.Server, StatusUnknown: c.StatusUnknown, State: c.State,
		Ended: !c.End.IsZero(), Requests: len(c.Requests), Responses: len(c.Responses),
		Bytes: grpcframe.WireBytes(c.Requests) + grpcframe.WireBytes(c.Responses),
	}
	if c.Status != nil {
		s.HasStatus, s.Code = true, c.Status.Code
	}
	if s.Ended {
		s.Duration = c.Duration()
	}
	return s
}

// Summarizable reports whether MatchSummary can decide the filter: it
// reads no metadata, message field or search term.
func (e *Expr) Summarizable() bool { return e == nil || !e.needsCall }

// MatchSummary reports whether a call of summary s satisfies the filter.
// It is only meaningful when Summarizable: the parts it cannot decide
// match nothing.
func (e *Expr) MatchSummary(s *Summary) bool {
	if e == nil || e.root == nil {
		return true
	}
	return e.root.matchSummary(s)
}

func (n andNode) summarizable() bool { return n.l.summarizable() && n.r.summarizable() }
func (n orNode) summarizable() bool  { return n.l.summarizable() && n.r.summarizable() }
func (n notNode) summarizable() bool { return n.x.summarizable() }
func (searchNode) summarizable() bool {
	return false
}
func (c *cmp) summarizable() bool { return c.kind != kMetadata && c.kind != kMessage }

func (n andNode) matchSummary(s *Summary) bool {
	return n.l.matchSummary(s) && n.r.matchSummary(s)
}
func (n orNode) matchSummary(s *Summary) bool {
	return n.l.matchSummary(s) || n.r.matchSummary(s)
}
func (n notNode) matchSummary(s *Summary) bool { return !n.x.matchSummary(s) }
func (searchNode) matchSummary(*Summary) bool  { return false }

// matchSummary is match on a summary; the cases are match's, field for
// field.
func (c *cmp) matchSummary(s *Summary) bool {
	switch c.kind {
	case kString:
		return c.methodOrProtocol(s.Method, s.MethodInferred, s.Protocol)
	case kAddr:
		return c.clientOrServer(s.Client, s.Server)
	case kNumber:
		return c.order(c.summaryNumber(s))
	case kBytes:
		return c.order(s.Bytes)
	case kDuration:
		return s.Ended && c.order(int64(s.Duration))
	case kStatus:
		return c.statusOf(s.HasStatus, s.Code, s.StatusUnknown)
	case kState:
		return c.eqNeg(s.State.String() == c.str)
	}
	return false
}

func (c *cmp) summaryNumber(s *Summary) int64 {
	switch c.name {
	case "messages":
		return int64(s.Requests + s.Responses)
	case "requests":
		return int64(s.Requests)
	case "responses":
		return int64(s.Responses)
	case "stream":
		return int64(s.StreamID)
	}
	return int64(s.ConnID)
}
