//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
)

// requireLive fails the test when this process may not capture packets,
// unless GRPCSNIFF_NO_LIVE=1 says that is expected (then it skips). Under
// emulation (see emulated) and on 32-bit platforms it skips, saying why.
func requireLive(t *testing.T) {
	t.Helper()
	if emulated() {
		t.Skip("GRPCSNIFF_EMULATED=1: live capture tests cannot run under qemu-user emulation " +
			"(they capture through AF_PACKET sockets and their packet ring, and start this foreign test binary again as the command)")
	}
	if strconv.IntSize == 32 {
		t.Skip("live capture tests skipped on 32-bit platforms: gopacket's afpacket.TPacket keeps its 64-bit " +
			"atomic counters unaligned there and panics on the first packet (gopacket/gopacket issue 133)")
	}
	if os.Getenv("GRPCSNIFF_NO_LIVE") == "1" {
		t.Skip("GRPCSNIFF_NO_LIVE=1: live capture tests skipped")
	}
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, 0)
	if err != nil {
		t.Fatalf("live capture tests need root or CAP_NET_RAW (opening an AF_PACKET socket: %v); set GRPCSNIFF_NO_LIVE=1 to skip them", err)
	}
	syscall.Close(fd)
}

// testService answers the four kinds of call of grpc.testing.TestService.
type testService struct {
	testpb.UnimplementedTestServiceServer
}

func (testService) UnaryCall(_ context.Context, r *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, r.GetResponseSize())}, Username: "live"}, nil
}

func (testService) StreamingOutputCall(r *testpb.StreamingOutputCallRequest, st testpb.TestService_StreamingOutputCallServer) error {
	for _, p := range r.GetResponseParameters() {
		// As the interop server does: wait the interval before each reply.
		time.Sleep(time.Duration(p.GetIntervalUs()) * time.Microsecond)
		if err := st.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.GetSize())}}); err != nil {
			return err
		}
	}
	return nil
}

func (testService) StreamingInputCall(st testpb.TestService_StreamingInputCallServer) error {
	n := 0
	for {
		r, err := st.Recv()
		if err == io.EOF {
			return st.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: int32(n)})
		}
		if err != nil {
			return err
		}
		n += len(r.GetPayload().GetBody())
	}
}

func (testService) FullDuplexCall(st testpb.TestService_FullDuplexCallServer) error {
	for {
		r, err := st.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for _, p := range r.GetResponseParameters() {
			if err := st.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.GetSize())}}); err != nil {
				return err
			}
		}
	}
}

// startTestServer serves testService on a free loopback port until the
// test ends.
func startTestServer(t *testing.T, opts ...grpc.ServerOption) (addr string, port int) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	testpb.RegisterTestServiceServer(srv, testService{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), lis.Addr().(*net.TCPAddr).Port
}

// fourKinds makes one call of each kind through conn.
func fourKinds(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := testpb.NewTestServiceClient(conn)
	if _, err := c.UnaryCall(ctx, &testpb.SimpleRequest{ResponseSize: 100, Payload: &testpb.Payload{Body: make([]byte, 50)}}); err != nil {
		t.Fatal(err)
	}
	so, err := c.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: 10}, {Size: 20000}, {Size: 30}}})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := so.Recv(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	si, err := c.StreamingInputCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{5, 70000, 7} {
		if err := si.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: make([]byte, n)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := si.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
	fd, err := c.FullDuplexCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int32{1, 2, 3} {
		if err := fd.Send(&testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: n}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := fd.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	fd.CloseSend()
	if _, err := fd.Recv(); err != io.EOF {
		t.Fatalf("full duplex end: %v", err)
	}
}

// sniffer is the command running as a child process.
type sniffer struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer // read only after done
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan struct{} // closed when the process has exited
}

func (s *sniffer) errText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// startSniffer runs the command (this test binary, as main) with args and
// waits until it says it is capturing.
func startSniffer(t *testing.T, args ...string) *sniffer {
	t.Helper()
	return startCommand(t, exec.Command(os.Args[0], args...))
}

// startCommand is startSniffer for a command made ready to run (another
// copy of this binary, another user).
func startCommand(t *testing.T, cmd *exec.Cmd) *sniffer {
	t.Helper()
	s := &sniffer{done: make(chan struct{}), cmd: cmd}
	s.cmd.Env = append(os.Environ(), "GRPCSNIFF_RUN_MAIN=1")
	s.cmd.Stdout = &s.stdout
	pr, pw := io.Pipe()
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		said := false
		for sc.Scan() {
			s.mu.Lock()
			s.stderr.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if !said && strings.Contains(sc.Text(), "capturing on") {
				said = true
				ready <- true
			}
		}
		if !said {
			ready <- false
		}
	}()
	go func() {
		s.cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	select {
	case ok := <-ready:
		if !ok {
			<-s.done
			t.Fatalf("the capture did not start: %s", s.errText())
		}
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("the capture did not start in 20 s: %s", s.errText())
	}
	return s
}

// stop sends sig and waits for the exit, killing the process if it hangs.
func (s *sniffer) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Fatalf("the capture did not stop within 20 s of %v: %s", sig, s.errText())
	}
}

