package tui

import (
	"strconv"
	"strings"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
)

// Replay builds the command that repeats a call with the tool its protocol
// is best served by, and a note on what it could not carry over:
//
//   - gRPC: grpcurl (Grpcurl), the tool most gRPC users have;
//   - gRPC-Web and Connect: buf curl with --protocol grpcweb or connect,
//     which speaks both (grpcurl speaks neither);
//   - a Connect GET: curl on the captured URL, whose query holds the whole
//     request, so no schema is needed;
//   - Twirp: curl POSTing the request as JSON, which every Twirp server
//     takes.
//
// grpcurlSchema are grpcurl's schema flags (-import-path, -proto,
// -protoset); buf curl is given the same schemas as --schema.
func Replay(c *grpcframe.Call, opt pbdecode.Options, reg *schema.Registry, grpcurlSchema ...string) (cmd, note string) {
	switch {
	case c.MethodUnknown || c.Method == "":
		return "", "cannot build a command that repeats the call: the method was not captured"
	case c.Protocol == grpcframe.ProtoConnect && c.HTTPMethod == "GET":
		return connectGet(c)
	case c.Protocol == grpcframe.ProtoConnect, c.Protocol == grpcframe.ProtoGRPCWeb, c.Protocol == grpcframe.ProtoGRPCWebText:
		return bufCurl(c, opt, reg, grpcurlSchema)
	case c.Protocol == grpcframe.ProtoTwirp:
		return twirpCurl(c, opt, reg)
	case c.Protocol == grpcframe.ProtoHTTP:
		return "", "cannot build a command that repeats the call: it is plain HTTP, not a call of an RPC protocol"
	}
	return Grpcurl(c, opt, reg, grpcurlSchema...)
}

// replayHeaders are the request headers a replaying tool (grpcurl, buf
// curl, curl) sets itself, or that describe the transport rather than the
// application's metadata. Headers starting with "grpc-" or "connect-" are
// the protocols' own and skipped as well (a deadline becomes the tool's
// timeout flag).
var replayHeaders = map[string]bool{
	"content-type": true, "te": true, "user-agent": true, "accept": true,
	"accept-encoding": true, "content-length": true, "content-encoding": true,
	"host": true, "connection": true, "transfer-encoding": true,
	"x-grpc-web": true, "x-user-agent": true,
}

// headerArgs are the -H flags of the call's application metadata, and how
// many request headers HPACK could not recover.
func headerArgs(c *grpcframe.Call) (args []string, unknown int) {
	for _, h := range c.RequestHeaders {
		if h.NameUnknown || h.ValueUnknown {
			unknown++
			continue
		}
		name := h.Name
		if strings.HasPrefix(name, ":") || strings.HasPrefix(name, "grpc-") || strings.HasPrefix(name, "connect-") || replayHeaders[name] {
			continue
		}
		args = append(args, "-H", shellQuote(name+": "+h.Value))
	}
	return args, unknown
}

// baseURL is the scheme and host of the call's server: https over TLS,
// with the captured :authority (the name the certificate is checked
// against), else http to the address that answered.
func baseURL(c *grpcframe.Call) string {
	if c.OverTLS() {
		if a, ok := grpcframe.Header(c.RequestHeaders, ":authority"); ok && a != "" {
			return "https://" + a
		}
		return "https://" + c.Server.String()
	}
	return "http://" + c.Server.String()
}

// bufCurl repeats a Connect or gRPC-Web call with buf curl.
func bufCurl(c *grpcframe.Call, opt pbdecode.Options, reg *schema.Registry, grpcurlSchema []string) (string, string) {
	d, notes, refuse := replayData(c, opt, reg)
	if refuse != "" {
		return "", "cannot build a buf curl command that repeats the call: " + strings.Replace(refuse, "grpcurl", "buf curl", 1)
	}
	parts := []string{"buf", "curl", "--protocol"}
	if c.Protocol == grpcframe.ProtoConnect {
		parts = append(parts, "connect")
	} else {
		parts = append(parts, "grpcweb")
		if c.Protocol == grpcframe.ProtoGRPCWebText {
			notes = append(notes, "buf curl sends gRPC-Web in binary, not as base64 text")
		}
	}
	if c.Transport != h2decode.TransportHTTP1 && !c.OverTLS() {
		parts = append(parts, "--http2-prior-knowledge")
	}
	for _, s := range bufSchema(grpcurlSchema) {
		parts = append(parts, "--schema", shellQuote(s))
	}
	if t, ok := callTimeout(c); ok {
		parts = append(parts, "--timeout", t)
	}
	hs, unknown := headerArgs(c)
	parts = append(parts, hs...)
	if d != "" {
		parts = append(parts, "-d", shellQuote(d))
	}
	if unknown > 0 {
		notes = append(notes, strconv.Itoa(unknown)+" header(s) not recovered")
	}
	parts = append(parts, shellQuote(baseURL(c)+urlPath(c)))
	return strings.Join(parts, " "), strings.Join(notes, "; ")
}

