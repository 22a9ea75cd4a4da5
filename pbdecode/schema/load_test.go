package schema

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadProto(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "bad.proto", "syntax = \"proto3\";\npackage bad;\n\nmessage M {\n  string name = 1\n  int32 n = 2;\n}\n")
	_, err := Load(Options{ProtoFiles: []string{p}})
	if err == nil {
		t.Fatal("no error")
	}
	// protoc style: file:line:col: message (the missing ';' after "= 1").
	if !regexp.MustCompile(`^bad\.proto:6:3: .+`).MatchString(err.Error()) {
		t.Errorf("error %q is not file:line:col: message", err)
	}

	p = writeFile(t, dir, "imp.proto", "syntax = \"proto3\";\nimport \"missing.proto\";\nmessage N { Missing m = 1; }\n")
	_, err = Load(Options{ProtoFiles: []string{p}})
	if err == nil || !strings.Contains(err.Error(), "missing.proto") {
		t.Errorf("missing import: %v", err)
	}

	p = writeFile(t, dir, "types.proto", "syntax = \"proto3\";\nmessage N {\n  Nope m = 1;\n  Nada n = 2;\n}\n")
	_, err = Load(Options{ProtoFiles: []string{p}})
	if err == nil || !regexp.MustCompile(`(?s)^types\.proto:3:3: .*Nope.*\ntypes\.proto:4:3: .*Nada`).MatchString(err.Error()) {
		t.Errorf("every error, one a line: %v", err)
	}
	t.Log(err)

	if _, err := Load(Options{ProtoFiles: []string{filepath.Join(dir, "absent.proto")}}); err == nil {
		t.Error("absent file: no error")
	}
}

func TestNotAProtoset(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"empty.binpb":  "",
		"source.proto": "syntax = \"proto3\";\npackage x;\nmessage M {}\n",
		"json.json":    `{"file":[{"name":"x.proto"}]}`,
		"random.bin":   "\x8a\x01\x02\x03\x04\x05\x06\x07\x08",
		// A valid message, but a HelloRequest, not a descriptor set.
		"hello.bin": "\x0a\x03you",
	} {
		p := writeFile(t, dir, name, content)
		_, err := Load(Options{Protosets: []string{p}})
		if err == nil || !strings.Contains(err.Error(), "not a binary FileDescriptorSet") || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
		t.Log(err)
	}
	if _, err := Load(Options{Protosets: []string{filepath.Join(dir, "absent.binpb")}}); err == nil {
		t.Error("absent protoset: no error")
	}
}

// A protoset made without --include_imports lacks the files it imports;
// the files that need them are named.
func TestProtosetMissingImport(t *testing.T) {
	fds, err := ReadProtoset(filepath.Join("testdata", "seed.binpb"))
	if err != nil {
		t.Fatal(err)
	}
	fd := fds[0]
	fd.Dependency = append(fd.Dependency, "other/missing.proto")
	err = NewRegistry().AddFiles(fd)
	if err == nil || !strings.Contains(err.Error(), "other/missing.proto") {
		t.Errorf("got %v", err)
	}
}

// The first source of a file wins: a second copy of a file is skipped, not
// an error.
func TestAddFilesTwice(t *testing.T) {
	fds, err := ReadProtoset(filepath.Join("testdata", "seed.binpb"))
	if err != nil {
		t.Fatal(err)
	}
	r := loadSeed(t)
	if err := r.AddFiles(fds...); err != nil {
		t.Errorf("adding the same files again: %v", err)
	}
	want := []string{"demo.GRPCDemo", "helloworld.Greeter", "muxs.FileController", "routeguide.RouteGuide"}
	if got := r.Services(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("services %v", got)
	}
}

// A .proto may import a file that only a descriptor set holds.
func TestProtoImportsFromProtoset(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "uses.proto", "syntax = \"proto3\";\npackage uses;\nimport \"route_guide.proto\";\n"+
		"service Uses { rpc Where(routeguide.Point) returns (routeguide.Feature); }\n")
	r, err := Load(Options{ProtoFiles: []string{p}, Protosets: []string{filepath.Join("testdata", "seed.binpb")}})
	if err != nil {
		t.Fatal(err)
	}
	d := r.Decode("/uses.Uses/Where", true, []byte{0x08, 0x01, 0x10, 0x02})
	if string(d.JSON) != `{"latitude":1,"longitude":2}` {
		t.Errorf("got %s %q", d.JSON, d.Err)
	}
}
