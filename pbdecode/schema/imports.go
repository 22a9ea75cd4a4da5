package schema

import (
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// appendWithImports appends fd's imports (depth first) and then fd, each
// once, as descriptor protos: the form AddFiles takes, so compiled files go
// through the same path as reflected ones.
func appendWithImports(out []*descriptorpb.FileDescriptorProto, seen map[string]bool, fd protoreflect.FileDescriptor) []*descriptorpb.FileDescriptorProto {
	if seen[fd.Path()] {
		return out
	}
	seen[fd.Path()] = true
	imps := fd.Imports()
	for i := 0; i < imps.Len(); i++ {
		out = appendWithImports(out, seen, imps.Get(i).FileDescriptor)
	}
	return append(out, protodesc.ToFileDescriptorProto(fd))
}
