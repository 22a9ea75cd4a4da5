package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/capture/live"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/pbdecode"
	"github.com/grpcsniff/grpcsniff/sniff"
	"github.com/grpcsniff/grpcsniff/tui"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// config is the command line, parsed and checked.
type config struct {
	read                  string
	live                  liveFlags
	json, text, stats     bool
	quiet                 bool
	redact                []string // header names; nil when --redact was not given
	uiMaxCalls            int      // -1: the default for the input
	uiMaxMessage          int
	uiKeepBytes           int64
	filter                string
	keylog                string
	cpuProfile            string
	memProfile            string
	workers               int
	limits                limits
	schema                schemaFlags
	otlp                  otlpFlags
	metricsListen         string // --metrics-listen ADDR; "" when not serving
	captureFilterFromArgs bool   // the capture filter came after the options, as tcpdump takes it
	rawAlone              bool
	hints                 *export.ReadingHints // learnt by a first pass (firstPass)
}

// limits bound the memory the decoding may use.
type limits struct {
	maxMessage, maxBuffered, maxConns int
	maxBufferedTotal                  int
	maxStreams                        int
	maxHeaderList, maxHPACKTable      int
	maxDepth, maxFields               int
	maxCallBytes                      int
	idleTimeout                       time.Duration
	reorderWindow                     time.Duration
	reorderSegments                   int
}

// schemaFlags are the options that give message schemas.
type schemaFlags struct {
	protos, imports, protosets, reflectAddrs []string
	reflect, plaintext, insecure             bool
}

// usageError is a mistake on the command line: exit status 2, with a hint
// to --help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// flagGroup is a section of the help: flags that belong together.
type flagGroup struct {
	title string
	flags *pflag.FlagSet
}

func newGroup(title string) flagGroup {
	fs := pflag.NewFlagSet(title, pflag.ContinueOnError)
	fs.SortFlags = false
	return flagGroup{title: title, flags: fs}
}

// register defines the flags of the main command, in the help's sections.
func (c *config) register() []flagGroup {
	in, out, sch, lim, run := newGroup("Input"), newGroup("Output"), newGroup("Schemas"), newGroup("Limits (hostile or broken input)"), newGroup("Running")
	f := in.flags
	f.StringVarP(&c.read, "read", "r", "", "read packets from `FILE` (pcap or pcapng, optionally gzip-compressed; - for standard input)")
	c.live.register(f)
	f.DurationVar(&c.limits.idleTimeout, "idle-timeout", 15*time.Minute, "live: end connections quiet for `D`, releasing their memory (their open calls are shown as closed)")
	c.limits.registerReorder(f)
	f.StringVar(&c.keylog, "keylog", "", "decrypt TLS with the NSS key log in `FILE` (SSLKEYLOGFILE: curl, browsers, Go's KeyLogWriter, Node's keylog event)")

	f = out.flags
	f.BoolVar(&c.json, "json", false, "write one JSON object per call (NDJSON)")
	f.BoolVar(&c.text, "text", false, "write one line per call, even when standard output is a terminal (instead of the interactive view)")
	f.BoolVar(&c.stats, "stats", false, "print a summary per method (calls, statuses, latency percentiles, messages and bytes) instead of the calls")
	f.StringVarP(&c.filter, "display-filter", "Y", "", "show only the calls that match the display filter `EXPR` (e.g. 'status != OK and method ~ Greeter')")
	f.BoolVarP(&c.quiet, "quiet", "q", false, "no summary on standard error")
	f.BoolVar(&c.live.partial, "partial", false, "live, with --json: also write a line for each message as it arrives, before its call ends")
	f.BoolVar(&c.rawAlone, "raw-alone", false, "with --json and a file: read each message's raw fields from its own bytes alone, in one pass (by default the file's first 20,000 calls are read first, to learn how each method's fields read, so that a field reads the same in all of them)")
	f.Var(&redactFlag{c: c}, "redact", "mask the values of authorization, proxy-authorization, cookie, set-cookie and of the metadata `NAMES` (comma-separated) in every output")
	f.Lookup("redact").NoOptDefVal = " " // given alone: the credential headers only
	f.IntVar(&c.uiMaxCalls, "ui-max-calls", -1, "interactive view: keep at most `N` calls, dropping the oldest (0: no limit; default: no limit for files, 100000 live)")
	f.IntVar(&c.uiMaxMessage, "ui-max-message-bytes", 64<<10, "interactive view: keep at most `BYTES` of each message (-1: all)")
	c.otlp.register(f)
	c.registerMetrics(f)
	f.Int64Var(&c.uiKeepBytes, "ui-keep-bytes", tui.DefaultKeepBytes, "interactive view of a file (or of a live capture with -w): keep about `BYTES` of calls whole, and read the others from the file again when opened (-1: keep every call)")

	c.schema.register(sch.flags)
	c.limits.registerDecoding(lim.flags)
	c.limits.registerOutput(lim.flags)

	f = run.flags
	f.IntVar(&c.workers, "workers", sniff.DefaultWorkers(), "decode connections in `N` goroutines (default: one per CPU, at most 8); a file's output is the same for any N (0: all in the goroutine reading the packets)")
	f.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to `FILE` (go tool pprof)")
	f.StringVar(&c.memProfile, "memprofile", "", "write a profile of the run's allocations to `FILE` (go tool pprof -sample_index=alloc_space)")
	return []flagGroup{in, out, sch, lim, run}
}

