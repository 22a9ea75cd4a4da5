// Command packedsamples is a grpc-go packed.Samples server and client: the
// client records four samples whose repeated fields are packed (int32 with
// negatives, uint64 up to 2^64-1, sint64, fixed32, double, float, sfixed64)
// and the server echoes each back with its count of values. Plain h2c, one
// connection. Used for the capture grpcgo_packed.
//
//	packedsamples -mode=server -addr=127.0.0.1:50190
//	packedsamples -mode=client -addr=127.0.0.1:50190
package main

import (
	"context"
	"flag"
	"log"
	"math"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	pb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/packed"
)

type samples struct {
	pb.UnimplementedSamplesServer
}

// Record echoes the sample with the number of its repeated values.
func (samples) Record(ctx context.Context, in *pb.Sample) (*pb.Sample, error) {
	out := proto.Clone(in).(*pb.Sample)
	out.Count = uint32(len(in.Values) + len(in.Ids) + len(in.Deltas) + len(in.Counters) +
		len(in.Readings) + len(in.Ratios) + len(in.Stamps))
	return out, nil
}

// theSamples are what the client records, the same as node/packed.js.
func theSamples() []*pb.Sample {
	return []*pb.Sample{
		{Name: "first", Values: []int32{7, -1, 150000}, Ids: []uint64{1, 300, math.MaxUint64},
			Deltas: []int64{-3, 5, 0, -1, 1000000, 2}, Counters: []uint32{10, 20, 30000, 4000000000},
			Readings: []float64{21.5, -3.25, 1013.25}, Ratios: []float32{0.25, 1.5, -0.1},
			Offset: -5, Level: 0.75, Stamps: []int64{1700000000, 1700000060}},
		{Name: "second", Values: []int32{-100, 42}, Ids: []uint64{math.MaxUint64, 2},
			Deltas: []int64{-1, 1, -2, 2}, Counters: []uint32{1, 2, 3},
			Readings: []float64{0.1, 0.2}, Ratios: []float32{3.5},
			Offset: -1, Level: 1, Stamps: []int64{1700000120, -1}},
		{Name: "third", Values: []int32{1, 2, 3}, Ids: []uint64{123456789012},
			Deltas: []int64{-500}, Counters: []uint32{7, 8},
			Readings: []float64{-1.5}, Ratios: []float32{0.5, 0.25},
			Offset: 100, Level: -2.5, Stamps: []int64{1700000180}},
		// Alone, values [122] reads as the text "z" and ids [104, 105]
		// as "hi": the other samples say they are packed.
		{Name: "fourth", Values: []int32{122}, Ids: []uint64{104, 105},
			Counters: []uint32{5, 6}, Readings: []float64{2.5}, Ratios: []float32{0.125},
			Offset: 7, Level: 3, Stamps: []int64{1700000240}},
	}
}

func server(addr string) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("listen %s: %v", addr, err)
	}
	s := grpc.NewServer()
	pb.RegisterSamplesServer(s, samples{})
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		s.GracefulStop()
	}()
	log.Printf("packed.Samples on %s", addr)
	if err := s.Serve(lis); err != nil {
		log.Fatalf("serve: %v", err)
	}
}

func client(addr string) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	c := pb.NewSamplesClient(conn)
	for _, in := range theSamples() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		out, err := c.Record(ctx, in)
		cancel()
		if err != nil {
			log.Fatalf("Record(%s): %v", in.GetName(), err)
		}
		log.Printf("Record(%s): %d values", in.GetName(), out.GetCount())
	}
}

func main() {
	mode := flag.String("mode", "server", "server or client")
	addr := flag.String("addr", "127.0.0.1:50190", "listen or dial address")
	flag.Parse()
	switch *mode {
	case "server":
		server(*addr)
	case "client":
		client(*addr)
	default:
		log.Fatalf("unknown -mode %q: use server or client", *mode)
	}
}
