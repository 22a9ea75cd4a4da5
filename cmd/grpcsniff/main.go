// Command grpcsniff reads a packet capture, or captures from a network
// interface, and shows the gRPC calls in it: methods, metadata, messages in
// both directions, statuses and timings.
//
//	grpcsniff -r capture.pcapng           the interactive view (one line per call when piped)
//	grpcsniff -r capture.pcapng --json    one JSON object per call (NDJSON)
//	tcpdump -w - | grpcsniff -r -         from standard input
//	grpcsniff -i lo 'port 50051'          live, in the interactive view
//	grpcsniff -i any --json | jq .method  live, a line per call as it ends
//
// The command turns flags into sniff.Options, checks them, runs the
// decoding (package sniff) to the output chosen, and reports what it read;
// `grpcsniff --help` lists the flags and the exit statuses.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/capture/bpffilter"
	"github.com/grpcsniff/grpcsniff/capture/live"
	"github.com/grpcsniff/grpcsniff/filter"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
	"github.com/spf13/pflag"
)

// Exit statuses.
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitDamaged = 3
	exitNoCalls = 4
	progName    = "grpcsniff"
)

func main() {
	tuneGC()
	fileGC, viewGC = tuneFileGC, tuneViewGC
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// tuneGC trades memory the decoding does not need for speed: the heap may
// grow to 5× the live data between collections (instead of 2×), and a soft
// limit keeps that under 192 MiB. Measured on a 170 MB capture: JSON export
// 13% faster, peak RSS 57 → 121 MB. GOGC or GOMEMLIMIT set by the user win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(192 << 20)
	}
}

// fileGC is called when the input is a capture file (main sets it; tests
// that call run keep the test binary's settings).
var fileGC = func() {}

// viewGC runs while the view shows a capture file, until ctx ends (main
// sets it to tuneViewGC; tests that call run keep the test binary's
// settings).
var viewGC = func(ctx context.Context) {}

// tuneFileGC, for a capture file, collects only when the heap nears the
// soft limit: a file is read in seconds, and every collection before that
// costs time (measured on a 174 MB capture: --json 0.66 → 0.54 s, --stats
// 0.37 → 0.32 s, peak RSS about 200 MB instead of 120-190). A live
// capture, which may run for days, keeps the lighter footprint of tuneGC.
func tuneFileGC() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(-1)
	}
}

// viewMemoryLimit is the soft memory limit while the interactive view
// reads a file, and viewHeadroom what tuneViewGC keeps above the live heap:
// the view keeps a record of every call besides what the decoding holds,
// and under tuneGC's 192 MiB a 600,000-call capture collected without
// pause (load 21 s beside --json's 9 s).
const (
	viewMemoryLimit = 256 << 20
	viewHeadroom    = 96 << 20
)

// tuneViewGC raises the soft memory limit for the view of a file, and
// keeps it viewHeadroom above the live heap as records pile up, so that a
// capture of millions of calls does not spend its time collecting while
// the memory grows with the records alone. It returns when ctx ends. GOGC
// or GOMEMLIMIT set by the user win.
func tuneViewGC(ctx context.Context) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := int64(viewMemoryLimit)
	debug.SetMemoryLimit(limit)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if want := int64(sample[0].Value.Uint64()) + viewHeadroom; want > limit {
			limit = want
			debug.SetMemoryLimit(limit)
		}
	}
}

// run is the whole command: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	std := stdio{in: stdin, out: stdout, err: stderr}
	var c config
	code := exitOK
	root := newRootCommand(&c, std, &code)
	flags := root.Flags()
	if len(args) > 0 && args[0] == "infer" {
		sub, _, _ := root.Find(args[:1])
		flags = sub.Flags()
	}
	root.SetArgs(longFlagsWithOneDash(args, flags))
	if err := root.Execute(); err != nil {
		return reportParseError(err, args, stderr)
	}
	return code
}

// longFlagsWithOneDash accepts long flags written with one dash (-json,
// -max-depth=5), as earlier versions printed them, by giving them their
// second dash. Values are left alone.
func longFlagsWithOneDash(args []string, fs *pflag.FlagSet) []string {
	out := make([]string, 0, len(args))
	value := false // the argument is the previous flag's value
	for i, a := range args {
		switch {
		case value:
			value = false
		case a == "--":
			return append(out, args[i:]...)
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			value = !hasValue && takesValue(fs.Lookup(name))
		case len(a) > 2 && a[0] == '-':
			name, _, hasValue := strings.Cut(a[1:], "=")
			if f := fs.Lookup(name); f != nil {
				a = "-" + a
				value = !hasValue && takesValue(f)
			} else {
				// Shorthands, the last of which may take the next argument.
				value = !hasValue && takesValue(fs.ShorthandLookup(a[len(a)-1:])) && allShorthands(fs, a[1:])
			}
		case len(a) == 2 && a[0] == '-':
			value = takesValue(fs.ShorthandLookup(a[1:]))
		}
		out = append(out, a)
	}
	return out
}

func takesValue(f *pflag.Flag) bool { return f != nil && f.NoOptDefVal == "" }

func allShorthands(fs *pflag.FlagSet, s string) bool {
	for i := range len(s) {
		if fs.ShorthandLookup(s[i:i+1]) == nil {
			return false
		}
	}
	return true
}

