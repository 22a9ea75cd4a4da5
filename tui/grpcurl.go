package tui

import (
	"os"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/pbdecode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
	"google.golang.org/protobuf/encoding/protowire"
)

// Grpcurl builds a grpcurl command that repeats the call, and a note on
// what it could not carry over; schemaArgs are the grpcurl flags that give
// it the schemas the view has (-import-path, -proto, -protoset), which it
// needs when the server offers no reflection. With a registry that knows
// the method, -d holds the requests in protobuf JSON (one document per
// request message, which grpcurl sends as a stream). A command that could
// not repeat the call is refused (cmd is empty) and note says why: the
// method or a request was not captured whole, or there is no schema for
// the request's field names (grpcurl takes no field numbers; the note then
// shows the request keyed by number). -plaintext is given for h2c calls
// only: a call captured inside TLS is repeated over TLS, with the
// captured :authority.
func Grpcurl(c *grpcframe.Call, opt pbdecode.Options, reg *schema.Registry, schemaArgs ...string) (cmd, note string) {
	if c.MethodUnknown || c.Method == "" {
		return "", "cannot build a grpcurl command: the method was not captured"
	}
	d, notes, refuse := requestData(c, opt, reg)
	if refuse != "" {
		return "", "cannot build a grpcurl command that repeats the call: " + refuse
	}
	parts := []string{"grpcurl"}
	for _, a := range schemaArgs {
		parts = append(parts, shellQuote(a))
	}
	tls := c.OverTLS()
	if !tls {
		parts = append(parts, "-plaintext")
	}
	if t, ok := grpcframe.Header(c.RequestHeaders, "grpc-timeout"); ok {
		if d, ok := parseTimeout(t); ok {
			parts = append(parts, "-max-time", strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
		}
	}
	// grpcurl sends the address as :authority unless told otherwise; a
	// server behind virtual hosting needs the captured one, and over TLS
	// it is also the name the certificate is checked against.
	if a, ok := grpcframe.Header(c.RequestHeaders, ":authority"); ok && (tls || a != c.Server.String()) {
		parts = append(parts, "-authority", shellQuote(a))
	}
	hs, unknown := headerArgs(c) // grpc-timeout became -max-time above
	parts = append(parts, hs...)
	if d != "" {
		parts = append(parts, "-d", shellQuote(d))
	}
	if unknown > 0 {
		notes = append(notes, strconv.Itoa(unknown)+" header(s) not recovered")
	}
	parts = append(parts, c.Server.String(), strings.TrimPrefix(c.Method, "/"))
	return strings.Join(parts, " "), strings.Join(notes, "; ")
}

// requestData is the -d argument ("" when the call sent no request), notes
// on it, and why no command can repeat the call, if none can.
func requestData(c *grpcframe.Call, opt pbdecode.Options, reg *schema.Registry) (data string, notes []string, refuse string) {
	if len(c.Requests) == 0 {
		return "", nil, ""
	}
	for k, r := range c.Requests {
		if r.Truncated {
			return "", nil, "request " + strconv.Itoa(k+1) + " is not whole (" + r.Err + ")"
		}
	}
	if reg != nil {
		if _, _, ok := reg.Method(c.Method); ok {
			return schemaData(c, reg)
		}
	}
	why := "grpcurl needs the request's field names, and no schema of " + c.Method + " is loaded (a .proto or descriptor set, or a reflection call in the capture)"
	var docs []string
	for _, r := range c.Requests {
		j, ok := plainJSON(pbdecode.Decode(r.Data, opt))
		if !ok {
			return "", nil, why
		}
		docs = append(docs, j)
	}
	return "", nil, why + "; by field number the request is " + strings.Join(docs, " ")
}

// schemaData renders the requests through the schema. A request that does
// not fit leaves -d out rather than sending something else; fields the
// schema does not know are not in the JSON, and the note says so.
func schemaData(c *grpcframe.Call, reg *schema.Registry) (string, []string, string) {
	var docs, notes []string
	for k, r := range c.Requests {
		dec := reg.Decode(c.Method, true, r.Data)
		if dec.Err != "" {
			return "", nil, "request " + strconv.Itoa(k+1) + " does not fit the schema (" + dec.Err + ")"
		}
		docs = append(docs, string(dec.JSON))
		if len(dec.Unknown) > 0 {
			notes = append(notes, "request "+strconv.Itoa(k+1)+" has fields the schema does not know, left out of -d: "+strings.Join(dec.Unknown, ", "))
		}
	}
	return strings.Join(docs, " "), notes, ""
}

// parseTimeout reads a grpc-timeout value: digits and a unit, H M S m u n.
func parseTimeout(s string) (time.Duration, bool) {
	if len(s) < 2 || len(s) > 9 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	unit := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second,
		'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond}[s[len(s)-1]]
	if unit == 0 {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// plainJSON renders a message whose fields are all strings or varints as a
// JSON object keyed by field number; repeated fields become arrays.
func plainJSON(m *pbdecode.Message) (string, bool) {
	if m.Err != "" {
		return "", false
	}
	var order []int32
	vals := map[int32][]string{}
	for i := range m.Fields {
		f := &m.Fields[i]
		var v string
		switch {
		case f.Wire == protowire.VarintType:
			v = varintJSON(f.Varint)
		case f.Wire == protowire.BytesType && (f.As == pbdecode.ReadingString || f.As == pbdecode.ReadingEmpty):
			v = jsonString(string(f.Bytes))
		default:
			return "", false
		}
		if _, seen := vals[f.Number]; !seen {
			order = append(order, f.Number)
		}
		vals[f.Number] = append(vals[f.Number], v)
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range order {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + strconv.Itoa(int(n)) + `":`)
		if vs := vals[n]; len(vs) == 1 {
			b.WriteString(vs[0])
		} else {
			b.WriteString("[" + strings.Join(vs, ",") + "]")
		}
	}
	b.WriteByte('}')
	return b.String(), true
}

// varintJSON writes a varint as JSON. A value with the top bit set is
// written as negative: that is how int32 and int64 fields encode negative
// numbers, far more common than uint64 values above 2^63. Beyond 2^53
// the number is a string, as protobuf's JSON mapping allows, so that no
// reader rounds it.
func varintJSON(u uint64) string {
	i := int64(u)
	s := strconv.FormatInt(i, 10)
	if i > 1<<53 || i < -(1<<53) {
		return `"` + s + `"`
	}
	return s
}

// jsonString quotes s for JSON (strconv.Quote's escapes are Go's, which
// JSON does not all accept).
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteString(strconv.FormatUint(uint64(r)|0x100, 16)[1:])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// copyGrpcurl sends the command that repeats the call (Replay: grpcurl
// for gRPC) to the clipboard (OSC 52) and shows it in the status line. Whether the terminal let it through
// cannot be known, so the status says it was sent, and that Y saves it.
func (m *Model) copyGrpcurl(c *grpcframe.Call) tea.Cmd {
	cmd, note := Replay(c, m.opts.Decode, m.opts.Registry, m.opts.GrpcurlSchema...)
	if cmd == "" {
		m.status = note
		return nil
	}
	m.lastCopy = cmd
	m.status = "sent to the clipboard (OSC 52, where the terminal allows it; Y saves it to a file): " + cmd
	if note != "" {
		m.status += "  (" + note + ")"
	}
	return tea.SetClipboard(cmd)
}

// saveGrpcurl asks for a file name and writes the command that repeats
// the call there as a shell script.
func (m *Model) saveGrpcurl(c *grpcframe.Call) tea.Cmd {
	cmd, note := Replay(c, m.opts.Decode, m.opts.Registry, m.opts.GrpcurlSchema...)
	if cmd == "" {
		m.status = note
		return nil
	}
	what := "the " + toolOf(cmd) + " command"
	m.askSave(what, "sh", func(path string) tea.Cmd {
		text := "#!/bin/sh\n# " + c.Method + ", captured " + c.Start.In(m.opts.Location).Format("2006-01-02 15:04:05.000000") + "\n"
		if note != "" {
			text += "# " + note + "\n"
		}
		text += cmd + "\n"
		return func() tea.Msg { return exportedMsg{writeScript(path, what, text)} }
	})
	return nil
}

// toolOf names the tool a command runs: "grpcurl", "buf curl" or "curl".
func toolOf(cmd string) string {
	if strings.HasPrefix(cmd, "buf curl ") {
		return "buf curl"
	}
	tool, _, _ := strings.Cut(cmd, " ")
	return tool
}

// writeScript writes an executable script to the new file path.
func writeScript(path, what, text string) string {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return "not saved: " + err.Error()
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "not saved: " + err.Error()
	}
	return "wrote " + what + " to " + path
}
