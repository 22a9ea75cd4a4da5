// Command greeter is a grpc-go server for helloworld.Greeter and
// muxs.FileController, with server reflection, used to produce several
// grpcsniff test captures.
//
// With -h2c it serves through net/http + golang.org/x/net/http2/h2c wrapping
// grpc.Server.ServeHTTP, so that an HTTP/1.1 "Upgrade: h2c" request (e.g. from
// curl --http2 http://...) is answered with "101 Switching Protocols" and the
// upgraded stream 1 is handled as a gRPC call.
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
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // so that gzip-compressing clients are answered
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	hwpb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/helloworld"
	muxspb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/muxs"
)

type greeter struct {
	hwpb.UnimplementedGreeterServer
}

func (greeter) SayHello(ctx context.Context, in *hwpb.HelloRequest) (*hwpb.HelloReply, error) {
	if in.GetName() == "" {
		// Details as real services send them, so that captures carry a
		// grpc-status-details-bin.
		st, err := status.New(codes.InvalidArgument, "name must not be empty").WithDetails(
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "name", Description: "must not be empty"}}},
			&errdetails.ErrorInfo{Reason: "EMPTY_NAME", Domain: "greeter.example", Metadata: map[string]string{"method": "SayHello"}},
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
		msg := fmt.Sprintf("Hello #%d, %s!", i, in.GetName())
		if err := stream.Send(&hwpb.HelloReply{Message: msg}); err != nil {
			return err
		}
	}
	return nil
}

type files struct {
	muxspb.UnimplementedFileControllerServer
	mu sync.Mutex
	m  map[string][]byte
}

func (f *files) Read(ctx context.Context, in *muxspb.ReadRequest) (*muxspb.ReadReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.m[in.GetPath()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no such file: %s", in.GetPath())
	}
	return &muxspb.ReadReply{Data: d}, nil
}

func (f *files) Write(ctx context.Context, in *muxspb.WriteRequest) (*muxspb.WriteReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[in.GetPath()] = append([]byte(nil), in.GetData()...)
	return &muxspb.WriteReply{Written: int64(len(in.GetData()))}, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "listen address (host:port; use [::1]:port for IPv6)")
	useH2C := flag.Bool("h2c", false, "serve via net/http + x/net/http2/h2c (accepts Upgrade: h2c) instead of grpc.Server.Serve")
	flag.Parse()

	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen %s: %v", *addr, err)
	}
	s := grpc.NewServer()
	hwpb.RegisterGreeterServer(s, greeter{})
	muxspb.RegisterFileControllerServer(s, &files{m: map[string][]byte{"/hello.txt": []byte("hello world\n")}})
	// Server reflection (v1 and v1alpha), for the reflection capture; it
	// adds nothing to the traffic of clients that do not use it.
	reflection.Register(s)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)

	log.Printf("greeter listening on %s (h2c=%v)", lis.Addr(), *useH2C)
	if *useH2C {
		// x/net/http2 hands the request that arrived over HTTP/1.1 with
		// "Upgrade: h2c" to the handler as stream 1, but leaves its
		// ProtoMajor at 1; grpc.Server.ServeHTTP insists on HTTP/2, so
		// relabel that one request (it really is answered over HTTP/2).
		grpcH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ProtoMajor == 1 && r.Header.Get("Upgrade") == "h2c" {
				r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
				for _, h := range []string{"Connection", "Upgrade", "Http2-Settings", "Content-Length"} {
					r.Header.Del(h)
				}
			}
			s.ServeHTTP(w, r)
		})
		hs := &http.Server{Handler: h2c.NewHandler(grpcH, &http2.Server{}), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			<-sig
			hs.Close()
		}()
		if err := hs.Serve(lis); err != nil && err != http.ErrServerClosed {
			log.Fatal(err)
		}
		return
	}
	go func() {
		<-sig
		s.Stop()
	}()
	if err := s.Serve(lis); err != nil {
		log.Fatal(err)
	}
}
