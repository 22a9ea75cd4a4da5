package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/twitchtv/twirp"

	notespb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/notes"
	"github.com/grpcsniff/grpcsniff/testdata/gen/go/peer"
)

// truthLine is one call as the client saw it, one JSON object per line of
// testdata/pcaps/twirp.truth.ndjson. A Twirp body is one whole message, so
// the sizes are the HTTP body lengths of a 200 answer; an error answer's
// body is the error JSON, not a message.
type truthLine struct {
	Case          string            `json:"case"`
	Protocol      string            `json:"protocol"`
	HTTP          string            `json:"http"`
	Method        string            `json:"http_method"`
	Path          string            `json:"path"`
	Procedure     string            `json:"procedure"`
	Codec         string            `json:"codec"` // proto or json, from the request's content-type
	Requests      int               `json:"request_messages"`
	RequestSizes  []int             `json:"request_sizes"`
	Responses     int               `json:"response_messages"`
	ResponseSizes []int             `json:"response_sizes"`
	HTTPStatus    int               `json:"http_status"`
	Code          string            `json:"code"`      // Twirp error code, "ok" for success
	GRPCCode      int               `json:"grpc_code"` // the gRPC code of the same meaning
	Message       string            `json:"message,omitempty"`
	Meta          map[string]string `json:"meta,omitempty"`
}

// grpcCodes maps the Twirp error codes these calls produce to gRPC codes.
// bad_route has no gRPC counterpart; unimplemented (12) is the closest.
var grpcCodes = map[string]int{
	"ok": 0, string(twirp.InvalidArgument): 3, string(twirp.Malformed): 3, string(twirp.NotFound): 5,
	string(twirp.BadRoute): 12, string(twirp.Internal): 13,
}

// recordingTransport notes each request's method, path, content-type and
// body size, and the response's status and body size.
type recordingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	line truthLine
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	t.mu.Lock()
	t.line.Method, t.line.Path = req.Method, req.URL.Path
	t.line.Procedure = procedureOf(req.URL.Path)
	t.line.Codec = codecOf(req.Header.Get("Content-Type"))
	if req.Method == http.MethodPost {
		t.line.RequestSizes = []int{len(body)}
	}
	t.mu.Unlock()
	res, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	return t.recordResponse(res)
}

func (t *recordingTransport) recordResponse(res *http.Response) (*http.Response, error) {
	body, err := readAll(res.Body)
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	t.mu.Lock()
	defer t.mu.Unlock()
	t.line.HTTPStatus = res.StatusCode
	if res.StatusCode == http.StatusOK {
		t.line.ResponseSizes = []int{len(body)}
	}
	return res, nil
}

func readAll(r io.ReadCloser) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	defer r.Close()
	return io.ReadAll(r)
}

// procedureOf is /package.Service/Method, the last two segments of a path.
func procedureOf(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) < 3 {
		return path
	}
	return "/" + strings.Join(parts[len(parts)-2:], "/")
}

func codecOf(contentType string) string {
	switch contentType {
	case "application/protobuf":
		return "proto"
	case "application/json":
		return "json"
	}
	return contentType
}

func (t *recordingTransport) start(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.line = truthLine{Case: name, Protocol: "twirp", HTTP: "1.1", RequestSizes: []int{}, ResponseSizes: []int{}}
}

// finish is the truth of the call just made, which ended with err.
func (t *recordingTransport) finish(err error) truthLine {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.line
	l.Requests, l.Responses = len(l.RequestSizes), len(l.ResponseSizes)
	l.Code = "ok"
	var terr twirp.Error
	if errors.As(err, &terr) {
		l.Code, l.Message, l.Meta = string(terr.Code()), terr.Msg(), terr.MetaMap()
	} else if err != nil {
		l.Code, l.Message = "transport", err.Error()
	}
	l.GRPCCode = grpcCodes[l.Code]
	return l
}

// callCase is one call of the capture.
type callCase struct {
	name string
	run  func(context.Context, calls) error
}

// calls are the clients a call can use.
type calls struct {
	proto, json, rpcPrefix notespb.Notes
	hc                     *http.Client
	base                   string
}

func runClient(addr, truthFile string) error {
	out, closeTruth, err := peer.Truth(truthFile)
	if err != nil {
		return err
	}
	defer closeTruth()
	rt := &recordingTransport{next: http1Transport()}
	hc := &http.Client{Transport: rt}
	base := "http://" + addr
	c := calls{
		proto:     notespb.NewNotesProtobufClient(base, hc),
		json:      notespb.NewNotesJSONClient(base, hc),
		rpcPrefix: notespb.NewNotesJSONClient(base, hc, twirp.WithClientPathPrefix("/rpc")),
		hc:        hc, base: base,
	}
	enc := json.NewEncoder(out)
	for _, cc := range twirpCases() {
		rt.start(cc.name)
		line := rt.finish(cc.run(context.Background(), c))
		log.Printf("%s: %s %s -> %d %s %q", cc.name, line.Method, line.Path, line.HTTPStatus, line.Code, line.Message)
		if err := enc.Encode(line); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond) // keep calls apart in the capture
	}
	return nil
}

// http1Transport speaks HTTP/1.1 only, without asking for gzip (which Go's
// transport would otherwise add and undo on its own).
func http1Transport() *http.Transport {
	tr := &http.Transport{Protocols: new(http.Protocols), DisableCompression: true}
	tr.Protocols.SetHTTP1(true)
	return tr
}
