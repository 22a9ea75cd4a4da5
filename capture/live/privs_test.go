//go:build linux

package live

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// helperEnv tells a re-executed test binary which helper to run.
const helperEnv = "GRPCSNIFF_LIVE_HELPER"

// TestHelperProcess is not a test: it is the body of the subprocesses the
// privilege tests start, selected by helperEnv. It reports by its output
// and exit status.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "":
		t.Skip("run only as a subprocess of the privilege tests")
	case "open":
		// Running as an unprivileged user: Open must say what to do.
		_, err := Open(Config{Interface: "lo"})
		if !errors.Is(err, ErrPermission) {
			t.Fatalf("Open as uid %d: %v, want ErrPermission", os.Getuid(), err)
		}
		os.Stdout.WriteString("ERROR: " + err.Error() + "\n")
	case "drop":
		// Running as root: open, drop to nobody, and keep capturing.
		ln := listenLoopback(t, "tcp4")
		s := openLoopback(t, Config{PollTimeout: 200 * time.Millisecond, RingBytes: 2 << 20}, ln)
		if err := DropPrivileges("nobody"); err != nil {
			t.Fatal(err)
		}
		u, _ := user.Lookup("nobody")
		if strconv.Itoa(os.Getuid()) != u.Uid || strconv.Itoa(os.Geteuid()) != u.Uid || strconv.Itoa(os.Getegid()) != u.Gid {
			t.Fatalf("after DropPrivileges: uid %d euid %d egid %d, want nobody (%s:%s)", os.Getuid(), os.Geteuid(), os.Getegid(), u.Uid, u.Gid)
		}
		markers := newMarkers(10)
		from := time.Now()
		sendTCPTo(t, ln, markers)
		counts := countPayloads(t, s, markers, from, time.Now())
		for _, m := range markers {
			if counts[string(m)] != 1 {
				t.Fatalf("after dropping privileges, payload %q seen %d times", m, counts[string(m)])
			}
		}
		if st := s.Stats(); st.Received == 0 {
			t.Fatalf("stats after dropping privileges: %+v", st)
		}
		_, err := Open(Config{Interface: "lo"})
		if !errors.Is(err, ErrPermission) {
			t.Fatalf("Open after dropping privileges: %v, want ErrPermission", err)
		}
		os.Stdout.WriteString("CAPTURED " + strconv.Itoa(len(markers)) + " AS UID " + strconv.Itoa(os.Getuid()) + "\n")
	case "capraw":
		// Running as nobody with only CAP_NET_RAW, as after the setcap the
		// permission error suggests (minus CAP_NET_ADMIN).
		for _, name := range append([]string{"lo", AnyInterface}, strings.Fields(os.Getenv("GRPCSNIFF_LIVE_IFACES"))...) {
			s, err := Open(Config{Interface: name, RingBytes: 1 << 20})
			if err != nil {
				t.Fatalf("Open(%s) as uid %d with CAP_NET_RAW: %v", name, os.Getuid(), err)
			}
			s.Close()
			os.Stdout.WriteString("OPENED " + name + "\n")
		}
	case "tun":
		tunHelper(t)
	default:
		t.Fatalf("unknown helper %q", os.Getenv(helperEnv))
	}
}

// runHelper runs TestHelperProcess in a copy of the test binary that every
// user may execute (go test keeps the binary in a directory only its owner
// can enter), with the process attributes attr (nil for none).
func runHelper(t *testing.T, helper string, attr *syscall.SysProcAttr) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "grpcsniff-live-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "live.test")
	in, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err == nil {
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	in.Close()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestHelperProcess$", "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), helperEnv+"="+helper)
	cmd.SysProcAttr = attr
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper %s: %v\n%s", helper, err, b)
	}
	return string(b)
}

func nobody(t *testing.T) *syscall.Credential {
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
}

// TestPermissionError opens a capture as an ordinary user.
func TestPermissionError(t *testing.T) {
	requireLive(t)
	if os.Getuid() != 0 {
		t.Skip("starting a process as another user takes root")
	}
	out := runHelper(t, "open", &syscall.SysProcAttr{Credential: nobody(t)})
	want := "ERROR: capturing on lo needs the CAP_NET_RAW capability (and CAP_NET_ADMIN for promiscuous mode)"
	if !strings.Contains(out, want) {
		t.Errorf("helper output lacks %q:\n%s", want, out)
	}
}

// TestDropPrivileges opens a capture as root, becomes nobody, and checks
// the capture goes on while new sockets are refused.
func TestDropPrivileges(t *testing.T) {
	requireLive(t)
	if os.Getuid() != 0 {
		t.Skip("dropping privileges takes root")
	}
	nobody(t)
	out := runHelper(t, "drop", nil)
	if !strings.Contains(out, "CAPTURED 10 AS UID") {
		t.Errorf("helper output:\n%s", out)
	}
}

// TestCapNetRawSuffices opens captures, in promiscuous mode where there is
// an Ethernet interface, as an ordinary user given only CAP_NET_RAW.
func TestCapNetRawSuffices(t *testing.T) {
	requireLive(t)
	if os.Getuid() != 0 {
		t.Skip("starting a process as another user takes root")
	}
	var eth []string
	ifs, _ := Interfaces()
	for _, i := range ifs {
		if i.Up && !i.Loopback && i.LinkType == layers.LinkTypeEthernet && i.Name != AnyInterface {
			eth = append(eth, i.Name)
			break
		}
	}
	t.Setenv("GRPCSNIFF_LIVE_IFACES", strings.Join(eth, " "))
	out := runHelper(t, "capraw", &syscall.SysProcAttr{
		Credential:  nobody(t),
		AmbientCaps: []uintptr{unix.CAP_NET_RAW},
	})
	for _, name := range append([]string{"lo", AnyInterface}, eth...) {
		if !strings.Contains(out, "OPENED "+name+"\n") {
			t.Errorf("%s not opened:\n%s", name, out)
		}
	}
}

func TestDropPrivilegesUnknownUser(t *testing.T) {
	if err := DropPrivileges("no-such-user-grpcsniff"); err == nil {
		t.Fatal("DropPrivileges of an unknown user succeeded")
	}
}

// TestPermissionErrorHere checks Open's error directly when the tests run
// without the capability (with GRPCSNIFF_NO_LIVE=1, as the other tests
// then skip).
func TestPermissionErrorHere(t *testing.T) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
		t.Skip("this process may capture; TestPermissionError covers the error as another user")
	}
	_, err = Open(Config{Interface: "lo"})
	if !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "needs the CAP_NET_RAW capability") {
		t.Errorf("Open without CAP_NET_RAW: %v, want ErrPermission", err)
	}
}
