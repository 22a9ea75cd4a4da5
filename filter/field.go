package filter

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// kind is the type of a field, which decides the operators and values it
// accepts.
type kind uint8

const (
	kString   kind = iota + 1 // method, method_inferred, service, protocol
	kAddr                     // client, server
	kNumber                   // messages, requests, responses, stream, conn
	kBytes                    // bytes
	kDuration                 // duration
	kStatus                   // status
	kState                    // state
	kMetadata                 // metadata[key]
	kMessage                  // req.PATH, resp.PATH
)

var fields = map[string]kind{
	"method": kString, "service": kString, "protocol": kString, "method_inferred": kString,
	"client": kAddr, "server": kAddr,
	"messages": kNumber, "requests": kNumber, "responses": kNumber, "stream": kNumber, "conn": kNumber,
	"bytes": kBytes, "duration": kDuration, "status": kStatus, "state": kState,
	"metadata": kMetadata, "req": kMessage, "resp": kMessage,
}

const fieldList = "method, method_inferred, service, protocol, status, duration, client, server, state, messages, requests, responses, bytes, stream, conn, metadata[KEY], req.PATH, resp.PATH"

// Status values that are not codes.
const (
	statusCode        = iota
	statusNone        // no grpc-status was seen
	statusUnrecovered // trailers seen but HPACK lost them
)

// cmp is one comparison, or an existence test when op is "exists".
type cmp struct {
	name string
	kind kind
	op   string

	str     string
	re      *regexp.Regexp
	num     int64
	special int    // for status: statusCode, statusNone, statusUnrecovered
	noPort  bool   // for addresses: compare the address only
	key     string // metadata key, lower case
	resp    bool   // message paths: responses rather than requests
	path    []string
	nums    []int32 // the path as numbers; nil when it has names
	val     msgValue
	isRegex bool
}

// field reads what follows a field name: "[key]" for metadata, ".a.b" for
// message paths (already part of the word).
func (p *parser) field(c *cmp, start int) error {
	name := strings.ToLower(c.name)
	head, path, dotted := strings.Cut(name, ".")
	k, ok := fields[head]
	if !ok || dotted && k != kMessage {
		return p.errAt(start, "unknown field %q; fields are %s", c.name, fieldList)
	}
	c.kind = k
	if k != kMessage {
		c.name = head
	}
	switch k {
	case kMetadata:
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != '[' {
			return p.errAt(p.pos, "expected \"[\" and a header name after metadata")
		}
		end := strings.IndexByte(p.s[p.pos:], ']')
		if end < 0 {
			return p.errAt(p.pos, "expected \"]\" to close metadata[")
		}
		c.key = strings.ToLower(strings.TrimSpace(p.s[p.pos+1 : p.pos+end]))
		if c.key == "" {
			return p.errAt(p.pos+1, "expected a header name inside metadata[]")
		}
		c.name = "metadata[" + c.key + "]"
		p.pos += end + 1
	case kMessage:
		if !dotted || path == "" {
			return p.errAt(start+len(head), "expected a field path after %s. (like %s.1 or %s.name)", head, head, head)
		}
		c.resp = head == "resp"
		// Keep the case of names: schemas are case-sensitive.
		c.path = strings.Split(c.name[len(head)+1:], ".")
		c.nums = make([]int32, len(c.path))
		for i, s := range c.path {
			n, err := strconv.ParseInt(s, 10, 32)
			if s == "" {
				return p.errAt(start, "empty element in field path %q", c.name)
			}
			if err != nil || n < 1 {
				c.nums = nil
				p.e.named = true
				break
			}
			c.nums[i] = int32(n)
		}
		if c.nums == nil {
			return p.checkPath(c, start)
		}
	}
	return nil
}

