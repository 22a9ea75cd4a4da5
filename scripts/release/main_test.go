package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseTargets(t *testing.T) {
	got, err := parseTargets(" linux/amd64, windows/arm64,")
	want := []target{{"linux", "amd64"}, {"windows", "arm64"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"", ",", "linux", "linux/", "/amd64", "linux/amd64/v2"} {
		if _, err := parseTargets(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if ts, err := parseTargets(defaultTargets); err != nil || len(ts) != 8 {
		t.Errorf("default targets: %v, %v", ts, err)
	}
}

func TestArchiveName(t *testing.T) {
	if got := archiveName("v1.2.3", target{"linux", "arm64"}); got != "grpcsniff_v1.2.3_linux_arm64.tar.gz" {
		t.Error(got)
	}
	if got := archiveName("snapshot", target{"windows", "amd64"}); got != "grpcsniff_snapshot_windows_amd64.zip" {
		t.Error(got)
	}
}

func TestCheckVersion(t *testing.T) {
	for _, v := range []string{"v1.2.3", "snapshot", "v0.1.0-3-g34ba29a-dirty"} {
		if err := checkVersion(v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	for _, v := range []string{"", "v1 2", "a/b", `v1"`} {
		if err := checkVersion(v); err == nil {
			t.Errorf("%q: no error", v)
		}
	}
}

// A target that does not build is named with go build's output, the exit
// status is 1 and no checksums.txt is written.
func TestFailingTarget(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"-version", "test", "-targets", "nosuchos/amd64", "-out", out}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "release: nosuchos/amd64: go build failed") ||
		!strings.Contains(stderr.String(), "unsupported GOOS/GOARCH pair nosuchos/amd64") ||
		!strings.Contains(stderr.String(), "1 of 1 targets failed: nosuchos/amd64") {
		t.Errorf("exit %d, stderr:\n%s", code, &stderr)
	}
	if _, err := os.Stat(filepath.Join(out, checksumsName)); err == nil {
		t.Error("checksums.txt written after a failure")
	}
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{{"-targets", "linux"}, {"-version", "a b"}, {"extra"}, {"-nosuchflag"}} {
		stderr.Reset()
		if code := run(args, &stdout, &stderr); code != 2 || stderr.Len() == 0 {
			t.Errorf("%q: exit %d, stderr %q", args, code, &stderr)
		}
	}
}
