// Command greetclient calls helloworld.Greeter / muxs.FileController on a
// greeter server.
//
// Scenarios:
//
//	simple     one connection, SayHello for each -names entry.
//	midstream  one connection; phase 1 makes several unary calls (filling the
//	           HPACK dynamic tables of both peers), then creates -ready-file and
//	           waits until -go-file exists (the capture is started in that
//	           window), then phase 2 calls the same and new methods on the same
//	           connection (including a server-streaming call) and exits.
//	concurrent one connection; 16 SayHello and 4 SayHelloStream calls at once,
//	           every other one gzip-compressed, so that streams interleave
//	           on the wire.
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"

	hwpb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/helloworld"
	muxspb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/muxs"
)

var (
	addr      = flag.String("addr", "127.0.0.1:50051", "server address")
	scenario  = flag.String("scenario", "simple", "simple | midstream | concurrent")
	names     = flag.String("names", "world", "comma-separated names for the simple scenario")
	readyFile = flag.String("ready-file", "", "midstream: file created after phase 1")
	goFile    = flag.String("go-file", "", "midstream: phase 2 starts once this file exists")
)

func sayHello(ctx context.Context, c hwpb.GreeterClient, name string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r, err := c.SayHello(ctx, &hwpb.HelloRequest{Name: name})
	if err != nil {
		log.Fatalf("SayHello(%q): %v", name, err)
	}
	log.Printf("SayHello(%q) -> %q", name, r.GetMessage())
}

func square(ctx context.Context, c hwpb.GreeterClient, v float32) {
	r, err := c.Square(ctx, &hwpb.Number{Value: v})
	if err != nil {
		log.Fatalf("Square(%v): %v", v, err)
	}
	log.Printf("Square(%v) -> %v", v, r.GetValue())
}

func main() {
	flag.Parse()
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	gc := hwpb.NewGreeterClient(conn)

	switch *scenario {
	case "simple":
		for _, n := range strings.Split(*names, ",") {
			sayHello(ctx, gc, n)
		}
	case "midstream":
		// Phase 1: not captured.
		mctx := metadata.AppendToOutgoingContext(ctx, "x-request-source", "grpcsniff-midstream")
		sayHello(mctx, gc, "alpha")
		sayHello(mctx, gc, "beta")
		square(mctx, gc, 3)
		sayHello(mctx, gc, "gamma")
		if *readyFile != "" {
			if err := os.WriteFile(*readyFile, []byte("phase1 done\n"), 0o644); err != nil {
				log.Fatal(err)
			}
		}
		log.Printf("phase 1 done; waiting for %s", *goFile)
		deadline := time.Now().Add(60 * time.Second)
		for *goFile != "" {
			if _, err := os.Stat(*goFile); err == nil {
				break
			}
			if time.Now().After(deadline) {
				log.Fatalf("timed out waiting for %s", *goFile)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// Phase 2: captured. Same methods (their :path etc. are in the
		// HPACK dynamic table already) and new ones.
		sayHello(mctx, gc, "delta")
		square(mctx, gc, 5)
		stream, err := gc.SayHelloStream(mctx, &hwpb.HelloRequest{Name: "stream"})
		if err != nil {
			log.Fatal(err)
		}
		for {
			r, err := stream.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				log.Fatalf("SayHelloStream: %v", err)
			}
			log.Printf("SayHelloStream -> %q", r.GetMessage())
		}
		fc := muxspb.NewFileControllerClient(conn)
		rr, err := fc.Read(mctx, &muxspb.ReadRequest{Path: "/hello.txt"})
		if err != nil {
			log.Fatalf("Read: %v", err)
		}
		log.Printf("Read(/hello.txt) -> %q", rr.GetData())
		sayHello(mctx, gc, "epsilon")
	case "concurrent":
		// Warm the connection up first so that all calls start together.
		sayHello(ctx, gc, "warmup")
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < 20; i++ {
			var opts []grpc.CallOption
			if i%2 == 1 {
				opts = append(opts, grpc.UseCompressor(gzip.Name))
			}
			name := "c" + strings.Repeat("x", i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if i%5 == 4 {
					stream, err := gc.SayHelloStream(ctx, &hwpb.HelloRequest{Name: name}, opts...)
					if err != nil {
						log.Fatal(err)
					}
					for {
						if _, err := stream.Recv(); err == io.EOF {
							return
						} else if err != nil {
							log.Fatalf("SayHelloStream(%q): %v", name, err)
						}
					}
				}
				if _, err := gc.SayHello(ctx, &hwpb.HelloRequest{Name: name}, opts...); err != nil {
					log.Fatalf("SayHello(%q): %v", name, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		log.Printf("20 concurrent calls done")
	default:
		log.Fatalf("unknown scenario %q", *scenario)
	}
}
