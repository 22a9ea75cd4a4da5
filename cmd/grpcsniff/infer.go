package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/pbdecode/infer"
)

const inferUsage = "usage: grpcsniff infer -r FILE [-o OUT.proto | -o DIR]"

// runInfer writes proto3 files inferred from the messages of a capture.
func runInfer(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(progName+" infer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	read := fs.String("r", "", "read packets from `FILE` (- for standard input)")
	out := fs.String("o", "", "write the inferred schema to `OUT`: a .proto file (one protobuf package), or a directory that gets one PACKAGE.proto per package; standard output when not given")
	quiet := fs.Bool("q", false, "no summary on standard error")
	var l limits
	l.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, inferUsage)
		fmt.Fprintln(stderr, "\nWrites proto3 services and messages inferred from the gRPC calls in a capture. Options:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *read == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, inferUsage)
		return exitUsage
	}
	src, err := openCapture(*read, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		return exitError
	}
	defer src.Close()

	sch := infer.New()
	used, skipped := 0, 0
	_, _, readErr := decodeSharded(src, grpcframe.SinkFunc(func(c *grpcframe.Call) {
		if c.MethodUnknown || !c.GRPC {
			skipped++
			return
		}
		used++
		sch.AddCall(c.Method, payloads(c.Requests), payloads(c.Responses))
	}), l, shardHooks{workers: defaultWorkers()})
	status := exitOK
	if readErr != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, readErr)
		status = exitDamaged
	}
	files := sch.Files()
	if len(files) == 0 {
		fmt.Fprintf(stderr, "%s: no gRPC call with a known method in %s: nothing to infer\n", progName, src.Name())
		return exitNoCalls
	}
	if err := writeInferred(files, *out, stdout); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		return exitError
	}
	if !*quiet {
		fmt.Fprintf(stderr, "%s: inferred from %d calls", progName, used)
		if skipped > 0 {
			fmt.Fprintf(stderr, " (%d calls without a known method or not gRPC left out)", skipped)
		}
		fmt.Fprintln(stderr)
	}
	return status
}

// payloads keeps the messages whose bytes are whole and readable.
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
