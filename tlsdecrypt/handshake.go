package tlsdecrypt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
const (
	hsClientHello         = 1
	hsServerHello         = 2
	hsEncryptedExtensions = 8
	hsFinished            = 20
	hsKeyUpdate           = 24
)

// Extension numbers.
const (
	extServerName        = 0
	extALPN              = 16
	extEncryptThenMAC    = 22
	extSupportedVersions = 43
)

// helloRetryRandom is the ServerHello.random that marks a HelloRetryRequest
// (RFC 8446 §4.1.3): SHA-256 of "HelloRetryRequest".
var helloRetryRandom = sha256.Sum256([]byte("HelloRetryRequest"))

// handshake takes the next handshake bytes of a direction (from cleartext or
// decrypted records) and handles every whole message in them.
func (c *conn) handshake(d *dir, b []byte, t time.Time) {
	d.hs = append(d.hs, b...)
	for len(d.hs) >= 4 {
		n := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
		if n > maxHandshake {
			c.addProblem(fmt.Sprintf("the %s sent a %d-byte handshake message, skipped", c.sideName(d.side), n))
			d.hs = d.hs[:0]
			return
		}
		if len(d.hs) < 4+n {
			return
		}
		c.handshakeMessage(d, d.hs[0], d.hs[4:4+n])
		if d.dead {
			return
		}
		d.hs = d.hs[4+n:]
	}
	if len(d.hs) == 0 {
		d.hs = d.hs[:0:0] // let a large buffer go
	}
}

func (c *conn) handshakeMessage(d *dir, typ byte, body []byte) {
	switch typ {
	case hsClientHello:
		c.clientHello(d, body)
	case hsServerHello:
		c.serverHello(d, body)
	case hsEncryptedExtensions:
		if len(body) >= 2 {
			c.extensions(body[2:], func(typ uint16, e []byte) {
				if typ == extALPN {
					if p := parseALPN(e); len(p) > 0 {
						c.info.ALPN = p[0]
					}
				}
			})
		}
	case hsFinished:
		if c.is13() && d.enc != nil {
			// The next record of this direction uses the application
			// traffic keys (RFC 8446 §7.1).
			d.enc, d.next = d.next, nil
		}
	case hsKeyUpdate:
		if c.is13() && d.enc != nil && d.enc.secret != nil {
			rc, err := newCipher13(c.suite, nextTrafficSecret(c.suite, d.enc.secret))
			if err != nil {
				c.addProblem("key update: " + err.Error())
				d.dead = true
				return
			}
			d.enc = rc
		}
	}
}

// clientHello learns the client random, SNI and the offered ALPN protocols.
func (c *conn) clientHello(d *dir, b []byte) {
	c.clientSide, c.clientKnown = d.side, true
	r := newReader(b)
	r.skip(2) // legacy_version
	random := r.bytes(32)
	r.vec(1) // session id
	r.vec(2) // cipher suites
	r.vec(1) // compression methods
	if r.bad || random == nil {
		c.addProblem("malformed ClientHello")
		return
	}
	c.clientRandom = append([]byte(nil), random...)
	c.info.ClientRandom = hex.EncodeToString(random)
	c.extensions(r.vec(2), func(typ uint16, e []byte) {
		switch typ {
		case extServerName:
			er := newReader(e)
			list := newReader(er.vec(2))
			for !list.bad && !list.empty() {
				kind := list.u8()
				name := list.vec(2)
				if kind == 0 && !list.bad {
					c.info.SNI = string(name)
					break
				}
			}
		case extALPN:
			c.info.ALPNOffered = parseALPN(e)
		}
	})
}

// serverHello learns the version, cipher suite and (TLS 1.2) ALPN, and with
// them sets up the keys. A HelloRetryRequest only records that it happened.
func (c *conn) serverHello(d *dir, b []byte) {
	if !c.clientKnown {
		c.clientSide, c.clientKnown = d.side.Other(), true
	}
	r := newReader(b)
	version := r.u16()
	random := r.bytes(32)
	r.vec(1)
	id := r.u16()
	r.skip(1)
	if r.bad {
		c.addProblem("malformed ServerHello")
		return
	}
	var alpn string
	etm := false
	c.extensions(r.vec(2), func(typ uint16, e []byte) {
		switch typ {
		case extEncryptThenMAC:
			etm = true
		case extSupportedVersions:
			if len(e) == 2 {
				version = uint16(e[0])<<8 | uint16(e[1])
			}
		case extALPN:
			if p := parseALPN(e); len(p) > 0 {
				alpn = p[0]
			}
		}
	})
	c.info.Version = versionName(version)
	c.info.CipherSuite = suiteName(id)
	if alpn != "" {
		c.info.ALPN = alpn
	}
	if bytes.Equal(random, helloRetryRandom[:]) {
		c.info.HelloRetry = true
		return // a second ClientHello and the real ServerHello follow
	}
	c.version = version
	c.serverRandom = append([]byte(nil), random...)
	c.setupKeys(id, etm)
}

