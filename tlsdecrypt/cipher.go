package tlsdecrypt

import (
	"crypto/cipher"
	"encoding/binary"
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
}

func newCipher13(s *suite, secret []byte) (*recordCipher, error) {
	key, iv := trafficKeys(s, secret)
	a, err := s.newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &recordCipher{s: s, aead: a, iv: iv, secret: secret}, nil
}

func newCipher12(s *suite, key, iv []byte) (*recordCipher, error) {
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
