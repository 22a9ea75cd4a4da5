package h2decode

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/net/http2/hpack"
)

// Decoding a complete connection must agree with x/net's reference decoder,
// across insertions, evictions and table size updates.
func TestHPACKMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	ref := hpack.NewDecoder(4096, nil)
	ours := newHPACKDecoder(1, 0, true, 1<<20, nil)
	names := []string{":path", ":authority", "content-type", "grpc-timeout", "x-a", "x-b", "user-agent", "grpc-status"}
	for block := 0; block < 2000; block++ {
		buf.Reset()
		if rng.IntN(20) == 0 {
			size := uint32(rng.IntN(5000))
			enc.SetMaxDynamicTableSizeLimit(size)
			enc.SetMaxDynamicTableSize(size)
			ref.SetAllowedMaxDynamicTableSize(size)
		}
		n := 1 + rng.IntN(8)
		for i := 0; i < n; i++ {
			f := hpack.HeaderField{Name: names[rng.IntN(len(names))], Value: fmt.Sprint(rng.IntN(50)), Sensitive: rng.IntN(10) == 0}
			if rng.IntN(4) == 0 {
				f.Value = string(bytes.Repeat([]byte{'v'}, rng.IntN(600)))
			}
			enc.WriteField(f)
		}
		want, err := ref.DecodeFull(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := ours.decode(nil, buf.Bytes(), 1<<20)
		if err != nil {
			t.Fatalf("block %d: %v", block, err)
		}
		if len(got) != len(want) {
			t.Fatalf("block %d: %d fields, want %d", block, len(got), len(want))
		}
		for i := range got {
			if got[i].Unknown() || got[i].Name != want[i].Name || got[i].Value != want[i].Value || got[i].Sensitive != want[i].Sensitive {
				t.Fatalf("block %d field %d: %+v, want %+v", block, i, got[i], want[i])
			}
		}
	}
}

func TestHPACKErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block []byte
		want  error
	}{
		{"index 0", []byte{0x80}, errHPACKIndex},
		{"truncated integer", []byte{0xff}, errHPACKTruncated},
		{"integer overflow", append([]byte{0xff}, bytes.Repeat([]byte{0xff}, 12)...), errHPACKInteger},
		{"string longer than block", []byte{0x40, 0x05, 'a'}, errHPACKTruncated},
		{"bad huffman", []byte{0x40, 0x81, 0xff, 0x00}, errHPACKHuffman},
		{"table size over limit", []byte{0x3f, 0xe1, 0xff, 0xff, 0x0f}, errHPACKTableSize},
		{"dynamic index on complete table", []byte{0xbe}, errHPACKIndex},
	} {
		d := newHPACKDecoder(1, 0, true, 1<<20, nil)
		_, _, err := d.decode(nil, tc.block, 1<<20)
		if err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if d.complete {
			t.Errorf("%s: the table must count as unknown after a broken block", tc.name)
		}
	}
}

// A field decoded before a broken one is still returned.
func TestHPACKKeepsFieldsBeforeError(t *testing.T) {
	d := newHPACKDecoder(1, 0, true, 1<<20, nil)
	fs, _, err := d.decode(nil, []byte{0x83, 0x80}, 1<<20) // :method POST, then index 0
	if err == nil || len(fs) != 1 || fs[0].Name != ":method" || fs[0].Value != "POST" {
		t.Fatalf("fields %+v, err %v", fs, err)
	}
}

func TestHPACKHeaderListLimit(t *testing.T) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for i := 0; i < 10; i++ {
		enc.WriteField(hpack.HeaderField{Name: fmt.Sprintf("x-%d", i), Value: "0123456789"})
	}
	d := newHPACKDecoder(1, 0, true, 1<<20, nil)
	fs, over, err := d.decode(nil, buf.Bytes(), 200)
	if err != nil || !over || len(fs) != 4 {
		t.Fatalf("got %d fields, over=%v, err=%v; want 4, true, nil", len(fs), over, err)
	}
	// The table still took every insertion: the next block's references
	// resolve.
	buf.Reset()
	enc.WriteField(hpack.HeaderField{Name: "x-9", Value: "0123456789"})
	fs, _, err = d.decode(nil, buf.Bytes(), 200)
	if err != nil || len(fs) != 1 || fs[0].Name != "x-9" {
		t.Fatalf("after limit: %+v, %v", fs, err)
	}
}

func FuzzHPACK(f *testing.F) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	enc.WriteField(hpack.HeaderField{Name: ":path", Value: "/helloworld.Greeter/SayHello"})
	enc.WriteField(hpack.HeaderField{Name: "grpc-status", Value: "0"})
	f.Add(buf.Bytes(), false)
	f.Add([]byte{0xbe, 0x7f, 0x00, 0x01, 'a'}, true)
	f.Fuzz(func(t *testing.T, b []byte, complete bool) {
		d := newHPACKDecoder(1, 0, complete, 1<<16, nil)
		for i := 0; i < 2; i++ {
			wasComplete := d.complete
			fs, _, err := d.decode(nil, b, 1<<16)
			for _, f := range fs {
				if f.Unknown() && wasComplete {
					t.Fatalf("unknown field %+v from a table known from the start", f)
				}
			}
			if err != nil && d.complete {
				t.Fatalf("table still complete after %v", err)
			}
			if d.size > d.maxSize && d.maxSize > 0 {
				t.Fatalf("table size %d over max %d", d.size, d.maxSize)
			}
			checkCompactEntries(t, d)
		}
	})
}

