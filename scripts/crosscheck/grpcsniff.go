package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
)

// callKey identifies a call in both views. Conn tells apart connections
// between the same two endpoints (a reused ephemeral port): 0 for the first
// such connection in the capture, 1 for the next, and so on.
type callKey struct {
	Client, Server string
	Conn           int
	Stream         uint32
}

func (k callKey) String() string {
	s := fmt.Sprintf("%s > %s stream %d", k.Client, k.Server, k.Stream)
	if k.Conn > 0 {
		s += fmt.Sprintf(" (connection #%d between them)", k.Conn+1)
	}
	return s
}

func (k callKey) swapped() callKey {
	k.Client, k.Server = k.Server, k.Client
	return k
}

type message struct {
	Length     uint32
	Compressed bool
	// grpcsniff only: the message's bytes did not all reach the capture
	// (or were cut by a size limit; Err says which).
	Truncated bool
	Err       string
}

// sniffCall is one NDJSON object of grpcsniff --json, the keys compared.
type sniffCall struct {
	key           callKey
	ConnID        int
	Method        *string
	GRPC          bool
	State         string
	Status        *int
	StatusUnknown bool
	// StatusLostInGap: the unreadable trailer fields refer to HPACK table
	// entries from after a gap (epoch 1 or later in "cN/S/eE/K"), not from
	// before the capture.
	StatusLostInGap      bool
	StartedBeforeCapture bool
	LostBytes            bool
	RolesGuessed         bool
	Transport            string
	Protocol             string // grpc, grpc-web, grpc-web-text, http ("" before the key existed)
	Requests, Responses  []message
	// HTTPMethod and Path: http_method / path, else the request's
	// :method / :path header ("" when unknown); HTTPStatus: http_status,
	// else the response's :status (0 when unknown).
	HTTPMethod, Path string
	HTTPStatus       int
	// ContentType and RespContentType: the request's and the response's
	// content-type headers ("" when absent).
	ContentType, RespContentType string
}

// overHTTP: a Connect or Twirp call, which tshark, not knowing those
// protocols, sees as plain HTTP.
func (g *sniffCall) overHTTP() bool { return g.Protocol == "connect" || g.Protocol == "twirp" }

// isHTTP: grpcsniff reports a plain HTTP call (protocol "http"), or a
// non-gRPC stream (grpc:false) from before the protocol key.
func (g *sniffCall) isHTTP() bool { return g.Protocol == "http" || !g.GRPC }

type sniffJSON struct {
	Conn                 int     `json:"conn"`
	Client               string  `json:"client"`
	Server               string  `json:"server"`
	RolesGuessed         bool    `json:"roles_guessed"`
	Transport            string  `json:"transport"`
	StreamID             uint32  `json:"stream_id"`
	Method               *string `json:"method"`
	GRPC                 *bool   `json:"grpc"`     // before the "protocol" key
	Protocol             string  `json:"protocol"` // grpc, grpc-web, grpc-web-text, connect, twirp, http
	State                string  `json:"state"`
	StartedBeforeCapture bool    `json:"started_before_capture"`
	LostBytes            bool    `json:"lost_bytes"`
	Status               *struct {
		Code int `json:"code"`
	} `json:"status"`
	StatusUnknown bool                         `json:"status_unknown"`
	Trailers      map[string][]json.RawMessage `json:"trailers"`
	HTTPMethod    *string                      `json:"http_method"`
	Path          *string                      `json:"path"`
	HTTPStatus    *int                         `json:"http_status"`
	ReqHeaders    map[string][]json.RawMessage `json:"request_headers"`
	RespHeaders   map[string][]json.RawMessage `json:"response_headers"`
	Requests      []messageJSON                `json:"requests"`
	Responses     []messageJSON                `json:"responses"`
}

type messageJSON struct {
	Length     uint32 `json:"length"`
	Compressed bool   `json:"compressed"`
	Truncated  bool   `json:"truncated"`
	Error      string `json:"error"`
}

// runGrpcsniff runs "grpcsniff -r FILE --json -q" (with "--keylog KEYLOG"
// when keylog is not empty) and parses its calls.
func runGrpcsniff(bin, path, keylog string) ([]*sniffCall, error) {
	args := []string{"-r", path, "--json", "-q"}
	if keylog != "" {
		args = append(args, "--keylog", keylog)
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// Exit status 4 means the capture holds no gRPC calls: an answer, not
	// a failure (tshark must then see none either).
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 4) {
		return nil, fmt.Errorf("%s: %v: %s", bin, err, strings.TrimSpace(stderr.String()))
	}
	return parseSniff(out)
}

