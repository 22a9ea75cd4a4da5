package capture

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dsb is a little-endian pcapng Decryption Secrets Block.
func dsb(typ uint32, secrets []byte) []byte {
	pad := (4 - len(secrets)%4) % 4
	total := uint32(12 + 8 + len(secrets) + pad)
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0x0A)
	b = le.AppendUint32(b, total)
	b = le.AppendUint32(b, typ)
	b = le.AppendUint32(b, uint32(len(secrets)))
	b = append(b, secrets...)
	b = append(b, make([]byte, pad)...)
	return le.AppendUint32(b, total)
}

type secretsSeen struct {
	typ     uint32
	data    string
	packets int64 // packets Next had returned when the block was reported
}

// Decryption Secrets Blocks are reported as they stream by, in a file or a
// pipe, compressed or not: the one at the start (read before OnSecrets is
// set) and one far into the capture (read while Next runs), never after the
// packets that follow it.
func TestOnSecrets(t *testing.T) {
	first := testFrames(t, "eth", 6000) // well past the read buffer
	second := testFrames(t, "eth", 10)
	var buf, one bytes.Buffer
	writePcapng(t, &one, first)
	b := one.Bytes()
	// Section header and interface description come first; the first
	// packet block follows them.
	shbLen := binary.LittleEndian.Uint32(b[4:8])
	idbLen := binary.LittleEndian.Uint32(b[shbLen+4 : shbLen+8])
	at := int(shbLen + idbLen)
	buf.Write(b[:at])
	buf.Write(dsb(0x544c534b, []byte("CLIENT_RANDOM a b\n")))
	buf.Write(b[at:])
	buf.Write(dsb(0x12345678, []byte("other")))
	buf.Write(dsb(0x544c534b, []byte("second key log\n")))
	writePcapng(t, &buf, second)
	for _, gz := range []bool{false, true} {
		data := buf.Bytes()
		if gz {
			data = gzipBytes(t, data)
		}
		s, err := OpenReader(bytes.NewReader(data), "stdin")
		if err != nil {
			t.Fatal(err)
		}
		var seen []secretsSeen
		s.OnSecrets(func(typ uint32, d []byte) {
			seen = append(seen, secretsSeen{typ, string(d), s.Packets()})
		})
		pkts, err := readAll(t, s)
		if err != nil || len(pkts) != len(first)+len(second) {
			t.Fatalf("gz %v: %d packets, %v", gz, len(pkts), err)
		}
		if len(seen) != 3 || seen[0] != (secretsSeen{0x544c534b, "CLIENT_RANDOM a b\n", 0}) ||
			seen[1].typ != 0x12345678 || seen[1].data != "other" || seen[2].data != "second key log\n" {
			t.Fatalf("gz %v: %+v", gz, seen)
		}
		if seen[1].packets > int64(len(first)) || seen[1].packets < int64(len(first))/2 {
			t.Errorf("gz %v: second block reported after %d packets (it follows packet %d)", gz, seen[1].packets, len(first))
		}
	}
}

// Without OnSecrets nothing is kept; OnSecrets after the first Next does
// nothing; a pcap has no blocks to report.
func TestOnSecretsUnset(t *testing.T) {
	f := filepath.Join("..", "testdata", "pcaps", "tls", "tls13_secrets.pcapng")
	s, err := OpenFile(f)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	if s.guard.heldSecrets != nil || !s.guard.noSecrets {
		t.Error("secrets kept without OnSecrets")
	}
	s.OnSecrets(func(uint32, []byte) { t.Error("called after Next") })
	readAll(t, s)

	s, err = OpenFile(f)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var keys string
	s.OnSecrets(func(typ uint32, d []byte) {
		if typ == 0x544c534b {
			keys += string(d)
		}
	})
	if _, err := readAll(t, s); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "testdata", "pcaps", "tls", "tls13.keys"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(keys, "\n") < 4 || !strings.Contains(string(want), strings.SplitN(keys, "\n", 2)[0]) {
		t.Errorf("secrets %q", keys)
	}

	p, err := OpenReader(bytes.NewReader(writePcap(t, false, testFrames(t, "eth", 3))), "x")
	if err != nil {
		t.Fatal(err)
	}
	p.OnSecrets(func(uint32, []byte) { t.Error("a pcap has no secrets") })
	readAll(t, p)
}
