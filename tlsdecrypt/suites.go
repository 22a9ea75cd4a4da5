package tlsdecrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// aeadKind is the record protection algorithm of a suite.
type aeadKind uint8

const (
	aesGCM aeadKind = iota + 1
	chacha
)

// suite is what decryption needs to know about a cipher suite.
type suite struct {
	id     uint16
	name   string
	kind   aeadKind
	keyLen int
	hash   func() hash.Hash
	tls13  bool
}

var suites = map[uint16]*suite{}

func init() {
	for _, s := range []suite{
		{0x1301, "TLS_AES_128_GCM_SHA256", aesGCM, 16, sha256.New, true},
		{0x1302, "TLS_AES_256_GCM_SHA384", aesGCM, 32, sha512.New384, true},
		{0x1303, "TLS_CHACHA20_POLY1305_SHA256", chacha, 32, sha256.New, true},
		// TLS 1.2 AEAD suites. The key exchange does not matter: the key log
		// gives the master secret.
		{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", aesGCM, 16, sha256.New, false},
		{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", aesGCM, 32, sha512.New384, false},
		{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", aesGCM, 16, sha256.New, false},
		{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", aesGCM, 32, sha512.New384, false},
		{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", chacha, 32, sha256.New, false},
		{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", chacha, 32, sha256.New, false},
		{0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", chacha, 32, sha256.New, false},
		{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", aesGCM, 16, sha256.New, false},
		{0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", aesGCM, 32, sha512.New384, false},
		{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", aesGCM, 16, sha256.New, false},
		{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", aesGCM, 32, sha512.New384, false},
	} {
		suites[s.id] = &s
	}
}

// suiteName names any cipher suite, supported or not.
func suiteName(id uint16) string {
	if s := suites[id]; s != nil {
		return s.name
	}
	n := tls.CipherSuiteName(id)
	if len(n) > 2 && n[:2] == "0x" {
		return fmt.Sprintf("unknown suite 0x%04x", id)
	}
	return n
}

// ivLen is the length of the write IV the key schedule makes: 12 bytes for
// TLS 1.3 and for ChaCha20-Poly1305 in TLS 1.2; 4 bytes (the implicit part of
// the nonce, RFC 5288) for AES-GCM in TLS 1.2.
func (s *suite) ivLen() int {
	if !s.tls13 && s.kind == aesGCM {
		return 4
	}
	return 12
}

func (s *suite) newAEAD(key []byte) (cipher.AEAD, error) {
	if s.kind == chacha {
		return chacha20poly1305.New(key)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func versionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case 0x0301:
		return "TLS 1.0"
	case 0x0302:
		return "TLS 1.1"
	case 0x0303:
		return "TLS 1.2"
	case 0x0304:
		return "TLS 1.3"
	}
	return fmt.Sprintf("TLS version 0x%04x", v)
}
