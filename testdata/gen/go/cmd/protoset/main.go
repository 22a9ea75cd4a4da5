// Command protoset writes the descriptor set (with its imports) of a
// .proto file compiled into grpc-go, such as the interop TestService's
// grpc/testing/test.proto, whose .proto sources the Go module does not
// ship: grpcsniff --protoset reads it.
package main

import (
	"flag"
	"log"
	"os"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	_ "google.golang.org/grpc/interop/grpc_testing"
)

func main() {
	file := flag.String("file", "grpc/testing/test.proto", "path of the .proto file in the Go registry")
	out := flag.String("o", "grpc_testing.protoset", "descriptor set to write")
	flag.Parse()
	fd, err := protoregistry.GlobalFiles.FindFileByPath(*file)
	if err != nil {
		log.Fatalf("%s: %v", *file, err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	add(set, fd, seen)
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(set)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		log.Fatal(err)
	}
}

// add puts fd's imports, then fd, into set (each file once): the order
// protoc --include_imports writes.
func add(set *descriptorpb.FileDescriptorSet, fd protoreflect.FileDescriptor, seen map[string]bool) {
	if seen[fd.Path()] {
		return
	}
	seen[fd.Path()] = true
	imports := fd.Imports()
	for i := range imports.Len() {
		add(set, imports.Get(i).FileDescriptor, seen)
	}
	set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
}
