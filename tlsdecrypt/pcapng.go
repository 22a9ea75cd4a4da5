package tlsdecrypt

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// pcapng block types and the TLS key log secrets type (pcapng spec, §4.7).
const (
	pcapngSHB        = 0x0a0d0d0a
	pcapngDSB        = 0x0000000a
	pcapngTLSKeyLog  = SecretsTypeTLSKeyLog
	maxPcapngBlock   = 64 << 20
	pcapngByteMagic  = 0x1a2b3c4d
	pcapngHeaderSize = 12
)

// SecretsTypeTLSKeyLog is the secrets type of a pcapng Decryption Secrets
// Block that holds an NSS key log ("TLSK"): its data is what ParseKeyLog
// reads.
const SecretsTypeTLSKeyLog = 0x544c534b

// ErrNotPcapng is returned by KeysFromPcapng for input that is not pcapng.
var ErrNotPcapng = errors.New("not a pcapng capture")

// KeysFromPcapng adds to k the TLS key logs held in the Decryption Secrets
// Blocks of a pcapng capture (as written by editcap --inject-secrets), and
// returns how many blocks it read. The packet reader skips these blocks, so
// the capture is read a second time for them; gzip-compressed pcapng is
// accepted. Input that is not pcapng returns ErrNotPcapng.
func (k *KeyLog) KeysFromPcapng(r io.Reader) (int, error) {
	br := bufio.NewReader(r)
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 0, err
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	var order binary.ByteOrder = binary.LittleEndian
	var hdr [pcapngHeaderSize]byte
	n := 0
	for first := true; ; first = false {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF && !first {
				return n, nil
			}
			if first {
				return 0, ErrNotPcapng
			}
			return n, fmt.Errorf("pcapng block header: %w", err)
		}
		if binary.LittleEndian.Uint32(hdr[:4]) == pcapngSHB {
			switch {
			case binary.LittleEndian.Uint32(hdr[8:]) == pcapngByteMagic:
				order = binary.LittleEndian
			case binary.BigEndian.Uint32(hdr[8:]) == pcapngByteMagic:
				order = binary.BigEndian
			default:
				return n, fmt.Errorf("pcapng section header: bad byte-order magic")
			}
		} else if first {
			return 0, ErrNotPcapng
		}
		typ, size := order.Uint32(hdr[:4]), order.Uint32(hdr[4:8])
		if size < pcapngHeaderSize || size%4 != 0 || size > maxPcapngBlock {
			return n, fmt.Errorf("pcapng block of %d bytes", size)
		}
		rest := int(size) - pcapngHeaderSize // body after the first 4 body bytes, + trailing length
		if typ != pcapngDSB {
			if _, err := br.Discard(rest); err != nil {
				return n, fmt.Errorf("pcapng block: %w", err)
			}
			continue
		}
		body := make([]byte, rest)
		if _, err := io.ReadFull(br, body); err != nil {
			return n, fmt.Errorf("pcapng decryption secrets block: %w", err)
		}
		// hdr[8:12] is the secrets type, body starts with its length.
		if order.Uint32(hdr[8:]) != pcapngTLSKeyLog || len(body) < 4 {
			continue
		}
		// Compared as uint64: int(l) is negative on a 32-bit platform for
		// a claim of 2 GiB or more.
		l := order.Uint32(body[:4])
		if uint64(l) > uint64(len(body)-4) {
			return n, fmt.Errorf("pcapng decryption secrets block: %d bytes of secrets in a %d-byte block", l, size)
		}
		part, err := ParseKeyLog(bytes.NewReader(body[4 : 4+int(l)]))
		if err != nil {
			return n, err
		}
		k.Merge(part)
		n++
	}
}

// LoadPcapngKeys reads the Decryption Secrets Blocks of the pcapng capture
// at path into a new KeyLog; see KeyLog.KeysFromPcapng.
func LoadPcapngKeys(path string) (*KeyLog, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	k := &KeyLog{}
	n, err := k.KeysFromPcapng(f)
	return k, n, err
}