// liveCalls parses NDJSON call lines, keyed by endpoints and stream, with
// what both decodings must agree on.
func liveCalls(t *testing.T, ndjson string) map[string]map[string]any {
	t.Helper()
	calls := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(ndjson), "\n") {
		if line == "" {
			continue
		}
		var c map[string]any
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if c["partial"] != nil {
			continue
		}
		key := fmt.Sprintf("%v %v %v", c["client"], c["server"], c["stream_id"])
		if calls[key] != nil {
			t.Fatalf("call %s twice", key)
		}
		calls[key] = c
	}
	return calls
}

// A real grpc-go client and server exchange the four kinds of call on
// loopback while grpcsniff captures with -w; the calls it printed live are
// the calls decoded from the file it wrote, each packet was seen once, and
// Ctrl-C ended the capture cleanly.
func TestLiveLoopbackFourKinds(t *testing.T) {
	requireLive(t)
	addr, port := startTestServer(t)

	dir := t.TempDir()
	pcap := filepath.Join(dir, "live.pcapng")
	sn := startSniffer(t, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "--json", "--partial", "-w", pcap)

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	fourKinds(t, conn)
	conn.Close()
	// Let the last segments (FIN, ACK) reach the ring before stopping.
	time.Sleep(300 * time.Millisecond)
	sn.stop(t, os.Interrupt)
	stderr := sn.errText()
	if code := sn.cmd.ProcessState.ExitCode(); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "0 packets dropped by the kernel") {
		t.Errorf("no drop report at exit: %s", stderr)
	}

	live := liveCalls(t, sn.stdout.String())
	var methods []string
	for _, c := range live {
		methods = append(methods, fmt.Sprint(c["method"]))
		if c["state"] != "complete" || c["lost_bytes"] != nil {
			t.Errorf("call %v: state %v lost %v", c["method"], c["state"], c["lost_bytes"])
		}
	}
	slices.Sort(methods)
	want := []string{"/grpc.testing.TestService/FullDuplexCall", "/grpc.testing.TestService/StreamingInputCall",
		"/grpc.testing.TestService/StreamingOutputCall", "/grpc.testing.TestService/UnaryCall"}
	if !slices.Equal(methods, want) {
		t.Fatalf("live calls %v, want %v\n%s", methods, want, stderr)
	}
	// --partial: a line per message, before the call's own line.
	partials := strings.Count(sn.stdout.String(), `"partial":"message"`)
	if partials != 1+1+1+3+3+1+3+3 {
		t.Errorf("%d partial message lines, want 16", partials)
	}

	out, errs, code := runCmd(t, nil, "-r", pcap, "--json", "-q")
	if code != exitOK {
		t.Fatalf("reading the -w file: exit %d: %s", code, errs)
	}
	fromFile := liveCalls(t, out)
	if len(fromFile) != len(live) {
		t.Fatalf("%d calls live, %d from the -w file", len(live), len(fromFile))
	}
	for k, c := range live {
		f := fromFile[k]
		lj, _ := json.Marshal(c)
		fj, _ := json.Marshal(f)
		if !bytes.Equal(lj, fj) {
			t.Errorf("call %s differs:\nlive %s\nfile %s", k, lj, fj)
		}
	}

	// Each packet once: on loopback the kernel also hands over the
	// outgoing copy of every packet, which would read as retransmissions.
	src, err := capture.OpenFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tcp := capture.NewAssembler(nopFactory{}, capture.Options{})
	if err := tcp.ReadAll(src); err != nil {
		t.Fatal(err)
	}
	if st := tcp.Stats(); st.RetransmittedSegments != 0 || st.Packets < 20 {
		t.Errorf("%d packets, %d seen twice", st.Packets, st.RetransmittedSegments)
	}
}

