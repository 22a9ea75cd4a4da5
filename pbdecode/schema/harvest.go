package schema

import (
	"errors"
	"fmt"

	refv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Reflection methods whose responses HarvestReflection reads. v1 and
// v1alpha have the same messages on the wire.
const (
	ReflectionV1      = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
	ReflectionV1Alpha = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
)

// IsReflection reports whether method is a server reflection call.
func IsReflection(method string) bool {
	return method == ReflectionV1 || method == ReflectionV1Alpha
}

// HarvestReflection takes the file descriptors out of the response messages
// of a captured server reflection call (a grpcurl or IDE session seen on the
// wire), so that the rest of the capture can be decoded with the schemas the
// server itself sent, without asking it. Files are returned once each (by
// name), in the order they first appear. Messages that do not parse are
// reported in the error; what the others held is returned all the same.
func HarvestReflection(method string, responses [][]byte) ([]*descriptorpb.FileDescriptorProto, error) {
	if !IsReflection(method) {
		return nil, fmt.Errorf("%s is not a server reflection method", method)
	}
	var out []*descriptorpb.FileDescriptorProto
	seen := map[string]bool{}
	var errs []error
	for i, b := range responses {
		var resp refv1.ServerReflectionResponse
		if err := proto.Unmarshal(b, &resp); err != nil {
			errs = append(errs, fmt.Errorf("reflection response %d: %v", i, err))
			continue
		}
		for j, raw := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
			fd := new(descriptorpb.FileDescriptorProto)
			if err := proto.Unmarshal(raw, fd); err != nil || fd.GetName() == "" {
				errs = append(errs, fmt.Errorf("reflection response %d, file %d: not a file descriptor", i, j))
				continue
			}
			if !seen[fd.GetName()] {
				seen[fd.GetName()] = true
				out = append(out, fd)
			}
		}
	}
	return out, errors.Join(errs...)
}
