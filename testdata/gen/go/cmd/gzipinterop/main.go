// Command gzipinterop runs the grpc-go interop TestService (grpc.testing) with
// gzip message compression, or all cases on one connection.
//
// The stock grpc-go interop client has no compression flag, so this program
// wraps the same interop test-case functions (google.golang.org/grpc/interop)
// and adds grpc.UseCompressor(gzip.Name) as a default call option. The server
// mode is the stock interop TestService with the gzip codec registered, so it
// answers gzip-compressed requests with gzip-compressed responses. With
// -gzip=false -one_conn, the client runs every case on one ClientConn, as a
// long-lived client does, which the stock client (a connection per case)
// cannot.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
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
	cases := flag.String("test_cases", "empty_unary,large_unary,client_streaming,server_streaming,ping_pong,custom_metadata,status_code_and_message,special_status_message,unimplemented_method,cancel_after_begin,timeout_on_sleeping_server", "comma-separated interop test cases (client mode)")
	compress := flag.Bool("gzip", true, "compress every message with gzip (client mode)")
	rounds := flag.Int("rounds", 1, "run the case list this many times (client mode)")
	deadline := flag.Duration("deadline", 0, "give every call of a case this deadline, as most long-lived clients do (client mode; 0: none)")
	tableSize := flag.Uint("header_table_size", 0, "HPACK dynamic table size the server allows its peers' encoders (server mode; 0: the default 4096)")
	methodsLog := flag.String("methods_log", "", "write each call's method to this file, one JSON line per call in the order they start (client mode)")
	oneConn := flag.Bool("one_conn", false, "run every case on one connection instead of one connection per case (client mode)")
	flag.Parse()

	if *mode == "server" {
		lis, err := net.Listen("tcp", *addr)
		if err != nil {
			log.Fatal(err)
		}
		var sopts []grpc.ServerOption
		if *tableSize > 0 {
			sopts = append(sopts, grpc.HeaderTableSize(uint32(*tableSize)))
		}
		s := grpc.NewServer(sopts...)
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

	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if *methodsLog != "" {
		opts = append(opts, logMethods(*methodsLog)...)
	}
	if *compress {
		opts = append(opts, grpc.WithDefaultCallOptions(grpc.UseCompressor(gzip.Name)))
	}
	var shared *grpc.ClientConn
	if *oneConn {
		shared = dial(*addr, opts)
		defer shared.Close()
	}
	for round := 0; round < *rounds; round++ {
		for _, tc := range strings.Split(*cases, ",") {
			conn := shared
			if conn == nil {
				conn = dial(*addr, opts)
			}
			runCase(tc, conn, *deadline)
			log.Printf("%s done (round %d, gzip %v)", tc, round+1, *compress)
			if shared == nil {
				conn.Close()
			}
		}
	}
}

// dial connects before a case runs, so that cancel_after_begin and
// timeout_on_sleeping_server (1 ms deadline) reliably put their stream on
// the wire instead of failing while still connecting.
func dial(addr string, opts []grpc.DialOption) *grpc.ClientConn {
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		log.Fatal(err)
	}
	conn.Connect()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	for st := conn.GetState(); st != connectivity.Ready; st = conn.GetState() {
		if !conn.WaitForStateChange(wctx, st) {
			log.Fatalf("connection not ready: %v", st)
		}
	}
	return conn
}

// runCase runs one interop test case on conn.
// A deadline puts a grpc-timeout header, a value of its own, in every
// request: each is a new entry in the client's HPACK table.
func runCase(tc string, conn *grpc.ClientConn, deadline time.Duration) {
	ctx := context.Background()
	if deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, deadline)
		defer cancel()
	}
	run, ok := interopCases[tc]
	if !ok {
		log.Fatalf("unsupported test case %q", tc)
	}
	run(ctx, testgrpc.NewTestServiceClient(conn), conn)
}

// interopCases are the interop test cases this client runs, by name.
var interopCases = map[string]func(context.Context, testgrpc.TestServiceClient, *grpc.ClientConn){
	"empty_unary": func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) {
		interop.DoEmptyUnaryCall(ctx, c)
	},
	"large_unary": func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) {
		interop.DoLargeUnaryCall(ctx, c)
	},
	"client_streaming": func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) {
		interop.DoClientStreaming(ctx, c)
	},
	"server_streaming": func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) {
		interop.DoServerStreaming(ctx, c)
	},
	"ping_pong": func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) {
		interop.DoPingPong(ctx, c)
	},
	"empty_stream": func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) {
		interop.DoEmptyStream(ctx, c)
	},
	"custom_metadata": func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) {
		interop.DoCustomMetadata(ctx, c)
	},
	"status_code_and_message": func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) {
		interop.DoStatusCodeAndMessage(ctx, c)
	},
	"special_status_message": func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) {
		interop.DoSpecialStatusMessage(ctx, c)
	},
	"unimplemented_method": func(ctx context.Context, _ testgrpc.TestServiceClient, cc *grpc.ClientConn) {
		interop.DoUnimplementedMethod(ctx, cc)
	},
	"cancel_after_begin": func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) {
		interop.DoCancelAfterBegin(ctx, c)
	},
	"cancel_after_first_response": func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) {
		interop.DoCancelAfterFirstResponse(ctx, c)
	},
	"timeout_on_sleeping_server": func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) {
		interop.DoTimeoutOnSleepingServer(ctx, c)
	},
	"unimplemented_service": func(ctx context.Context, _ testgrpc.TestServiceClient, cc *grpc.ClientConn) {
		interop.DoUnimplementedService(ctx, testgrpc.NewUnimplementedServiceClient(cc))
	},
}

// logMethods returns interceptors that write each call's method to path as
// it starts: {"call":N,"method":"/pkg.Svc/Method"}. The cases make their
// calls one after another, so on one connection call N is HTTP/2 stream
// 2N-1.
func logMethods(path string) []grpc.DialOption {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	write := func(method string) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if _, err := fmt.Fprintf(f, "{\"call\":%d,\"method\":%q}\n", n, method); err != nil {
			log.Fatal(err)
		}
	}
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, o ...grpc.CallOption) error {
		write(method)
		return invoker(ctx, method, req, reply, cc, o...)
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, o ...grpc.CallOption) (grpc.ClientStream, error) {
		write(method)
		return streamer(ctx, desc, cc, method, o...)
	}
	return []grpc.DialOption{grpc.WithChainUnaryInterceptor(unary), grpc.WithChainStreamInterceptor(stream)}
}
