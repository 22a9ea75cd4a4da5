//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package live

import (
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// TestBPFLayoutMatchesSystem compares the layout the parser uses with
// this system's struct bpf_hdr as golang.org/x/sys/unix declares it.
func TestBPFLayoutMatchesSystem(t *testing.T) {
	l, err := bpfLayoutFor(runtime.GOOS, runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	var h unix.BpfHdr
	if got := int(unsafe.Offsetof(h.Caplen)); got != l.caplenOff {
		t.Errorf("bh_caplen at %d, layout says %d", got, l.caplenOff)
	}
	if got := int(unsafe.Offsetof(h.Hdrlen)); got != l.caplenOff+8 {
		t.Errorf("bh_hdrlen at %d, layout says %d", got, l.caplenOff+8)
	}
	if got := int(unsafe.Sizeof(h.Tstamp.Sec)); got != l.secBytes {
		t.Errorf("tv_sec of %d bytes, layout says %d", got, l.secBytes)
	}
	if got := int(unsafe.Sizeof(h.Tstamp.Usec)); got != l.usecBytes {
		t.Errorf("tv_usec of %d bytes, layout says %d", got, l.usecBytes)
	}
	if unix.BPF_ALIGNMENT != l.align {
		t.Errorf("BPF_ALIGNMENT %d, layout says %d", unix.BPF_ALIGNMENT, l.align)
	}
	for dlt, want := range map[uint32]layers.LinkType{
		unix.DLT_NULL: layers.LinkTypeNull, unix.DLT_EN10MB: layers.LinkTypeEthernet,
		unix.DLT_RAW: layers.LinkTypeRaw, unix.DLT_LOOP: layers.LinkTypeLoop,
	} {
		if got, err := linkTypeOfDLT(dlt, runtime.GOOS); err != nil || got != want {
			t.Errorf("DLT %d: %v, %v; want %v", dlt, got, err, want)
		}
	}
}

// bsdLoopback returns the loopback interface, or skips.
func bsdLoopback(t *testing.T) string {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 && i.Flags&net.FlagUp != 0 {
			return i.Name
		}
	}
	t.Skip("no loopback interface up")
	return ""
}

// openOrSkip opens a capture, skipping the test when this process may not
// open a BPF device (not root, not in the access_bpf group).
func openOrSkip(t *testing.T, cfg Config) *Source {
	s, err := Open(cfg)
	if errors.Is(err, ErrPermission) {
		t.Skipf("cannot open a BPF device: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestBPFLoopbackCapture sends UDP datagrams to the loopback address and
// reads them back through the device, once each, with the link type of
// lo0, then checks the idle timeout, Stats and Close.
func TestBPFLoopbackCapture(t *testing.T) {
	lo := bsdLoopback(t)
	s := openOrSkip(t, Config{Interface: lo, PollTimeout: 200 * time.Millisecond})
	if want := map[bool]layers.LinkType{true: layers.LinkTypeLoop, false: layers.LinkTypeNull}[runtime.GOOS == "openbsd"]; s.LinkType() != want {
		t.Errorf("link type %v, want %v", s.LinkType(), want)
	}
	if lt, err := LinkTypeOf(lo); err != nil || lt != s.LinkType() {
		t.Errorf("LinkTypeOf(%s) = %v, %v", lo, lt, err)
	}
	conn, err := net.Dial("udp4", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	marker := []byte("grpcsniff-bpf-test")
	for i := 0; i < 3; i++ {
		conn.Write(marker)
	}
	seen := 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && seen < 4; {
		p, err := s.Next()
		if errors.Is(err, ErrIdle) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Data) >= len(marker) && string(p.Data[len(p.Data)-len(marker):]) == string(marker) {
			seen++
		}
	}
	if seen != 3 {
		t.Errorf("saw the datagram %d times, want 3 (once each)", seen)
	}
	if st := s.Stats(); st.Delivered < 3 || st.Received < st.Delivered {
		t.Errorf("stats %+v", st)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { _, err := s.Next(); done <- err }()
	time.Sleep(50 * time.Millisecond)
	s.Close()
	if err := <-done; err != io.EOF && !errors.Is(err, ErrIdle) {
		t.Errorf("Next after Close: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v to stop Next", d)
	}
}

func TestBPFNoAny(t *testing.T) {
	if _, err := Open(Config{Interface: AnyInterface}); !errors.Is(err, ErrNoInterface) {
		t.Errorf("Open(any) = %v, want ErrNoInterface", err)
	}
	if _, err := LinkTypeOf(AnyInterface); err == nil {
		t.Error("LinkTypeOf(any) succeeded")
	}
	if _, err := Open(Config{Interface: "nosuch0"}); !errors.Is(err, ErrNoInterface) {
		t.Errorf("Open(nosuch0) = %v", err)
	}
}

func TestBPFPermissionError(t *testing.T) {
	err := deviceError("en0", unix.EACCES)
	var pe *PermissionError
	if !errors.As(err, &pe) || !errors.Is(err, ErrPermission) || pe.Remedy() != permissionRemedy {
		t.Errorf("deviceError(EACCES) = %v", err)
	}
}