// nopFactory follows every connection and throws its bytes away.
type nopFactory struct{}

func (nopFactory) NewConn(*capture.ConnInfo) capture.ConnHandler { return nopConn{} }

type nopConn struct{}

func (nopConn) Data(capture.Side, []byte, time.Time) {}
func (nopConn) Gap(capture.Side, int64, time.Time)   {}
func (nopConn) End(capture.EndReason, time.Time)     {}

// selfSigned makes a certificate for "live.test", valid now.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "live.test"},
		DNSNames: []string{"live.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// gRPC over TLS captured live, with the client's key log written while the
// capture runs: the calls are decrypted live (the keys are read as the file
// grows), and the -w file carries the secrets, so it decodes alone.
func TestLiveTLSKeylogFollowed(t *testing.T) {
	requireLive(t)
	cert := selfSigned(t)
	addr, port := startTestServer(t, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))

	dir := t.TempDir()
	keylog := filepath.Join(dir, "keys.log") // written by the client below, after the capture starts
	pcap := filepath.Join(dir, "tls.pcapng")
	sn := startSniffer(t, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "--json", "--keylog", keylog, "-w", pcap)

	kf, err := os.Create(keylog)
	if err != nil {
		t.Fatal(err)
	}
	defer kf.Close()
	pool := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	pool.AddCert(leaf)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		RootCAs: pool, ServerName: "live.test", KeyLogWriter: kf})))
	if err != nil {
		t.Fatal(err)
	}
	callAndStop(t, sn, conn, syscall.SIGTERM)
	live := liveCalls(t, sn.stdout.String())
	if len(live) != 4 {
		t.Fatalf("%d calls decrypted live, want 4:\n%s\n%s", len(live), sn.stdout.String(), sn.errText())
	}
	for _, c := range live {
		if c["transport"] != "h2" || c["state"] != "complete" || c["tls"] == nil {
			t.Errorf("call %v: transport %v state %v tls %v", c["method"], c["transport"], c["state"], c["tls"])
		}
	}
	// No --keylog: the secrets come from the file itself.
	out, errs, code := runCmd(t, nil, "-r", pcap, "--json", "-q")
	if code != exitOK {
		t.Fatalf("reading the -w file: exit %d: %s", code, errs)
	}
	fromFile := liveCalls(t, out)
	for k, c := range live {
		lj, _ := json.Marshal(c)
		fj, _ := json.Marshal(fromFile[k])
		if !bytes.Equal(lj, fj) {
			t.Errorf("call %s differs:\nlive %s\nfile %s", k, lj, fj)
		}
	}
}

// -Z drops root once the input is open: the capture runs on as "nobody"
// (its user and group ids, and no supplementary group of root's) and
// still sees the calls made after the drop, and it creates its -w file as
// "nobody"; reading a file, what is read after the capture (the key log)
// is read as "nobody" too.
func TestDropPrivileges(t *testing.T) {
	requireLive(t)
	if os.Geteuid() != 0 {
		t.Fatal("-Z needs root to test; set GRPCSNIFF_NO_LIVE=1 to skip the live tests")
	}
	dir := sharedTempDir(t)
	secret := filepath.Join(dir, "root-only.keys")
	os.WriteFile(secret, []byte("# root's\n"), 0o600)
	addr, port := startTestServer(t)

	pcap := filepath.Join(dir, "as-nobody.pcapng")
	sn := startSniffer(t, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "--json", "-Z", "nobody", "-w", pcap)
	ids := procIDs(t, sn.cmd.Process.Pid)
	if ids["Uid"] != "65534 65534 65534 65534" || ids["Gid"] != nobodyGid(t)+" "+nobodyGid(t)+" "+nobodyGid(t)+" "+nobodyGid(t) || strings.Contains(" "+ids["Groups"]+" ", " 0 ") {
		t.Errorf("after -Z nobody the capture runs with %v", ids)
	}
	plainCallAndStop(t, sn, addr)
	if n := len(liveCalls(t, sn.stdout.String())); n != 4 {
		t.Errorf("%d calls captured after -Z, want the 4 made:\n%s", n, sn.stdout.String())
	}
	fi, err := os.Stat(pcap)
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 65534 {
		t.Errorf("-w file owned by uid %d, want nobody's", uid)
	}

	cmd := exec.Command(os.Args[0], "-r", "../../testdata/pcaps/py_grpcdemo.pcap", "-Z", "nobody", "--keylog", secret)
	cmd.Env = append(os.Environ(), "GRPCSNIFF_RUN_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "permission denied") {
		t.Errorf("a root-only key log was read after -Z nobody: %v\n%s", err, out)
	}
}

