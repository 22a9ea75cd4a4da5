// Command grpcsniff reads a packet capture, or captures from a network
// interface, and shows the gRPC calls in it: methods, metadata, messages in
// both directions, statuses and timings.
//
//	grpcsniff -r capture.pcapng           one line per call
//	grpcsniff -r capture.pcapng --json    one JSON object per call (NDJSON)
//	tcpdump -w - | grpcsniff -r -         from standard input
//	grpcsniff -i lo -f 'port 50051'       live, in the terminal UI
//	grpcsniff -i any --json | jq .method  live, a line per call as it ends
//
// Exit status: 0 calls were found (or a live capture ended normally); 1 the
// input could not be read or opened; 2 bad usage; 3 the capture is
// truncated or damaged (what could be read was decoded and printed); 4 the
// capture file holds no calls (neither gRPC nor HTTP).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/capture/bpffilter"
	"github.com/grpcsniff/grpcsniff/capture/live"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/filter"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
)

// Exit statuses.
const (
	exitOK         = 0
	exitError      = 1
	exitUsage      = 2
	exitDamaged    = 3
	exitNoCalls    = 4
	maxConnNotes   = 20
	progName       = "grpcsniff"
	usageFirstLine = "usage: grpcsniff (-r FILE | -i IFACE [-f FILTER] [-w FILE]) [--json] [--proto FILE -I DIR | --protoset FILE | --reflect] [options]"
)

