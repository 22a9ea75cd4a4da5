// Command reflectclient does what a grpcurl session does against a greeter
// server, on one connection: it lists the services through server reflection
// (grpc.reflection.v1), fetches the file descriptors that define each one and
// the files they import, then calls SayHello. grpcsniff's tests harvest the
// descriptors from the captured reflection call and decode the SayHello
// call with them.
package main

import (
	"context"
	"flag"
	"log"
	"sort"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	refv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	hwpb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/helloworld"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	name := flag.String("name", "reflection", "name for SayHello")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cc, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer cc.Close()

	stream, err := refv1.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		log.Fatalf("reflection: %v", err)
	}
	ask := func(req *refv1.ServerReflectionRequest) *refv1.ServerReflectionResponse {
		if err := stream.Send(req); err != nil {
			log.Fatalf("reflection send: %v", err)
		}
		resp, err := stream.Recv()
		if err != nil {
			log.Fatalf("reflection recv: %v", err)
		}
		if e := resp.GetErrorResponse(); e != nil {
			log.Fatalf("reflection error %d: %s", e.GetErrorCode(), e.GetErrorMessage())
		}
		return resp
	}

	list := ask(&refv1.ServerReflectionRequest{MessageRequest: &refv1.ServerReflectionRequest_ListServices{}})
	var svcs []string
	for _, s := range list.GetListServicesResponse().GetService() {
		svcs = append(svcs, s.GetName())
	}
	sort.Strings(svcs)
	log.Printf("services: %v", svcs)

	have := map[string]bool{}
	var want []string
	take := func(resp *refv1.ServerReflectionResponse) {
		for _, b := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
			fd := new(descriptorpb.FileDescriptorProto)
			if err := proto.Unmarshal(b, fd); err != nil {
				log.Fatalf("bad descriptor: %v", err)
			}
			if have[fd.GetName()] {
				continue
			}
			have[fd.GetName()] = true
			log.Printf("file %s (%d services)", fd.GetName(), len(fd.GetService()))
			want = append(want, fd.GetDependency()...)
		}
	}
	for _, s := range svcs {
		take(ask(&refv1.ServerReflectionRequest{
			MessageRequest: &refv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: s},
		}))
	}
	for len(want) > 0 {
		f := want[0]
		want = want[1:]
		if !have[f] {
			take(ask(&refv1.ServerReflectionRequest{
				MessageRequest: &refv1.ServerReflectionRequest_FileByFilename{FileByFilename: f},
			}))
		}
	}
	if err := stream.CloseSend(); err != nil {
		log.Fatal(err)
	}
	if _, err := stream.Recv(); err == nil {
		log.Fatal("reflection: unexpected extra response")
	}

	r, err := hwpb.NewGreeterClient(cc).SayHello(ctx, &hwpb.HelloRequest{Name: *name})
	if err != nil {
		log.Fatalf("SayHello: %v", err)
	}
	log.Printf("SayHello(%q) -> %q", *name, r.GetMessage())
}
