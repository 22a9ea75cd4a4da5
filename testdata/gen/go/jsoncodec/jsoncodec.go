// Package jsoncodec registers a grpc-go codec named "json" (protojson), so
// that calls made with grpc.CallContentSubtype("json") go out as
// content-type application/grpc+json with JSON message bodies, and a server
// that imports this package answers them (also gRPC-Web calls with
// application/grpc-web+json, which the grpcweb wrapper turns into
// application/grpc+json).
package jsoncodec

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Name is the content-subtype.
const Name = "json"

type codec struct{}

func (codec) Name() string { return Name }

func (codec) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("jsoncodec: %T is not a proto.Message", v)
	}
	return protojson.Marshal(m)
}

func (codec) Unmarshal(data []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("jsoncodec: %T is not a proto.Message", v)
	}
	return protojson.Unmarshal(data, m)
}

func init() { encoding.RegisterCodec(codec{}) }
