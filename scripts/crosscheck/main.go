// Command crosscheck compares the calls grpcsniff finds in packet captures
// with what tshark (Wireshark's HTTP, HTTP/2 and gRPC dissectors) finds in
// the same files.
//
//	go run ./scripts/crosscheck [-tshark PATH] [-grpcsniff PATH] [-q] FILE...
//
// For every capture both views are keyed by (client ip:port, server ip:port,
// stream id) — tshark's tcp.stream is mapped to its endpoint pair. On
// HTTP/1.x connections the stream id is the one grpcsniff makes up: 2n-1
// for the n-th request on the connection (tshark's n-th request and n-th
// final response). Each gRPC, gRPC-Web or gRPC-Web-text call is compared on:
// method (:path or the request URI), the ordered lengths (the 5-byte
// prefix's length field) and compressed flags of the request messages and of
// the response messages, the grpc-status code (HTTP/2 trailers or
// Trailers-Only headers, an HTTP/1.1 Grpc-Status response header, or the
// grpc-status line of a gRPC-Web trailer frame — such frames, flag 0x80,
// which tshark shows as messages of frame type Trailer, are not counted as
// messages), and the HTTP request method and response status code where
// both tools know them. A plain HTTP call (grpcsniff protocol "http", no
// gRPC content-type, message or grpc-status in tshark's view) is compared
// on request method, path, response status code and the body length each
// way (tshark: the de-chunked http.file_data, or the HTTP/2 DATA payloads).
// A Connect or Twirp call (protocols tshark does not know, so it sees plain
// HTTP) is compared on request method, response status, its path (whose
// last two segments are grpcsniff's method) and each body's length against
// the bytes grpcsniff's messages took (see compareOverHTTP); their message
// counts, sizes and statuses are checked against what the peers logged
// (testdata/pcaps/NAME.truth.ndjson, by cmd/grpcsniff's TestPeerTruth).
//
// A capture passes when every call tshark sees is also reported by
// grpcsniff and agrees with it, apart from the tshark limitations explained
// in compare.go, which are printed as notes next to the call. Calls only
// grpcsniff reports are listed with the reason tshark has no gRPC view of
// them; they do not fail the file. The last line of the output is always
//
//	crosscheck: N passed, M failed
//
// counting capture files; the exit status is 1 when M > 0 (2 on bad usage).
//
// A capture with an NSS key log next to it (NAME.keys for NAME.pcap,
// NAME.pcapng or NAME.pcap.gz) is cross-checked decrypted: grpcsniff gets
// "--keylog NAME.keys", tshark "-o tls.keylog_file:NAME.keys" and its TLS
// connections' server ports decoded as tls (HTTP/2 inside by ALPN). A pcapng
// with the secrets in a Decryption Secrets Block needs no key log file: both
// tools read the block. A call grpcsniff reports on a TLS connection of which
// tshark dissected no HTTP/2 at all fails the file (tshark could not
// decrypt it, so nothing was compared); a capture in which neither tool finds
// a call (not gRPC, or not decryptable) passes.
//
// How tshark is driven is described in tshark.go: which ports are decoded as
// HTTP/2 or as HTTP (HTTP/1.x connections, h2c upgrades included), the
// fake-header workaround for streams whose headers tshark cannot decode,
// and which PDML fields are read.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	tshark    string
	grpcsniff string
	quiet     bool
	noFake    bool
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("crosscheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opt options
	fs.StringVar(&opt.tshark, "tshark", "tshark", "tshark `binary` to run")
	fs.StringVar(&opt.grpcsniff, "grpcsniff", "", "grpcsniff `binary` to run (default: build ./cmd/grpcsniff into a temporary directory)")
	fs.BoolVar(&opt.quiet, "q", false, "list only the calls that are not in full agreement")
	fs.BoolVar(&opt.noFake, "no-fake-headers", false, "do not give tshark fake content-type/:path headers for streams whose headers it cannot decode")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: crosscheck [-tshark PATH] [-grpcsniff PATH] [-q] [-no-fake-headers] FILE...\n\n"+
			"Compares grpcsniff's gRPC calls with tshark's on each capture FILE.\n"+
			"The last line is \"crosscheck: N passed, M failed\" (N, M count files).\n\nOptions:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	files := fs.Args()
	if len(files) == 0 {
		fs.Usage()
		return 2
	}

	if _, err := exec.LookPath(opt.tshark); err != nil {
		fmt.Fprintf(stderr, "crosscheck: tshark not found (%v); install it (apt-get install tshark) or pass -tshark\n", err)
		fmt.Fprintf(stdout, "crosscheck: 0 passed, %d failed\n", len(files))
		return 1
	}
	if opt.grpcsniff == "" {
		dir, err := os.MkdirTemp("", "crosscheck")
		if err != nil {
			fmt.Fprintf(stderr, "crosscheck: %v\n", err)
			fmt.Fprintf(stdout, "crosscheck: 0 passed, %d failed\n", len(files))
			return 1
		}
		defer os.RemoveAll(dir)
		opt.grpcsniff = filepath.Join(dir, "grpcsniff")
		build := exec.Command("go", "build", "-o", opt.grpcsniff, "github.com/grpcsniff/grpcsniff/cmd/grpcsniff")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(stderr, "crosscheck: building grpcsniff: %v (run from the module, or pass -grpcsniff)\n", err)
			fmt.Fprintf(stdout, "crosscheck: 0 passed, %d failed\n", len(files))
			return 1
		}
	}
	if v := tsharkVersion(opt.tshark); v != "" {
		fmt.Fprintf(stdout, "%s\n", v)
	}

	passed, failed := 0, 0
	for _, f := range files {
		if checkFile(f, &opt, stdout) {
			passed++
		} else {
			failed++
		}
	}
	fmt.Fprintf(stdout, "crosscheck: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// checkFile runs both tools on one capture, prints the comparison and
// reports whether the file passed.
func checkFile(path string, opt *options, w io.Writer) bool {
	fmt.Fprintf(w, "\n== %s\n", path)
	keylog := keylogFor(path)
	if keylog != "" {
		fmt.Fprintf(w, "key log: %s\n", keylog)
	}
	gs, err := runGrpcsniff(opt.grpcsniff, path, keylog)
	if err != nil {
		fmt.Fprintf(w, "  ERROR grpcsniff: %v\nresult: FAIL\n", err)
		return false
	}
	ts, err := runTshark(opt.tshark, path, keylog, gs, !opt.noFake)
	if err != nil {
		fmt.Fprintf(w, "  ERROR tshark: %v\nresult: FAIL\n", err)
		return false
	}
	rep := compare(gs, ts)
	rep.print(w, ts, len(gs), opt.quiet)
	return rep.ok()
}

// keylogFor returns the NSS key log kept next to a capture, NAME.keys for
// NAME.pcap, NAME.pcapng or NAME.pcap.gz, or "" when there is none.
func keylogFor(path string) string {
	name := strings.TrimSuffix(path, ".gz")
	for _, ext := range []string{".pcapng", ".pcap", ".cap"} {
		name = strings.TrimSuffix(name, ext)
	}
	keys := name + ".keys"
	if keys == path {
		return ""
	}
	if fi, err := os.Stat(keys); err == nil && fi.Mode().IsRegular() {
		return keys
	}
	return ""
}
