package export

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// Text writes one readable line per call:
//
//	15:04:05.000000 10.0.0.1:53412 → 10.0.0.2:50051 /helloworld.Greeter/SayHello OK 1.2ms ↑1 12B ↓1 20B
type Text struct {
	w *bufio.Writer
	// Location is the time zone of the printed times (like tcpdump, the
	// local one by default).
	Location  *time.Location
	FlushEach bool
	err       error
}

// NewText returns a Text writer on w.
func NewText(w io.Writer) *Text {
	return &Text{w: bufio.NewWriter(w), Location: time.Local}
}

// Call writes one line; it implements grpcframe.Sink.
func (t *Text) Call(c *grpcframe.Call) {
	if t.err != nil {
		return
	}
	if _, t.err = io.WriteString(t.w, FormatLine(c, t.Location)); t.err == nil {
		t.err = t.w.WriteByte('\n')
	}
	if t.err == nil && t.FlushEach {
		t.err = t.w.Flush()
	}
}

// Flush writes out what is buffered (a live capture flushes after each
// batch of calls rather than each line). Errors are kept for Close.
func (t *Text) Flush() {
	if t.err == nil {
		t.err = t.w.Flush()
	}
}

// Close flushes and returns the first write error.
func (t *Text) Close() error {
	if t.err != nil {
		return t.err
	}
	return t.w.Flush()
}

// maxTextCandidates bounds the candidate methods a line of text names.
const maxTextCandidates = 3

// UnknownMethod shows what is known of a call whose :path was not
// recovered: its inferred method marked with "~" (an inference, never a
// fact), or the candidates when several fit.
func UnknownMethod(c *grpcframe.Call) string {
	switch cands := c.MethodCandidates; {
	case c.MethodInferred != "":
		return "~" + c.MethodInferred
	case len(cands) > maxTextCandidates:
		return "(method unknown: ~" + strings.Join(cands[:maxTextCandidates], " | ~") + fmt.Sprintf(" | %d more)", len(cands)-maxTextCandidates)
	case len(cands) > 0:
		return "(method unknown: ~" + strings.Join(cands, " | ~") + ")"
	}
	return "(method unknown)"
}

// FormatLine renders a call as one line of text.
func FormatLine(c *grpcframe.Call, loc *time.Location) string {
	method := c.Method
	if c.MethodUnknown {
		method = UnknownMethod(c)
	}
	status := "-"
	if c.StatusUnknown {
		status = "?"
	}
	if c.Status != nil {
		status = c.Status.Name
		if c.Status.Message != "" {
			status += fmt.Sprintf(" %q", c.Status.Message)
		}
	}
	if c.Protocol == grpcframe.ProtoHTTP {
		// A REST or other HTTP call: "GET /path 200".
		if c.HTTPMethod != "" {
			method = c.HTTPMethod + " " + method
		}
		if c.HTTPStatus != 0 {
			status = fmt.Sprint(c.HTTPStatus)
		}
	}
	line := fmt.Sprintf("%s %s → %s %s %s %s ↑%d %s ↓%d %s",
		c.Start.In(loc).Format("15:04:05.000000"), c.Client, c.Server, Printable(method), status,
		FormatDuration(c.Duration()), len(c.Requests), FormatBytes(grpcframe.WireBytes(c.Requests)),
		len(c.Responses), FormatBytes(grpcframe.WireBytes(c.Responses)))
	if c.Protocol != grpcframe.ProtoGRPC {
		line += " [" + c.Protocol.String()
		if c.Protocol.OverHTTP() && c.HTTPMethod != "" && c.HTTPMethod != "POST" {
			line += " " + Printable(c.HTTPMethod) // a Connect GET
		}
		line += "]"
	}
	if c.CORSPreflight {
		line += " [CORS preflight]"
	}
	if c.Status == nil && c.HTTPStatus != 0 && c.Protocol != grpcframe.ProtoHTTP && c.HTTPStatus != 200 {
		line += fmt.Sprintf(" [HTTP %d]", c.HTTPStatus)
	}
	switch c.State {
	case grpcframe.StateComplete:
	case grpcframe.StateReset:
		line += fmt.Sprintf(" [reset %v by %s]", c.ResetCode, c.ResetBy)
	default:
		line += " [" + c.State.String() + "]"
	}
	if c.LostBytes && c.State != grpcframe.StateIncomplete {
		line += " [bytes lost]"
	}
	return line
}

// FormatDuration prints a duration with about three significant digits.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// FormatBytes prints a byte count with a binary unit.
func FormatBytes(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%dB", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1fKiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
}

// Count is n with its noun, singular for one: "1 call", "3 calls". The
// nouns the output counts (call, connection, packet, message, method,
// stream, file) all take an s.
func Count[N ~int | ~int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(int64(n), 10) + " " + noun + "s"
}