// registerReorder defines how long a hole that the receiver acknowledged
// stays open for bytes the capture recorded late.
func (l *limits) registerReorder(fs *pflag.FlagSet) {
	fs.DurationVar(&l.reorderWindow, "reorder-window", capture.DefaultReorderWindow, "keep a hole the receiver acknowledged open for `D` of capture time, in case the capture recorded its bytes after the acknowledgement (0: no wait)")
	fs.IntVar(&l.reorderSegments, "reorder-segments", capture.DefaultReorderSegments, "and until `N` more TCP segments were captured after the acknowledgement (0: no count)")
}

// registerDecoding defines the limits of the decoding itself.
func (l *limits) registerDecoding(fs *pflag.FlagSet) {
	fs.IntVar(&l.maxMessage, "max-message-size", 16<<20, "keep at most `BYTES` of one message (on the wire and after decompression)")
	fs.IntVar(&l.maxBuffered, "max-buffered", capture.DefaultMaxBufferedPerDirection, "hold at most `BYTES` out of order per connection direction")
	fs.IntVar(&l.maxBufferedTotal, "max-buffered-total", capture.DefaultMaxBufferedTotal, "hold at most `BYTES` out of order for all connections together")
	fs.IntVar(&l.maxConns, "max-connections", capture.DefaultMaxConnections, "track at most `N` connections at once (the idlest are dropped)")
	fs.IntVar(&l.maxStreams, "max-streams", grpcframe.DefaultMaxOpenStreams, "keep at most `N` calls open on one connection (the oldest is closed as evicted)")
	fs.IntVar(&l.maxHeaderList, "max-header-list", 1<<20, "decode at most `BYTES` of one header list (RFC 9113 counting)")
	fs.IntVar(&l.maxHPACKTable, "max-hpack-table", 1<<20, "accept HPACK dynamic tables up to `BYTES` from a peer (a larger one leaves that header block undecoded)")
}

// registerOutput defines the limits of what is written of each call.
func (l *limits) registerOutput(fs *pflag.FlagSet) {
	fs.IntVar(&l.maxDepth, "max-depth", pbdecode.DefaultMaxDepth, "decode protobuf sub-messages at most `N` levels deep (0: none)")
	fs.IntVar(&l.maxFields, "max-fields", pbdecode.DefaultMaxFields, "decode at most `N` protobuf fields of one message (-1: no limit)")
	fs.IntVar(&l.maxCallBytes, "max-call-bytes", export.DefaultMaxCallBytes, "write at most about `BYTES` of JSON for one call; later messages lose their data (-1: no limit)")
}

func (f *schemaFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.protos, "proto", nil, "decode messages with the .proto `FILE` (repeatable)")
	fs.StringArrayVarP(&f.imports, "import-path", "I", nil, "look for .proto imports in `DIR` (repeatable)")
	fs.StringArrayVar(&f.protosets, "protoset", nil, "decode messages with the descriptor set `FILE` (protoc --include_imports --descriptor_set_out, buf build -o; repeatable)")
	fs.BoolVar(&f.reflect, "reflect", false, "ask each server seen in the capture for its schemas by gRPC server reflection (connects to it)")
	fs.StringArrayVar(&f.reflectAddrs, "reflect-addr", nil, "ask the server at `HOST:PORT` for its schemas by gRPC server reflection (repeatable)")
	fs.BoolVar(&f.plaintext, "reflect-plaintext", false, "with --reflect-addr: reflect over h2c rather than TLS")
	fs.BoolVar(&f.insecure, "reflect-insecure", false, "reflect over TLS without checking the server's certificate")
}

