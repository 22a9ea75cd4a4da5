package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden from the current output (review the diff!)")

func TestMain(m *testing.M) {
	if os.Getenv("GRPCSNIFF_RUN_MAIN") == "1" {
		// The live tests run the command as a child process (to send it
		// signals): this binary, as main.
		main()
		return
	}
	time.Local = time.UTC // the text form prints local times
	os.Exit(m.Run())
}

func runCmd(t *testing.T, stdin []byte, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, bytes.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func captures(t *testing.T) []string {
	files, err := filepath.Glob("../../testdata/pcaps/*.pcap*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in testdata/pcaps: %v", err)
	}
	return files
}

// goldenExit holds the captures whose exit status is not exitOK.
var goldenExit = map[string]int{}

// Every shipped capture decodes to its reviewed NDJSON and text output.
func TestGolden(t *testing.T) {
	for _, f := range captures(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			for _, mode := range []struct{ ext, flag string }{{".ndjson", "--json"}, {".txt", ""}} {
				args := []string{"-r", f, "-q"}
				if mode.flag != "" {
					args = append(args, mode.flag)
				}
				out, stderr, code := runCmd(t, nil, args...)
				if want := goldenExit[name]; code != want {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				golden := filepath.Join("../../testdata/golden", name+mode.ext)
				if *update {
					if err := writeGolden(golden, out); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := readGolden(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./cmd/grpcsniff -update, then review the new file)", err)
				}
				if out != string(want) {
					t.Errorf("output differs from %s:\n%s", golden, firstDiff(out, string(want)))
				}
			}
		})
	}
}

// Goldens over bigGolden bytes (large messages, base64) are kept gzipped:
// read them with zcat.
const bigGolden = 256 << 10

func writeGolden(path, out string) error {
	os.Remove(path)
	os.Remove(path + ".gz")
	if len(out) <= bigGolden {
		return os.WriteFile(path, []byte(out), 0o644)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(out))
	zw.Close()
	return os.WriteFile(path+".gz", b.Bytes(), 0o644)
}

func readGolden(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return string(b), nil
	}
	z, zerr := os.ReadFile(path + ".gz")
	if zerr != nil {
		return "", err
	}
	zr, zerr := gzip.NewReader(bytes.NewReader(z))
	if zerr != nil {
		return "", zerr
	}
	b, zerr = io.ReadAll(zr)
	return string(b), zerr
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + clip(gl) + "\nwant: " + clip(wl)
		}
	}
	return ""
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

const protoDir = "../../testdata/gen/proto/"

// schemaGoldens decode the seed-document captures with their .proto files.
var schemaGoldens = []struct {
	capture string
	protos  []string
}{
	{"py_helloworld.pcap", []string{"helloworld.proto", "muxs.proto"}},
	{"py_grpcdemo.pcap", []string{"demo.proto"}},
	{"py_grpcdemo_gzip.pcap", []string{"demo.proto"}},
	{"py_routeguide.pcap", []string{"route_guide.proto"}},
	{"node_grpcjs.pcap", []string{"helloworld.proto"}},
	{"h2c_upgrade.pcap", []string{"helloworld.proto"}},
	// :path unknown for methods first called before the capture: inferred.
	{"grpcgo_midstream.pcap", []string{"helloworld.proto", "muxs.proto"}},
	// Connect (proto and JSON, GETs, errors with details) and Twirp.
	{"connect_node.pcap", []string{"greet.proto"}},
	{"twirp.pcap", []string{"notes.proto"}},
	{"grpcgo_packed.pcap", []string{"packed.proto"}},
	{"node_packed.pcap", []string{"packed.proto"}},
}

