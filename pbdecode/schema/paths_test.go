package schema

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestProtoNames checks how command-line .proto file names become names
// under an import path, whether each is given relative or absolute.
func TestProtoNames(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	abs := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }
	for _, c := range []struct {
		name        string
		files, imps []string
		wantNames   []string
		wantPaths   []string
	}{
		{"relative -I, absolute file", []string{abs("protos/acme/v1/a.proto")}, []string{"protos"},
			[]string{"acme/v1/a.proto"}, []string{"protos"}},
		{"absolute -I, relative file", []string{filepath.FromSlash("protos/acme/v1/a.proto")}, []string{abs("protos")},
			[]string{"acme/v1/a.proto"}, []string{abs("protos")}},
		{"both relative", []string{filepath.FromSlash("protos/a.proto")}, []string{"protos"},
			[]string{"a.proto"}, []string{"protos"}},
		{"second import path", []string{abs("vendor/x/b.proto")}, []string{"protos", "vendor"},
			[]string{"x/b.proto"}, []string{"protos", "vendor"}},
		{"absolute file outside every -I", []string{abs("elsewhere/c.proto")}, []string{"protos"},
			[]string{"c.proto"}, []string{"protos", abs("elsewhere")}},
		{"relative file outside every -I is taken as under one", []string{filepath.FromSlash("acme/v1/a.proto")}, []string{"protos"},
			[]string{"acme/v1/a.proto"}, []string{"protos"}},
		{"a file whose name starts with two dots", []string{abs("protos/..odd.proto")}, []string{"protos"},
			[]string{"..odd.proto"}, []string{"protos"}},
		{"no -I", []string{abs("protos/a.proto")}, nil,
			[]string{"a.proto"}, []string{abs("protos")}},
	} {
		names, paths := protoNames(c.files, c.imps)
		if !slices.Equal(names, c.wantNames) || !slices.Equal(paths, c.wantPaths) {
			t.Errorf("%s: names %q, paths %q; want %q, %q", c.name, names, paths, c.wantNames, c.wantPaths)
		}
	}
}

// TestLoadAbsoluteFileRelativeImportPath compiles a file given by its
// absolute name that imports another by its name under a relative -I, as
// one types "-I protos --proto $PWD/protos/acme/v1/a.proto" (or, on
// Windows, "-I protos --proto C:\work\protos\acme\v1\a.proto").
func TestLoadAbsoluteFileRelativeImportPath(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	write := func(name, text string) {
		p := filepath.Join(root, "protos", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("acme/v1/b.proto", "syntax = \"proto3\";\npackage acme.v1;\nmessage B { string s = 1; }\n")
	write("acme/v1/a.proto", "syntax = \"proto3\";\npackage acme.v1;\nimport \"acme/v1/b.proto\";\n"+
		"message A { B b = 1; }\nservice S { rpc M(A) returns (B); }\n")
	a := filepath.Join(root, "protos", "acme", "v1", "a.proto")
	if _, err := Load(Options{ProtoFiles: []string{a}, ImportPaths: []string{"protos"}}); err != nil {
		t.Fatal(err)
	}
}