// setupKeys looks up the connection's secrets and prepares both directions'
// record ciphers. etm says the ServerHello accepted encrypt_then_mac (RFC
// 7366), which changes the records of CBC suites only.
func (c *conn) setupKeys(id uint16, etm bool) {
	s := suites[id]
	switch {
	case c.version != 0x0303 && c.version != 0x0304:
		c.addProblem(c.info.Version + " is not decrypted (only TLS 1.2 and 1.3)")
		return
	case s == nil || s.tls13 != c.is13():
		c.addProblem(fmt.Sprintf("cipher suite %s is not decrypted (only AES-GCM, ChaCha20-Poly1305 and, in TLS 1.2, AES-CBC with HMAC)", c.info.CipherSuite))
		return
	case c.clientRandom == nil:
		c.addProblem("the ClientHello was not captured: no client random to find the keys by")
		return
	}
	if etm && s.kind == aesCBC {
		s = s.withETM()
		c.info.EncryptThenMAC = true
	}
	c.suite = s
	sec := c.f.keys.Lookup(c.clientRandom)
	if (c.f.opts.WaitForKeys || c.f.keys.Growing()) && c.f.keys != nil && !c.waited && !c.enoughKeys(sec, true) {
		c.startWaiting()
		return
	}
	c.useKeys(sec, "")
}

// enoughKeys reports whether sec has the secrets the connection needs: the
// master secret for TLS 1.2; for TLS 1.3 both traffic secrets (all, when
// waiting: key log writers add the handshake secrets first, and a
// connection should not settle for half its keys because the key log was
// read between two lines) or, when not waiting, any.
func (c *conn) enoughKeys(sec *Secrets, all bool) bool {
	switch {
	case sec == nil:
		return false
	case !c.is13():
		return sec.MasterSecret != nil
	case all:
		return sec.ClientTraffic0 != nil && sec.ServerTraffic0 != nil
	}
	return sec.ClientTraffic0 != nil || sec.ServerTraffic0 != nil || sec.ClientHandshake != nil || sec.ServerHandshake != nil
}

// useKeys prepares both directions' record ciphers from sec, or says which
// key is missing (with why appended, when waiting for it was given up).
func (c *conn) useKeys(sec *Secrets, why string) {
	s := c.suite
	cl, sv := &c.d[c.clientSide], &c.d[c.clientSide.Other()]
	if !c.is13() {
		if !c.enoughKeys(sec, false) {
			c.addProblem(fmt.Sprintf("no key for client random %s (a CLIENT_RANDOM line is needed)%s", c.shortRandom(), why))
			return
		}
		cm, sm, ck, sk, civ, siv := keyBlock12(s, sec.MasterSecret, c.clientRandom, c.serverRandom)
		cl.next, _ = newCipher12(s, cm, ck, civ)
		sv.next, _ = newCipher12(s, sm, sk, siv)
		return
	}
	if !c.enoughKeys(sec, false) {
		c.addProblem(fmt.Sprintf("no key for client random %s (CLIENT_TRAFFIC_SECRET_0 and SERVER_TRAFFIC_SECRET_0 lines are needed)%s", c.shortRandom(), why))
		return
	}
	hlen := s.hash().Size()
	mk := func(secret []byte, label string) *recordCipher {
		if secret == nil {
			return nil
		}
		if len(secret) != hlen {
			c.addProblem(fmt.Sprintf("the key log's %s for client random %s is %d bytes but %s needs %d", label, c.shortRandom(), len(secret), s.name, hlen))
			return nil
		}
		rc, _ := newCipher13(s, secret)
		return rc
	}
	cl.enc, cl.next = mk(sec.ClientHandshake, LabelClientHandshake), mk(sec.ClientTraffic0, LabelClientTraffic0)
	sv.enc, sv.next = mk(sec.ServerHandshake, LabelServerHandshake), mk(sec.ServerTraffic0, LabelServerTraffic0)
	if sec.ClientTraffic0 == nil || sec.ServerTraffic0 == nil {
		c.addProblem(fmt.Sprintf("the key log lacks a traffic secret for client random %s: one direction is not decrypted", c.shortRandom()))
	}
	if sec.ClientHandshake == nil || sec.ServerHandshake == nil {
		c.addProblem(fmt.Sprintf("the key log lacks a handshake secret for client random %s: the encrypted handshake (ALPN) is not read", c.shortRandom()))
	}
}

// extensions calls f for each extension in a TLS extensions block.
func (c *conn) extensions(b []byte, f func(typ uint16, body []byte)) {
	r := newReader(b)
	for len(r.b) >= 4 {
		typ := r.u16()
		body := r.vec(2)
		if r.bad {
			return
		}
		f(typ, body)
	}
}

// parseALPN reads a ProtocolNameList (RFC 7301).
func parseALPN(e []byte) []string {
	r := newReader(e)
	list := newReader(r.vec(2))
	var out []string
	for !list.empty() {
		p := list.vec(1)
		if list.bad {
			break
		}
		out = append(out, string(p))
	}
	return out
}

// reader reads TLS presentation-language fields; a short read sets bad and
// empties the reader, so parsing malformed input just yields nothing.
type reader struct {
	b   []byte
	bad bool
}

func newReader(b []byte) *reader { return &reader{b: b} }

func (r *reader) empty() bool { return len(r.b) == 0 }

func (r *reader) bytes(n int) []byte {
	if len(r.b) < n {
		r.b, r.bad = nil, true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() byte {
	if v := r.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if v := r.bytes(2); v != nil {
		return uint16(v[0])<<8 | uint16(v[1])
	}
	return 0
}

func (r *reader) skip(n int) { r.bytes(n) }

// vec reads a vector with an n-byte (1 or 2) length prefix.
func (r *reader) vec(n int) []byte {
	l := int(r.u8())
	if n == 2 {
		l = l<<8 | int(r.u8())
	}
	if r.bad {
		return nil
	}
	return r.bytes(l)
}
