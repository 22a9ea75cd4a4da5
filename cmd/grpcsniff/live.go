package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/capture/bpffilter"
	"github.com/grpcsniff/grpcsniff/capture/live"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/sniff"
	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
	"github.com/grpcsniff/grpcsniff/tui"
	"github.com/spf13/pflag"
)

// liveFlags are the options of a live capture (-i), named as tcpdump names
// them.
type liveFlags struct {
	iface     string
	list      bool // -D
	bpf       string
	write     string
	snaplen   int
	bufferKiB int
	count     int64
	duration  time.Duration
	partial   bool
	user      string
	noPromisc bool
}

func (l *liveFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&l.iface, "interface", "i", "", "capture live from `IFACE` (-D lists them; on Linux \"any\" is every one)")
	fs.BoolVarP(&l.list, "list-interfaces", "D", false, "list the interfaces -i can capture from, with their addresses and state")
	fs.StringVarP(&l.bpf, "capture-filter", "f", "", "live: capture only what matches the tcpdump filter `EXPR` (run in the kernel; default \"tcp\")")
	fs.StringVarP(&l.write, "write", "w", "", "live: also write the packets to the pcapng `FILE` (with --keylog, the TLS secrets too)")
	fs.Int64VarP(&l.count, "count", "c", 0, "live: stop after `N` packets")
	fs.DurationVar(&l.duration, "duration", 0, "live: stop after `D` (e.g. 30s, 5m)")
	fs.IntVarP(&l.snaplen, "snapshot-length", "s", 262144, "live: capture at most `BYTES` of each packet")
	fs.IntVarP(&l.bufferKiB, "buffer-size", "B", 32768, "live: kernel capture ring of `KiB` (larger rides out bursts without drops)")
	fs.BoolVarP(&l.noPromisc, "no-promiscuous-mode", "p", false, "live: do not put the interface into promiscuous mode")
	fs.StringVarP(&l.user, "relinquish-privileges", "Z", "", "drop root privileges after opening the interface or file, and run as `USER`")
}

// liveInput is a running live capture: the interface's packets, written to
// -w as they pass, until -c, --duration, a signal or the user stops it.
type liveInput struct {
	src     *live.Source
	iface   string
	out     *os.File
	w       *live.PcapngWriter
	written int64
	limit   int64        // -c; 0 none
	seen    atomic.Int64 // packets read; read from other goroutines (status)
	wErr    error
	// warn says a problem while capturing (a -w write that failed).
	warn     func(string)
	stopped  atomic.Bool
	once     sync.Once
	keys     *tlsdecrypt.KeyLog
	follower *tlsdecrypt.KeyLogFollower // nil without --keylog
	keysGen  uint64                     // the key log generation written to -w so far
	filter   string                     // the capture filter, as given (or the default)
	snaplen  int
}

