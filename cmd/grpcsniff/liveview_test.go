//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
)

// In a live capture, a streaming call is a row from its first message and
// grows as replies arrive, marked open, until it ends: a grpc-go server
// streams eight replies 400 ms apart.
func TestLiveViewShowsOpenCalls(t *testing.T) {
	requireLive(t)
	addr, port := startTestServer(t)
	term, _, status := newTerminal(t, 160, 30, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port))
	term.wait("the capture running", func(s string) bool { return strings.Contains(s, "capturing") })

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	params := make([]*testpb.ResponseParameters, 8)
	for i := range params {
		params[i] = &testpb.ResponseParameters{Size: 10, IntervalUs: 400_000}
	}
	stream, err := testpb.NewTestServiceClient(conn).StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{ResponseParameters: params})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := stream.Recv(); err != nil {
				if err == io.EOF {
					err = nil
				}
				done <- err
				return
			}
		}
	}()
	growing := regexp.MustCompile(`StreamingOutputCall .* ↑1 ↓([2-6]) .*\[open\]`)
	s := term.wait("the call open, with some of its replies", func(s string) bool { return growing.MatchString(s) })
	select {
	case <-done:
		t.Fatalf("the call ended before the screen showed it open:\n%s", s)
	default:
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	term.wait("the call ended", func(s string) bool {
		return strings.Contains(s, "StreamingOutputCall") && strings.Contains(s, "↑1 ↓8") && !strings.Contains(s, "[open]")
	})
	term.keys("q", "q")
	term.waitFile(status)
}

// A live view with -w keeps a record of each call, not the call, when
// --ui-keep-bytes says so, and opening one reads it from the -w file: a
// unary call of a real grpc-go peer, opened after it ended.
func TestLiveViewReadsCallsFromWriteFile(t *testing.T) {
	requireLive(t)
	addr, port := startTestServer(t)
	out := t.TempDir() + "/live.pcapng"
	term, _, status := newTerminal(t, 160, 30, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "-w", out, "--ui-keep-bytes", "0")
	term.wait("the capture running", func(s string) bool { return strings.Contains(s, "capturing") })
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := testpb.NewTestServiceClient(conn).UnaryCall(ctx, &testpb.SimpleRequest{ResponseSize: 7}); err != nil {
		t.Fatal(err)
	}
	term.wait("the call listed", func(s string) bool { return strings.Contains(s, "UnaryCall") && strings.Contains(s, "↑1 ↓1") })
	term.keys("?", "G")
	term.wait("the help saying no call is kept whole", func(s string) bool { return strings.Contains(s, "in full: up to 0 MiB") })
	term.keys("Escape")
	term.wait("the list again", func(s string) bool { return strings.Contains(s, "enter open") })
	time.Sleep(time.Second) // the -w file is flushed when the network is quiet
	term.keys("g", "Enter")
	term.wait("the call opened from the -w file", func(s string) bool {
		return strings.Contains(s, "Request headers") && strings.Contains(s, ":path: /grpc.testing.TestService/UnaryCall")
	})
	term.keys("Escape") // alone: an escape followed at once by q reads as alt+q
	term.wait("the list again", func(s string) bool { return strings.Contains(s, "enter open") })
	term.keys("q", "q")
	term.waitFile(status)
}
