package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"connectrpc.com/connect"
	testpb "google.golang.org/grpc/interop/grpc_testing"
)

// fullCases are the Connect protocol calls of connect_h1 and connect_h2c, in
// order. Bidi streaming needs HTTP/2: over HTTP/1.1 the call is made anyway
// to capture connect-go's rejection.
func fullCases(httpVersion string) []callCase {
	cases := []callCase{
		{name: "unary_proto", run: unary(simple(10, 20), nil)},
		{name: "unary_json", setup: jsonCodec, run: unary(simple(10, 20), nil)},
		{name: "unary_error_detail", run: unary(failing(3, "name must not be empty"), nil)},
		{name: "unary_error_detail_json", setup: jsonCodec, run: unary(failing(9, "not now: état ☹"), nil)},
		{name: "unary_headers_trailers", run: unary(simple(5, 5), echoHeader("hello-metadata"))},
		{name: "unary_timeout", run: withTimeout(1500*time.Millisecond, unary(simple(3, 3), nil))},
		{name: "get_proto", setup: httpGet, run: unary(simple(10, 20), nil)},
		{name: "get_json", setup: jsonGet, run: unary(simple(10, 20), nil)},
		{name: "get_empty", setup: httpGet, run: emptyUnary},
		{name: "get_gzip", setup: gzipGet, run: unary(simple(600, 20), nil)},
		{name: "get_error", setup: httpGet, run: unary(failing(5, "no such thing"), nil)},
		{name: "unary_gzip", setup: gzipSend, run: unary(simple(1000, 1000), nil)},
		{name: "unary_gzip_small", setup: gzipSend, run: unary(simple(10, 10), nil)},
		{name: "unary_gzip_json", setup: gzipJSON, run: unary(simple(1000, 1000), nil)},
		{name: "server_stream", run: serverStream([]int32{10, 20, 30}, nil, nil)},
		{name: "server_stream_json", setup: jsonCodec, run: serverStream([]int32{10, 20}, nil, nil)},
		{name: "server_stream_error", run: serverStream([]int32{10, 20}, &testpb.EchoStatus{Code: 10, Message: "stream aborted after 2 replies"}, nil)},
		{name: "server_stream_gzip", setup: gzipSend, run: serverStream([]int32{1000, 50, 1000}, nil, echoHeader(longValue))},
		{name: "client_stream", run: clientStream([]int{5, 10, 15})},
		{name: "client_stream_gzip", setup: gzipSend, run: clientStream([]int{600, 10, 600})},
	}
	if httpVersion == "h2c" {
		return append(cases,
			callCase{name: "bidi", run: bidi([]int32{10, 20, 30}, nil)},
			callCase{name: "bidi_error", run: bidi([]int32{10}, &testpb.EchoStatus{Code: 8, Message: "too many pings"})})
	}
	return append(cases, callCase{name: "bidi_rejected_http1", run: bidi([]int32{10}, nil)})
}

// mixedCases are connect_mixed's calls: the same server port answering the
// Connect, gRPC and gRPC-Web client protocols.
func mixedCases() []callCase {
	var cases []callCase
	for _, p := range []string{"connect", "grpc", "grpcweb"} {
		set := func(c *clientConfig) { c.protocol = p }
		cases = append(cases,
			callCase{name: p + "_unary", setup: set, run: unary(simple(10, 20), echoHeader("mixed"))},
			callCase{name: p + "_server_stream", setup: set, run: serverStream([]int32{10, 20}, nil, nil)},
			callCase{name: p + "_error", setup: set, run: unary(failing(3, "bad "+p), nil)})
	}
	return cases
}

func jsonCodec(c *clientConfig) { c.codec = "json" }
func httpGet(c *clientConfig)   { c.get = true }
func jsonGet(c *clientConfig)   { c.get, c.codec = true, "json" }
func gzipSend(c *clientConfig)  { c.gzip = true }
func gzipJSON(c *clientConfig)  { c.gzip, c.codec = true, "json" }

// gzipGet: a GET whose URL would be over 300 bytes, so connect-go compresses
// the message into the query (compression=gzip).
func gzipGet(c *clientConfig) { c.get, c.gzip, c.getMaxURL = true, true, 300 }

func simple(reqBytes, resBytes int32) *testpb.SimpleRequest {
	return &testpb.SimpleRequest{ResponseSize: resBytes, Payload: payload(int(reqBytes))}
}

