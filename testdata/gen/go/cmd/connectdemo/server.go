package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/grpcsniff/grpcsniff/testdata/gen/go/peer"
)

// Procedures of grpc.testing.TestService served here.
const (
	procEmpty        = "/grpc.testing.TestService/EmptyCall"
	procUnary        = "/grpc.testing.TestService/UnaryCall"
	procServerStream = "/grpc.testing.TestService/StreamingOutputCall"
	procClientStream = "/grpc.testing.TestService/StreamingInputCall"
	procBidi         = "/grpc.testing.TestService/FullDuplexCall"
)

// compressMinBytes is the size below which neither side gzips a message:
// connect-go's default (0) would compress every message once gzip is
// negotiated, and the captures should hold both kinds.
const compressMinBytes = 256

const (
	// headerEcho asks for its value back as response header
	// x-echo-initial and trailer x-echo-trailing.
	headerEcho = "X-Echo-Metadata"
)

func serve(addr string) {
	mux := http.NewServeMux()
	register(mux)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	log.Printf("connect-go server (Connect, gRPC, gRPC-Web; HTTP/1.1 and h2c) on %s", addr)
	peer.Serve(srv)
}

func register(mux *http.ServeMux) {
	minBytes := connect.WithCompressMinBytes(compressMinBytes)
	getOK := connect.WithIdempotency(connect.IdempotencyNoSideEffects)
	mux.Handle(procEmpty, connect.NewUnaryHandler(procEmpty, emptyCall, minBytes, getOK))
	mux.Handle(procUnary, connect.NewUnaryHandler(procUnary, unaryCall, minBytes, getOK))
	mux.Handle(procServerStream, connect.NewServerStreamHandler(procServerStream, streamingOutputCall, minBytes))
	mux.Handle(procClientStream, connect.NewClientStreamHandler(procClientStream, streamingInputCall, minBytes))
	mux.Handle(procBidi, connect.NewBidiStreamHandler(procBidi, fullDuplexCall, minBytes))
}

func emptyCall(_ context.Context, _ *connect.Request[testpb.Empty]) (*connect.Response[testpb.Empty], error) {
	return connect.NewResponse(&testpb.Empty{}), nil
}

func unaryCall(_ context.Context, req *connect.Request[testpb.SimpleRequest]) (*connect.Response[testpb.SimpleResponse], error) {
	if st := req.Msg.GetResponseStatus(); st.GetCode() != 0 {
		return nil, statusError(st)
	}
	res := connect.NewResponse(&testpb.SimpleResponse{
		Payload:  payload(int(req.Msg.GetResponseSize())),
		Username: "connectdemo",
	})
	if v := req.Header().Get(headerEcho); v != "" {
		res.Header().Set("X-Echo-Initial", v)
		res.Trailer().Set("X-Echo-Trailing", v)
	}
	return res, nil
}

// wait sleeps for d, or less if ctx ends first (then its error as a
// connect error: deadline_exceeded or canceled).
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return connect.NewError(connect.CodeDeadlineExceeded, ctx.Err())
		}
		return connect.NewError(connect.CodeCanceled, ctx.Err())
	}
}

// statusError is the error a request's response_status asks for, with a
// google.rpc.BadRequest detail and a metadata entry.
func statusError(st *testpb.EchoStatus) *connect.Error {
	err := connect.NewError(connect.Code(st.GetCode()), errors.New(st.GetMessage()))
	detail, derr := connect.NewErrorDetail(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{
			Field:       "response_status",
			Description: "the client asked for this status",
		}},
	})
	if derr == nil {
		err.AddDetail(detail)
	}
	err.Meta().Set("X-Error-Source", "connectdemo")
	return err
}

// payload is n compressible bytes (a repeated pattern), so gzip shrinks it.
func payload(n int) *testpb.Payload {
	if n <= 0 {
		return nil
	}
	body := make([]byte, n)
	for i := range body {
		body[i] = "connect payload "[i%16]
	}
	return &testpb.Payload{Type: testpb.PayloadType_COMPRESSABLE, Body: body}
}

func streamingOutputCall(ctx context.Context, req *connect.Request[testpb.StreamingOutputCallRequest], stream *connect.ServerStream[testpb.StreamingOutputCallResponse]) error {
	if v := req.Header().Get(headerEcho); v != "" {
		stream.ResponseHeader().Set("X-Echo-Initial", v)
		stream.ResponseTrailer().Set("X-Echo-Trailing", v)
	}
	for _, p := range req.Msg.GetResponseParameters() {
		if err := wait(ctx, time.Duration(p.GetIntervalUs())*time.Microsecond); err != nil {
			return err
		}
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: payload(int(p.GetSize()))}); err != nil {
			return err
		}
	}
	if st := req.Msg.GetResponseStatus(); st.GetCode() != 0 {
		return statusError(st)
	}
	return nil
}

func streamingInputCall(_ context.Context, stream *connect.ClientStream[testpb.StreamingInputCallRequest]) (*connect.Response[testpb.StreamingInputCallResponse], error) {
	var total int32
	for stream.Receive() {
		total += int32(len(stream.Msg().GetPayload().GetBody()))
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	return connect.NewResponse(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: total}), nil
}

func fullDuplexCall(ctx context.Context, stream *connect.BidiStream[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	for {
		req, err := stream.Receive()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if st := req.GetResponseStatus(); st.GetCode() != 0 {
			return statusError(st)
		}
		for _, p := range req.GetResponseParameters() {
			if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: payload(int(p.GetSize()))}); err != nil {
				return fmt.Errorf("send: %w", err)
			}
		}
	}
}
