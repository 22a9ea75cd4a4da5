package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testFiles writes a fake binary and README.md to a temp directory and
// returns them as archive entries, the README first to check the sorting.
func testFiles(t *testing.T) []file {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "grpcsniff")
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(bin, []byte("\x7fELF not really"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(readme, []byte("# grpcsniff\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []file{{"README.md", readme, 0o644}, {"grpcsniff", bin, 0o755}}
}

// entry is what an archive says of one of its files.
type entry struct {
	name    string
	mode    fs.FileMode
	modTime time.Time
	data    string
}

// wantEntries are the entries of an archive of testFiles.
var wantEntries = []entry{
	{"README.md", 0o644, epoch, "# grpcsniff\n"},
	{"grpcsniff", 0o755, epoch, "\x7fELF not really"},
}

// readTarGz lists a gzipped tar's entries, checking their owners.
func readTarGz(t *testing.T, path string) []entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var es []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return es
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.Typeflag != tar.TypeReg {
			t.Errorf("%s: owner %d:%d %q:%q, type %c", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.Typeflag)
		}
		data, _ := io.ReadAll(tr)
		es = append(es, entry{h.Name, fs.FileMode(h.Mode), h.ModTime.UTC(), string(data)})
	}
}

// readZip lists a zip's entries.
func readZip(t *testing.T, path string) []entry {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var es []entry
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		es = append(es, entry{f.Name, f.Mode().Perm(), f.Modified.UTC(), string(data)})
	}
	return es
}

// An archive read back holds the files, sorted, with their modes, the
// fixed time and their contents, in both formats.
func TestArchiveRoundTrip(t *testing.T) {
	files := testFiles(t)
	dir := t.TempDir()
	for _, name := range []string{"a.tar.gz", "a.zip"} {
		path := filepath.Join(dir, name)
		if err := writeArchive(path, files); err != nil {
			t.Fatal(err)
		}
		read := readTarGz
		if strings.HasSuffix(name, ".zip") {
			read = readZip
		}
		got := read(t, path)
		if len(got) != len(wantEntries) {
			t.Fatalf("%s: %d entries %v, want %v", name, len(got), got, wantEntries)
		}
		for i := range got {
			if got[i] != wantEntries[i] {
				t.Errorf("%s: entry %d is %+v, want %+v", name, i, got[i], wantEntries[i])
			}
		}
	}
}

// The same files give the same bytes, whatever their times on disk and
// the order they are given in.
func TestArchiveReproducible(t *testing.T) {
	files := testFiles(t)
	dir := t.TempDir()
	for _, ext := range []string{".tar.gz", ".zip"} {
		a, b := filepath.Join(dir, "a"+ext), filepath.Join(dir, "b"+ext)
		if err := writeArchive(a, files); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Hour)
		for _, f := range files {
			if err := os.Chtimes(f.path, later, later); err != nil {
				t.Fatal(err)
			}
		}
		if err := writeArchive(b, []file{files[1], files[0]}); err != nil {
			t.Fatal(err)
		}
		ba, _ := os.ReadFile(a)
		bb, _ := os.ReadFile(b)
		if len(ba) == 0 || !bytes.Equal(ba, bb) {
			t.Errorf("%s: two runs differ (%d and %d bytes)", ext, len(ba), len(bb))
		}
	}
}

// checksums.txt has a line "SHA256  NAME" per archive, sorted, which
// sha256sum -c accepts.
func TestChecksums(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"b.zip": "bee", "a.tar.gz": "ay"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeChecksums(dir, []string{"b.zip", "a.tar.gz"}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, checksumsName))
	want := "69d61997a241e97931db9dd1cfcef218041a752485f5f7956b09766287682da3  a.tar.gz\n" +
		"62cb81b5904a262ffaeed02abef36bfc540b09f964b8b0b636662f77ffce6714  b.zip\n"
	if string(got) != want {
		t.Fatalf("checksums.txt:\n%s\nwant:\n%s", got, want)
	}
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum to check the file with")
	}
	cmd := exec.Command("sha256sum", "-c", "--strict", checksumsName)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, out)
	}
}
