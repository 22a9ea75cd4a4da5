package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// target is a platform to build for.
type target struct{ os, arch string }

func (t target) String() string { return t.os + "/" + t.arch }

// parseTargets reads a comma-separated list of OS/ARCH pairs.
func parseTargets(s string) ([]target, error) {
	var ts []target
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		goos, goarch, ok := strings.Cut(f, "/")
		if !ok || goos == "" || goarch == "" || strings.Contains(goarch, "/") {
			return nil, fmt.Errorf("target %q: want OS/ARCH, as linux/amd64", f)
		}
		ts = append(ts, target{goos, goarch})
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("no targets in %q", s)
	}
	return ts, nil
}

// archiveName is the name of t's archive of the given version.
func archiveName(version string, t target) string {
	ext := ".tar.gz"
	if t.os == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("grpcsniff_%s_%s_%s%s", version, t.os, t.arch, ext)
}

// release builds grpcsniff for t from the module at root and writes its
// archive to dir; it returns the archive's name.
func release(root, dir, version string, t target) (string, error) {
	tmp, err := os.MkdirTemp("", "grpcsniff-release-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	bin := "grpcsniff"
	if t.os == "windows" {
		bin += ".exe"
	}
	if err := build(root, filepath.Join(tmp, bin), version, t); err != nil {
		return "", err
	}
	files := []file{{name: bin, path: filepath.Join(tmp, bin), mode: 0o755}}
	files = append(files, docs(root)...)
	name := archiveName(version, t)
	return name, writeArchive(filepath.Join(dir, name), files)
}

// build runs go build for t; its error carries go build's output.
func build(root, bin, version string, t target) error {
	cmd := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-s -w -X main.buildVersion="+version,
		"-o", bin, "./cmd/grpcsniff")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.os, "GOARCH="+t.arch)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build failed (%v):\n%s", err, strings.TrimRight(string(out), "\n"))
	}
	return nil
}

// docs are the files shipped beside the binary: README.md, and the
// license when the tree has one.
func docs(root string) []file {
	var fs []file
	for _, name := range []string{"README.md", "LICENSE", "LICENSE.md", "LICENSE.txt", "COPYING"} {
		p := filepath.Join(root, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			fs = append(fs, file{name: name, path: p, mode: 0o644})
		}
	}
	return fs
}
