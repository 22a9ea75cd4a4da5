package main

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/bufbuild/protocompile"
	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// services tells the reflection server which services to list.
type services map[string]grpc.ServiceInfo

func (s services) GetServiceInfo() map[string]grpc.ServiceInfo { return s }

// A live grpc-go reflection server (started here, on a free port) describes
// helloworld.Greeter; with --reflect-addr the Python capture's calls decode
// with what it sent, and no schema on the command line.
func TestReflectAddr(t *testing.T) {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{protoDir}})}
	compiled, err := c.Compile(context.Background(), "helloworld.proto")
	if err != nil {
		t.Fatal(err)
	}
	files := new(protoregistry.Files)
	for _, f := range compiled {
		if err := files.RegisterFile(f); err != nil {
			t.Fatal(err)
		}
	}
	srv := grpc.NewServer()
	reflectionpb.RegisterServerReflectionServer(srv, reflection.NewServerV1(reflection.ServerOptions{
		Services:           services{"helloworld.Greeter": {Metadata: "helloworld.proto"}},
		DescriptorResolver: files,
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	defer srv.Stop()

	out, stderr, code := runCmd(t, nil, "-r", "../../testdata/pcaps/py_helloworld.pcap", "-q", "--json",
		"--reflect-addr", lis.Addr().String(), "--reflect-plaintext")
	if code != exitOK || !strings.Contains(out, `"type":"helloworld.HelloRequest","json":{"name":"you"}`) {
		t.Fatalf("exit %d, %s; SayHello not decoded through reflection:\n%.600s", code, stderr, out)
	}
}