// checkCompactEntries checks that every entry of d's table is held in the
// compact form (hpackEntry.full unset): the fields decoding inserts are
// those the form can say.
func checkCompactEntries(t *testing.T, d *hpackDecoder) {
	t.Helper()
	for i := range d.entries {
		if e := &d.entries[i]; e.full != nil {
			t.Fatalf("entry %d kept whole: %+v", i, *e.full)
		}
	}
}

// TestHPACKCompactEntries inserts fields whose names come from entries
// the decoder never saw (a capture joined mid-connection, then a lost
// table), and checks that the entries give back the fields inserted, with
// their TableRefs, and that a field the compact form cannot say is kept
// whole.
func TestHPACKCompactEntries(t *testing.T) {
	d := newHPACKDecoder(7, 1, false, 1<<16, nil)
	// Literal with incremental indexing, name index 62+3 (unknown),
	// value "v1"; then the same with name index 62 (the entry just
	// inserted, unknown name); then a literal name; then references to
	// all three.
	block := []byte{0x40 | 0x3f, 2, 2, 'v', '1', 0x40 | 0x3e, 2, 'v', '2', 0x40, 1, 'n', 1, 'x', 0x80 | 62, 0x80 | 63, 0x80 | 64}
	for epoch := 0; epoch < 2; epoch++ {
		fs, _, err := d.decode(nil, block, 1<<16)
		if err != nil || len(fs) != 6 {
			t.Fatalf("epoch %d: %+v, %v", epoch, fs, err)
		}
		for i, want := range fs[:3] {
			if got := fs[5-i]; got != want {
				t.Errorf("epoch %d: field %d from the table %+v, inserted %+v", epoch, 5-i, got, want)
			}
		}
		if !fs[0].NameUnknown || fs[0].Ref != (TableRef{Conn: 7, Side: 1, Epoch: uint32(epoch), Entry: 3}) || fs[1].Ref != fs[0].Ref || fs[2].NameUnknown {
			t.Errorf("epoch %d: %+v", epoch, fs)
		}
		checkCompactEntries(t, d)
		d.lose()
		d.entries = d.entries[:0]
	}
	odd := HeaderField{Name: "n", Value: "v", ValueUnknown: true, Ref: TableRef{Conn: 1, Entry: 9}}
	d.insert(odd)
	if e := &d.entries[len(d.entries)-1]; e.full == nil || d.field(e) != odd {
		t.Errorf("a field the compact form cannot say: %+v", d.field(e))
	}
}

// FuzzHPACKResume decodes block a with two decoders; one then loses its
// state across a gap and gets it back (resume), as a gap proven to hold no
// header block does, with block b decoded before and after: every field it
// reports known is the one the decoder that never lost its state reports.
func FuzzHPACKResume(f *testing.F) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	enc.WriteField(hpack.HeaderField{Name: "grpc-status", Value: "0"})
	enc.WriteField(hpack.HeaderField{Name: "x-a", Value: "1"})
	a := bytes.Clone(buf.Bytes())
	buf.Reset()
	enc.WriteField(hpack.HeaderField{Name: "x-a", Value: "2"})
	enc.WriteField(hpack.HeaderField{Name: "grpc-status", Value: "0"})
	f.Add(a, bytes.Clone(buf.Bytes()), true)
	f.Add([]byte{0x3f, 0xe1, 0x1f, 0x40, 0x01, 'a', 0x01, 'b'}, []byte{0x7f, 0x00, 0x01, 'c', 0xbe, 0xbf}, false)
	f.Fuzz(func(t *testing.T, a, b []byte, complete bool) {
		ref := newHPACKDecoder(1, 0, complete, 1<<16, nil)
		d := newHPACKDecoder(1, 0, complete, 1<<16, nil)
		if _, _, err := ref.decode(nil, a, 1<<16); err != nil {
			return
		}
		d.decode(nil, a, 1<<16)
		saved := d.saveTable()
		d.lose()
		epoch := d.epoch
		for i := 0; i < 2; i++ {
			want, _, err := ref.decode(nil, b, 1<<16)
			got, _, _ := d.decode(nil, b, 1<<16)
			if err != nil {
				return
			}
			checkKnownFields(t, got, want)
			if i == 0 {
				d.resume(saved, epoch)
			}
			if d.size > d.maxSize && d.maxSize > 0 {
				t.Fatalf("table size %d over max %d", d.size, d.maxSize)
			}
			checkCompactEntries(t, d)
		}
	})
}

// checkKnownFields checks that every known part of got is that of want.
func checkKnownFields(t *testing.T, got, want []HeaderField) {
	t.Helper()
	if len(got) > len(want) {
		t.Fatalf("%d fields, want %d", len(got), len(want))
	}
	for i, f := range got {
		if (!f.NameUnknown && f.Name != want[i].Name) || (!f.ValueUnknown && f.Value != want[i].Value) {
			t.Fatalf("field %d: %+v, want %+v", i, f, want[i])
		}
	}
}
