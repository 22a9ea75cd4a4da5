// Command gzipinterop runs the grpc-go interop TestService (grpc.testing) with
// gzip message compression.
//
// The stock grpc-go interop client has no compression flag, so this program
// wraps the same interop test-case functions (google.golang.org/grpc/interop)
// and adds grpc.UseCompressor(gzip.Name) as a default call option. The server
// mode is the stock interop TestService with the gzip codec registered, so it
// answers gzip-compressed requests with gzip-compressed responses.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/interop"

	testgrpc "google.golang.org/grpc/interop/grpc_testing"
)

func main() {
	mode := flag.String("mode", "client", "server | client")
	addr := flag.String("addr", "127.0.0.1:10000", "listen/dial address")
	cases := flag.String("test_cases", "empty_unary,large_unary,client_streaming,server_streaming,ping_pong,custom_metadata,status_code_and_message,special_status_message,unimplemented_method,cancel_after_begin,timeout_on_sleeping_server", "comma-separated interop test cases (client mode); each runs on its own connection")
	flag.Parse()

	if *mode == "server" {
		lis, err := net.Listen("tcp", *addr)
		if err != nil {
			log.Fatal(err)
		}
		s := grpc.NewServer()
		testgrpc.RegisterTestServiceServer(s, interop.NewTestServer())
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		go func() { <-sig; s.Stop() }()
		log.Printf("gzip interop server on %s", lis.Addr())
		if err := s.Serve(lis); err != nil {
			log.Fatal(err)
		}
		return
	}

	for _, tc := range strings.Split(*cases, ",") {
		conn, err := grpc.NewClient(*addr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.UseCompressor(gzip.Name)))
		if err != nil {
			log.Fatal(err)
		}
		ctx := context.Background()
		// Connect before running the case, so that cancel_after_begin and
		// timeout_on_sleeping_server (1 ms deadline) reliably put their
		// stream on the wire instead of failing while still connecting.
		conn.Connect()
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		for st := conn.GetState(); st != connectivity.Ready; st = conn.GetState() {
			if !conn.WaitForStateChange(wctx, st) {
				log.Fatalf("%s: connection not ready: %v", tc, st)
			}
		}
		wcancel()
		c := testgrpc.NewTestServiceClient(conn)
		switch tc {
		case "empty_unary":
			interop.DoEmptyUnaryCall(ctx, c)
		case "large_unary":
			interop.DoLargeUnaryCall(ctx, c)
		case "client_streaming":
			interop.DoClientStreaming(ctx, c)
		case "server_streaming":
			interop.DoServerStreaming(ctx, c)
		case "ping_pong":
			interop.DoPingPong(ctx, c)
		case "custom_metadata":
			interop.DoCustomMetadata(ctx, c)
		case "status_code_and_message":
			interop.DoStatusCodeAndMessage(ctx, c)
		case "special_status_message":
			interop.DoSpecialStatusMessage(ctx, c)
		case "unimplemented_method":
			interop.DoUnimplementedMethod(ctx, conn)
		case "cancel_after_begin":
			interop.DoCancelAfterBegin(ctx, c)
		case "timeout_on_sleeping_server":
			interop.DoTimeoutOnSleepingServer(ctx, c)
		default:
			log.Fatalf("unsupported test case %q", tc)
		}
		log.Printf("%s done (gzip)", tc)
		conn.Close()
	}
}
