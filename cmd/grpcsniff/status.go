package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"

	"github.com/grpcsniff/grpcsniff/export"
)

// reportOn prints the capture's state (statusLine) on stderr each time one
// of statusSignals arrives, as tcpdump does on SIGUSR1 (and SIGINFO, Ctrl-T,
// on the BSDs and macOS): how a long headless run is doing, without
// stopping it. The returned function undoes it.
func (in *liveInput) reportOn(stderr io.Writer) func() {
	if len(statusSignals) == 0 {
		return func() {}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, statusSignals...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-sigs:
				fmt.Fprintln(stderr, in.statusLine())
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// statusLine is the capture's state: packets captured and lost, and the
// process's goroutines and heap, which a run of days must keep flat.
func (in *liveInput) statusLine() string {
	st := in.src.Stats()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return fmt.Sprintf("%s: %s captured on %s, %d dropped by the kernel, %d by the interface; %d goroutines, heap %s in use",
		progName, export.Count(in.seen.Load(), "packet"), in.iface, st.KernelDrops, st.InterfaceDrops,
		runtime.NumGoroutine(), export.FormatBytes(int64(ms.HeapInuse)))
}