// redactFlag is --redact: given at all, it turns redaction on; its value
// adds header names to the credential headers.
type redactFlag struct{ c *config }

func (r *redactFlag) String() string { return strings.Join(r.c.redact, ",") }
func (r *redactFlag) Type() string   { return "names" }

func (r *redactFlag) Set(v string) error {
	if r.c.redact == nil {
		r.c.redact = append([]string{}, export.CredentialHeaders...)
	}
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			r.c.redact = append(r.c.redact, n)
		}
	}
	return nil
}

// check rejects what the flags cannot mean together, or values out of
// range, before anything is opened.
func (c *config) check(args []string) error {
	if err := c.checkInput(args); err != nil {
		return err
	}
	if n := countTrue(c.json, c.text, c.stats); n > 1 {
		return usagef("--json, --text and --stats exclude each other: choose one output")
	}
	if c.live.partial && !c.json {
		return usagef("--partial goes with --json")
	}
	if err := c.otlp.check(); err != nil {
		return err
	}
	return c.checkRanges()
}

// checkInput checks that there is exactly one input, and takes a capture
// filter given after the options.
func (c *config) checkInput(args []string) error {
	switch {
	case c.live.list:
		if c.read != "" || c.live.iface != "" || len(args) > 0 {
			return usagef("-D lists the interfaces; it takes no other input")
		}
		return nil
	case c.live.iface != "" && c.read != "":
		return usagef("-r and -i exclude each other: read a file or capture live, not both")
	case c.live.iface == "" && c.read == "":
		return usagef("nothing to read: give a capture file with -r FILE (or -r - for standard input), or an interface with -i IFACE (see -D)")
	case c.live.iface == "" && (c.live.bpf != "" || c.live.write != "" || c.live.count != 0 || c.live.duration != 0):
		return usagef("-f, -w, -c and --duration go with live capture (-i)")
	}
	if len(args) == 0 {
		return nil
	}
	switch {
	case c.read != "" && c.redact != nil:
		return usagef("unexpected argument %q: to mask more headers, name them in --redact=NAME,NAME", args[0])
	case c.read != "":
		return usagef("unexpected argument %q: a capture filter after the options is for live capture (-i); a file's calls are selected with -Y", args[0])
	case c.live.bpf != "":
		return usagef("unexpected argument %q: the capture filter was already given with -f", args[0])
	}
	c.live.bpf = strings.Join(args, " ")
	c.captureFilterFromArgs = true
	return nil
}

// rangeCheck is a numeric flag and the least value it takes.
type rangeCheck struct {
	name  string
	value int64
	min   int64
	what  string
}

func (c *config) checkRanges() error {
	checks := []rangeCheck{
		{"-c", c.live.count, 0, "a number of packets"},
		{"-s", int64(c.live.snaplen), 1, "a number of bytes"},
		{"-B", int64(c.live.bufferKiB), 1, "a size in KiB"},
		{"--workers", int64(c.workers), 0, "a number of goroutines"},
		{"--ui-max-calls", int64(c.uiMaxCalls), -1, "a number of calls (0: no limit)"},
		{"--ui-max-message-bytes", int64(c.uiMaxMessage), -1, "a number of bytes (-1: all)"},
		{"--ui-keep-bytes", c.uiKeepBytes, -1, "a number of bytes (-1: every call)"},
	}
	checks = append(checks, c.limits.decodingRanges()...)
	checks = append(checks, c.limits.outputRanges()...)
	if err := checkAll(checks); err != nil {
		return err
	}
	switch {
	case c.live.duration < 0:
		return usagef("--duration %v: expected a positive time such as 30s or 5m", c.live.duration)
	case c.limits.idleTimeout <= 0:
		return usagef("--idle-timeout %v: expected a positive time such as 15m", c.limits.idleTimeout)
	case c.limits.reorderWindow < 0:
		return usagef("--reorder-window %v: expected a time such as 200ms, or 0 not to wait", c.limits.reorderWindow)
	}
	return nil
}

