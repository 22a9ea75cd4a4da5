package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// A pcapng with the secrets injected decodes from standard input, plain or
// gzip-compressed, as the pcap does with its key log: the Decryption Secrets
// Blocks are read as they stream by.
func TestTLSSecretsFromStdin(t *testing.T) {
	dir := "../../testdata/pcaps/tls/"
	withKeys, stderr, code := runCmd(t, nil, "-r", dir+"tls13.pcap", "--keylog", dir+"tls13.keys", "-q", "--json")
	if code != exitOK || withKeys == "" {
		t.Fatalf("with --keylog: exit %d: %s", code, stderr)
	}
	ng, err := os.ReadFile(dir + "tls13_secrets.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(ng)
	zw.Close()
	for name, in := range map[string][]byte{"pcapng": ng, "pcapng.gz": gz.Bytes()} {
		out, stderr, code := runCmd(t, in, "-r", "-", "-q", "--json")
		if code != exitOK || out != withKeys {
			t.Errorf("%s on stdin: exit %d, same calls as with --keylog: %v\n%s", name, code, out == withKeys, stderr)
		}
	}
}

// secretsBlock is a little-endian pcapng Decryption Secrets Block holding an
// NSS key log.
func secretsBlock(keylog []byte) []byte {
	pad := (4 - len(keylog)%4) % 4
	total := uint32(20 + len(keylog) + pad)
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0x0A)
	b = le.AppendUint32(b, total)
	b = le.AppendUint32(b, 0x544c534b)
	b = le.AppendUint32(b, uint32(len(keylog)))
	b = append(b, keylog...)
	b = append(b, make([]byte, pad)...)
	return le.AppendUint32(b, total)
}

// A capture written live, its secrets blocks among the packets as the keys
// were learnt, a little after the handshakes that need them and far enough
// (past the read buffer) that they are read after those handshakes were
// decoded: the connections wait for their keys and decode as with --keylog.
func TestTLSSecretsInterleaved(t *testing.T) {
	dir := "../../testdata/pcaps/tls/"
	withKeys, _, _ := runCmd(t, nil, "-r", dir+"tls13.pcap", "--keylog", dir+"tls13.keys", "-q", "--json")
	keys, err := os.ReadFile(dir + "tls13.keys")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(dir + "tls13.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := pcapgo.NewNgWriter(&out, r.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	raw := func(b []byte) {
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		out.Write(b)
	}
	filler := func(ci gopacket.CaptureInfo) {
		// 400 KiB of frames that are not IP, more than is read ahead.
		frame := make([]byte, 1400)
		copy(frame, []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5})
		ci.CaptureLength, ci.Length = len(frame), len(frame)
		for range 300 {
			if err := w.WritePacket(ci, frame); err != nil {
				t.Fatal(err)
			}
		}
	}
	sawHello := false
	for i := 0; ; i++ {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if i == 0 {
			// A first block (no keys) among packets, before any
			// handshake: the capture is seen to carry secrets late.
			filler(ci)
			raw(secretsBlock([]byte("# SSL/TLS secrets log file\n")))
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
		if !sawHello && isServerHello(data) {
			// The first connection's ServerHello: its keys come later.
			sawHello = true
			filler(ci)
			raw(secretsBlock(keys))
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !sawHello {
		t.Fatal("no ServerHello in tls13.pcap")
	}
	got, stderr, code := runCmd(t, out.Bytes(), "-r", "-", "-q", "--json")
	if code != exitOK || got != withKeys {
		t.Fatalf("exit %d, same calls as with --keylog: %v\n%s\n%s", code, got == withKeys, stderr, got)
	}
}

// isServerHello reports whether an Ethernet frame's TCP payload starts a TLS
// handshake record holding a ServerHello.
func isServerHello(frame []byte) bool {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	return tcp != nil && len(tcp.Payload) > 5 && tcp.Payload[0] == 0x16 && tcp.Payload[5] == 2
}