// The README's way to capture without root: a copy of the binary given
// cap_net_raw and cap_net_admin by setcap, run by an unprivileged user,
// captures the calls of the loopback.
func TestFileCapabilities(t *testing.T) {
	requireLive(t)
	setcap, err := exec.LookPath("setcap")
	if os.Geteuid() != 0 || err != nil {
		t.Fatalf("this test needs root and setcap (Debian: libcap2-bin): euid %d, %v; set GRPCSNIFF_NO_LIVE=1 to skip the live tests", os.Geteuid(), err)
	}
	dir := sharedTempDir(t)
	bin := filepath.Join(dir, "grpcsniff")
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(setcap, "cap_net_raw,cap_net_admin+eip", bin).CombinedOutput(); err != nil {
		t.Fatalf("setcap: %v: %s", err, out)
	}
	addr, port := startTestServer(t)
	cmd := exec.Command(bin, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "--json")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	sn := startCommand(t, cmd)
	if ids := procIDs(t, sn.cmd.Process.Pid); !strings.HasPrefix(ids["Uid"], "65534 ") {
		t.Errorf("the capture runs with %v, not as nobody", ids)
	}
	plainCallAndStop(t, sn, addr)
	if n := len(liveCalls(t, sn.stdout.String())); n != 4 {
		t.Errorf("%d calls captured by an unprivileged user with file capabilities, want 4:\n%s\n%s", n, sn.stdout.String(), sn.errText())
	}
}

// sharedTempDir is a temporary directory that "nobody" may use: t.TempDir's
// parent is private.
func sharedTempDir(t *testing.T) string {
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o777)
	return dir
}

// plainCallAndStop is callAndStop over a new cleartext connection to addr,
// stopped with Ctrl-C.
func plainCallAndStop(t *testing.T, sn *sniffer, addr string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	callAndStop(t, sn, conn, os.Interrupt)
}

// callAndStop makes the four kinds of call through conn, and stops the
// capture with sig once their last segments had time to reach it; it must
// exit cleanly.
func callAndStop(t *testing.T, sn *sniffer, conn *grpc.ClientConn, sig os.Signal) {
	t.Helper()
	fourKinds(t, conn)
	conn.Close()
	time.Sleep(500 * time.Millisecond)
	sn.stop(t, sig)
	if code := sn.cmd.ProcessState.ExitCode(); code != exitOK {
		t.Fatalf("exit %d: %s", code, sn.errText())
	}
}

// procIDs reads the user, group and supplementary group ids a process runs
// with from /proc.
func procIDs(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if ok && (name == "Uid" || name == "Gid" || name == "Groups") {
			ids[name] = strings.Join(strings.Fields(v), " ")
		}
	}
	return ids
}

// nobodyGid is the primary group id of the user nobody.
func nobodyGid(t *testing.T) string {
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	return u.Gid
}

// wait waits for the command to exit by itself.
func (s *sniffer) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Fatalf("the capture did not stop by itself within 20 s: %s", s.errText())
	}
}

