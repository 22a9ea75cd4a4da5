// Command jsongreet is a grpc-go helloworld.Greeter server and client that
// use a JSON codec (package jsoncodec, protojson) instead of protobuf: the
// client calls with grpc.CallContentSubtype("json"), so requests and
// responses carry content-type application/grpc+json and the gRPC messages
// are JSON text. Plain h2c (grpc.Server.Serve / grpc.NewClient insecure).
// Used for the capture grpcgo_json.
//
//	jsongreet -mode=server -addr=127.0.0.1:50170
//	jsongreet -mode=client -addr=127.0.0.1:50170
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/grpcsniff/grpcsniff/testdata/gen/go/jsoncodec"
	hwpb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/helloworld"
)

type greeter struct {
	hwpb.UnimplementedGreeterServer
}

func (greeter) SayHello(ctx context.Context, in *hwpb.HelloRequest) (*hwpb.HelloReply, error) {
	if in.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name must not be empty")
	}
	return &hwpb.HelloReply{Message: "Hello, " + in.GetName() + "!"}, nil
}

func (greeter) Square(ctx context.Context, in *hwpb.Number) (*hwpb.Number, error) {
	return &hwpb.Number{Value: in.GetValue() * in.GetValue()}, nil
}

func (greeter) SayHelloStream(in *hwpb.HelloRequest, stream hwpb.Greeter_SayHelloStreamServer) error {
	for i := 1; i <= 3; i++ {
		if err := stream.Send(&hwpb.HelloReply{Message: fmt.Sprintf("Hello #%d, %s!", i, in.GetName())}); err != nil {
			return err
		}
	}
	return nil
}

func server(addr string) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("listen %s: %v", addr, err)
	}
	s := grpc.NewServer()
	hwpb.RegisterGreeterServer(s, greeter{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		s.Stop()
	}()
	log.Printf("json greeter listening on %s", lis.Addr())
	if err := s.Serve(lis); err != nil {
		log.Fatal(err)
	}
}

func client(addr string) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.CallContentSubtype(jsoncodec.Name)))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	c := hwpb.NewGreeterClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	r, err := c.SayHello(ctx, &hwpb.HelloRequest{Name: "json"})
	if err != nil {
		log.Fatalf("SayHello: %v", err)
	}
	log.Printf("SayHello(json) -> %q", r.GetMessage())

	n, err := c.Square(ctx, &hwpb.Number{Value: 1.5})
	if err != nil {
		log.Fatalf("Square: %v", err)
	}
	log.Printf("Square(1.5) -> %v", n.GetValue())

	st, err := c.SayHelloStream(ctx, &hwpb.HelloRequest{Name: "json stream"})
	if err != nil {
		log.Fatalf("SayHelloStream: %v", err)
	}
	for {
		m, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatalf("SayHelloStream recv: %v", err)
		}
		log.Printf("SayHelloStream -> %q", m.GetMessage())
	}

	// proto3 JSON of an empty message is "{}": a 2-byte gRPC message
	_, err = c.SayHello(ctx, &hwpb.HelloRequest{})
	if status.Code(err) != codes.InvalidArgument {
		log.Fatalf("SayHello(\"\"): want INVALID_ARGUMENT, got %v", err)
	}
	log.Printf("SayHello(\"\") -> %v", err)
}

func main() {
	mode := flag.String("mode", "server", "server | client")
	addr := flag.String("addr", "127.0.0.1:50170", "address")
	flag.Parse()
	switch *mode {
	case "server":
		server(*addr)
	case "client":
		client(*addr)
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
}
