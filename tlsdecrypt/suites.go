package tlsdecrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
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
	// aesCBC is AES in CBC mode with an HMAC (TLS 1.2 only): explicit
	// per-record IV, MAC-then-encrypt, or encrypt-then-MAC when the
	// extension of RFC 7366 was negotiated.
	aesCBC
)

// suite is what decryption needs to know about a cipher suite.
type suite struct {
	id     uint16
	name   string
	kind   aeadKind
	keyLen int
	hash   func() hash.Hash // TLS 1.3 key schedule hash or TLS 1.2 PRF hash
	tls13  bool

	// CBC suites only.
	mac    func() hash.Hash // HMAC hash
	macLen int              // MAC key and tag length
	// etm is set on a connection's own copy of a CBC suite when the
	// ServerHello accepted encrypt_then_mac (RFC 7366).
	etm bool
}

var suites = map[uint16]*suite{}

func init() {
	type aeadSuite struct {
		id     uint16
		name   string
		kind   aeadKind
		keyLen int
		hash   func() hash.Hash
		tls13  bool
	}
	for _, a := range []aeadSuite{
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
		suites[a.id] = &suite{id: a.id, name: a.name, kind: a.kind, keyLen: a.keyLen, hash: a.hash, tls13: a.tls13}
	}
	// TLS 1.2 AES-CBC suites with HMAC. The PRF is SHA-256 except for the
	// SHA-384 suites; the MAC hash is the one the name ends with. TLS 1.2
	// CBC records carry their own IV, so the key block has no IVs for them.
	for _, c := range []struct {
		id     uint16
		name   string
		keyLen int
		mac    string
	}{
		{0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 16, "SHA1"},
		{0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 32, "SHA1"},
		{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 16, "SHA1"},
		{0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 32, "SHA1"},
		{0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 16, "SHA256"},
		{0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", 32, "SHA384"},
		{0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 16, "SHA256"},
		{0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", 32, "SHA384"},
		{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", 16, "SHA1"},
		{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", 32, "SHA1"},
		{0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", 16, "SHA256"},
		{0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", 32, "SHA256"},
		{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", 16, "SHA1"},
		{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", 32, "SHA1"},
		{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", 16, "SHA256"},
		{0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", 32, "SHA256"},
	} {
		s := &suite{id: c.id, name: c.name, kind: aesCBC, keyLen: c.keyLen, hash: sha256.New}
		switch c.mac {
		case "SHA1":
			s.mac, s.macLen = sha1.New, sha1.Size
		case "SHA256":
			s.mac, s.macLen = sha256.New, sha256.Size
		case "SHA384":
			s.hash, s.mac, s.macLen = sha512.New384, sha512.New384, sha512.Size384
		}
		suites[s.id] = s
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
// the nonce, RFC 5288) for AES-GCM in TLS 1.2; none for CBC (TLS 1.2
// records carry an explicit IV).
func (s *suite) ivLen() int {
	switch {
	case s.kind == aesCBC:
		return 0
	case !s.tls13 && s.kind == aesGCM:
		return 4
	}
	return 12
}

// withETM returns a copy of a CBC suite that uses encrypt_then_mac.
func (s *suite) withETM() *suite {
	c := *s
	c.etm = true
	return &c
}

// integrity names what rejects a record under a wrong key, for messages.
func (s *suite) integrity() string {
	if s.kind == aesCBC {
		return "MAC check"
	}
	return "AEAD authentication"
}

func (s *suite) newAEAD(key []byte) (cipher.AEAD, error) {
	switch s.kind {
	case aesCBC:
		return nil, fmt.Errorf("%s is not an AEAD suite", s.name)
	case chacha:
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
