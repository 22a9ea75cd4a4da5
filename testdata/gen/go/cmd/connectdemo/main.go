// Command connectdemo is a connect-go server and client for the Connect
// protocol captures (connect_h1, connect_h2c, connect_mixed). The handlers are
// registered by hand on the grpc.testing.TestService messages of
// google.golang.org/grpc/interop/grpc_testing, so no code generation is
// needed; the procedures are the real TestService ones, so the stock
// test.proto decodes their messages.
//
// The server answers the Connect, gRPC and gRPC-Web protocols on one port,
// over HTTP/1.1 and h2c (HTTP/2 with prior knowledge). The client runs a
// fixed list of calls and writes, for each call, one JSON line (the truth the
// capture is checked against) to -truth: protocol, HTTP method, procedure,
// the serialized size of every message each way, and the status.
//
//	connectdemo -mode=server -addr=127.0.0.1:50180
//	connectdemo -mode=client -addr=127.0.0.1:50180 -http=1.1 -calls=full -truth=connect_h1.truth.ndjson
//	connectdemo -mode=client -addr=127.0.0.1:50181 -http=h2c -calls=full -truth=connect_h2c.truth.ndjson
//	connectdemo -mode=client -addr=127.0.0.1:50182 -http=h2c -calls=mixed -truth=connect_mixed.truth.ndjson
package main

import (
	"flag"

	"github.com/grpcsniff/grpcsniff/testdata/gen/go/peer"
)

func main() {
	mode := flag.String("mode", "", "server or client")
	addr := flag.String("addr", "127.0.0.1:50180", "host:port to listen on or call")
	httpVersion := flag.String("http", "h2c", "client transport: 1.1 (HTTP/1.1 only) or h2c (HTTP/2 prior knowledge)")
	calls := flag.String("calls", "full", "client call list: full (every Connect case) or mixed (Connect, gRPC and gRPC-Web)")
	truth := flag.String("truth", "", "client: file to write one JSON line per call to (default standard output)")
	flag.Parse()
	peer.Run(*mode, func() { serve(*addr) }, func() error {
		return runClient(*addr, *httpVersion, *calls, *truth)
	})
}
