package main

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/grpcsniff/grpcsniff/capture/live"
	"github.com/grpcsniff/grpcsniff/sniff"
)

const demo = "../../testdata/pcaps/py_grpcdemo.pcap"

// Mistakes on the command line get one line saying what is wrong and a
// hint to the help, and exit 2, before anything is opened.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"-r", demo, "--json", "--text"}, "--json, --text and --stats exclude each other"},
		{[]string{"-r", demo, "--stats", "--json"}, "--json, --text and --stats exclude each other"},
		{[]string{"-i", "lo", "-c", "-5"}, "-c -5: expected a number of packets, at least 0"},
		{[]string{"-r", demo, "--workers", "-3"}, "--workers -3: expected a number of goroutines, at least 0"},
		{[]string{"-r", demo, "--max-message-size", "0"}, "--max-message-size 0: expected a number of bytes, at least 1"},
		{[]string{"-r", demo, "--max-depth=abc"}, `invalid argument "abc" for "--max-depth"`},
		{[]string{"-r", demo, "--idle-timeout", "0s"}, "--idle-timeout 0s: expected a positive time"},
		{[]string{"-r", demo, "--reorder-window", "-1s"}, "--reorder-window -1s: expected a time such as 200ms, or 0 not to wait"},
		{[]string{"-r", demo, "--reorder-segments", "-1"}, "--reorder-segments -1: expected a number of segments (0: no count), at least 0"},
		{[]string{"-r"}, "flag needs an argument"},
		{[]string{"-D", "-r", demo}, "-D lists the interfaces; it takes no other input"},
		{[]string{"-r", demo, "--redact", "x-secret"}, "name them in --redact=NAME,NAME"},
		{[]string{"-i", "lo", "-f", "tcp", "port", "1"}, "the capture filter was already given with -f"},
		{[]string{"infer"}, "infer needs a capture"},
	} {
		out, stderr, code := runCmd(t, nil, tc.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != exitUsage || out != "" || len(lines) != 2 || !strings.Contains(lines[0], tc.want) || !strings.HasPrefix(lines[1], "Run 'grpcsniff") {
			t.Errorf("%q: exit %d, stdout %q, stderr:\n%s\nwant exit 2, one line with %q and a hint", tc.args, code, out, stderr, tc.want)
		}
	}
	for _, args := range [][]string{{"infer", "--bogus"}, {"infer", "-r", demo, "--max-streams", "0"}, {"infer", "-r", demo, "--max-depth", "3"}} {
		if _, stderr, code := runCmd(t, nil, args...); code != exitUsage || !strings.Contains(stderr, "Run 'grpcsniff infer --help'") {
			t.Errorf("%q: exit %d, the hint points elsewhere:\n%s", args, code, stderr)
		}
	}
}

