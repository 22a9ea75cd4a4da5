package tlsdecrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"hash"
	"slices"
)

// recordCipher removes the protection of one direction's records.
type recordCipher struct {
	s      *suite
	aead   cipher.AEAD
	iv     []byte // 12 bytes, or the 4-byte implicit part for TLS 1.2 GCM
	seq    uint64 // sequence number of the next record
	secret []byte // TLS 1.3 traffic secret, for KeyUpdate
	nonce  [12]byte
	aad    [13]byte

	// CBC suites (TLS 1.2): the block cipher and the keyed HMAC.
	block cipher.Block
	mac   hash.Hash
	sum   [64]byte // MAC scratch
}

func newCipher13(s *suite, secret []byte) (*recordCipher, error) {
	key, iv := trafficKeys(s, secret)
	a, err := s.newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &recordCipher{s: s, aead: a, iv: iv, secret: secret}, nil
}

// newCipher12 makes a TLS 1.2 record cipher from one side's key block
// parts: macKey is only used (and iv only unused) by CBC suites.
func newCipher12(s *suite, macKey, key, iv []byte) (*recordCipher, error) {
	if s.kind == aesCBC {
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return &recordCipher{s: s, block: b, mac: hmac.New(s.mac, macKey)}, nil
	}
	a, err := s.newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &recordCipher{s: s, aead: a, iv: iv}, nil
}

// open decrypts one record (hdr is its 5-byte header, payload the rest) as
// if it had sequence number seq, appending the plaintext to dst. For TLS 1.3
// the plaintext still ends with the inner content type and padding.
func (c *recordCipher) open(dst, hdr, payload []byte, seq uint64) ([]byte, bool) {
	if c.block != nil {
		return c.openCBC(dst, hdr, payload, seq)
	}
	overhead := c.aead.Overhead()
	if c.s.tls13 {
		c.seqNonce(seq)
		out, err := c.aead.Open(dst, c.nonce[:], payload, hdr)
		return out, err == nil
	}
	// TLS 1.2: additional data is seq_num + type + version + length of the
	// plaintext (RFC 5246 §6.2.3.3).
	if c.s.kind == aesGCM {
		if len(payload) < 8+overhead {
			return dst, false
		}
		copy(c.nonce[:4], c.iv)
		copy(c.nonce[4:], payload[:8])
		payload = payload[8:]
	} else {
		if len(payload) < overhead {
			return dst, false
		}
		c.seqNonce(seq)
	}
	binary.BigEndian.PutUint64(c.aad[:8], seq)
	c.aad[8], c.aad[9], c.aad[10] = hdr[0], hdr[1], hdr[2]
	binary.BigEndian.PutUint16(c.aad[11:], uint16(len(payload)-overhead))
	out, err := c.aead.Open(dst, c.nonce[:], payload, c.aad[:])
	return out, err == nil
}

// seqNonce sets the nonce to the IV xor the left-padded sequence number
// (RFC 8446 §5.3, RFC 7905 §2).
func (c *recordCipher) seqNonce(seq uint64) {
	copy(c.nonce[:], c.iv)
	for i := 0; i < 8; i++ {
		c.nonce[4+i] ^= byte(seq >> (56 - 8*i))
	}
}

// openCBC opens a TLS 1.2 AES-CBC record (RFC 5246 §6.2.3.2): payload is
// the explicit IV then the ciphertext of content || MAC || padding ||
// padding length, the MAC being HMAC(seq_num + type + version + length +
// content) with the content's length. With encrypt_then_mac (RFC 7366) the
// ciphertext holds content || padding || padding length, and the MAC, over
// seq_num + type + version + length + IV + ciphertext with the length of IV
// and ciphertext, follows it. Any malformed record (length not a multiple of
// the block size, too short, bad padding, wrong MAC) is just not opened.
// Timing does not matter here: nothing answers the peers.
func (c *recordCipher) openCBC(dst, hdr, payload []byte, seq uint64) ([]byte, bool) {
	const bs = aes.BlockSize
	ml := c.s.macLen
	if c.s.etm {
		if len(payload) < 2*bs+ml {
			return dst, false
		}
		enc := payload[:len(payload)-ml]
		if len(enc)%bs != 0 || !hmac.Equal(c.tag(seq, hdr, enc), payload[len(enc):]) {
			return dst, false
		}
		pt, ok := c.decryptCBC(dst, enc)
		if !ok {
			return dst, false
		}
		return pt, true
	}
	// At least the IV and the blocks holding the MAC and a padding byte.
	if len(payload) < bs+(ml/bs+1)*bs || len(payload)%bs != 0 {
		return dst, false
	}
	pt, ok := c.decryptCBC(dst, payload)
	if !ok || len(pt)-len(dst) < ml {
		return dst, false
	}
	n := len(pt) - ml
	if !hmac.Equal(c.tag(seq, hdr, pt[len(dst):n]), pt[n:]) {
		return dst, false
	}
	return pt[:n], true
}

// decryptCBC appends to dst the plaintext of iv || ciphertext (a whole
// number of blocks, at least two) without its padding.
func (c *recordCipher) decryptCBC(dst, enc []byte) ([]byte, bool) {
	const bs = aes.BlockSize
	iv, ct := enc[:bs], enc[bs:]
	start := len(dst)
	out := slices.Grow(dst, len(ct))[:start+len(ct)]
	cipher.NewCBCDecrypter(c.block, iv).CryptBlocks(out[start:], ct)
	pt := out[start:]
	p := int(pt[len(pt)-1])
	if p+1 > len(pt) {
		return dst, false
	}
	for _, b := range pt[len(pt)-1-p:] {
		if int(b) != p {
			return dst, false
		}
	}
	return out[:len(out)-p-1], true
}

// tag is the record MAC of data (content, or IV and ciphertext with
// encrypt_then_mac) as record seq with header hdr; valid until the next call.
func (c *recordCipher) tag(seq uint64, hdr, data []byte) []byte {
	binary.BigEndian.PutUint64(c.aad[:8], seq)
	c.aad[8], c.aad[9], c.aad[10] = hdr[0], hdr[1], hdr[2]
	binary.BigEndian.PutUint16(c.aad[11:], uint16(len(data)))
	c.mac.Reset()
	c.mac.Write(c.aad[:])
	c.mac.Write(data)
	return c.mac.Sum(c.sum[:0])
}
