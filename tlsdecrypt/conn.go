package tlsdecrypt

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
)

// Options tune the TLS layer. The zero value is ready to use.
type Options struct {
	// MaxResyncRecords is how many sequence numbers past the last one known
	// are tried on the first whole record after bytes were lost: the lost
	// bytes may have held any number of records, and the sequence number is
	// part of the nonce or of the authenticated data. 0 means 64.
	MaxResyncRecords int
	// Report, when set, is called once for every connection found to be TLS,
	// when it ends, with its final Info (also in info.TLS). It is the place
	// to tell the user about connections that could not be decrypted, which
	// may produce no calls at all.
	Report func(info *capture.ConnInfo, tls *Info)
}

type factory struct {
	next capture.HandlerFactory
	keys *KeyLog
	opts Options
}

// NewFactory wraps next: connections that begin with a TLS handshake record
// are decrypted with keys (which may be nil or empty: the TLS metadata is
// still collected) and their plaintext handed to next's handler; all other
// connections are passed to next's handler unchanged.
func NewFactory(next capture.HandlerFactory, keys *KeyLog, opts Options) capture.HandlerFactory {
	if opts.MaxResyncRecords <= 0 {
		opts.MaxResyncRecords = 64
	}
	return &factory{next: next, keys: keys, opts: opts}
}

// NewConn makes the inner handler at once, with the same ConnInfo, so that
// it sees the connection exactly as it would without this layer.
func (f *factory) NewConn(info *capture.ConnInfo) capture.ConnHandler {
	return &conn{f: f, ci: info, inner: f.next.NewConn(info)}
}

type connMode uint8

const (
	modeDetect connMode = iota // waiting for the first 3 bytes
	modePass                   // not TLS: everything goes to inner as is
	modeTLS
)

// conn is one connection: a TCP connection's two directions as TLS.
type conn struct {
	f     *factory
	ci    *capture.ConnInfo
	inner capture.ConnHandler
	mode  connMode
	head  [2][]byte // first bytes of each side while detecting

	info         *Info
	d            [2]dir
	clientSide   capture.Side
	clientKnown  bool
	clientRandom []byte
	serverRandom []byte
	version      uint16 // negotiated, 0 until the ServerHello
	suite        *suite
}

// isTLSStart reports whether b (at least 3 bytes) opens a TLS handshake
// record: content type 22, major version 3, minor version 1 to 4.
func isTLSStart(b []byte) bool {
	return b[0] == 0x16 && b[1] == 0x03 && b[2] >= 0x01 && b[2] <= 0x04
}

func (c *conn) Data(s capture.Side, data []byte, t time.Time) {
	switch c.mode {
	case modePass:
		c.inner.Data(s, data, t)
		return
	case modeTLS:
		c.d[s].feed(c, data, t)
		return
	}
	b := data
	if len(c.head[s]) > 0 {
		b = append(c.head[s], data...)
	}
	if len(b) < 3 {
		c.head[s] = append(c.head[s][:0], b...)
		return
	}
	c.head[s] = nil
	if !isTLSStart(b) {
		c.pass(t)
		c.inner.Data(s, b, t)
		return
	}
	c.mode = modeTLS
	c.info = &Info{}
	c.ci.TLS = c.info
	c.d[0].side, c.d[1].side = capture.SideA, capture.SideB
	if o := s.Other(); len(c.head[o]) > 0 {
		// The other side spoke first with fewer than 3 bytes: odd, but
		// its bytes are still its first.
		h := c.head[o]
		c.head[o] = nil
		c.d[o].feed(c, h, t)
	}
	c.d[s].feed(c, b, t)
}

// pass switches to pass-through, first handing over whatever was held back.
func (c *conn) pass(t time.Time) {
	c.mode = modePass
	for s := range c.head {
		if len(c.head[s]) > 0 {
			c.inner.Data(capture.Side(s), c.head[s], t)
			c.head[s] = nil
		}
	}
}

func (c *conn) Gap(s capture.Side, n int64, t time.Time) {
	switch c.mode {
	case modeDetect:
		// The start of this side was not captured: its first bytes can no
		// longer say whether it is TLS, and without the handshake there is
		// nothing to decrypt with anyway.
		c.pass(t)
		c.inner.Gap(s, n, t)
	case modePass:
		c.inner.Gap(s, n, t)
	case modeTLS:
		c.d[s].gap(c, t)
	}
}

func (c *conn) End(reason capture.EndReason, t time.Time) {
	if c.mode == modeTLS {
		for i := range c.d {
			if d := &c.d[i]; d.lost && !d.dead && (d.enc != nil || d.next != nil) {
				c.info.addProblem(fmt.Sprintf("bytes from the %s were lost and no later record decrypted with the next %d sequence numbers, so the rest of that direction is not shown", c.sideName(d.side), c.f.opts.MaxResyncRecords))
			}
		}
		if c.version == 0 && c.info.Problem == "" {
			c.info.addProblem("the ServerHello was not captured: version and cipher suite unknown, nothing decrypted")
		}
		if c.f.opts.Report != nil {
			c.f.opts.Report(c.ci, c.info)
		}
	} else if c.mode == modeDetect {
		c.pass(t)
	}
	c.inner.End(reason, t)
}

func (c *conn) is13() bool { return c.version == 0x0304 }

// sideName says "client" or "server" when the ClientHello told which is
// which, otherwise the capture's side name.
func (c *conn) sideName(s capture.Side) string {
	switch {
	case !c.clientKnown && s == capture.SideA:
		return "side A"
	case !c.clientKnown:
		return "side B"
	case s == c.clientSide:
		return "client"
	}
	return "server"
}

// shortRandom abbreviates the client random for messages; Info.ClientRandom
// has it whole.
func (c *conn) shortRandom() string {
	h := hex.EncodeToString(c.clientRandom)
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// emit hands decrypted application data to the inner handler.
func (c *conn) emit(s capture.Side, b []byte, t time.Time) {
	if len(b) == 0 {
		return
	}
	c.info.Decrypted = true
	c.inner.Data(s, b, t)
}