// The capture stops by itself after -c packets and after --duration, and a
// call still open when it stops is written, marked cut.
func TestLiveStopConditions(t *testing.T) {
	requireLive(t)
	addr, p := startTestServer(t)
	port := fmt.Sprintf("tcp port %d", p)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := testpb.NewTestServiceClient(conn)

	t.Run("count", func(t *testing.T) {
		sn := startSniffer(t, "-i", "lo", "-f", port, "-c", "10", "--json")
		for range 5 {
			if _, err := client.UnaryCall(context.Background(), &testpb.SimpleRequest{ResponseSize: 10}); err != nil {
				t.Fatal(err)
			}
		}
		sn.wait(t)
		if code := sn.cmd.ProcessState.ExitCode(); code != exitOK || !strings.Contains(sn.errText(), "10 packets captured") {
			t.Fatalf("exit %d: %s", code, sn.errText())
		}
	})

	t.Run("duration and cut", func(t *testing.T) {
		sn := startSniffer(t, "-i", "lo", "-f", port, "--duration", "1500ms", "--json")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		st, err := client.FullDuplexCall(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Send(&testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: 5}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Recv(); err != nil {
			t.Fatal(err)
		}
		// The stream stays open past the capture's end.
		sn.wait(t)
		if code := sn.cmd.ProcessState.ExitCode(); code != exitOK {
			t.Fatalf("exit %d: %s", code, sn.errText())
		}
		calls := liveCalls(t, sn.stdout.String())
		if len(calls) != 1 {
			t.Fatalf("%d calls, want the open one:\n%s", len(calls), sn.stdout.String())
		}
		for _, c := range calls {
			if c["state"] != "cut" || c["method"] != "/grpc.testing.TestService/FullDuplexCall" || len(c["requests"].([]any)) != 1 || len(c["responses"].([]any)) != 1 {
				t.Errorf("open call: %v %v, %d requests, %d responses", c["method"], c["state"], len(c["requests"].([]any)), len(c["responses"].([]any)))
			}
		}
	})
}

// The interactive view follows a live capture: run in a terminal (tmux),
// it shows the calls as they end and the packet count, and q ends the
// capture.
func TestLiveTUI(t *testing.T) {
	requireLive(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("the live TUI test needs tmux (apt-get install tmux; .ci/run installs it), or GRPCSNIFF_NO_LIVE=1 to skip the live tests")
	}
	addr, port := startTestServer(t)

	session := fmt.Sprintf("grpcsniff-test-%d", os.Getpid())
	cmdline := fmt.Sprintf("env GRPCSNIFF_RUN_MAIN=1 %s -i lo -f 'tcp port %d'", os.Args[0], port)
	if out, err := exec.Command("tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "30", cmdline).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	defer exec.Command("tmux", "kill-session", "-t", session).Run()
	screen := func() string {
		out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", session).Output()
		return string(out)
	}
	waitScreen := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			s := screen()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("the screen never showed %s:\n%s", what, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitScreen("the capture running", func(s string) bool { return strings.Contains(s, "capturing") })

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	fourKinds(t, conn)
	conn.Close()
	s := waitScreen("the four calls", func(s string) bool {
		return strings.Contains(s, "4 calls") && strings.Contains(s, "/grpc.testing.TestService/FullDuplexCall")
	})
	for _, m := range []string{"UnaryCall", "StreamingOutputCall", "StreamingInputCall", "FullDuplexCall"} {
		if !strings.Contains(s, "/grpc.testing.TestService/"+m) {
			t.Errorf("%s not on the screen:\n%s", m, s)
		}
	}
	if !strings.Contains(s, "0 dropped") || !strings.Contains(s, "following") {
		t.Errorf("no packet count or follow mode in the title:\n%s", s)
	}
	exec.Command("tmux", "send-keys", "-t", session, "q", "q").Run()
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("tmux", "has-session", "-t", session).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("q did not end the capture:\n%s", screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SIGUSR1 asks a running capture how it is doing, as tcpdump's does: a
// line with packets, drops, goroutines and heap, and the capture goes on.
func TestStatusSignal(t *testing.T) {
	requireLive(t)
	addr, port := startTestServer(t)
	sn := startSniffer(t, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "--json")
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fourKinds(t, conn)
	time.Sleep(300 * time.Millisecond)
	sn.cmd.Process.Signal(syscall.SIGUSR1)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(sn.errText(), "goroutines, heap") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	line := sn.errText()
	if !regexp.MustCompile(`[1-9]\d* packets captured on lo, 0 dropped by the kernel, 0 by the interface; \d+ goroutines, heap \S+ in use`).MatchString(line) {
		t.Fatalf("no status line after SIGUSR1:\n%s", line)
	}
	fourKinds(t, conn) // still capturing
	conn.Close()
	time.Sleep(300 * time.Millisecond)
	sn.stop(t, os.Interrupt)
	if n := len(liveCalls(t, sn.stdout.String())); n != 8 {
		t.Errorf("%d calls, want the 8 made before and after the status:\n%s", n, sn.errText())
	}
}

// A capture killed outright (SIGKILL: no chance to close its file) leaves
// a -w file readable up to its last flush, which a quiet moment makes:
// the calls made before the kill decode from it.
func TestWriteSurvivesKill(t *testing.T) {
	requireLive(t)
	addr, port := startTestServer(t)
	pcap := filepath.Join(t.TempDir(), "killed.pcapng")
	sn := startSniffer(t, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "--json", "-w", pcap)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	fourKinds(t, conn)
	conn.Close()
	time.Sleep(time.Second) // quiet: the file is flushed
	sn.stop(t, syscall.SIGKILL)
	out, stderr, code := runCmd(t, nil, "-r", pcap, "--json", "-q")
	if code != exitOK {
		t.Fatalf("reading the killed capture's file: exit %d: %s", code, stderr)
	}
	calls := liveCalls(t, out)
	if len(calls) != 4 {
		t.Fatalf("%d calls in the file of a killed capture, want 4:\n%s", len(calls), out)
	}
	for _, c := range calls {
		if c["state"] != "complete" {
			t.Errorf("%v: state %v", c["method"], c["state"])
		}
	}
}

// A full disk under -w (a 256 KiB tmpfs) is said once, at once; the
// capture goes on decoding every call, the file keeps what was written
// before and still decodes, and the exit status says the file is not
// whole.
func TestWriteDiskFull(t *testing.T) {
	requireLive(t)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mounting a small tmpfs needs root: %v: %s; set GRPCSNIFF_NO_LIVE=1 to skip the live tests", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	addr, port := startTestServer(t)
	pcap := filepath.Join(dir, "full.pcapng")
	sn := startSniffer(t, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "--json", "-w", pcap)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	for range 6 { // about 100 KB of packets each
		fourKinds(t, conn)
	}
	conn.Close()
	time.Sleep(500 * time.Millisecond)
	sn.stop(t, os.Interrupt)
	stderr := sn.errText()
	if n := strings.Count(stderr, "no space left on device; no more packets are written"); n != 1 {
		t.Errorf("the full disk said %d times, want once:\n%s", n, stderr)
	}
	if code := sn.cmd.ProcessState.ExitCode(); code != exitError {
		t.Errorf("exit %d, want %d: the -w file is not whole", code, exitError)
	}
	if n := len(liveCalls(t, sn.stdout.String())); n != 24 {
		t.Errorf("%d calls decoded live, want all 24 made:\n%s", n, stderr)
	}
	out, _, _ := runCmd(t, nil, "-r", pcap, "--json", "-q")
	if n := len(liveCalls(t, out)); n == 0 {
		t.Errorf("no call decodes from the file written until the disk was full")
	}
}

// A live test's server in another network namespace is this binary run
// there with GRPCSNIFF_TEST_SERVE=ADDR: it serves testService on ADDR until
// killed.
func init() {
	addr := os.Getenv("GRPCSNIFF_TEST_SERVE")
	if addr == "" {
		return
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServiceServer(srv, testService{})
	fmt.Println("serving")
	srv.Serve(lis)
	os.Exit(0)
}

// vethPair makes a veth pair whose far end is in a network namespace of its
// own, where this binary serves testService; it returns the near end's
// name and the server's address. All of it is removed when the test ends.
func vethPair(t *testing.T) (iface, addr string) {
	t.Helper()
	id := strconv.Itoa(os.Getpid() % 100000)
	ns, near, far := "gsn"+id, "gsa"+id, "gsb"+id
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s (the live tests need root and iproute2)", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ip("link", "add", near, "type", "veth", "peer", "name", far)
	t.Cleanup(func() { exec.Command("ip", "link", "del", near).Run() })
	ip("link", "set", far, "netns", ns)
	ip("addr", "add", "10.213.7.1/24", "dev", near)
	ip("link", "set", near, "up")
	ip("-n", ns, "addr", "add", "10.213.7.2/24", "dev", far)
	ip("-n", ns, "link", "set", far, "up")
	addr = "10.213.7.2:50051"
	srv := exec.Command("ip", "netns", "exec", ns, os.Args[0])
	srv.Env = append(os.Environ(), "GRPCSNIFF_TEST_SERVE="+addr)
	out, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "serving\n" {
		t.Fatalf("the server in %s did not start: %q", ns, line)
	}
	return near, addr
}

// An interface that goes down while it is captured on is said at once, and
// again when it is back; the capture goes on, and sees the calls made after
// as it saw those before.
func TestInterfaceDownAndUp(t *testing.T) {
	requireLive(t)
	iface, addr := vethPair(t)
	sn := startSniffer(t, "-i", iface, "-f", "tcp port 50051", "--json")
	call := func() {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		fourKinds(t, conn)
		conn.Close()
	}
	waitFor := func(text string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(sn.errText(), text) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q within 10 s:\n%s", text, sn.errText())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	call()
	exec.Command("ip", "link", "set", iface, "down").Run()
	waitFor("interface " + iface + " went down: nothing is captured until it is back")
	exec.Command("ip", "link", "set", iface, "up").Run()
	waitFor("interface " + iface + " is up again after")
	call()
	time.Sleep(300 * time.Millisecond)
	sn.stop(t, os.Interrupt)
	// Every call made is seen. Once in some twenty runs four calls more
	// were seen, on a third connection of their own (their keys differ
	// from the others', so no packet was counted twice; why the client
	// made them is not known): more calls are logged, not failed.
	calls := liveCalls(t, sn.stdout.String())
	if len(calls) < 8 {
		t.Errorf("%d calls, want the 4 made before the interface went down and the 4 after:\n%s\n%s", len(calls), sn.errText(), sn.stdout.String())
	} else if len(calls) > 8 {
		t.Logf("%d calls, 8 made:\n%s", len(calls), sn.errText())
	}
}

// loopbackNoise sends unrelated traffic over the loopback until the test
// ends: a TCP stream as fast as it goes, and UDP datagrams, as other
// programs on the machine do while the live tests run.
func loopbackNoise(t *testing.T) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); lis.Close(); udp.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c)
		}
	}()
	go func() {
		c, err := net.Dial("tcp", lis.Addr().String())
		if err != nil {
			return
		}
		defer c.Close()
		u, _ := net.Dial("udp", udp.LocalAddr().String())
		buf := make([]byte, 64<<10)
		for {
			select {
			case <-done:
				return
			default:
			}
			c.Write(buf)
			if u != nil {
				u.Write(buf[:1200])
			}
		}
	}()
}

// The live tests look only at their own traffic: beside a loopback
// saturated with other TCP and UDP, a capture filtered to the test
// server's port sees its calls, exactly, and no other connection.
func TestLiveBesideNoise(t *testing.T) {
	requireLive(t)
	loopbackNoise(t)
	addr, port := startTestServer(t)
	sn := startSniffer(t, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "--json")
	plainCallAndStop(t, sn, addr)
	calls := liveCalls(t, sn.stdout.String())
	if len(calls) != 4 {
		t.Fatalf("%d calls beside the noise, want 4:\n%s", len(calls), sn.errText())
	}
	for key := range calls {
		if !strings.Contains(key, fmt.Sprintf(":%d ", port)) {
			t.Errorf("a call not on the test port: %s", key)
		}
	}
	if !strings.Contains(sn.errText(), "1 TCP connection") {
		t.Errorf("connections other than the test's were decoded:\n%s", sn.errText())
	}
}

// A capture that sees nothing at all still stops at the first Ctrl-C, and
// at the end of --duration, at once: the wait for a first packet never
// holds the signal or the timer up.
func TestStopWithoutPackets(t *testing.T) {
	requireLive(t)
	for _, tc := range []struct {
		name string
		args []string
		stop func(*sniffer)
	}{
		{"Ctrl-C", nil, func(sn *sniffer) { sn.cmd.Process.Signal(os.Interrupt) }},
		{"duration", []string{"--duration", "700ms"}, func(*sniffer) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, view := range [][]string{{"--json"}, {"--text"}, {"--stats"}} {
				args := append([]string{"-i", "lo", "-f", "tcp port 9 and udp"}, append(tc.args, view...)...)
				sn := startSniffer(t, args...)
				start := time.Now()
				tc.stop(sn)
				sn.wait(t)
				if d := time.Since(start); d > 3*time.Second {
					t.Errorf("%v: stopped %v after being asked, want at once", view, d.Round(time.Millisecond))
				}
				if code := sn.cmd.ProcessState.ExitCode(); code != exitOK {
					t.Errorf("%v: exit %d: %s", view, code, sn.errText())
				}
				if !strings.Contains(sn.errText(), "0 packets captured on lo") {
					t.Errorf("%v: no summary of an empty capture:\n%s", view, sn.errText())
				}
			}
		})
	}
}