func main() {
	tuneGC()
	fileGC = tuneFileGC
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

type options struct {
	read   string
	live   liveFlags
	json   bool
	quiet  bool
	text   bool
	stats  bool
	redact redactList
	// The interactive view's memory bounds.
	uiMaxCalls, uiMaxMessage int
	filter                   string
	keylog                   string
	cpuProfile               string
	memProfile               string
	workers                  int
	limits                   limits
}

// limits bound the memory the decoding may use, and say how to decrypt.
type limits struct {
	maxMessage, maxBuffered, maxConns int
	maxBufferedTotal                  int
	maxStreams                        int           // open calls per connection
	maxHeaderList, maxHPACKTable      int           // h2decode.Options
	maxDepth, maxFields               int           // protobuf nesting and fields decoded (export)
	maxCallBytes                      int           // JSON of one call (export)
	idleTimeout                       time.Duration // live: connections quiet this long are ended
	keys                              *tlsdecrypt.KeyLog
	tlsNotes                          *notes // TLS connections that could not be (fully) decrypted
	// keepPayload is grpcframe.Options.KeepPayload (--stats needs no
	// message bytes).
	keepPayload func(*grpcframe.Call) bool
}

// notes collects lines for the summary: the first maxConnNotes, and a count
// of the others (a live capture may run for days).
type notes struct {
	lines []string
	more  int
}

func (n *notes) add(s string) {
	switch {
	case n == nil:
	case len(n.lines) == maxConnNotes:
		n.more++
	default:
		n.lines = append(n.lines, s)
	}
}

func (l *limits) register(fs *flag.FlagSet) {
	fs.IntVar(&l.maxMessage, "max-message-size", 16<<20, "keep at most `BYTES` of one message (after decompression)")
	fs.IntVar(&l.maxBuffered, "max-buffered", capture.DefaultMaxBufferedPerDirection, "hold at most `BYTES` out of order per connection direction")
	fs.IntVar(&l.maxBufferedTotal, "max-buffered-total", capture.DefaultMaxBufferedTotal, "hold at most `BYTES` out of order for all connections together")
	fs.IntVar(&l.maxConns, "max-connections", capture.DefaultMaxConnections, "track at most `N` connections at once (the idlest are dropped)")
	fs.IntVar(&l.maxStreams, "max-streams", grpcframe.DefaultMaxOpenStreams, "keep at most `N` calls open on one connection (the oldest is closed as evicted)")
	fs.IntVar(&l.maxHeaderList, "max-header-list", 1<<20, "decode at most `BYTES` of one header list (RFC 9113 counting); the fields beyond are left out")
	fs.IntVar(&l.maxHPACKTable, "max-hpack-table", 1<<20, "accept HPACK dynamic table size updates up to `BYTES` from a peer (a larger one leaves that header block undecoded)")
	fs.IntVar(&l.maxDepth, "max-depth", pbdecode.DefaultMaxDepth, "decode protobuf sub-messages at most `N` levels deep (deeper ones are shown as bytes; 0 for none)")
	fs.IntVar(&l.maxFields, "max-fields", pbdecode.DefaultMaxFields, "decode at most `N` protobuf fields of one message (the rest is shown undecoded; negative for no limit)")
	fs.DurationVar(&l.idleTimeout, "idle-timeout", 15*time.Minute, "live capture: end connections that carried no packet for `D`, releasing their memory (their open calls are shown as closed)")
	fs.IntVar(&l.maxCallBytes, "max-call-bytes", export.DefaultMaxCallBytes, "write at most about `BYTES` of JSON for one call; messages beyond lose their data and raw (\"truncated_output\": true; negative for no limit)")
}

// openCapture opens the -r argument: a file, or standard input for "-".
func openCapture(path string, stdin io.Reader) (*capture.FileSource, error) {
	if path == "-" {
		return capture.OpenReader(stdin, "stdin")
	}
	return capture.OpenFile(path)
}

// decodeHooks let a caller follow the decoding and stop it; all may be nil.
type decodeHooks struct {
	stop     func() bool // checked between packets
	progress func()      // called every few thousand packets, and when idle
	// idle reports whether an error from the source only means that no
	// packet came for a while (a live capture); the decoding then expires
	// idle state at the wall clock's time and goes on.
	idle func(error) bool
	// live: hand calls on as they finish rather than in order of start,
	// and end connections idle for limits.idleTimeout.
	live bool
	// onMessage is told of each message as it completes (--partial).
	onMessage func(c *grpcframe.Call, request bool, index int, m *grpcframe.Message)
	// tls adjusts the TLS options (waiting for keys in a live capture).
	tls func(*tlsdecrypt.Options)
	// poke runs after each packet and each idle moment of a live capture.
	poke func()
}

func decodeCaptureHooks(src capture.Source, sink grpcframe.Sink, l limits, h decodeHooks) (capture.Stats, grpcframe.Stats, error) {
	calls := grpcframe.NewAssembler(sink, grpcframe.Options{MaxMessageSize: l.maxMessage, MaxOpenStreams: l.maxStreams,
		EmitOnFinish: h.live, OnMessage: h.onMessage, KeepPayload: l.keepPayload})
	// TLS is always looked for, keys or not: a TLS connection is then named
	// with its SNI, ALPN and the key it lacks rather than passed over.
	tlsOpts := tlsdecrypt.Options{
		Report: func(ci *capture.ConnInfo, t *tlsdecrypt.Info) {
			if !t.Decrypted || t.Problem != "" {
				l.tlsNotes.add(fmt.Sprintf("%s ↔ %s: %s", ci.Addr[0], ci.Addr[1], t))
			}
		}}
	if h.tls != nil {
		h.tls(&tlsOpts)
	}
	conns := tlsdecrypt.NewFactory(h2decode.NewFactory(calls, h2decode.Options{
		MaxHeaderListSize: l.maxHeaderList,
		MaxTableSize:      uint32(max(l.maxHPACKTable, 0)),
	}), l.keys, tlsOpts)
	topt := capture.Options{
		MaxBufferedPerDirection: l.maxBuffered,
		MaxBufferedTotal:        l.maxBufferedTotal,
		MaxConnections:          l.maxConns,
	}
	if h.live {
		topt.IdleTimeout = l.idleTimeout
	}
	tcp := capture.NewAssembler(conns, topt)
	var last time.Time
	var rule chunkRule
	readErr := readLoop(src, h.stop, h.progress, h.idle, func(p capture.Packet) {
		last = p.Time
		tcp.AddPacket(p)
		if rule.add(p) {
			calls.Tick(last)
		}
		if h.poke != nil {
			h.poke()
		}
	}, func(now time.Time) {
		conns.CheckKeys()
		tcp.Tick(now)
		calls.Tick(now)
		if h.poke != nil {
			h.poke()
		}
	})
	if h.live {
		// The capture ends now, not at the last packet: calls still open
		// were open until the user stopped.
		last = time.Now()
	}
	tcp.Close(last)
	calls.Close()
	return tcp.Stats(), calls.Stats(), readErr
}

// readLoop reads src to its end, handing each packet to packet. When an
// error from the source only means that no packet came for a while (isIdle,
// a live capture), it calls idle with the wall clock's time and goes on.
// stop is checked, and progress called, every few thousand packets and when
// idle; any of the three may be nil. It returns the error that ended the
// reading: nil at the end of the input or when stopped.
func readLoop(src capture.Source, stop func() bool, progress func(), isIdle func(error) bool,
	packet func(capture.Packet), idle func(now time.Time)) error {
	for n := 1; ; n++ {
		if n&4095 == 0 {
			if stop != nil && stop() {
				return nil
			}
			if progress != nil {
				progress()
			}
		}
		p, err := src.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if isIdle == nil || !isIdle(err) {
				return err
			}
			idle(time.Now())
			if stop != nil && stop() {
				return nil
			}
			if progress != nil {
				progress()
			}
			continue
		}
		packet(p)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "infer" {
		return runInfer(args[1:], stdin, stdout, stderr)
	}
	var o options
	fs := flag.NewFlagSet(progName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.read, "r", "", "read packets from `FILE` (pcap or pcapng, optionally gzip-compressed; - for standard input)")
	o.live.register(fs)
	fs.BoolVar(&o.json, "json", false, "write one JSON object per call (NDJSON) instead of one line of text")
	fs.BoolVar(&o.quiet, "q", false, "no summary on standard error")
	fs.Var(&o.redact, "redact", "mask the values of authorization, proxy-authorization, cookie, set-cookie and the metadata `NAMES` (comma-separated; --redact= for only the defaults) in every output")
	fs.IntVar(&o.uiMaxCalls, "ui-max-calls", -1, "interactive view: keep at most `N` calls, dropping the oldest (0: no limit; default: no limit for files, 100000 live)")
	fs.IntVar(&o.uiMaxMessage, "ui-max-message-bytes", 64<<10, "interactive view: keep at most `BYTES` of each message's payload (-1: all)")
	fs.BoolVar(&o.stats, "stats", false, "print a summary per method (calls, statuses, latency percentiles, messages and bytes) instead of the calls")
	fs.BoolVar(&o.text, "text", false, "print one line per call even when standard output is a terminal (instead of the interactive view)")
	fs.StringVar(&o.filter, "Y", "", "show only the calls that match the display filter `EXPR` (e.g. 'status != OK and method ~ Greeter'; see the README)")
	o.limits.register(fs)
	fs.StringVar(&o.keylog, "keylog", "", "decrypt TLS with the NSS key log in `FILE` (SSLKEYLOGFILE: curl, browsers, Go's KeyLogWriter, Node's keylog event)")
	fs.IntVar(&o.workers, "workers", defaultWorkers(), "decode connections in `N` goroutines; a file's output is the same for any N (0: all in the goroutine reading the packets)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to `FILE` (for go tool pprof)")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a profile of the run's allocations to `FILE` (for go tool pprof -sample_index=alloc_space)")
	var sf schemaFlags
	sf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usageFirstLine)
		fmt.Fprintln(stderr, "\nShows the gRPC calls in a packet capture or on a network interface. Options:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n%s\n", progName, fs.Arg(0), usageFirstLine)
		return exitUsage
	}
	if o.live.list {
		return listInterfaces(stdout, stderr)
	}
	switch {
	case o.live.iface != "" && o.read != "":
		fmt.Fprintf(stderr, "%s: -r and -i exclude each other: read a file or capture live, not both\n%s\n", progName, usageFirstLine)
		return exitUsage
	case o.live.iface == "" && o.read == "":
		fmt.Fprintf(stderr, "%s: nothing to read: give a capture file with -r FILE (or -r - for standard input), or an interface with -i IFACE (see -D)\n%s\n", progName, usageFirstLine)
		return exitUsage
	case o.live.iface == "" && (o.live.bpf != "" || o.live.write != "" || o.live.count != 0 || o.live.duration != 0):
		fmt.Fprintf(stderr, "%s: -f, -w, -c and --duration go with live capture (-i)\n", progName)
		return exitUsage
	case o.live.partial && !o.json:
		fmt.Fprintf(stderr, "%s: --partial goes with --json\n", progName)
		return exitUsage
	}
	if o.uiMaxCalls < 0 {
		o.uiMaxCalls = 0
		if o.live.iface != "" {
			o.uiMaxCalls = 100000
		}
	}

	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "%s: --cpuprofile: %v\n", progName, err)
			return exitError
		}
		defer stop()
	}
	if o.memProfile != "" {
		f, err := os.Create(o.memProfile)
		if err != nil {
			fmt.Fprintf(stderr, "%s: --memprofile: %v\n", progName, err)
			return exitError
		}
		defer func() {
			runtime.GC() // the profile counts up to the last collection
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintf(stderr, "%s: --memprofile: %v\n", progName, err)
			}
			f.Close()
		}()
	}

	var in input
	if o.live.iface != "" {
		li, err := openLive(&o.live, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", progName, err)
			var fe *bpffilter.Error
			if errors.As(err, &fe) {
				return exitUsage
			}
			return exitError
		}
		in = input{src: li, name: o.live.iface, live: li}
	} else {
		src, err := openCapture(o.read, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", progName, err)
			return exitError
		}
		defer src.Close()
		in = input{src: src, name: src.Name(), file: src}
		fileGC()
		if o.live.user != "" {
			// The capture is open: nothing else needs root.
			if err := live.DropPrivileges(o.live.user); err != nil {
				fmt.Fprintf(stderr, "%s: -Z %s: %v\n", progName, o.live.user, err)
				return exitError
			}
		}
	}

	keys, err := in.loadKeys(o.keylog, o.read, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		in.close()
		return exitError
	}
	o.limits.keys = keys
	o.limits.tlsNotes = &notes{}

	reg, err := sf.load(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		in.close()
		return exitError
	}
	expr, err := filter.ParseWith(o.filter, filter.Options{Schema: reg})
	if err != nil {
		fmt.Fprintf(stderr, "%s: -Y: %v\n", progName, err)
		var fe *filter.Error
		if errors.As(err, &fe) {
			for _, l := range strings.Split(fe.Caret(o.filter), "\n") {
				fmt.Fprintf(stderr, "  %s\n", l)
			}
		}
		in.close()
		return exitUsage
	}
	if !o.json && !o.text && !o.stats && isTerminal(stdout) {
		return runTUI(in, reg, &sf, o, stderr)
	}
	var sink interface {
		grpcframe.Sink
		Close() error
	}
	var hooks decodeHooks
	// A file's calls are encoded on every core (in order).
	parallel := in.live == nil && o.workers > 0
	var beforeSchemaChange func()
	// With --stats, the workers count some calls themselves (tally).
	var tally func() func(*grpcframe.Call)
	var tallies []*export.Stats
	if o.stats {
		sink = &statsSink{Stats: export.NewStats(), w: stdout}
		if o.filter == "" && !sf.reflect {
			// Counting is the same in any order: the workers count the
			// calls that need nothing of the others (those of reflection
			// calls feed the schemas, those of unknown methods are
			// inferred in order) themselves, and the counts are added up
			// at the end.
			tally = func() func(*grpcframe.Call) {
				st := export.NewStats()
				tallies = append(tallies, st)
				return st.Call // the worker recycles the call
			}
		}
		if o.filter == "" {
			// The summary counts messages and their lengths: their bytes
			// are only read for the schemas of reflection calls and to
			// infer the method of calls whose :path was not captured.
			o.limits.keepPayload = func(c *grpcframe.Call) bool {
				return c.Method == "" || c.MethodUnknown || schema.IsReflection(c.Method)
			}
		}
	} else if o.json {
		j := export.NewNDJSON(stdout)
		j.Options.Schema = reg
		j.Options.Raw.MaxDepth = o.limits.maxDepth
		if o.limits.maxDepth == 0 {
			j.Options.Raw.MaxDepth = -1 // pbdecode: 0 is its default, negative none
		}
		j.Options.Raw.MaxFields = o.limits.maxFields
		j.Options.MaxCallBytes = o.limits.maxCallBytes
		if o.live.partial {
			hooks.onMessage = func(c *grpcframe.Call, request bool, index int, m *grpcframe.Message) {
				if expr.Match(c) {
					j.Message(c, request, index, m)
				}
			}
		}
		sink = j
		if parallel && !o.live.partial {
			opts := j.Options
			ow := newOrderedWriter(stdout, func() func(dst []byte, c *grpcframe.Call) []byte {
				return (&export.Encoder{Options: opts}).AppendCall
			})
			beforeSchemaChange = ow.Drain
			sink = ow
		}
	} else if parallel {
		sink = newOrderedWriter(stdout, func() func(dst []byte, c *grpcframe.Call) []byte {
			return func(dst []byte, c *grpcframe.Call) []byte {
				return append(dst, export.FormatLine(c, time.Local)...)
			}
		})
	} else {
		sink = export.NewText(stdout)
	}
	var out grpcframe.Sink = sink
	if o.redact.set {
		out = newRedactSink(o.redact.names, sink)
	}
	// Once the output is done with a call, its memory is reused for later
	// ones (the ordered writer recycles the calls it has encoded itself).
	// --partial hands on messages of calls still being decoded, so it
	// keeps them all.
	_, selfRecycling := sink.(*orderedWriter)
	recycle := !o.live.partial
	ncalls := 0
	schemas := newSchemaSink(reg, &sf, stderr, grpcframe.SinkFunc(func(c *grpcframe.Call) {
		ncalls++
		if expr.Match(c) {
			out.Call(c)
			if selfRecycling {
				return
			}
		}
		if recycle {
			recycleCall(c)
		}
	}))
	schemas.beforeChange = beforeSchemaChange
	if in.live != nil {
		in.live.hooks(&hooks)
		defer in.live.stopOn(o.live.duration, stderr)()
		// Like tcpdump's "listening on": the capture runs from here.
		fmt.Fprintf(stderr, "%s: %s\n", progName, in.live.describe())
	}
	// The output runs beside the decoding (two cores). A live capture hands
	// each call on at once while the output keeps up, and flushes after
	// each batch.
	var flush func()
	if f, ok := sink.(interface{ Flush() }); ok && in.live != nil {
		flush = f.Flush
	}
	var st capture.Stats
	var cst grpcframe.Stats
	var readErr error
	if o.workers > 0 {
		// Connections decoded on every core, the sinks in a goroutine of
		// their own.
		st, cst, readErr = decodeSharded(in.src, schemas, o.limits, shardHooks{workers: o.workers, onMessage: hooks.onMessage,
			live: hooks.live, idle: hooks.idle, tls: hooks.tls, flush: flush, tally: tally, tallyMethod: notReflection})
		if s, ok := sink.(*statsSink); ok {
			for _, t := range tallies {
				s.Merge(t)
				ncalls += t.Calls()
			}
		}
	} else {
		pipe := newPipeline(schemas, hooks.onMessage, 64, in.live != nil, flush)
		if hooks.onMessage != nil {
			hooks.onMessage = pipe.Message
		}
		if in.live != nil {
			hooks.poke = pipe.poke
		}
		st, cst, readErr = decodeCaptureHooks(in.src, pipe, o.limits, hooks)
		pipe.Close()
	}
	status := exitOK
	if err := sink.Close(); err != nil {
		fmt.Fprintf(stderr, "%s: writing output: %v\n", progName, err)
		in.close()
		return exitError
	}
	if readErr != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, readErr)
		status = exitDamaged
	}
	if err := in.close(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		status = exitError
	}
	if !o.quiet {
		if in.live != nil {
			in.live.summary(stderr)
		}
		summarize(stderr, st, cst, ncalls, o.limits)
		for _, n := range o.limits.tlsNotes.lines {
			fmt.Fprintf(stderr, "%s: TLS %s\n", progName, n)
		}
		if n := o.limits.tlsNotes.more; n > 0 {
			fmt.Fprintf(stderr, "%s: … and %d more TLS connections like these\n", progName, n)
		}
		if schemas.harvested > 0 {
			fmt.Fprintf(stderr, "%s: %d schema files taken from reflection calls in the capture\n", progName, schemas.harvested)
		}
	}
	if ncalls == 0 && status == exitOK && in.live == nil {
		fmt.Fprintf(stderr, "%s: no calls (gRPC, gRPC-Web or HTTP) found in %s (%d packets, %d TCP connections)\n", progName, in.name, st.Packets, st.Connections)
		status = exitNoCalls
	}
	return status
}