// checkPath checks a named message path against the loaded schemas: a
// name no method's type has is an error, with the names it could be; with
// no schema loaded yet, the filter stands with a warning (a reflection call
// in the capture may bring the schema).
func (p *parser) checkPath(c *cmp, start int) error {
	pc, ok := p.e.schema.(PathChecker)
	if !ok {
		p.e.warnings = append(p.e.warnings, c.name+" names a field, which needs a schema; none is loaded, so it matches nothing (field numbers need none: "+c.name[:strings.IndexByte(c.name, '.')]+".1)")
		return nil
	}
	known, names, hasMethods := pc.PathKnown(c.resp, c.path)
	switch {
	case known:
		return nil
	case !hasMethods:
		p.e.warnings = append(p.e.warnings, c.name+" names a field, which needs a schema; none is loaded yet, so it matches nothing until one is (field numbers need none)")
		return nil
	}
	kind := "request"
	if c.resp {
		kind = "response"
	}
	msg := "no " + kind + " type of the loaded schemas has " + c.name
	if len(names) > 0 {
		if len(names) > 8 {
			names = append(names[:8], "…")
		}
		msg += " (fields there: " + strings.Join(names, ", ") + ")"
	}
	return p.errAt(start, "%s", msg)
}

// existsOK says whether the field may stand alone as a presence test.
func (c *cmp) existsOK() bool { return c.kind == kMetadata || c.kind == kMessage }

// badOp says whether the operator does not fit the field.
func (c *cmp) badOp() bool {
	ordered := c.op == "<" || c.op == "<=" || c.op == ">" || c.op == ">="
	regex := c.op == "~" || c.op == "!~"
	switch c.kind {
	case kString, kMetadata, kState:
		return ordered
	case kAddr:
		return ordered
	case kNumber, kBytes, kDuration:
		return regex
	case kStatus:
		return regex || ordered && c.special != statusCode
	}
	return false
}

// setValue parses v for the field and returns a message when it does not fit.
func (c *cmp) setValue(v string) string {
	if c.op == "~" || c.op == "!~" {
		if c.kind == kNumber || c.kind == kBytes || c.kind == kDuration || c.kind == kStatus {
			return "" // badOp reports it
		}
		re, err := regexp.Compile("(?i)" + v)
		if err != nil {
			return "bad regular expression: " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")
		}
		c.re, c.isRegex, c.str = re, true, v
		return ""
	}
	switch c.kind {
	case kString, kMetadata:
		c.str = v
	case kAddr:
		c.str = v
		c.noPort = !strings.Contains(v, ":") || !strings.HasPrefix(v, "[") && strings.Count(v, ":") > 1
	case kNumber:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "expected a whole number, found " + strconv.Quote(v)
		}
		c.num = n
	case kBytes:
		n, ok := parseSize(v)
		if !ok {
			return "expected a size like 512, 1KB or 2MiB, found " + strconv.Quote(v)
		}
		c.num = n
	case kDuration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return "expected a duration like 100ms, 1.5s or 250us, found " + strconv.Quote(v)
		}
		c.num = int64(d)
	case kStatus:
		return c.setStatus(v)
	case kState:
		v = strings.ToLower(v)
		if !validState(v) {
			return "expected a state (complete, reset, refused, closed, cut, started_before_capture, incomplete, open), found " + strconv.Quote(v)
		}
		c.str = v
	case kMessage:
		c.val = parseMsgValue(v)
	}
	return ""
}

func (c *cmp) setStatus(v string) string {
	lv := strings.ToLower(v)
	switch lv {
	case "none":
		c.special = statusNone
		return ""
	case "unrecovered", "?":
		c.special = statusUnrecovered
		return ""
	}
	if n, err := strconv.ParseInt(v, 10, 32); err == nil {
		c.num = n
		return ""
	}
	up := strings.ToUpper(strings.ReplaceAll(v, "-", "_"))
	for code := 0; code <= 16; code++ {
		if grpcframe.CodeName(code) == up || up == "CANCELED" && code == 1 {
			c.num = int64(code)
			return ""
		}
	}
	return "expected a status name (OK, NOT_FOUND, …), a number, none or unrecovered, found " + strconv.Quote(v)
}

func validState(s string) bool {
	for st := grpcframe.StateComplete; st <= grpcframe.StateEvicted; st++ {
		if st.String() == s {
			return true
		}
	}
	return s == "open"
}

// parseSize reads a byte count with an optional binary unit.
func parseSize(v string) (int64, bool) {
	i := 0
	for i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] == '.') {
		i++
	}
	f, err := strconv.ParseFloat(v[:i], 64)
	if err != nil || f < 0 {
		return 0, false
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}
	m, ok := mult[strings.ToLower(v[i:])]
	if !ok || f*m > 1<<62 {
		return 0, false
	}
	return int64(f * m), true
}
