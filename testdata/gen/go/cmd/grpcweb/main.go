// Command grpcweb is a grpc-go server for helloworld.Greeter wrapped with
// github.com/improbable-eng/grpc-web (grpcweb.WrapServer, any Origin
// allowed), served by net/http without TLS, so that curl can make gRPC-Web
// (application/grpc-web, application/grpc-web+proto, application/grpc-web-text)
// calls and CORS preflights over HTTP/1.1, or over h2c (HTTP/2 with prior
// knowledge) with -h2c. Used for the captures grpcweb_h1 and grpcweb_h2c.
//
// Greeter behaves like go/cmd/greeter: SayHello("") fails with
// INVALID_ARGUMENT and error details (grpc-status-details-bin), SayHelloStream
// sends 3 replies, except for the name "fail": 2 replies, then ABORTED with a
// non-ASCII message (an error in the gRPC-Web trailer frame rather than in
// the response headers). Methods that do not exist get UNIMPLEMENTED from grpc-go.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/improbable-eng/grpc-web/go/grpcweb"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	_ "github.com/grpcsniff/grpcsniff/testdata/gen/go/jsoncodec" // application/grpc-web+json
	hwpb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/helloworld"
)

type greeter struct {
	hwpb.UnimplementedGreeterServer
}

func (greeter) SayHello(ctx context.Context, in *hwpb.HelloRequest) (*hwpb.HelloReply, error) {
	if in.GetName() == "" {
		st, err := status.New(codes.InvalidArgument, "name must not be empty").WithDetails(
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "name", Description: "must not be empty"}}},
		)
		if err != nil {
			return nil, err
		}
		return nil, st.Err()
	}
	return &hwpb.HelloReply{Message: "Hello, " + in.GetName() + "!"}, nil
}

func (greeter) Square(ctx context.Context, in *hwpb.Number) (*hwpb.Number, error) {
	return &hwpb.Number{Value: in.GetValue() * in.GetValue()}, nil
}

func (greeter) SayHelloStream(in *hwpb.HelloRequest, stream hwpb.Greeter_SayHelloStreamServer) error {
	stream.SendHeader(metadata.Pairs("x-stream-kind", "greetings"))
	for i := 1; i <= 3; i++ {
		if i == 3 && in.GetName() == "fail" {
			// an error after messages: the status goes in the trailer
			// frame, not in the response headers (Trailers-Only)
			return status.Error(codes.Aborted, "stream aborted after 2 replies: état ☹")
		}
		msg := fmt.Sprintf("Hello #%d, %s!", i, in.GetName())
		if err := stream.Send(&hwpb.HelloReply{Message: msg}); err != nil {
			return err
		}
		// separate writes (and, over HTTP/1.1, separate chunks) per message
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50150", "listen address")
	useH2C := flag.Bool("h2c", false, "also accept h2c (HTTP/2 with prior knowledge) via x/net/http2/h2c")
	flag.Parse()

	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen %s: %v", *addr, err)
	}
	s := grpc.NewServer()
	hwpb.RegisterGreeterServer(s, greeter{})
	web := grpcweb.WrapServer(s, grpcweb.WithOriginFunc(func(string) bool { return true }))

	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Printf("%s %s %s content-type=%q", r.Proto, r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		web.ServeHTTP(w, r)
	})
	if *useH2C {
		h = h2c.NewHandler(h, &http2.Server{})
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		hs.Close()
	}()
	log.Printf("grpc-web server listening on %s (h2c=%v)", lis.Addr(), *useH2C)
	if err := hs.Serve(lis); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