// openLive opens the interface with the capture filter, drops privileges
// when asked and creates the -w file; the messages say what to do next.
func openLive(f *liveFlags, stderr io.Writer) (*liveInput, error) {
	lt, err := live.LinkTypeOf(f.iface)
	if err != nil {
		return nil, err
	}
	expr := f.bpf
	if strings.TrimSpace(expr) == "" {
		expr = bpffilter.Default
	}
	flt, err := bpffilter.ForLinkType(lt)
	if err != nil {
		return nil, fmt.Errorf("-i %s: %w", f.iface, err)
	}
	prog, err := bpffilter.Compile(expr, flt, f.snaplen)
	if err != nil {
		var fe *bpffilter.Error
		if errors.As(err, &fe) && fe.Pos > 0 {
			return nil, &filterError{fe, fmt.Sprintf("%v\n  %s\n  %s^", err, expr, strings.Repeat(" ", fe.Pos-1))}
		}
		return nil, err
	}
	src, err := live.Open(live.Config{
		Interface:     f.iface,
		Snaplen:       f.snaplen,
		RingBytes:     f.bufferKiB << 10,
		Filter:        prog,
		NoPromiscuous: f.noPromisc,
		PollTimeout:   200 * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	in := &liveInput{src: src, iface: f.iface, limit: f.count, filter: expr, snaplen: f.snaplen,
		warn: func(s string) { fmt.Fprintf(stderr, "%s: %s\n", progName, s) }}
	if f.user != "" {
		if err := live.DropPrivileges(f.user); err != nil {
			src.Close()
			return nil, fmt.Errorf("-Z %s: %v", f.user, err)
		}
	}
	if f.write != "" {
		// Created after privileges were dropped, as tcpdump does: the file
		// belongs to the user the capture runs as.
		out, err := os.Create(f.write)
		if err != nil {
			src.Close()
			return nil, fmt.Errorf("-w: %v", err)
		}
		w, err := live.NewPcapngWriter(out, src.LinkType(), f.snaplen, f.iface)
		if err != nil {
			out.Close()
			src.Close()
			return nil, fmt.Errorf("-w %s: %v", f.write, err)
		}
		in.out, in.w = out, w
	}
	return in, nil
}

// filterError is a capture filter error shown with a caret under the word.
type filterError struct {
	err  *bpffilter.Error
	text string
}

func (e *filterError) Error() string { return e.text }
func (e *filterError) Unwrap() error { return e.err }

// Next implements capture.Source.
func (in *liveInput) Next() (capture.Packet, error) {
	if in.limit > 0 && in.seen.Load() >= in.limit {
		in.Stop()
		return capture.Packet{}, io.EOF
	}
	p, err := in.src.Next()
	if err != nil {
		if errors.Is(err, live.ErrIdle) && in.w != nil && in.wErr == nil {
			// A quiet moment: what was written becomes readable.
			in.writeSecrets()
			if in.wErr == nil {
				in.writeFailed(in.w.Flush())
			}
		}
		return p, err
	}
	in.seen.Add(1)
	if in.w != nil && in.wErr == nil {
		in.writeSecrets()
		if in.wErr == nil {
			if err := in.w.WritePacket(p); err != nil {
				in.writeFailed(err)
			} else {
				in.written++
			}
		}
	}
	return p, nil
}

// writeFailed stops writing -w after err (a full disk, say), and says so
// at once: the capture and its decoding go on, and the file keeps the
// packets written before, readable up to its last whole block.
func (in *liveInput) writeFailed(err error) {
	if err == nil || in.wErr != nil {
		return
	}
	in.wErr = err
	in.warn(fmt.Sprintf("-w %s: %v; no more packets are written to it (it holds the %d written before), the capture goes on", in.out.Name(), err, in.written))
}

// writeSecrets writes the key log lines added since the last time to -w.
// Secrets go before the packets that need them (pcapng's rule); a key
// logged just after its handshake was captured still precedes the
// application data, which is what needs it, and readers of the file wait
// for keys that come late (tlsdecrypt's KeyLog.SetGrowing).
func (in *liveInput) writeSecrets() {
	if in.keys == nil || (in.keys.Gen() == in.keysGen && in.written > 0) {
		return
	}
	var lines []byte
	lines, in.keysGen = in.keys.Since(in.keysGen)
	if len(lines) == 0 && in.written == 0 && in.follower != nil {
		// Before the first packet, a block even without keys: it tells a
		// reader of the file that secrets come in it, later than the
		// handshakes that need them.
		lines = []byte("# grpcsniff: TLS secrets follow as they are logged\n")
	}
	if len(lines) > 0 {
		in.writeFailed(in.w.WriteDecryptionSecrets(lines))
	}
}

// Stop ends the capture: Next returns io.EOF from now on. It is safe from
// any goroutine (a signal handler, a timer).
func (in *liveInput) Stop() {
	in.once.Do(func() {
		in.stopped.Store(true)
		in.src.Close()
	})
}

// finish closes the -w file; its error says whether the file is whole.
func (in *liveInput) finish() error {
	in.Stop()
	if in.follower != nil {
		in.follower.Close()
	}
	if in.w == nil {
		return nil
	}
	if in.wErr == nil {
		in.writeSecrets()
	}
	err := in.wErr
	if e := in.w.Close(); err == nil {
		err = e
	}
	if e := in.out.Close(); err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("-w %s: %v (the file holds the packets written before)", in.out.Name(), err)
	}
	return nil
}

// stopSignals are caught from the moment a live capture is asked for,
// before the interface is opened (which may take a while): a Ctrl-C then
// must not be lost, nor end the process halfway. stopOn takes them over
// once the capture runs; a signal that came meanwhile stops it at once.
type stopSignals struct{ ch chan os.Signal }

func catchStopSignals() *stopSignals {
	s := &stopSignals{ch: make(chan os.Signal, 2)}
	signal.Notify(s.ch, os.Interrupt, syscall.SIGTERM)
	return s
}

// pending reports whether a signal came before the capture started; it
// stops catching them (the interactive view reads Ctrl-C as a key).
func (s *stopSignals) release() (pending bool) {
	signal.Stop(s.ch)
	return len(s.ch) > 0
}

// stopOn stops the capture at SIGINT or SIGTERM (those sigs caught, one of
// which may have come already) and after d (when not 0). A second signal
// exits at once. The returned function undoes it.
func (in *liveInput) stopOn(sigs *stopSignals, d time.Duration, stderr io.Writer) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs.ch:
		case <-done:
			return
		}
		in.Stop()
		select {
		case <-sigs.ch:
			fmt.Fprintf(stderr, "%s: interrupted again: exiting without finishing\n", progName)
			os.Exit(130)
		case <-done:
		}
	}()
	var timer *time.Timer
	if d > 0 {
		timer = time.AfterFunc(d, in.Stop)
	}
	return func() {
		sigs.release()
		close(done)
		if timer != nil {
			timer.Stop()
		}
	}
}