func parseSniff(out []byte) ([]*sniffCall, error) {
	var calls []*sniffCall
	// Connection numbers per endpoint pair, in order of appearance, give
	// callKey.Conn.
	connsOfPair := map[[2]string][]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<30)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var j sniffJSON
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
			return nil, fmt.Errorf("grpcsniff output line %d: %v", line, err)
		}
		client, err := normAddrPort(j.Client)
		if err != nil {
			return nil, fmt.Errorf("grpcsniff output line %d: client: %v", line, err)
		}
		server, err := normAddrPort(j.Server)
		if err != nil {
			return nil, fmt.Errorf("grpcsniff output line %d: server: %v", line, err)
		}
		pair := [2]string{client, server}
		n := indexOf(connsOfPair[pair], j.Conn)
		if n < 0 {
			connsOfPair[pair] = append(connsOfPair[pair], j.Conn)
			n = len(connsOfPair[pair]) - 1
		}
		c := &sniffCall{
			key:                  callKey{Client: client, Server: server, Conn: n, Stream: j.StreamID},
			ConnID:               j.Conn,
			Method:               j.Method,
			GRPC:                 (j.GRPC == nil || *j.GRPC) && j.Protocol != "http",
			State:                j.State,
			StatusUnknown:        j.StatusUnknown,
			StatusLostInGap:      j.StatusUnknown && unknownAfterGap(j.Trailers),
			StartedBeforeCapture: j.StartedBeforeCapture,
			LostBytes:            j.LostBytes,
			RolesGuessed:         j.RolesGuessed,
			Transport:            j.Transport,
			Protocol:             j.Protocol,
			Requests:             convMessages(j.Requests),
			Responses:            convMessages(j.Responses),
		}
		if j.Status != nil {
			code := j.Status.Code
			c.Status = &code
		}
		c.HTTPMethod, c.Path = firstHeader(j.ReqHeaders, ":method"), firstHeader(j.ReqHeaders, ":path")
		c.ContentType, c.RespContentType = firstHeader(j.ReqHeaders, "content-type"), firstHeader(j.RespHeaders, "content-type")
		if j.HTTPMethod != nil {
			c.HTTPMethod = *j.HTTPMethod
		}
		if j.Path != nil {
			c.Path = *j.Path
		}
		if j.HTTPStatus != nil {
			c.HTTPStatus = *j.HTTPStatus
		} else if n, err := strconv.Atoi(firstHeader(j.RespHeaders, ":status")); err == nil {
			c.HTTPStatus = n
		}
		calls = append(calls, c)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return calls, nil
}

// firstHeader is the first value of a header grpcsniff decoded ("" when
// absent or not a plain string, e.g. an HPACK-unknown value).
func firstHeader(h map[string][]json.RawMessage, name string) string {
	for _, v := range h[name] {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return ""
	}
	return ""
}

func convMessages(ms []messageJSON) []message {
	out := make([]message, len(ms))
	for i, m := range ms {
		out[i] = message{Length: m.Length, Compressed: m.Compressed, Truncated: m.Truncated, Err: m.Error}
	}
	return out
}

// normAddrPort rewrites "ip:port" / "[ipv6]:port" in netip's canonical form
// so that both tools' spellings compare equal.
func normAddrPort(s string) (string, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return "", err
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String(), nil
}

func indexOf(xs []int, x int) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// unknownAfterGap reports whether a header map holds an HPACK-unknown value
// whose table entry dates from after a gap (epoch >= 1).
func unknownAfterGap(h map[string][]json.RawMessage) bool {
	for _, vs := range h {
		for _, v := range vs {
			var u struct {
				Unknown string `json:"unknown"`
				Entry   string `json:"entry"`
			}
			if json.Unmarshal(v, &u) != nil || u.Unknown != "hpack" {
				continue
			}
			parts := strings.Split(u.Entry, "/")
			if len(parts) == 4 && strings.HasPrefix(parts[2], "e") && parts[2] != "e0" {
				return true
			}
		}
	}
	return false
}
