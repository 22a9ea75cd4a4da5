//go:build linux

package bpffilter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// attach sets prog as fd's socket filter. unix.SetsockoptSockFprog goes
// through setsockopt on every architecture, also where there is no
// SYS_SETSOCKOPT (linux/386 multiplexes it through socketcall).
func attach(fd int, prog []bpf.RawInstruction) error {
	fp := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp)
}

// htons turns v into network byte order as the host stores a uint16: a
// swap on a little-endian host, nothing on a big-endian one.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// packetSocket opens an AF_PACKET socket that receives nothing until it is
// bound, or skips the test when that needs privileges we do not have.
func packetSocket(t *testing.T, typ int) int {
	fd, err := syscall.Socket(syscall.AF_PACKET, typ, 0)
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EAFNOSUPPORT) {
		t.Skipf("AF_PACKET sockets need CAP_NET_RAW: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return fd
}

// TestKernelAcceptsPrograms attaches every cross-checked program with
// SO_ATTACH_FILTER, so the kernel's own checker (bpf_check_classic)
// validates them, including the SKF_AD_PROTOCOL load of RawIP programs.
// The socket is never bound, so it sees no traffic.
func TestKernelAcceptsPrograms(t *testing.T) {
	fdRaw := packetSocket(t, syscall.SOCK_RAW)
	fdDgram := packetSocket(t, syscall.SOCK_DGRAM)
	for _, e := range allExprs() {
		for _, c := range []struct {
			lt LinkType
			fd int
		}{{Ethernet, fdRaw}, {RawIP, fdDgram}} {
			p, err := Compile(e, c.lt, 262144)
			if err != nil {
				t.Fatal(err)
			}
			if err := attach(c.fd, p); err != nil {
				t.Errorf("kernel refused the %v program for %q: %v", c.lt, e, err)
			}
		}
	}
}

// TestKernelLoopback runs filters in the kernel on real loopback traffic:
// an Ethernet program on a SOCK_RAW socket and a RawIP program on a
// SOCK_DGRAM socket (whose packets start at the IP header, with the
// protocol only available through SKF_AD_PROTOCOL). A datagram to a port
// the filter rejects is sent first, then one it accepts; the first packet
// delivered must be the accepted one. The receive timeout only guards
// against a hang; the outcome does not depend on timing.
func TestKernelLoopback(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip("no lo interface")
	}
	for _, c := range []struct {
		lt  LinkType
		typ int
	}{{Ethernet, syscall.SOCK_RAW}, {RawIP, syscall.SOCK_DGRAM}} {
		t.Run(c.lt.String(), func(t *testing.T) {
			fd := packetSocket(t, c.typ)
			prog, err := Compile("udp and dst port 50999 and host 127.0.0.1 and not src port 50998", c.lt, 262144)
			if err != nil {
				t.Fatal(err)
			}
			if err := attach(fd, prog); err != nil {
				t.Fatal(err)
			}
			tv := syscall.Timeval{Sec: 10}
			if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
				t.Fatal(err)
			}
			sa := &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_ALL), Ifindex: lo.Index}
			if err := syscall.Bind(fd, sa); err != nil {
				t.Fatal(err)
			}
			dst, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50999})
			if err != nil {
				t.Skipf("cannot listen on 127.0.0.1:50999: %v", err)
			}
			defer dst.Close()
			send := func(port int, payload string) {
				conn, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				if _, err := conn.Write([]byte(payload)); err != nil {
					t.Fatal(err)
				}
			}
			send(50997, "grpcsniff-bpffilter-reject")
			send(50999, "grpcsniff-bpffilter-accept")
			buf := make([]byte, 65536)
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil {
				t.Fatalf("no packet delivered: %v", err)
			}
			pkt := buf[:n]
			if bytes.Contains(pkt, []byte("grpcsniff-bpffilter-reject")) {
				t.Fatal("the kernel delivered a packet the filter should reject")
			}
			if !bytes.Contains(pkt, []byte("grpcsniff-bpffilter-accept")) {
				t.Fatalf("unexpected packet % x", pkt)
			}
			// The RawIP socket really delivers packets from the IP header.
			if c.lt == RawIP && pkt[0]>>4 != 4 {
				t.Errorf("SOCK_DGRAM packet does not start with an IPv4 header: % x", pkt[:20])
			}
		})
	}
}
