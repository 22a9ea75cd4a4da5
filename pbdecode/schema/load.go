package schema

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/reporter"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Options says where the schemas come from.
type Options struct {
	// ProtoFiles are .proto source files (--proto FILE). Each is named
	// relative to the import path that contains it, as protoc does; when
	// ImportPaths is empty, each file's own directory is its import path, so
	// that `--proto dir/x.proto` works alone and its sibling imports resolve.
	ProtoFiles []string
	// ImportPaths are the directories imports are looked up in (-I DIR).
	// google/protobuf/*.proto and google/rpc/{status,code,error_details}.proto
	// are always available.
	ImportPaths []string
	// Protosets are binary FileDescriptorSet files (--protoset FILE), as
	// made by protoc --include_imports --descriptor_set_out=FILE or
	// buf build -o FILE.binpb.
	Protosets []string
}

// Load reads the schemas opts names into a new registry. Errors in .proto
// files are reported as protoc does, "file:line:col: message", one a line.
func Load(opts Options) (*Registry, error) {
	r := NewRegistry()
	for _, ps := range opts.Protosets {
		fds, err := ReadProtoset(ps)
		if err != nil {
			return nil, err
		}
		if err := r.AddFiles(fds...); err != nil {
			return nil, fmt.Errorf("%s: %w", ps, err)
		}
	}
	if len(opts.ProtoFiles) > 0 {
		fds, err := compile(opts.ProtoFiles, opts.ImportPaths, r.files)
		if err != nil {
			return nil, err
		}
		if err := r.AddFiles(fds...); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// ErrProtoSource is matched (errors.Is) by the error ReadProtoset returns
// for a file that holds .proto source: Options.ProtoFiles reads those.
var ErrProtoSource = errors.New("it looks like .proto source, which is compiled, not read as a descriptor set")

// ReadProtoset reads a binary FileDescriptorSet. A file that is not one (a
// .proto source, JSON, an empty file) gets a message saying so and how to make
// one, since proto.Unmarshal alone accepts many such files as "valid".
func ReadProtoset(path string) ([]*descriptorpb.FileDescriptorProto, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	const hint = "; make one with protoc --include_imports --descriptor_set_out=FILE or buf build -o FILE.binpb"
	if looksLikeProtoSource(b) {
		return nil, fmt.Errorf("%s: not a binary FileDescriptorSet: %w", path, ErrProtoSource)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("%s: not a binary FileDescriptorSet (%s)%s", path, trimErr(err), hint)
	}
	if len(set.GetFile()) == 0 {
		return nil, fmt.Errorf("%s: not a binary FileDescriptorSet (it holds no files)%s", path, hint)
	}
	if len(set.ProtoReflect().GetUnknown()) > 0 {
		return nil, fmt.Errorf("%s: not a binary FileDescriptorSet (it has fields a descriptor set does not have)%s", path, hint)
	}
	for i, fd := range set.GetFile() {
		if fd.GetName() == "" || len(fd.ProtoReflect().GetUnknown()) > 0 {
			return nil, fmt.Errorf("%s: not a binary FileDescriptorSet (file %d is not a file descriptor)%s", path, i, hint)
		}
	}
	return set.GetFile(), nil
}

// looksLikeProtoSource reports whether b starts like a .proto file: a
// descriptor set starts with the tag 0x0a, never with text.
func looksLikeProtoSource(b []byte) bool {
	s := strings.TrimLeft(string(b[:min(len(b), 4096)]), " \t\r\n")
	for _, p := range []string{"syntax", "edition", "package", "import", "message", "service", "option", "//", "/*"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// compile parses and links .proto files with protocompile and returns them
// and their imports as descriptor protos, imports first. Imports are looked
// up among the built-in files, then in the import paths, then among the
// files already loaded (from descriptor sets), so a .proto may import a
// file that only a descriptor set holds.
func compile(files, importPaths []string, loaded *protoregistry.Files) ([]*descriptorpb.FileDescriptorProto, error) {
	names, paths := protoNames(files, importPaths)
	builtin := builtinByPath()
	src := &protocompile.SourceResolver{ImportPaths: paths}
	resolver := protocompile.ResolverFunc(func(name string) (protocompile.SearchResult, error) {
		if d, ok := builtin[name]; ok {
			return protocompile.SearchResult{Desc: d}, nil
		}
		res, err := src.FindFileByPath(name)
		if err != nil {
			if d, lerr := loaded.FindFileByPath(name); lerr == nil {
				return protocompile.SearchResult{Desc: d}, nil
			}
		}
		return res, err
	})
	var errs []string
	rep := reporter.NewReporter(func(err reporter.ErrorWithPos) error {
		errs = append(errs, err.Error())
		return nil // keep going: report every error, like protoc
	}, nil)
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(resolver),
		Reporter: rep,
	}
	linked, err := c.Compile(context.Background(), names...)
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	if err != nil {
		return nil, err
	}
	var out []*descriptorpb.FileDescriptorProto
	seen := map[string]bool{}
	for _, f := range linked {
		out = appendWithImports(out, seen, f)
	}
	return out, nil
}

// protoNames turns the command-line file names into names relative to an
// import path, and returns the import paths to use. The names are
// protocompile's, with forward slashes on every system; the paths are the
// system's (C:\protos on Windows).
func protoNames(files, importPaths []string) (names, paths []string) {
	paths = append(paths, importPaths...)
	for _, f := range files {
		name, ok := underImportPath(f, importPaths)
		if !ok && len(importPaths) > 0 && !filepath.IsAbs(f) {
			// Not under any import path: protoc refuses this; accept it
			// as a name relative to an import path (e.g. -I dir x.proto).
			name, ok = filepath.ToSlash(f), true
		}
		if !ok {
			// No import path has it: its own directory is one.
			dir := filepath.Dir(f)
			if !contains(paths, dir) {
				paths = append(paths, dir)
			}
			name = filepath.Base(f)
		}
		names = append(names, name)
	}
	return names, paths
}

// underImportPath returns the name of file f relative to the first import
// path that holds it. Both are made absolute first, so that a relative -I
// and an absolute file name (or the reverse) still match.
func underImportPath(f string, importPaths []string) (string, bool) {
	af, err := filepath.Abs(f)
	if err != nil {
		return "", false
	}
	for _, ip := range importPaths {
		aip, err := filepath.Abs(ip)
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(aip, af)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		return filepath.ToSlash(rel), true
	}
	return "", false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
