// Command adversarial writes hostile captures for testing grpcsniff's
// limits (see package gen for what each holds):
//
//	go run ./scripts/adversarial -o DIR
//
// Each capture has the calls of testdata/pcaps/py_helloworld.pcap mixed in.
// The tests in cmd/grpcsniff generate the same captures, some at a smaller
// scale; this command writes the full size unless told otherwise.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/grpcsniff/grpcsniff/scripts/adversarial/gen"
)

func main() {
	out := flag.String("o", "", "write the captures into `DIR`")
	normal := flag.String("normal", "testdata/pcaps/py_helloworld.pcap", "mix in the packets of `PCAP` (Ethernet)")
	s := gen.Full
	flag.IntVar(&s.Connections, "connections", s.Connections, "connections in connections.pcap")
	flag.IntVar(&s.Streams, "streams", s.Streams, "streams in streams.pcap")
	flag.IntVar(&s.Continuation, "continuation", s.Continuation, "bytes of CONTINUATION frames in continuation.pcap")
	flag.Int64Var(&s.BombSize, "bomb", s.BombSize, "bytes the gzip message of gzipbomb.pcap expands to")
	flag.IntVar(&s.Nesting, "nesting", s.Nesting, "depth of the nested message in protobuf.pcap")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: go run ./scripts/adversarial -o DIR")
		os.Exit(2)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cs, err := gen.All(*out, *normal, s)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, c := range cs {
		st, _ := os.Stat(c.Path)
		fmt.Printf("%s\t%d bytes\t%s\n", c.Path, st.Size(), c.What)
	}
}
