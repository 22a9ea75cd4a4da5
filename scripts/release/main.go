// Command release builds the release archives of grpcsniff: for each
// target a static binary (CGO_ENABLED=0, -trimpath, the version stamped
// with -X main.buildVersion) packed with README.md (and LICENSE when there
// is one) into grpcsniff_VERSION_OS_ARCH.tar.gz, or .zip for Windows, then
// checksums.txt, which sha256sum -c reads:
//
//	go run ./scripts/release -version v1.2.3
//	go run ./scripts/release -version snapshot -targets linux/amd64 -out /tmp/rel
//
// The archives are reproducible: their entries are sorted and have fixed
// times, modes and owners, so the same binaries give the same bytes. A
// target that does not build is named with go build's output; the others
// are still built, but no checksums.txt is written and the exit status is 1.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// defaultTargets are the platforms a release is built for.
const defaultTargets = "linux/amd64,linux/arm64,linux/386,darwin/amd64,darwin/arm64,windows/amd64,windows/arm64,freebsd/amd64"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errFlags is a mistake in the flags, which the flag package has reported.
var errFlags = errors.New("bad flags")

// options are the command line's flags.
type options struct {
	version string
	targets []target
	out     string
}

// run is the command: it returns the exit status, 2 for bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(stderr, "release:", err)
		return 1
	}
	o, err := parseFlags(args, root, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		if !errors.Is(err, errFlags) {
			fmt.Fprintln(stderr, "release:", err)
		}
		return 2
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		fmt.Fprintln(stderr, "release:", err)
		return 1
	}
	var archives, failed []string
	for _, t := range o.targets {
		name, err := release(root, o.out, o.version, t)
		if err != nil {
			fmt.Fprintf(stderr, "release: %s: %v\n", t, err)
			failed = append(failed, t.String())
			continue
		}
		fmt.Fprintln(stdout, filepath.Join(o.out, name))
		archives = append(archives, name)
	}
	if len(failed) > 0 {
		fmt.Fprintf(stderr, "release: %d of %d targets failed: %s (no checksums.txt written)\n",
			len(failed), len(o.targets), strings.Join(failed, ", "))
		return 1
	}
	if err := writeChecksums(o.out, archives); err != nil {
		fmt.Fprintln(stderr, "release:", err)
		return 1
	}
	fmt.Fprintln(stdout, filepath.Join(o.out, checksumsName))
	return 0
}

// parseFlags reads the flags; the version defaults to what git describe
// says of the tree at root, or "snapshot" without git.
func parseFlags(args []string, root string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.String("version", "", "the `VERSION` to stamp and name the archives with (default: git describe --tags --always --dirty, else snapshot)")
	targets := fs.String("targets", defaultTargets, "comma-separated `OS/ARCH` list to build")
	out := fs.String("out", "dist", "the `DIR` to write the archives and checksums.txt to")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return options{}, err
		}
		return options{}, errFlags
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	o := options{version: *version, out: *out}
	if o.version == "" {
		o.version = describe(root)
	}
	if err := checkVersion(o.version); err != nil {
		return options{}, err
	}
	ts, err := parseTargets(*targets)
	o.targets = ts
	return o, err
}

// checkVersion refuses a version that cannot be part of a file name or
// of the -X linker flag.
func checkVersion(v string) error {
	if v == "" || strings.ContainsAny(v, "/\\ \t\n'\"") {
		return fmt.Errorf("version %q: want a non-empty word without slashes, spaces or quotes", v)
	}
	return nil
}

// describe is git describe --tags --always --dirty in dir, or "snapshot"
// when git cannot say.
func describe(dir string) string {
	cmd := exec.Command("git", "describe", "--tags", "--always", "--dirty")
	cmd.Dir = dir
	out, err := cmd.Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" {
		return v
	}
	return "snapshot"
}

// moduleRoot is the directory of the go.mod of the module this is run in.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module: run this in the grpcsniff tree")
	}
	return filepath.Dir(gomod), nil
}
