package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// recorder collects what one call put on the wire, as the client saw it: the
// HTTP method and path of its request (from the transport) and the
// serialized size of every message (from the codec, before compression).
type recorder struct {
	mu       sync.Mutex
	method   string
	path     string
	reqSizes []int
	resSizes []int
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.method, r.path = "", ""
	r.reqSizes, r.resSizes = []int{}, []int{}
}

func (r *recorder) sent(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqSizes = append(r.reqSizes, n)
}

func (r *recorder) received(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resSizes = append(r.resSizes, n)
}

func (r *recorder) request(method, path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.method, r.path = method, path
}

// truthLine is one call as the client logged it, one JSON object per line of
// testdata/pcaps/NAME.truth.ndjson.
type truthLine struct {
	Case            string `json:"case"`
	Protocol        string `json:"protocol"` // connect, grpc or grpcweb
	HTTP            string `json:"http"`     // 1.1 or h2c
	Method          string `json:"http_method"`
	Procedure       string `json:"procedure"`
	Codec           string `json:"codec"` // proto or json
	SendCompression string `json:"send_compression,omitempty"`
	Requests        int    `json:"request_messages"`
	RequestSizes    []int  `json:"request_sizes"`
	Responses       int    `json:"response_messages"`
	ResponseSizes   []int  `json:"response_sizes"`
	Code            string `json:"code"` // connect code name, "ok" for success
	GRPCCode        int    `json:"grpc_code"`
	Message         string `json:"message,omitempty"`
}

// line is the truth for the call just made, ending with err.
func (r *recorder) line(c callCase, cfg clientConfig, err error) truthLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := truthLine{
		Case: c.name, Protocol: cfg.protocol, HTTP: cfg.httpVersion, Method: r.method,
		Procedure: r.path, Codec: cfg.codec, SendCompression: cfg.sendCompression(),
		Requests: len(r.reqSizes), RequestSizes: r.reqSizes,
		Responses: len(r.resSizes), ResponseSizes: r.resSizes, Code: "ok",
	}
	if err != nil {
		code := connect.CodeOf(err)
		t.Code, t.GRPCCode, t.Message = code.String(), int(code), err.Error()
		var cerr *connect.Error
		if errors.As(err, &cerr) {
			t.Message = cerr.Message()
		}
	}
	return t
}

// recordingTransport notes the method and path of each request it sends.
type recordingTransport struct {
	next http.RoundTripper
	rec  *recorder
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.rec.request(req.Method, req.URL.Path)
	return t.next.RoundTrip(req)
}

// sizeCodec is connect-go's proto or JSON codec, plus the recording of each
// message's serialized size. It implements connect-go's stable marshalling
// (MarshalStable, IsBinary) so that HTTP GET calls are possible.
type sizeCodec struct {
	json bool
	rec  *recorder
}

func (c sizeCodec) Name() string {
	if c.json {
		return "json"
	}
	return "proto"
}

func (c sizeCodec) IsBinary() bool { return !c.json }

func (c sizeCodec) Marshal(m any) ([]byte, error) {
	b, err := c.marshal(m, false)
	if err == nil {
		c.rec.sent(len(b))
	}
	return b, err
}

func (c sizeCodec) MarshalStable(m any) ([]byte, error) {
	b, err := c.marshal(m, true)
	if err == nil {
		c.rec.sent(len(b))
	}
	return b, err
}

// marshal writes protobuf, or protojson made compact: protojson varies its
// whitespace on purpose, which would make sizes differ from run to run.
func (c sizeCodec) marshal(m any, deterministic bool) ([]byte, error) {
	msg, ok := m.(proto.Message)
	if !ok {
		return nil, errors.New("sizeCodec: not a proto.Message")
	}
	if !c.json {
		return proto.MarshalOptions{Deterministic: deterministic}.Marshal(msg)
	}
	b, err := protojson.Marshal(msg)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func (c sizeCodec) Unmarshal(b []byte, m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return errors.New("sizeCodec: not a proto.Message")
	}
	// connect-go's gRPC and gRPC-Web clients read grpc-status-details-bin
	// with the codec too (into its own copy of google.rpc.Status, named
	// grpc.status.v1.Status); that is a trailer, not a response message.
	if name := msg.ProtoReflect().Descriptor().FullName(); name != "grpc.status.v1.Status" && name != "google.rpc.Status" {
		c.rec.received(len(b))
	}
	if c.json {
		return protojson.Unmarshal(b, msg)
	}
	return proto.Unmarshal(b, msg)
}
