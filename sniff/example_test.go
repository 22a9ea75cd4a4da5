package sniff_test

import (
	"context"
	"fmt"
	"log"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/sniff"
)

// The calls of a capture file, in order, with their status and messages.
func Example() {
	src, err := capture.OpenFile("../testdata/pcaps/py_grpcdemo.pcap")
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	for call, err := range sniff.Calls(context.Background(), src, sniff.Options{}) {
		if err != nil {
			log.Fatal(err) // a damaged capture: the calls before were good
		}
		status := "no status" // a call cut short has none
		if call.Status != nil {
			status = call.Status.Name
		}
		fmt.Println(call.Method, status, len(call.Requests), len(call.Responses))
	}
	// Output:
	// /demo.GRPCDemo/SimpleMethod OK 1 1
	// /demo.GRPCDemo/ClientStreamingMethod OK 3 1
	// /demo.GRPCDemo/ServerStreamingMethod OK 1 3
	// /demo.GRPCDemo/BidirectionalStreamingMethod OK 3 3
}

// statusCounts is a sink: it counts calls by status, and hands each call
// back for reuse once counted.
type statusCounts map[string]int

func (s statusCounts) Call(c *sniff.Call) {
	status := "(none: " + c.State.String() + ")"
	if c.Status != nil {
		status = c.Status.Name
	}
	s[status]++
	sniff.Release(c)
}

// A sink of one's own, and the summary of what was read.
func ExampleDecoder() {
	src, err := capture.OpenFile("../testdata/pcaps/py_helloworld.pcap")
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	counts := statusCounts{}
	sum, err := sniff.NewDecoder(sniff.Options{}).Run(context.Background(), src, counts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(counts)
	fmt.Printf("%d calls, %d packets, %d connections\n", sum.Found, sum.Capture.Packets, sum.Capture.Connections)
	// Output:
	// map[DEADLINE_EXCEEDED:1 NOT_FOUND:1 OK:6]
	// 8 calls, 45 packets, 1 connections
}