func failing(code int32, msg string) *testpb.SimpleRequest {
	return &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: code, Message: msg}}
}

// echoHeader sets the request header the server echoes as a response header
// and trailer.
func echoHeader(v string) func(http.Header) {
	return func(h http.Header) { h.Set(headerEcho, v) }
}

func withTimeout(d time.Duration, run func(context.Context, string, *http.Client, []connect.ClientOption) error) func(context.Context, string, *http.Client, []connect.ClientOption) error {
	return func(ctx context.Context, base string, hc *http.Client, opts []connect.ClientOption) error {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return run(ctx, base, hc, opts)
	}
}

func unary(msg *testpb.SimpleRequest, header func(http.Header)) func(context.Context, string, *http.Client, []connect.ClientOption) error {
	return func(ctx context.Context, base string, hc *http.Client, opts []connect.ClientOption) error {
		client := connect.NewClient[testpb.SimpleRequest, testpb.SimpleResponse](hc, base+procUnary, opts...)
		req := connect.NewRequest(msg)
		req.Header().Set("X-Client-Case", "unary")
		if header != nil {
			header(req.Header())
		}
		_, err := client.CallUnary(ctx, req)
		return err
	}
}

func emptyUnary(ctx context.Context, base string, hc *http.Client, opts []connect.ClientOption) error {
	client := connect.NewClient[testpb.Empty, testpb.Empty](hc, base+procEmpty, opts...)
	_, err := client.CallUnary(ctx, connect.NewRequest(&testpb.Empty{}))
	return err
}

func serverStream(sizes []int32, status *testpb.EchoStatus, header func(http.Header)) func(context.Context, string, *http.Client, []connect.ClientOption) error {
	return func(ctx context.Context, base string, hc *http.Client, opts []connect.ClientOption) error {
		client := connect.NewClient[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse](hc, base+procServerStream, opts...)
		req := connect.NewRequest(outputRequest(sizes, status))
		if header != nil {
			header(req.Header())
		}
		stream, err := client.CallServerStream(ctx, req)
		if err != nil {
			return err
		}
		defer stream.Close()
		for stream.Receive() {
		}
		return stream.Err()
	}
}

// outputRequest asks for one response message of each size, 10 ms apart.
func outputRequest(sizes []int32, status *testpb.EchoStatus) *testpb.StreamingOutputCallRequest {
	req := &testpb.StreamingOutputCallRequest{ResponseStatus: status}
	for _, n := range sizes {
		req.ResponseParameters = append(req.ResponseParameters, &testpb.ResponseParameters{Size: n, IntervalUs: 10000})
	}
	return req
}

func clientStream(sizes []int) func(context.Context, string, *http.Client, []connect.ClientOption) error {
	return func(ctx context.Context, base string, hc *http.Client, opts []connect.ClientOption) error {
		client := connect.NewClient[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse](hc, base+procClientStream, opts...)
		stream := client.CallClientStream(ctx)
		for _, n := range sizes {
			if err := stream.Send(&testpb.StreamingInputCallRequest{Payload: payload(n)}); err != nil {
				break // the error is CloseAndReceive's
			}
		}
		_, err := stream.CloseAndReceive()
		return err
	}
}

// bidi sends one request per size, each asking for one response of that
// size, and reads that response before sending the next (ping-pong). A
// status is sent as a last request that the server fails with.
func bidi(sizes []int32, status *testpb.EchoStatus) func(context.Context, string, *http.Client, []connect.ClientOption) error {
	return func(ctx context.Context, base string, hc *http.Client, opts []connect.ClientOption) error {
		client := connect.NewClient[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse](hc, base+procBidi, opts...)
		stream := client.CallBidiStream(ctx)
		defer stream.CloseResponse()
		for _, n := range sizes {
			if err := stream.Send(outputRequest([]int32{n}, nil)); err != nil {
				return receiveErr(stream)
			}
			if _, err := stream.Receive(); err != nil {
				return err
			}
		}
		if status != nil {
			if err := stream.Send(&testpb.StreamingOutputCallRequest{ResponseStatus: status}); err != nil {
				return receiveErr(stream)
			}
		}
		if err := stream.CloseRequest(); err != nil {
			return err
		}
		return receiveErr(stream)
	}
}

// receiveErr reads what is left of a bidi stream's responses and returns the
// error it ends with (nil at a clean end).
func receiveErr(stream *connect.BidiStreamForClient[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	for {
		if _, err := stream.Receive(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
