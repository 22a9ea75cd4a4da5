package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/pbdecode/infer"
	"github.com/grpcsniff/grpcsniff/sniff"
	"github.com/spf13/cobra"
)

// inferFlags are the options of grpcsniff infer.
type inferFlags struct {
	read, out, keylog string
	quiet             bool
	workers           int
	limits            limits
}

// newInferCommand is grpcsniff infer.
func newInferCommand(std stdio, code *int) *cobra.Command {
	var f inferFlags
	cmd := &cobra.Command{
		Use:   "infer -r FILE [-o OUT.proto | -o DIR]",
		Short: "Write .proto files inferred from the gRPC calls in a capture",
		Long: `Writes proto3 services and messages inferred from the gRPC calls in a capture:
one service per gRPC service, one rpc per method, and message types whose fields
take the reading that fits every message seen. Load the result back with --proto.`,
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) > 0:
				return usagef("unexpected argument %q", args[0])
			case f.read == "":
				return usagef("infer needs a capture: give it with -r FILE (or -r - for standard input)")
			}
			return checkAll(append(f.limits.decodingRanges(), rangeCheck{"--workers", int64(f.workers), 0, "a number of goroutines"}))
		},
		RunE: func(*cobra.Command, []string) error {
			*code = runInfer(&f, std)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVarP(&f.read, "read", "r", "", "read packets from `FILE` (- for standard input)")
	fs.StringVarP(&f.out, "output", "o", "", "write the schema to `OUT`: a .proto file (one protobuf package), or a directory that gets a PACKAGE.proto per package (default: standard output)")
	fs.StringVar(&f.keylog, "keylog", "", "decrypt TLS with the NSS key log in `FILE`")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no summary on standard error")
	fs.IntVar(&f.workers, "workers", sniff.DefaultWorkers(), "decode connections in `N` goroutines (default: one per CPU, at most 8; 0: all in the goroutine reading the packets)")
	f.limits.registerDecoding(fs)
	cmd.MarkFlagFilename("read", "pcap", "pcapng", "gz", "cap")
	return cmd
}

// runInfer writes proto3 files inferred from the messages of a capture.
func runInfer(f *inferFlags, std stdio) int {
	src, err := openCapture(f.read, std.in)
	if err != nil {
		fmt.Fprintf(std.err, "%s: %v\n", progName, err)
		return exitError
	}
	defer src.Close()
	keys, err := loadKeyLog(f.keylog, std.err)
	if err != nil {
		fmt.Fprintf(std.err, "%s: %v\n", progName, err)
		return exitError
	}
	c := config{limits: f.limits, workers: f.workers}
	opts := c.sniffOptions(&input{keys: keys}, nil, std.err)
	sch := infer.New()
	used, skipped := 0, 0
	_, readErr := sniff.NewDecoder(opts).Run(context.Background(), src, sniff.SinkFunc(func(c *sniff.Call) {
		if c.MethodUnknown || !c.GRPC || !protobufMessages(c) {
			skipped++
			return
		}
		used++
		sch.AddCall(c.Method, payloads(c.Requests), payloads(c.Responses))
	}))
	status := exitOK
	if readErr != nil {
		fmt.Fprintf(std.err, "%s: %v\n", progName, readErr)
		status = exitDamaged
	}
	files := sch.Files()
	if len(files) == 0 {
		fmt.Fprintf(std.err, "%s: no gRPC call with a known method in %s: nothing to infer\n", progName, src.Name())
		return exitNoCalls
	}
	if err := writeInferred(files, f.out, std.out); err != nil {
		fmt.Fprintf(std.err, "%s: %v\n", progName, err)
		return exitError
	}
	if !f.quiet {
		fmt.Fprintf(std.err, "%s: inferred from %s", progName, export.Count(used, "call"))
		if skipped > 0 {
			fmt.Fprintf(std.err, " (%s without a known method, or not protobuf, left out)", export.Count(skipped, "call"))
		}
		fmt.Fprintln(std.err)
	}
	return status
}

// payloads keeps the messages whose bytes are whole and readable.
// protobufMessages reports whether a call's messages are protobuf (not
// JSON: a gRPC+JSON, Connect or Twirp call may send either), the only
// ones a schema can be inferred from.
func protobufMessages(c *sniff.Call) bool {
	for _, ms := range [][]*grpcframe.Message{c.Requests, c.Responses} {
		for _, m := range ms {
			if m.Format != grpcframe.FormatProto {
				return false
			}
		}
	}
	return true
}

func payloads(ms []*grpcframe.Message) [][]byte {
	var out [][]byte
	for _, m := range ms {
		if !m.Truncated && (!m.Compressed || m.Encoding != "") {
			out = append(out, m.Data)
		}
	}
	return out
}

func writeInferred(files map[string]string, out string, stdout io.Writer) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	switch {
	case out == "" || strings.HasSuffix(out, ".proto"):
		if len(files) > 1 {
			return fmt.Errorf("the calls use %d protobuf packages (%s), which need a file each: give -o DIR", len(files), strings.Join(names, ", "))
		}
		if out == "" {
			_, err := io.WriteString(stdout, files[names[0]])
			return err
		}
		return os.WriteFile(out, []byte(files[names[0]]), 0o644)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(out, n), []byte(files[n]), 0o644); err != nil {
			return err
		}
	}
	return nil
}