// summary says, like tcpdump at its end, what was captured and lost.
func (in *liveInput) summary(w io.Writer) {
	st := in.src.Stats()
	fmt.Fprintf(w, "%s: %s captured on %s", progName, export.Count(in.seen.Load(), "packet"), in.iface)
	if in.w != nil {
		fmt.Fprintf(w, ", %d written to %s", in.written, in.out.Name())
	}
	fmt.Fprintln(w)
	if st.KernelDrops > 0 || st.InterfaceDrops > 0 {
		fmt.Fprintf(w, "%s: WARNING: packets were lost: %d dropped by the kernel (capture ring full; try a larger -B or a narrower -f), %d dropped by the interface\n",
			progName, st.KernelDrops, st.InterfaceDrops)
	} else {
		fmt.Fprintf(w, "%s: 0 packets dropped by the kernel, 0 by the interface\n", progName)
	}
}

// listInterfaces prints -D: the interfaces with their state and addresses.
func listInterfaces(stdout, stderr io.Writer) int {
	ifs, err := live.Interfaces()
	if err != nil {
		fmt.Fprintf(stderr, "%s: -D: %v\n", progName, err)
		return exitError
	}
	for i, f := range ifs {
		fmt.Fprintf(stdout, "%d.%s\n", i+1, f.String())
	}
	return exitOK
}

// options set up the decoding for a live capture: calls handed on as they
// finish, idle connections expired while the network is quiet, TLS
// connections waiting for keys the key log does not have yet (it is read
// again as clients write it).
func (in *liveInput) options(o *sniff.Options) {
	o.Live = true
	o.Keys = in.keys
	if f := in.follower; f != nil {
		o.TLS.Refresh = func() { f.Poll() }
	}
}

// followKeys follows the key log of a live capture: clients append to it
// as they connect, so it is read again as it grows (it need not exist yet),
// and connections whose key is not there yet wait for it.
func (in *liveInput) followKeys(keylog string, stderr io.Writer) {
	in.keys = &tlsdecrypt.KeyLog{}
	if keylog == "" {
		return
	}
	in.follower = tlsdecrypt.FollowKeyLog(keylog, in.keys, 200*time.Millisecond, func(w string) {
		fmt.Fprintf(stderr, "%s: --keylog: %s\n", progName, w)
	})
}

// progress is the status bar's view of the capture.
func (in *liveInput) progress() *tui.Progress {
	st := in.src.Stats()
	return &tui.Progress{Live: true, Packets: in.seen.Load(), KernelDrops: int64(st.KernelDrops), InterfaceDrops: int64(st.InterfaceDrops)}
}

// describe says what is being captured, for the line that starts it.
func (in *liveInput) describe() string {
	return fmt.Sprintf("capturing on %s (link type %s, filter %q, snap length %d); Ctrl-C to stop", in.iface, in.src.LinkType(), in.filter, in.snaplen)
}

// liveError says what went wrong opening a capture, with what the user can
// do about it on this command line.
func liveError(err error) string {
	var ni *live.NoInterfaceError
	if errors.As(err, &ni) {
		msg := fmt.Sprintf("no interface %q; grpcsniff -D lists the interfaces", ni.Interface)
		if len(ni.Available) > 0 {
			msg += " (this system has " + strings.Join(ni.Available, ", ") + ")"
		}
		return msg
	}
	msg := err.Error()
	var pe *live.PermissionError
	if errors.As(err, &pe) {
		msg += ": " + pe.Remedy()
	}
	if errors.Is(err, live.ErrNotSupported) {
		msg += "; grpcsniff reads capture files here (-r FILE), such as those tcpdump -w or Wireshark write"
	}
	if errors.Is(err, live.ErrRingRefused) {
		msg += "; a smaller ring (-B) may work"
	}
	if errors.Is(err, live.ErrPromiscuous) {
		msg += "; -p leaves promiscuous mode off"
	}
	return msg
}
