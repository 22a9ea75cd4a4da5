//go:build linux

// Command soak runs a live capture under steady load for a long time and
// prints, every interval, what a run of days must keep flat: the capture's
// resident memory, goroutines and heap, threads, open files, and the
// packets, drops and calls it saw against the calls made.
//
//	go run ./scripts/soak [-duration 1h] [-every 1m] [-rate 200] [-workers 8] [-grpcsniff PATH]
//
// It needs root (or CAP_NET_RAW): it serves gRPC's interop TestService on a
// free loopback port, starts grpcsniff -i lo on that port with --json, and
// keeps -rate calls a second going from -workers clients, each of which
// opens a new connection every -reconnect (so the connection table turns
// over) and makes unary calls mostly, with a server-streaming and a
// client-streaming call now and then. The status comes from the capture
// itself (SIGUSR1, see grpcsniff's README) and from /proc. At the end the
// capture is stopped with Ctrl-C and its summary printed; the exit status
// is 1 when calls made were not seen, or the capture failed.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
)

type options struct {
	duration, every, reconnect time.Duration
	rate, workers              int
	grpcsniff                  string
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", time.Hour, "how long to run")
	flag.DurationVar(&o.every, "every", time.Minute, "how often to print the status")
	flag.DurationVar(&o.reconnect, "reconnect", 10*time.Second, "how long a client keeps a connection")
	flag.IntVar(&o.rate, "rate", 200, "calls a second, in all")
	flag.IntVar(&o.workers, "workers", 8, "clients making the calls")
	flag.StringVar(&o.grpcsniff, "grpcsniff", "", "grpcsniff `binary` (default: build ./cmd/grpcsniff)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.grpcsniff == "" {
		bin, err := build()
		if err != nil {
			return err
		}
		o.grpcsniff = bin
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServiceServer(srv, testService{})
	go srv.Serve(lis)
	defer srv.Stop()
	port := lis.Addr().(*net.TCPAddr).Port

	cap, err := startCapture(o.grpcsniff, port)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	var made atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	for i := range o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			load(ctx, lis.Addr().String(), o, i, &made, &failed)
		}()
	}
	fmt.Printf("soak: %d calls/s from %d clients to 127.0.0.1:%d for %v, grpcsniff pid %d\n", o.rate, o.workers, port, o.duration, cap.cmd.Process.Pid)
	fmt.Println("elapsed    rss      heap    goroutines threads fds  packets     dropped calls-seen calls-made failed")
	start := time.Now()
	tick := time.NewTicker(o.every)
	defer tick.Stop()
	report := func() { fmt.Println(cap.row(time.Since(start), made.Load(), failed.Load())) }
	report()
	for done := false; !done; {
		select {
		case <-tick.C:
			report()
		case <-ctx.Done():
			done = true
		}
	}
	wg.Wait()
	time.Sleep(time.Second) // the last segments reach the ring
	report()
	return cap.finish(made.Load())
}

// build compiles ./cmd/grpcsniff into a temporary directory.
func build() (string, error) {
	dir, err := os.MkdirTemp("", "soak")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "grpcsniff")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/grpcsniff").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/grpcsniff (run from the repository's root): %v\n%s", err, out)
	}
	return bin, nil
}

// capture is the running grpcsniff: its calls are counted as they come,
// its status lines kept.
type capture struct {
	cmd    *exec.Cmd
	calls  atomic.Int64
	mu     sync.Mutex
	status string   // the last status line
	stderr []string // every other line of standard error
	done   chan struct{}
}

func startCapture(bin string, port int) (*capture, error) {
	c := &capture{done: make(chan struct{})}
	c.cmd = exec.Command(bin, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "--json")
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan struct{})
	go c.readStderr(stderr, ready)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			c.calls.Add(1)
		}
		io.Copy(io.Discard, stdout)
		close(c.done)
	}()
	select {
	case <-ready:
		return c, nil
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		return nil, fmt.Errorf("grpcsniff did not start capturing in 20 s: %s", strings.Join(c.lines(), "\n"))
	}
}

func (c *capture) readStderr(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	once := sync.Once{}
	for sc.Scan() {
		line := sc.Text()
		c.mu.Lock()
		if statusRE.MatchString(line) {
			c.status = line
		} else {
			c.stderr = append(c.stderr, line)
		}
		c.mu.Unlock()
		if strings.Contains(line, "capturing on") {
			once.Do(func() { close(ready) })
		}
	}
}

func (c *capture) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.stderr...)
}

// statusRE reads grpcsniff's SIGUSR1 status line.
var statusRE = regexp.MustCompile(`(\d+) packets? captured on \S+, (\d+) dropped by the kernel, (\d+) by the interface; (\d+) goroutines, heap (\S+) in use`)

