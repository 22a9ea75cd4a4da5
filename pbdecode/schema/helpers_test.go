package schema

import (
	"path/filepath"
	"testing"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// protoDir holds the .proto files of the services in the test captures.
var protoDir = filepath.Join("..", "..", "testdata", "gen", "proto")

// seedProtos are those files, by name relative to protoDir.
var seedProtos = []string{"helloworld.proto", "muxs.proto", "demo.proto", "route_guide.proto"}

// readCalls runs a shipped capture through the same pipeline as
// cmd/grpcsniff and returns its calls in the order they ended.
func readCalls(t testing.TB, name string) []*grpcframe.Call {
	t.Helper()
	src, err := capture.OpenFile(filepath.Join("..", "..", "testdata", "pcaps", name))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var calls []*grpcframe.Call
	asm := grpcframe.NewAssembler(grpcframe.SinkFunc(func(c *grpcframe.Call) {
		calls = append(calls, c)
	}), grpcframe.Options{})
	tcp := capture.NewAssembler(h2decode.NewFactory(asm, h2decode.Options{}), capture.Options{})
	if err := tcp.ReadAll(src); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	asm.Close()
	if len(calls) == 0 {
		t.Fatalf("%s: no calls", name)
	}
	return calls
}

// loadSeed loads the seed .proto files with -I protoDir.
func loadSeed(t testing.TB) *Registry {
	t.Helper()
	var files []string
	for _, f := range seedProtos {
		files = append(files, filepath.Join(protoDir, f))
	}
	r, err := Load(Options{ProtoFiles: files, ImportPaths: []string{protoDir}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
