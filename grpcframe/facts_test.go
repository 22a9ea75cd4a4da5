package grpcframe

import (
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/grpcsniff/grpcsniff/h2decode"
)

// readFacts reads what Header finds, field list by field list: on every
// header block of the shipped captures and on random lists with repeated
// names and fields HPACK could not recover.
func TestReadFacts(t *testing.T) {
	check := func(fs []h2decode.HeaderField) {
		t.Helper()
		var f blockFacts
		readFacts(&f, fs)
		pseudo := false
		for i := range fs {
			pseudo = pseudo || (!fs[i].NameUnknown && (fs[i].Name == ":method" || fs[i].Name == ":path"))
		}
		if st, ok := Header(fs, ":status"); ok {
			if n, _ := strconv.Atoi(st); f.httpStatus != n {
				t.Fatalf("%v: status %d, want %d", fs, f.httpStatus, n)
			}
		}
		if f.requestPseudo != pseudo {
			t.Fatalf("%v: request pseudo-headers %v, want %v", fs, f.requestPseudo, pseudo)
		}
		for _, c := range []struct {
			name string
			bit  uint8
			got  string
		}{{"content-type", factCT, f.contentType}, {":status", factStatus, f.status}, {"grpc-status", factGRPCStatus, ""},
			{"grpc-encoding", factGRPCEncoding, f.grpcEncoding}, {"content-encoding", factContentEncoding, f.contentEncoding}} {
			v, ok := Header(fs, c.name)
			if ok != (f.seen&c.bit != 0) || (c.name != "grpc-status" && c.got != v) {
				t.Fatalf("%v: %s = %q (%v), Header finds %q (%v)", fs, c.name, c.got, f.seen&c.bit != 0, v, ok)
			}
		}
	}
	paths, _ := filepath.Glob("../testdata/pcaps/*.pcap*")
	blocks := 0
	for _, p := range paths {
		for _, ev := range recordH2(t, p).events {
			if ev.kind == 0 {
				check(ev.headers.Fields)
				blocks++
			}
		}
	}
	if blocks < 100 {
		t.Fatalf("only %d header blocks in the shipped captures", blocks)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	names := []string{":method", ":path", ":status", "content-type", "grpc-status", "grpc-encoding", "content-encoding", "x-a"}
	values := []string{"0", "200", "x", "", " 2"}
	for range 20000 {
		fs := make([]h2decode.HeaderField, rng.IntN(8))
		for i := range fs {
			fs[i] = h2decode.HeaderField{Name: names[rng.IntN(len(names))], Value: values[rng.IntN(len(values))],
				NameUnknown: rng.IntN(6) == 0, ValueUnknown: rng.IntN(6) == 0}
		}
		check(fs)
	}
}