// row asks the capture for its status and reads /proc: one line of the
// table.
func (c *capture) row(elapsed time.Duration, made, failed int64) string {
	c.mu.Lock()
	c.status = ""
	c.mu.Unlock()
	c.cmd.Process.Signal(syscall.SIGUSR1)
	var m []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		c.mu.Lock()
		m = statusRE.FindStringSubmatch(c.status)
		c.mu.Unlock()
		if m != nil {
			break
		}
	}
	if m == nil {
		m = []string{"", "?", "?", "?", "?", "?"}
	}
	pid := c.cmd.Process.Pid
	return fmt.Sprintf("%-10s %-8s %-7s %-10s %-7s %-4s %-11s %-7s %-10d %-10d %d",
		elapsed.Round(time.Second), procField(pid, "VmRSS"), m[5], m[4], procField(pid, "Threads"), fdCount(pid),
		m[1], m[2], c.calls.Load(), made, failed)
}

// procField is a field of /proc/PID/status, shortened ("123456 kB" as
// "121MiB").
func procField(pid int, name string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 2 && f[1] == "kB" {
			kb, _ := strconv.Atoi(f[0])
			return fmt.Sprintf("%.1fMiB", float64(kb)/1024)
		}
		return strings.Join(f, " ")
	}
	return "?"
}

func fdCount(pid int) string {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return "?"
	}
	return strconv.Itoa(len(es))
}

// finish stops the capture with Ctrl-C and checks that it saw every call
// made.
func (c *capture) finish(made int64) error {
	c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		c.cmd.Process.Kill()
		return fmt.Errorf("grpcsniff did not stop within 60 s of Ctrl-C")
	}
	err := c.cmd.Wait()
	fmt.Println("grpcsniff's summary:")
	for _, l := range c.lines() {
		fmt.Println("  " + l)
	}
	if err != nil {
		return fmt.Errorf("grpcsniff: %v", err)
	}
	if seen := c.calls.Load(); seen < made {
		return fmt.Errorf("%d calls made, %d seen", made, seen)
	}
	return nil
}

// load makes calls at its share of the rate, on a connection it replaces
// every o.reconnect.
func load(ctx context.Context, addr string, o options, worker int, made, failed *atomic.Int64) {
	every := time.Duration(float64(time.Second) * float64(o.workers) / float64(o.rate))
	tick := time.NewTicker(every)
	defer tick.Stop()
	for ctx.Err() == nil {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			failed.Add(1)
			time.Sleep(time.Second)
			continue
		}
		client := testpb.NewTestServiceClient(conn)
		until := time.Now().Add(o.reconnect)
		for n := worker; ctx.Err() == nil && time.Now().Before(until); n++ {
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			if err := oneCall(ctx, client, n); err != nil {
				if ctx.Err() == nil {
					failed.Add(1)
				}
				continue
			}
			made.Add(1)
		}
		conn.Close()
	}
}

// oneCall makes the n-th call of a worker: unary mostly, every 50th a
// server stream, every 97th a client stream.
func oneCall(ctx context.Context, c testpb.TestServiceClient, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	switch {
	case n%50 == 0:
		st, err := c.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: 10}, {Size: 2000}, {Size: 5}}})
		if err != nil {
			return err
		}
		for {
			if _, err := st.Recv(); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
		}
	case n%97 == 0:
		st, err := c.StreamingInputCall(ctx)
		if err != nil {
			return err
		}
		for _, size := range []int{3, 3000, 30} {
			if err := st.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: make([]byte, size)}}); err != nil {
				return err
			}
		}
		_, err = st.CloseAndRecv()
		return err
	}
	_, err := c.UnaryCall(ctx, &testpb.SimpleRequest{ResponseSize: int32(n % 500), Payload: &testpb.Payload{Body: make([]byte, n%300)}})
	return err
}

// testService answers the calls soak makes.
type testService struct {
	testpb.UnimplementedTestServiceServer
}

func (testService) UnaryCall(_ context.Context, r *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, r.GetResponseSize())}}, nil
}

func (testService) StreamingOutputCall(r *testpb.StreamingOutputCallRequest, st testpb.TestService_StreamingOutputCallServer) error {
	for _, p := range r.GetResponseParameters() {
		if err := st.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.GetSize())}}); err != nil {
			return err
		}
	}
	return nil
}

func (testService) StreamingInputCall(st testpb.TestService_StreamingInputCallServer) error {
	total := 0
	for {
		r, err := st.Recv()
		if err == io.EOF {
			return st.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: int32(total)})
		}
		if err != nil {
			return err
		}
		total += len(r.GetPayload().GetBody())
	}
}