// runMain is the main command once its flags are checked.
func runMain(c *config, std stdio) int {
	if c.live.list {
		return listInterfaces(std.out, std.err)
	}
	stop, err := startProfiles(c)
	if err != nil {
		fmt.Fprintf(std.err, "%s: %v\n", progName, err)
		return exitError
	}
	defer stop(std.err)
	var sigs *stopSignals
	if c.live.iface != "" {
		sigs = catchStopSignals()
	}
	in, code := openInput(c, std)
	if in == nil {
		if sigs != nil {
			sigs.release()
		}
		return code
	}
	defer in.closeFile()
	reg, expr, code := loadSchemasAndFilter(c, std.err)
	if reg == nil {
		in.close()
		return code
	}
	if !c.json && !c.text && !c.stats && !c.headless() && isTerminal(std.out) {
		if sigs != nil && sigs.release() {
			in.close()
			return exitOK // asked to stop before the capture began
		}
		return runTUI(in, reg, c, std.err)
	}
	return runBatch(c, in, reg, expr, sigs, std)
}

// openInput opens the capture file or the interface, and the TLS keys for
// it; on failure it has said why, and returns the exit status.
func openInput(c *config, std stdio) (*input, int) {
	in := &input{}
	if c.live.iface != "" {
		li, err := openLive(&c.live, std.err)
		if err != nil {
			fmt.Fprintf(std.err, "%s: %s\n", progName, liveError(err))
			var fe *bpffilter.Error
			if errors.As(err, &fe) {
				return nil, exitUsage
			}
			return nil, exitError
		}
		li.followKeys(c.keylog, std.err)
		in.src, in.name, in.live = li, c.live.iface, li
		return in, exitOK
	}
	src, err := openCapture(c.read, std.in)
	if err != nil {
		fmt.Fprintf(std.err, "%s: %v\n", progName, err)
		return nil, exitError
	}
	in.src, in.name, in.file = src, src.Name(), src
	fileGC()
	if c.live.user != "" {
		// The capture is open: nothing else needs root.
		if err := live.DropPrivileges(c.live.user); err != nil {
			src.Close()
			fmt.Fprintf(std.err, "%s: -Z %s: %v\n", progName, c.live.user, err)
			return nil, exitError
		}
	}
	if in.keys, err = loadKeyLog(c.keylog, std.err); err != nil {
		src.Close()
		fmt.Fprintf(std.err, "%s: %v\n", progName, err)
		return nil, exitError
	}
	return in, exitOK
}

// loadSchemasAndFilter builds the schema registry and parses -Y; on
// failure it has said why, and returns a nil registry and the exit status.
func loadSchemasAndFilter(c *config, stderr io.Writer) (*schema.Registry, *filter.Expr, int) {
	reg, err := c.schema.load(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		return nil, nil, exitError
	}
	expr, err := filter.ParseWith(c.filter, filter.Options{Schema: reg})
	if err != nil {
		fmt.Fprintf(stderr, "%s: -Y: %v\n", progName, err)
		var fe *filter.Error
		if errors.As(err, &fe) {
			for _, l := range strings.Split(fe.Caret(c.filter), "\n") {
				fmt.Fprintf(stderr, "  %s\n", l)
			}
		}
		return nil, nil, exitUsage
	}
	for _, w := range expr.Warnings() {
		fmt.Fprintf(stderr, "%s: -Y: %s\n", progName, w)
	}
	return reg, expr, exitOK
}

// openCapture opens the -r argument: a file, or standard input for "-".
func openCapture(path string, stdin io.Reader) (*capture.FileSource, error) {
	if path == "-" {
		return capture.OpenReader(stdin, "stdin")
	}
	return capture.OpenFile(path)
}

// loadKeyLog reads the --keylog file, its warnings said on stderr.
func loadKeyLog(path string, stderr io.Writer) (*tlsdecrypt.KeyLog, error) {
	if path == "" {
		return nil, nil
	}
	k, err := tlsdecrypt.LoadKeyLog(path)
	if err != nil {
		return nil, fmt.Errorf("--keylog: %w", err)
	}
	for _, w := range k.Warnings() {
		fmt.Fprintf(stderr, "%s: %s: %s\n", progName, path, w)
	}
	return k, nil
}

// startProfiles starts --cpuprofile and prepares --memprofile; the returned
// function writes them.
func startProfiles(c *config) (func(io.Writer), error) {
	var cpu, mem *os.File
	var err error
	if c.cpuProfile != "" {
		if cpu, err = os.Create(c.cpuProfile); err != nil {
			return nil, fmt.Errorf("--cpuprofile: %v", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("--cpuprofile: %v", err)
		}
	}
	if c.memProfile != "" {
		if mem, err = os.Create(c.memProfile); err != nil {
			return nil, fmt.Errorf("--memprofile: %v", err)
		}
	}
	return func(stderr io.Writer) {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if mem != nil {
			runtime.GC() // the profile counts up to the last collection
			if err := pprof.Lookup("allocs").WriteTo(mem, 0); err != nil {
				fmt.Fprintf(stderr, "%s: --memprofile: %v\n", progName, err)
			}
			mem.Close()
		}
	}, nil
}

// input is where packets come from: a capture file or a live interface.
type input struct {
	src  capture.Source
	name string              // the file name, "stdin", or the interface
	file *capture.FileSource // with -r
	live *liveInput          // with -i
	keys *tlsdecrypt.KeyLog  // --keylog of a file; a live capture follows its own
}

// close ends a live capture and closes its -w file.
func (in *input) close() error {
	if in.live != nil {
		return in.live.finish()
	}
	return nil
}

// closeFile closes a capture file.
func (in *input) closeFile() {
	if in.file != nil {
		in.file.Close()
	}
}