// urlPath is the path the call was sent to, without its query: a Connect or
// Twirp server may be mounted under a prefix (Twirp's /twirp), which the
// method leaves out.
func urlPath(c *grpcframe.Call) string {
	if p, ok := grpcframe.Header(c.RequestHeaders, ":path"); ok {
		p, _, _ = strings.Cut(p, "?")
		return p
	}
	return c.Method
}

// bufSchema turns grpcurl's schema flags into buf curl's --schema values:
// a descriptor set as it is, .proto files by the directory they are
// imported from (buf reads the whole tree), or by themselves when none is
// given.
func bufSchema(grpcurlSchema []string) []string {
	var out, protos []string
	dirs := false
	for i := 0; i+1 < len(grpcurlSchema); i += 2 {
		switch flag, v := grpcurlSchema[i], grpcurlSchema[i+1]; flag {
		case "-protoset":
			out = append(out, v)
		case "-import-path":
			out, dirs = append(out, v), true
		case "-proto":
			protos = append(protos, v)
		}
	}
	if !dirs {
		out = append(out, protos...)
	}
	return out
}

// callTimeout is the call's deadline in seconds, as buf curl's --timeout
// takes it: from grpc-timeout, or Connect-Timeout-Ms.
func callTimeout(c *grpcframe.Call) (string, bool) {
	if t, ok := grpcframe.Header(c.RequestHeaders, "grpc-timeout"); ok {
		if d, ok := parseTimeout(t); ok {
			return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s", true
		}
	}
	if t, ok := grpcframe.Header(c.RequestHeaders, "connect-timeout-ms"); ok {
		if ms, err := strconv.ParseUint(t, 10, 32); err == nil {
			return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64) + "s", true
		}
	}
	return "", false
}

// connectGet repeats a Connect GET with curl: its URL, query included, is
// the whole request.
func connectGet(c *grpcframe.Call) (string, string) {
	path, ok := grpcframe.Header(c.RequestHeaders, ":path")
	if !ok {
		return "", "cannot build a curl command that repeats the call: its URL was not recovered"
	}
	parts := []string{"curl", "-sS"}
	if v, ok := grpcframe.Header(c.RequestHeaders, "connect-protocol-version"); ok {
		parts = append(parts, "-H", shellQuote("Connect-Protocol-Version: "+v))
	}
	hs, unknown := headerArgs(c)
	parts = append(parts, hs...)
	parts = append(parts, shellQuote(baseURL(c)+path))
	var note string
	if unknown > 0 {
		note = strconv.Itoa(unknown) + " header(s) not recovered"
	}
	return strings.Join(parts, " "), note
}

// replayData is requestData, but requests the call sent as JSON are
// sent as they were, and empty ones as {}: neither needs a schema.
func replayData(c *grpcframe.Call, opt pbdecode.Options, reg *schema.Registry) (string, []string, string) {
	var docs []string
	for _, r := range c.Requests {
		switch {
		case r.Truncated:
			return requestData(c, opt, reg)
		case r.Format == grpcframe.FormatJSON:
			docs = append(docs, string(r.Data))
		case len(r.Data) == 0:
			docs = append(docs, "{}")
		default:
			return requestData(c, opt, reg)
		}
	}
	return strings.Join(docs, " "), nil, ""
}

// twirpCurl repeats a Twirp call with curl, the request in JSON (which a
// schema gives field names to).
func twirpCurl(c *grpcframe.Call, opt pbdecode.Options, reg *schema.Registry) (string, string) {
	d, notes, refuse := replayData(c, opt, reg)
	if d == "" && refuse == "" {
		d = "{}" // an empty message
	}
	if refuse != "" {
		return "", "cannot build a curl command that repeats the call: " + strings.Replace(refuse, "grpcurl", "a JSON request", 1)
	}
	parts := []string{"curl", "-sS", "-X", "POST", "-H", shellQuote("Content-Type: application/json")}
	hs, unknown := headerArgs(c)
	parts = append(parts, hs...)
	parts = append(parts, "-d", shellQuote(d), shellQuote(baseURL(c)+urlPath(c)))
	if unknown > 0 {
		notes = append(notes, strconv.Itoa(unknown)+" header(s) not recovered")
	}
	return strings.Join(parts, " "), strings.Join(notes, "; ")
}