// startCPUProfile profiles the run into path until the returned function
// is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// input is where packets come from: a capture file or a live interface.
type input struct {
	src  capture.Source
	name string              // the file name, "stdin", or the interface
	file *capture.FileSource // with -r
	live *liveInput          // with -i
}

// close ends a live capture and closes its -w file.
func (in *input) close() error {
	if in.live != nil {
		return in.live.finish()
	}
	return nil
}

// summarize tells the user, on stderr, what was read and what went wrong.
func summarize(w io.Writer, st capture.Stats, cs grpcframe.Stats, calls int, l limits) {
	var kinds []string
	for k, n := range cs.ByKind {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(kinds)
	fmt.Fprintf(w, "%s: %d calls; %d packets, %d TCP connections", progName, calls, st.Packets, st.Connections)
	if len(kinds) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(kinds, ", "))
	}
	fmt.Fprintln(w)
	if st.Gaps > 0 {
		fmt.Fprintf(w, "%s: %d gaps in TCP streams, %d bytes not captured (%d of them cut by the snap length)\n", progName, st.Gaps, st.GapBytes, st.TruncatedBytes)
	}
	if st.Malformed > 0 {
		fmt.Fprintf(w, "%s: %d malformed packets skipped\n", progName, st.Malformed)
	}
	if st.Unsupported > 0 {
		fmt.Fprintf(w, "%s: %d packets of unsupported link types %v skipped\n", progName, st.Unsupported, st.UnsupportedLinkTypes)
	}
	if cs.OverSize > 0 {
		fmt.Fprintf(w, "%s: %d messages cut at the size limit (%d bytes after decompression; see --max-message-size)\n", progName, cs.OverSize, l.maxMessage)
	}
	if cs.HeaderListCut > 0 {
		fmt.Fprintf(w, "%s: %d header lists cut at the size limit (%d bytes; see --max-header-list)\n", progName, cs.HeaderListCut, l.maxHeaderList)
	}
	if cs.TableOverLimit > 0 {
		fmt.Fprintf(w, "%s: %d header blocks asked for an HPACK table larger than the limit (%d bytes; see --max-hpack-table)\n", progName, cs.TableOverLimit, l.maxHPACKTable)
	}
	if cs.Evicted > 0 {
		fmt.Fprintf(w, "%s: %d streams evicted (more than %d open on one connection; see --max-streams)\n", progName, cs.Evicted, l.maxStreams)
	}
	if st.Evicted > 0 {
		fmt.Fprintf(w, "%s: %d connections dropped because more than the connection limit were open (see --max-connections)\n", progName, st.Evicted)
	}
	for i, n := range cs.ConnNotes {
		if i == maxConnNotes {
			fmt.Fprintf(w, "%s: … and %d more connection notes\n", progName, len(cs.ConnNotes)-i+cs.MoreConnNotes)
			break
		}
		fmt.Fprintf(w, "%s: %s\n", progName, n)
	}
}

// recycleCall hands a call the output is done with back to grpcframe. The
// schemas harvested from a reflection call are built from its messages, so
// its memory is left as it is.
func recycleCall(c *grpcframe.Call) {
	if !schema.IsReflection(c.Method) {
		grpcframe.Recycle(c)
	}
}

func notReflection(method string) bool { return !schema.IsReflection(method) }

// statsSink writes the per-method summary when the capture is done.
type statsSink struct {
	*export.Stats
	w io.Writer
}

func (s *statsSink) Close() error { return s.WriteText(s.w) }

// redactList is the --redact flag: given at all, it turns redaction on; its
// value adds header names to the default ones.
type redactList struct {
	set   bool
	names []string
}

func (r *redactList) String() string { return strings.Join(r.names, ",") }

func (r *redactList) Set(v string) error {
	r.set = true
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			r.names = append(r.names, n)
		}
	}
	return nil
}