func (l *limits) decodingRanges() []rangeCheck {
	return []rangeCheck{
		{"--max-message-size", int64(l.maxMessage), 1, "a number of bytes"},
		{"--max-buffered", int64(l.maxBuffered), 1, "a number of bytes"},
		{"--max-buffered-total", int64(l.maxBufferedTotal), 1, "a number of bytes"},
		{"--max-connections", int64(l.maxConns), 1, "a number of connections"},
		{"--reorder-segments", int64(l.reorderSegments), 0, "a number of segments (0: no count)"},
		{"--max-streams", int64(l.maxStreams), 1, "a number of calls"},
		{"--max-header-list", int64(l.maxHeaderList), 1, "a number of bytes"},
		{"--max-hpack-table", int64(l.maxHPACKTable), 0, "a number of bytes"},
	}
}

func (l *limits) outputRanges() []rangeCheck {
	return []rangeCheck{
		{"--max-depth", int64(l.maxDepth), 0, "a number of levels (0: none)"},
		{"--max-fields", int64(l.maxFields), -1, "a number of fields (-1: no limit)"},
		{"--max-call-bytes", int64(l.maxCallBytes), -1, "a number of bytes (-1: no limit)"},
	}
}

// checkAll returns the first value out of its range.
func checkAll(checks []rangeCheck) error {
	for _, r := range checks {
		if r.value < r.min {
			return usagef("%s %d: expected %s, at least %d", r.name, r.value, r.what, r.min)
		}
	}
	return nil
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// newRootCommand is the command line: the main command, `infer` and
// `completion`. The action chosen sets *code to the exit status.
func newRootCommand(c *config, std stdio, code *int) *cobra.Command {
	root := &cobra.Command{
		Use:           progName + " (-r FILE | -i IFACE [FILTER] | -D) [options]",
		Short:         "Shows the gRPC calls in a packet capture or on a network interface",
		Version:       version(),
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.check(args); err != nil {
				return err
			}
			*code = runMain(c, std)
			return nil
		},
	}
	root.SetVersionTemplate(progName + " {{.Version}}\n")
	groups := c.register()
	for _, g := range groups {
		root.Flags().AddFlagSet(g.flags)
	}
	root.Flags().SortFlags = false
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		switch {
		case cmd == root:
			writeHelp(cmd.OutOrStdout(), groups)
		case cmd.Name() == "infer":
			writeInferHelp(cmd)
		default:
			writeSubHelp(cmd)
		}
	})
	root.SetIn(std.in)
	root.SetOut(std.out)
	root.SetErr(std.err)
	root.AddCommand(newInferCommand(std, code))
	completions(root)
	return root
}

// completions tells the shells what the flags take: files for -r and the
// schema flags, interface names for -i.
func completions(root *cobra.Command) {
	root.MarkFlagFilename("read", "pcap", "pcapng", "gz", "cap")
	root.MarkFlagFilename("proto", "proto")
	root.MarkFlagFilename("protoset", "binpb", "pb", "protoset", "desc")
	root.MarkFlagFilename("keylog")
	root.MarkFlagDirname("import-path")
	root.RegisterFlagCompletionFunc("interface", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ifs, err := live.Interfaces()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names := []cobra.Completion{"any"}
		for _, i := range ifs {
			names = append(names, i.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
}

// stdio are the streams the command uses (the process's, or a test's).
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// reportParseError turns what cobra returns into the exit status and the
// one line (and a hint to the help of the command given) the user sees.
func reportParseError(err error, args []string, w io.Writer) int {
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		cmd := progName
		if len(args) > 0 && args[0] == "infer" {
			cmd += " infer"
		}
		fmt.Fprintf(w, "%s: %v\nRun '%s --help' for the options.\n", progName, err, cmd)
		return exitUsage
	}
	fmt.Fprintf(w, "%s: %v\n", progName, err)
	return exitError
}

// isCobraUsage reports whether err is cobra's own complaint about the
// command line (an unknown command, a missing argument).
func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "accepts ") ||
		strings.HasPrefix(s, "requires ") || strings.Contains(s, "flag")
}
