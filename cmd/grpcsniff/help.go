package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// helpWidth is where flag descriptions are wrapped.
const helpWidth = 100

const helpIntro = `grpcsniff shows the gRPC calls in a packet capture or on a network interface:
which client called which method on which server, the metadata, every message
both ways (decoded as protobuf, with or without a schema), the status and the
timings. gRPC-Web, gRPC inside TLS (with the session keys) and plain HTTP calls
are calls too.

Usage:
  grpcsniff -r FILE [options]              decode a capture file (pcap, pcapng, gzip; - for standard input)
  grpcsniff -i IFACE [options] [FILTER]    capture live; FILTER is a tcpdump capture filter, as with -f
  grpcsniff -D                             list the interfaces -i can capture from
  grpcsniff infer -r FILE [-o OUT]         write .proto files inferred from the calls in a capture
  grpcsniff completion bash|zsh|fish       print a shell completion script

On a terminal the calls open in the interactive view (press ? there for its
keys); piped, or with --text, one line per call; --json writes NDJSON.
`

const helpOutro = `Exit status:
  0  calls were found (or a live capture ended normally)
  1  the input could not be read or opened (a missing file, not a capture, an interface that does not exist)
  2  bad usage
  3  the capture is truncated or damaged (what came before the damage was decoded and printed)
  4  the capture holds no calls (neither gRPC nor gRPC-Web nor HTTP)

Examples:
  grpcsniff -r calls.pcapng --json | jq -c '{method, status: .status.name}'
  grpcsniff -r calls.pcap --proto api.proto -I protos/ -Y 'status != OK'
  sudo grpcsniff -i any 'tcp port 50051'
  tcpdump -i lo -w - 'tcp port 50051' | grpcsniff -r - --text
`

// writeHelp is the main command's --help: what it does, its forms, the
// flags by section, the exit statuses and examples.
func writeHelp(w io.Writer, groups []flagGroup) {
	io.WriteString(w, helpIntro)
	writeFlagTable(w, groups, [2]string{"-h, --help", "this help"}, [2]string{"    --version", "print the version"})
	fmt.Fprintln(w)
	io.WriteString(w, helpOutro)
}

// writeInferHelp is grpcsniff infer --help.
func writeInferHelp(cmd *cobra.Command) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s %s\n", cmd.Long, progName, cmd.Use)
	writeFlagTable(w, []flagGroup{{title: "Options", flags: cmd.Flags()}}, [2]string{"-h, --help", "this help"})
}

// writeFlagTable writes the flags of each group under its title, in one
// table whose descriptions line up, then the other rows.
func writeFlagTable(w io.Writer, groups []flagGroup, other ...[2]string) {
	var rows [][2]string
	sections := map[int]string{}
	for _, g := range groups {
		sections[len(rows)] = g.title
		g.flags.VisitAll(func(f *pflag.Flag) {
			if f.Name != "help" {
				rows = append(rows, flagRow(f))
			}
		})
	}
	sections[len(rows)] = "Other"
	rows = append(rows, other...)
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for i, r := range rows {
		if title, ok := sections[i]; ok {
			fmt.Fprintf(w, "\n%s:\n", title)
		}
		writeWrapped(w, fmt.Sprintf("  %-*s  ", width, r[0]), r[1])
	}
}

// flagRow is a flag's line in the help: its names and value, and what it
// does with its default.
func flagRow(f *pflag.Flag) [2]string {
	names := "    --" + f.Name
	if f.Shorthand != "" {
		names = "-" + f.Shorthand + ", --" + f.Name
	}
	value, usage := pflag.UnquoteUsage(f)
	switch {
	case f.NoOptDefVal != "" && f.Value.Type() != "bool":
		names += "[=" + value + "]"
	case value != "":
		names += " " + value
	}
	if d := shownDefault(f, value); d != "" && !strings.Contains(usage, "default") {
		usage += " (default " + d + ")"
	}
	return [2]string{names, usage}
}

// shownDefault is the default worth saying: none for switches, empty
// values and the -1 that stands for "depends"; sizes in KiB or MiB.
func shownDefault(f *pflag.Flag, value string) string {
	d := f.DefValue
	switch d {
	case "", "0", "-1", "false", "[]", "0s":
		return ""
	}
	n, err := strconv.Atoi(d)
	switch {
	case err != nil || value != "BYTES":
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return d
}

// writeWrapped writes text after lead, wrapped at helpWidth with its later
// lines under its first.
func writeWrapped(w io.Writer, lead, text string) {
	line := lead
	for _, word := range strings.Fields(text) {
		if len(line)+1+len(word) > helpWidth && len(line) > len(lead) {
			fmt.Fprintln(w, strings.TrimRight(line, " "))
			line = strings.Repeat(" ", len(lead))
		} else if len(line) > len(lead) {
			line += " "
		}
		line += word
	}
	fmt.Fprintln(w, line)
}

// writeSubHelp is the help of a subcommand: cobra's, which lists only the
// subcommand's own flags.
func writeSubHelp(cmd *cobra.Command) {
	(&cobra.Command{}).HelpFunc()(cmd, nil)
}

// buildVersion is the version stamped at link time by a release build:
//
//	go build -ldflags "-X main.buildVersion=v1.2.3" ./cmd/grpcsniff
//
// When set it wins over what the build info says.
var buildVersion string

// version names the build: the version stamped at link time if any, else
// the module version when installed with go install, else the commit it
// was built from (with "+dirty" when the tree had changes), then Go and
// the platform.
func version() string {
	v := buildVersion
	if v == "" {
		v = buildInfoVersion()
	}
	return fmt.Sprintf("%s (%s %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildInfoVersion is the version the build info gives: the module's, or
// "devel" and the commit for a pseudo-version or a build in the tree.
func buildInfoVersion() string {
	v := "(devel)"
	info, ok := debug.ReadBuildInfo()
	if ok && info.Main.Version != "" {
		v = info.Main.Version
	}
	if !ok || (v != "(devel)" && !strings.HasPrefix(v, "v0.0.0-")) {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v = "devel " + rev + dirty
	}
	return v
}