// --help lists the forms, the flags by section with tcpdump's short names,
// the subcommands, the exit statuses and the view's help key; it exits 0.
func TestHelp(t *testing.T) {
	out, _, code := runCmd(t, nil, "--help")
	if code != exitOK {
		t.Fatalf("--help: exit %d", code)
	}
	for _, want := range []string{
		"grpcsniff -r FILE", "grpcsniff infer -r FILE", "completion bash|zsh|fish", "press ? there",
		"\nInput:\n", "\nOutput:\n", "\nSchemas:\n", "\nLimits (hostile or broken input):\n",
		"-r, --read FILE", "-i, --interface IFACE", "-Y, --display-filter EXPR", "-w, --write FILE",
		"-c, --count N", "-s, --snapshot-length BYTES", "-B, --buffer-size KiB", "-p, --no-promiscuous-mode",
		"-Z, --relinquish-privileges USER", "-D, --list-interfaces", "-q, --quiet", "--redact[=NAMES]",
		"--max-message-size BYTES", "(default 16 MiB)", "--version",
		"Exit status:", "  3  the capture is truncated or damaged", "  4  the capture holds no calls",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if len([]rune(line)) > 120 {
			t.Errorf("--help line of %d characters: %q", len([]rune(line)), line)
		}
	}
	infer, _, code := runCmd(t, nil, "infer", "--help")
	if code != exitOK || !strings.Contains(infer, "-o, --output OUT") || !strings.Contains(infer, "--max-streams N") ||
		strings.Contains(infer, "--snapshot-length") || strings.Contains(infer, "--partial") || strings.Contains(infer, "--max-depth") || strings.Contains(infer, "[=") {
		t.Errorf("infer --help: exit %d, lists its own flags only:\n%s", code, infer)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := runCmd(t, nil, "--version")
	if code != exitOK || !strings.HasPrefix(out, "grpcsniff ") || !strings.Contains(out, "go1.") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

// A version stamped at link time (-ldflags "-X main.buildVersion=...")
// wins over the build info, and Go and the platform follow it.
func TestVersionStamped(t *testing.T) {
	defer func(v string) { buildVersion = v }(buildVersion)
	buildVersion = "v1.2.3"
	out, _, code := runCmd(t, nil, "--version")
	want := fmt.Sprintf("grpcsniff v1.2.3 (%s %s/%s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if code != exitOK || out != want {
		t.Errorf("--version: exit %d, %q, want %q", code, out, want)
	}
}

// --redact takes its names only after "=", so that it works anywhere on
// the line, last included.
func TestRedactAnywhere(t *testing.T) {
	f := "../../testdata/pcaps/grpcgo_interop.pcap"
	want, _, _ := runCmd(t, nil, "-r", f, "-q", "--json", "--redact=")
	if strings.Contains(want, "[redacted]") {
		t.Fatal("the capture has credential headers: this test expects none")
	}
	for _, args := range [][]string{
		{"--redact", "-r", f, "-q", "--json"},
		{"-r", f, "-q", "--json", "--redact"},
	} {
		got, stderr, code := runCmd(t, nil, args...)
		if code != exitOK || got != want {
			t.Errorf("%q: exit %d, %s; same output as --redact=: %v", args, code, stderr, got == want)
		}
	}
	named, _, _ := runCmd(t, nil, "-r", f, "-q", "--json", "--redact=X-Grpc-Test-Echo-Initial,other")
	if strings.Contains(named, "test_initial_metadata_value") {
		t.Error("--redact=NAME,NAME left the named metadata")
	}
}

// Long flags written with one dash, as earlier versions printed them, mean
// what they did; values that look like flags are left alone.
func TestLongFlagsWithOneDash(t *testing.T) {
	want, _, _ := runCmd(t, nil, "-r", demo, "--json", "-q", "--max-depth=3")
	got, stderr, code := runCmd(t, nil, "-r", demo, "-json", "-q", "-max-depth=3")
	if code != exitOK || got != want {
		t.Fatalf("exit %d, %s; same as with two dashes: %v", code, stderr, got == want)
	}
	dir := t.TempDir()
	if _, stderr, code := runCmd(t, nil, "infer", "-r", demo, "-output", dir, "-quiet"); code != exitOK {
		t.Fatalf("infer with one-dash long flags: exit %d, %s", code, stderr)
	}
	fs := newRootCommand(&config{}, stdio{}, new(int)).Flags()
	for _, tc := range []struct{ in, want string }{
		{"-json -r -json", "--json -r -json"},
		{"-Y -stats --text", "-Y -stats --text"},
		{"-qr -json", "-qr -json"},
		{"--display-filter -json -q", "--display-filter -json -q"},
		{"-- -json", "-- -json"},
		{"-rfile -json", "-rfile --json"},
	} {
		if got := strings.Join(longFlagsWithOneDash(strings.Fields(tc.in), fs), " "); got != tc.want {
			t.Errorf("%q → %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The completion scripts cover the flags and the subcommands.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, stderr, code := runCmd(t, nil, "completion", shell)
		if code != exitOK || !strings.Contains(out, "grpcsniff") {
			t.Errorf("completion %s: exit %d, %s", shell, code, stderr)
		}
	}
	out, _, code := runCmd(t, nil, "__complete", "--")
	if code != exitOK || !strings.Contains(out, "--display-filter") || !strings.Contains(out, "--read") {
		t.Errorf("flag completion: exit %d:\n%s", code, out)
	}
	if why := interfacesUnlisted(); why != "" {
		t.Skip("-i's completion with the interfaces: " + why)
	}
	out, _, _ = runCmd(t, nil, "__complete", "-i", "")
	if !strings.Contains(out, "any\n") || !strings.Contains(out, "lo\n") {
		t.Errorf("-i completes with the interfaces:\n%s", out)
	}
}

// The capture library says what went wrong; the command adds what to do
// about it on its command line.
func TestLiveErrorHints(t *testing.T) {
	perm := &live.PermissionError{Interface: "lo", Err: errors.New("operation not permitted")}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&live.NoInterfaceError{Interface: "eth9", Available: []string{"lo", "any"}}, `no interface "eth9"; grpcsniff -D lists the interfaces (this system has lo, any)`},
		{perm, perm.Error() + ": " + perm.Remedy()},
		{fmt.Errorf("capturing on lo: %w (plan9)", live.ErrNotSupported), "; grpcsniff reads capture files here (-r FILE)"},
		{fmt.Errorf("capturing on lo: %w (32 MiB): no memory", live.ErrRingRefused), "; a smaller ring (-B) may work"},
		{fmt.Errorf("capturing on eth0: %w: %w", live.ErrPromiscuous, &live.PermissionError{Interface: "eth0"}), "; -p leaves promiscuous mode off"},
	} {
		if got := liveError(tc.err); !strings.Contains(got, tc.want) {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
	}
}

// The summary counts in the singular for one.
func TestSummarySingular(t *testing.T) {
	_, stderr, _ := runCmd(t, nil, "-r", demo, "--text")
	if !strings.Contains(stderr, "grpcsniff: 4 calls; 61 packets, 1 TCP connection (1 h2c)") {
		t.Errorf("summary: %q", stderr)
	}
}

// The view's grpcurl commands carry the schema flags given, as grpcurl
// spells them.
func TestGrpcurlArgs(t *testing.T) {
	f := schemaFlags{protos: []string{"a.proto"}, imports: []string{"protos"}, protosets: []string{"s.binpb"}}
	if got := strings.Join(f.grpcurlArgs(), " "); got != "-import-path protos -proto a.proto -protoset s.binpb" {
		t.Errorf("got %q", got)
	}
	if args := (&schemaFlags{reflect: true}).grpcurlArgs(); len(args) != 0 {
		t.Errorf("with reflection, grpcurl needs no flags: %q", args)
	}
}

// A note quoting what a capture said reaches standard error escaped.
func TestSummaryNotesEscaped(t *testing.T) {
	var b strings.Builder
	summarize(&b, sniff.Summary{}, []string{"1.2.3.4:5 → 6.7.8.9:10: switched to \x1b[2J"}, false)
	if strings.Contains(b.String(), "\x1b") || !strings.Contains(b.String(), `switched to \x1b[2J`) {
		t.Errorf("the note is not escaped: %q", b.String())
	}
}
