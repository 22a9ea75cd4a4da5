package schema

import (
	"errors"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// anyResolver resolves the types of Any values for protojson. A type the
// registry does not know resolves to an empty placeholder of that name, so
// that one unknown detail type (a server's own error detail, say) does not
// make the whole message unreadable: the Any is shown as {"@type": URL}
// alone and its path is listed in Decoded.Unknown (see unknownInAny).
type anyResolver struct {
	*dynamicpb.Types
}

func (a anyResolver) FindMessageByURL(url string) (protoreflect.MessageType, error) {
	mt, err := a.Types.FindMessageByURL(url)
	if err == nil || !errors.Is(err, protoregistry.NotFound) {
		return mt, err
	}
	return placeholder(typeName(url))
}

// typeName is the message name in a type URL: what follows the last "/".
func typeName(url string) protoreflect.FullName {
	if i := strings.LastIndexByte(url, '/'); i >= 0 {
		url = url[i+1:]
	}
	return protoreflect.FullName(url)
}

var placeholders sync.Map // protoreflect.FullName → protoreflect.MessageType

// placeholder returns a message type with the given name and no fields.
func placeholder(name protoreflect.FullName) (protoreflect.MessageType, error) {
	if !name.IsValid() {
		return nil, protoregistry.NotFound
	}
	if mt, ok := placeholders.Load(name); ok {
		return mt.(protoreflect.MessageType), nil
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("grpcsniff-placeholder/" + string(name) + ".proto"),
		Package:     proto.String(string(name.Parent())),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String(string(name.Name()))}},
	}
	fd, err := protodesc.NewFile(fdp, new(protoregistry.Files))
	if err != nil {
		return nil, protoregistry.NotFound
	}
	mt := dynamicpb.NewMessageType(fd.Messages().Get(0))
	placeholders.Store(name, mt)
	return mt, nil
}

// unknownInAny lists what an Any hides from the JSON: the whole value when
// its type is not known (path ".value"), else the unknown fields inside it.
func unknownInAny(m protoreflect.Message, types *dynamicpb.Types, prefix string, out []string, depth int) []string {
	fds := m.Descriptor().Fields()
	url := m.Get(fds.ByNumber(1)).String()
	value := m.Get(fds.ByNumber(2)).Bytes()
	if url == "" && len(value) == 0 {
		return out
	}
	mt, err := types.FindMessageByURL(url)
	if err != nil {
		return appendOnce(out, prefix+"value")
	}
	inner := mt.New()
	if err := (proto.UnmarshalOptions{Resolver: types, RecursionLimit: maxDepth}).Unmarshal(value, inner.Interface()); err != nil {
		return appendOnce(out, prefix+"value")
	}
	return unknownFields(inner, types, prefix, out, depth+1)
}
