//go:build linux

package live

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkLoopbackUDP measures how many packets per second Next delivers
// from lo while another goroutine floods it with 100-byte UDP datagrams.
// Each datagram passes the packet taps twice (out and in); the kernel
// filter drops the outgoing copy.
func BenchmarkLoopbackUDP(b *testing.B) {
	requireLive(b)
	s, err := Open(Config{Interface: "lo", PollTimeout: 200 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadBuffer(64 << 20)
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		msg := make([]byte, 100)
		to := conn.LocalAddr().(*net.UDPAddr)
		for !stop.Load() {
			conn.WriteToUDP(msg, to)
		}
	}()
	go func() { // keep the socket's receive queue from filling up
		buf := make([]byte, 2048)
		for {
			if _, _, err := conn.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; {
		_, err := s.Next()
		if errors.Is(err, ErrIdle) {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	el := time.Since(start)
	b.StopTimer()
	stop.Store(true)
	<-done
	st := s.Stats()
	b.ReportMetric(float64(b.N)/el.Seconds(), "pkts/s")
	b.ReportMetric(float64(st.KernelDrops), "kernel-drops")
}

// BenchmarkRingDrain measures Next alone: datagrams are sent first, with
// the timer stopped, and then read out of the ring.
func BenchmarkRingDrain(b *testing.B) {
	requireLive(b)
	s, err := Open(Config{Interface: "lo", PollTimeout: 100 * time.Millisecond, RingBytes: 128 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	to := conn.LocalAddr().(*net.UDPAddr)
	msg := make([]byte, 100)
	const batch = 20000
	b.StopTimer()
	for n := 0; n < b.N; n += batch {
		for range batch {
			conn.WriteToUDP(msg, to)
		}
		// Let the kernel retire the last, partly filled block: otherwise
		// the benchmark measures the block timeout.
		time.Sleep(2 * blockRetire)
		b.StartTimer()
		for i := 0; i < batch && n+i < b.N; {
			if _, err := s.Next(); err == nil {
				i++
			} else if !errors.Is(err, ErrIdle) {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		// Drain what is left (the receive queue's overflow is not counted).
		for {
			if _, err := s.Next(); err != nil {
				break
			}
		}
		buf := make([]byte, 2048)
		conn.SetReadDeadline(time.Now())
		for {
			if _, _, err := conn.ReadFromUDP(buf); err != nil {
				break
			}
		}
		conn.SetReadDeadline(time.Time{})
	}
	if st := s.Stats(); st.KernelDrops > 0 {
		b.Logf("kernel drops: %d", st.KernelDrops)
	}
}