func TestGoldenWithSchemas(t *testing.T) {
	for _, g := range schemaGoldens {
		t.Run(g.capture, func(t *testing.T) {
			args := []string{"-r", "../../testdata/pcaps/" + g.capture, "-q", "--json"}
			for _, p := range g.protos {
				args = append(args, "--proto", protoDir+p)
			}
			out, stderr, code := runCmd(t, nil, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden := filepath.Join("../../testdata/golden", g.capture+".schema.ndjson")
			if *update {
				if err := writeGolden(golden, out); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := readGolden(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/grpcsniff -update, then review the new file)", err)
			}
			if out != want {
				t.Errorf("output differs from %s:\n%s", golden, firstDiff(out, want))
			}
		})
	}
}

// A descriptor set built by protoc decodes exactly as the .proto files do.
func TestProtosetMatchesProto(t *testing.T) {
	f := "../../testdata/pcaps/py_helloworld.pcap"
	a, stderr, code := runCmd(t, nil, "-r", f, "-q", "--json", "--proto", protoDir+"helloworld.proto", "--proto", protoDir+"muxs.proto")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, stderr, code := runCmd(t, nil, "-r", f, "-q", "--json", "--protoset", "../../pbdecode/schema/testdata/seed.binpb")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if a != b || !strings.Contains(a, `"json":{"name":"you"}`) || !strings.Contains(a, `"json":{"message":"Hello, you!"}`) {
		t.Fatalf("--protoset and --proto differ, or SayHello is not decoded:\n%s", firstDiff(b, a))
	}
}

// Reading standard input and a gzip-compressed file gives the same calls.
func TestStdinAndGzip(t *testing.T) {
	f := "../../testdata/pcaps/py_helloworld.pcap"
	want, _, code := runCmd(t, nil, "-r", f, "--json", "-q")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	raw, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	got, stderr, code := runCmd(t, raw, "-r", "-", "--json", "-q")
	if code != exitOK || got != want {
		t.Fatalf("stdin: exit %d, %s, output equal: %v", code, stderr, got == want)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	p := filepath.Join(t.TempDir(), "capture.bin") // no .gz: detected by content
	if err := os.WriteFile(p, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, stderr, code = runCmd(t, nil, "-r", p, "--json", "-q")
	if code != exitOK || got != want {
		t.Fatalf("gzip: exit %d, %s, output equal: %v", code, stderr, got == want)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCapture, []byte("HTTP/1.1 200 OK\r\n\r\nthis is not a capture\n"), 0o644)
	raw, err := os.ReadFile("../../testdata/pcaps/py_helloworld.pcap")
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.pcap")
	os.WriteFile(truncated, raw[:len(raw)*2/3], 0o644)

	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stderr   string
		minCalls int
	}{
		{"no arguments", nil, exitUsage, "give a capture file with -r FILE", 0},
		{"missing file", []string{"-r", filepath.Join(dir, "nope.pcap")}, exitError, "nope.pcap", 0},
		{"not a capture", []string{"-r", notCapture}, exitError, "not a pcap or pcapng capture", 0},
		{"truncated", []string{"-r", truncated, "--json"}, exitDamaged, "truncated", 3},
		{"no calls", []string{"-r", "../../testdata/pcaps/tls/tls12.pcap"}, exitNoCalls, "no calls (gRPC, gRPC-Web, Connect, Twirp or HTTP) found", 0},
		{"HTTP only", []string{"-r", "../../testdata/pcaps/http1_only.pcap"}, exitOK, "2 calls", 2},
		{"other protocols beside gRPC", []string{"-r", "../../testdata/pcaps/mixed_ports.pcap"}, exitOK, "starts with a5 4d ca 18", 2},
		{"proto that does not parse", []string{"-r", truncated, "--proto", "testdata/bad.proto"}, exitError, "bad.proto:3:1: syntax error", 0},
		{"not a descriptor set", []string{"-r", truncated, "--protoset", notCapture}, exitError, "not a binary FileDescriptorSet", 0},
		{"proto source as a descriptor set", []string{"-r", truncated, "--protoset", protoDir + "helloworld.proto"}, exitError, "it looks like .proto source, which is compiled, not read as a descriptor set; give it with --proto", 0},
		{"reflection server down", []string{"-r", "../../testdata/pcaps/py_grpcdemo.pcap", "--reflect-addr", "127.0.0.1:1", "--reflect-plaintext"}, exitOK, "cannot reach 127.0.0.1:1", 4},
		{"bad display filter", []string{"-r", truncated, "-Y", "status !="}, exitUsage, "col 10: expected a value after \"!=\"", 0},
		{"no such interface", []string{"-i", "nosuch0", "--json"}, exitError, `no interface "nosuch0"; grpcsniff -D lists the interfaces`, 0},
		{"file and interface", []string{"-r", truncated, "-i", "lo"}, exitUsage, "-r and -i exclude each other", 0},
		{"capture filter on a file", []string{"-r", truncated, "-f", "tcp"}, exitUsage, "-f, -w, -c and --duration go with live capture", 0},
		{"bad capture filter", []string{"-i", "lo", "-f", "tcp and vlan", "--json"}, exitUsage, "filter: unknown primitive \"vlan\" at column 9", 0},
		{"host name in capture filter", []string{"-i", "lo", "-f", "host example.com", "--json"}, exitUsage, "does not resolve host names", 0},
		{"partial without json", []string{"-i", "lo", "--partial"}, exitUsage, "--partial goes with --json", 0},
		{"list interfaces", []string{"-D"}, exitOK, "", 2},
		{"stray argument", []string{"-r", truncated, "extra"}, exitUsage, "unexpected argument", 0},
	} {
		// These look the interface up or list the interfaces.
		switch tc.name {
		case "no such interface", "bad capture filter", "host name in capture filter", "list interfaces":
			if why := interfacesUnlisted(); why != "" {
				t.Run(tc.name, func(t *testing.T) { t.Skip(why) })
				continue
			}
		}
		out, stderr, code := runCmd(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", tc.name, code, stderr, tc.code, tc.stderr)
		}
		if n := strings.Count(out, "\n"); n < tc.minCalls {
			t.Errorf("%s: %d calls printed, want at least %d", tc.name, n, tc.minCalls)
		}
	}
}

// grpcsniff infer writes .proto files that compile and decode the capture
// they came from with no schema error and no unknown field.
func TestInferRoundTrip(t *testing.T) {
	for _, name := range []string{"py_helloworld.pcap", "py_grpcdemo.pcap", "py_routeguide.pcap", "grpcgo_interop.pcap", "node_grpcjs.pcap", "grpcgo_concurrent.pcap", "grpcgo_packed.pcap", "node_packed.pcap"} {
		t.Run(name, func(t *testing.T) {
			f := "../../testdata/pcaps/" + name
			dir := t.TempDir()
			if _, stderr, code := runCmd(t, nil, "infer", "-r", f, "-o", dir, "-q"); code != exitOK {
				t.Fatalf("infer: exit %d: %s", code, stderr)
			}
			protos, _ := filepath.Glob(filepath.Join(dir, "*.proto"))
			var golden strings.Builder
			args := []string{"-r", f, "-q", "--json"}
			for _, p := range protos {
				args = append(args, "--proto", p)
				b, _ := os.ReadFile(p)
				golden.WriteString("// ==== " + filepath.Base(p) + "\n" + string(b))
			}
			out, stderr, code := runCmd(t, nil, args...)
			if code != exitOK {
				t.Fatalf("decoding with the inferred schema: exit %d: %s", code, stderr)
			}
			if n := strings.Count(out, `"schema_error"`) + strings.Count(out, `"unknown_fields"`); n > 0 || !strings.Contains(out, `"json":`) {
				t.Fatalf("%d schema errors or unknown fields, or nothing decoded, with the inferred schema", n)
			}
			goldenPath := filepath.Join("../../testdata/golden/infer", name+".proto")
			if *update {
				os.MkdirAll(filepath.Dir(goldenPath), 0o755)
				if err := os.WriteFile(goldenPath, []byte(golden.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/grpcsniff -update, then review the new file)", err)
			}
			if golden.String() != string(want) {
				t.Errorf("inferred schema differs from %s:\n%s", goldenPath, firstDiff(golden.String(), string(want)))
			}
		})
	}
}

// TLS captures decode with their key logs exactly as reviewed; a pcapng with
// the secrets injected needs no key log; without keys each connection is
// named with what is missing.
func TestTLS(t *testing.T) {
	dir := "../../testdata/pcaps/tls/"
	for _, name := range []string{"tls13", "tls12", "tls13_hrr", "node_grpcjs_tls", "tls12_cbc", "tls12_cbc_etm"} {
		t.Run(name, func(t *testing.T) {
			for _, mode := range []struct{ ext, flag string }{{".ndjson", "--json"}, {".txt", ""}} {
				args := []string{"-r", dir + name + ".pcap", "--keylog", dir + name + ".keys", "-q"}
				if mode.flag != "" {
					args = append(args, mode.flag)
				}
				out, stderr, code := runCmd(t, nil, args...)
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				golden := filepath.Join("../../testdata/golden/tls", name+mode.ext)
				if *update {
					os.MkdirAll(filepath.Dir(golden), 0o755)
					if err := writeGolden(golden, out); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := readGolden(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./cmd/grpcsniff -update, then review the new file)", err)
				}
				if out != want {
					t.Errorf("output differs from %s:\n%s", golden, firstDiff(out, want))
				}
			}
		})
	}
	withKeys, _, _ := runCmd(t, nil, "-r", dir+"tls13.pcap", "--keylog", dir+"tls13.keys", "-q", "--json")
	injected, stderr, code := runCmd(t, nil, "-r", dir+"tls13_secrets.pcapng", "-q", "--json")
	if code != exitOK || injected != withKeys {
		t.Fatalf("pcapng with injected secrets: exit %d, %s; same calls as with --keylog: %v", code, stderr, injected == withKeys)
	}
	out, stderr, code := runCmd(t, nil, "-r", dir+"tls12.pcap")
	if code != exitNoCalls || out != "" || strings.Count(stderr, "not decrypted: no key for client random") != 3 || !strings.Contains(stderr, "sni=greeter.test alpn=h2") {
		t.Fatalf("without keys: exit %d, stdout %q, stderr:\n%s", code, out, stderr)
	}
	if _, stderr, code := runCmd(t, nil, "-r", dir+"tls12.pcap", "--keylog", dir+"missing.keys"); code != exitError || !strings.Contains(stderr, "--keylog") {
		t.Fatalf("missing key log: exit %d, %s", code, stderr)
	}
}

// -Y says how many calls it let through; a misspelt field name is an error
// when schemas are loaded, and a named field without any schema a warning.
func TestDisplayFilterReports(t *testing.T) {
	f := "../../testdata/pcaps/py_helloworld.pcap"
	_, stderr, _ := runCmd(t, nil, "-r", f, "--text", "-Y", "status != OK")
	if !strings.Contains(stderr, "grpcsniff: 8 calls (2 shown by -Y);") {
		t.Errorf("summary: %s", stderr)
	}
	_, stderr, code := runCmd(t, nil, "-r", f, "--text", "--proto", protoDir+"helloworld.proto", "-Y", `req.nmae == "you"`)
	if code != exitUsage || !strings.Contains(stderr, "-Y: col 1: no request type of the loaded schemas has req.nmae (fields there: ") {
		t.Errorf("misspelt field: exit %d, %s", code, stderr)
	}
	out, stderr, code := runCmd(t, nil, "-r", f, "--text", "-Y", `req.name == "you"`)
	if code != exitOK || out != "" || !strings.Contains(stderr, "-Y: req.name names a field, which needs a schema") || !strings.Contains(stderr, "(0 shown by -Y)") {
		t.Errorf("named field without a schema: exit %d, %q, %s", code, out, stderr)
	}
	out, _, _ = runCmd(t, nil, "-r", f, "--text", "-q", "-Y", "Square")
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "/helloworld.Greeter/Square") {
		t.Errorf("a bare word searches the method:\n%s", out)
	}
}

// -Y keeps the calls a display filter matches, in text and JSON; named
// fields resolve through the schemas.
func TestDisplayFilter(t *testing.T) {
	f := "../../testdata/pcaps/py_helloworld.pcap"
	out, stderr, code := runCmd(t, nil, "-r", f, "-q", "-Y", "status != OK")
	if code != exitOK || strings.Count(out, "\n") != 2 || !strings.Contains(out, "DEADLINE_EXCEEDED") || !strings.Contains(out, "NOT_FOUND") {
		t.Fatalf("status != OK: exit %d, %s\n%s", code, stderr, out)
	}
	out, _, _ = runCmd(t, nil, "-r", f, "-q", "--json", "-Y", `method ~ FileController and req.1 == "/data.bin"`)
	if strings.Count(out, "\n") != 2 {
		t.Fatalf("raw field filter kept %d calls:\n%s", strings.Count(out, "\n"), out)
	}
	out, _, _ = runCmd(t, nil, "-r", "../../testdata/pcaps/py_routeguide.pcap", "-q", "--proto", protoDir+"route_guide.proto", "-Y", "req.latitude > 408000000")
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, "GetFeature") || !strings.Contains(out, "RecordRoute") {
		t.Fatalf("named field filter:\n%s", out)
	}
}

func TestStatsMode(t *testing.T) {
	out, stderr, code := runCmd(t, nil, "-r", "../../testdata/pcaps/py_helloworld.pcap", "-q", "--stats")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"/muxs.FileController/Read", "OK 2, NOT_FOUND 1", "/helloworld.Greeter/SayHello", "DEADLINE_EXCEEDED 1", "8 calls, 4 methods"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// --redact masks credential headers and the listed ones in every output; it
// stays off unless asked for.
func TestRedact(t *testing.T) {
	f := "../../testdata/pcaps/grpcgo_interop.pcap"
	plain, _, _ := runCmd(t, nil, "-r", f, "-q", "--json")
	if !strings.Contains(plain, `"x-grpc-test-echo-initial":["test_initial_metadata_value"]`) {
		t.Fatal("the capture no longer has the metadata this test redacts")
	}
	out, stderr, code := runCmd(t, nil, "-r", f, "-q", "--json", "--redact=X-Grpc-Test-Echo-Initial")
	if code != exitOK || strings.Contains(out, "test_initial_metadata_value") || strings.Count(out, `"x-grpc-test-echo-initial":["[redacted]"]`) != 4 {
		t.Fatalf("exit %d, %s: metadata not redacted in all 4 header lists", code, stderr)
	}
	if _, _, code := runCmd(t, nil, "-r", f, "-q", "--redact="); code != exitOK {
		t.Fatalf("--redact= (defaults only): exit %d", code)
	}
}
