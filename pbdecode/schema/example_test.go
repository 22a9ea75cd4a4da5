package schema_test

import (
	"fmt"
	"path/filepath"

	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
)

func Example() {
	dir := filepath.Join("..", "..", "testdata", "gen", "proto")
	r, err := schema.Load(schema.Options{
		ProtoFiles:  []string{filepath.Join(dir, "demo.proto")},
		ImportPaths: []string{dir},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// demo.Request{client_id: 1, request_data: "hi"} and an extra field 9
	// that the schema does not have.
	d := r.Decode("/demo.GRPCDemo/SimpleMethod", true, []byte{0x08, 0x01, 0x12, 0x02, 'h', 'i', 0x48, 0x01})
	fmt.Println(d.Type, string(d.JSON), d.Unknown, d.Err == "")

	// A method no schema covers: keep the schema-less decoding.
	d = r.Decode("/other.Svc/Call", true, []byte{0x08, 0x01})
	fmt.Println(d.Type == "")
	// Output:
	// demo.Request {"client_id":"1","request_data":"hi"} [9] true
	// true
}
