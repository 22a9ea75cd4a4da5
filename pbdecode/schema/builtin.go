package schema

import (
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/apipb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/sourcecontextpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/typepb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// builtinFiles are the files every registry starts with. They come from the
// generated Go packages rather than from embedded .proto sources, so they are
// exactly the definitions the rest of the Go ecosystem uses, and a .proto
// that imports "google/rpc/status.proto" compiles without -I.
func builtinFiles() []protoreflect.FileDescriptor {
	return []protoreflect.FileDescriptor{
		anypb.File_google_protobuf_any_proto,
		apipb.File_google_protobuf_api_proto,
		descriptorpb.File_google_protobuf_descriptor_proto,
		durationpb.File_google_protobuf_duration_proto,
		emptypb.File_google_protobuf_empty_proto,
		fieldmaskpb.File_google_protobuf_field_mask_proto,
		sourcecontextpb.File_google_protobuf_source_context_proto,
		structpb.File_google_protobuf_struct_proto,
		timestamppb.File_google_protobuf_timestamp_proto,
		typepb.File_google_protobuf_type_proto,
		wrapperspb.File_google_protobuf_wrappers_proto,
		code.File_google_rpc_code_proto,
		errdetails.File_google_rpc_error_details_proto,
		rpcstatus.File_google_rpc_status_proto,
	}
}

// builtinByPath indexes builtinFiles for the .proto compiler's resolver.
func builtinByPath() map[string]protoreflect.FileDescriptor {
	m := make(map[string]protoreflect.FileDescriptor)
	for _, fd := range builtinFiles() {
		m[fd.Path()] = fd
	}
	return m
}
