package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// checksumsName is the file the archives' SHA-256 sums are written to.
const checksumsName = "checksums.txt"

// epoch is the modification time of every archive entry, so that the same
// files give the same archive. Zip cannot say anything earlier.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// file is one entry of an archive: its name there, the file it is read
// from, and its permission bits.
type file struct {
	name string
	path string
	mode fs.FileMode
}

// writeArchive writes files to path: a zip when path ends in .zip, else a
// gzipped tar. The entries are sorted by name.
func writeArchive(path string, files []file) error {
	files = append([]file(nil), files...)
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	var buf bytes.Buffer
	var err error
	if strings.HasSuffix(path, ".zip") {
		err = writeZip(&buf, files)
	} else {
		err = writeTarGz(&buf, files)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// writeTarGz writes files, in order, as a gzipped tar with fixed times,
// owners and modes and an empty gzip header.
func writeTarGz(w io.Writer, files []file) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, f := range files {
		data, err := os.ReadFile(f.path)
		if err != nil {
			return err
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     f.name,
			Size:     int64(len(data)),
			Mode:     int64(f.mode.Perm()),
			ModTime:  epoch,
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// writeZip writes files, in order, as a zip with fixed times and modes.
func writeZip(w io.Writer, files []file) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	for _, f := range files {
		data, err := os.ReadFile(f.path)
		if err != nil {
			return err
		}
		hdr := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: epoch}
		hdr.SetMode(f.mode.Perm())
		ew, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := ew.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeChecksums writes the SHA-256 of each named file of dir to
// dir/checksums.txt, sorted by name, in the format sha256sum -c reads.
func writeChecksums(dir string, names []string) error {
	names = append([]string(nil), names...)
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		sum, err := sha256File(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, name)
	}
	return os.WriteFile(filepath.Join(dir, checksumsName), []byte(b.String()), 0o644)
}

// sha256File is the hex SHA-256 of the file at path.
func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
