package tlsdecrypt

import (
	"encoding/hex"
	"fmt"
	"slices"
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
	// when it ends, with its final TLSInfo (also in info.TLS). It is the place
	// to tell the user about connections that could not be decrypted, which
	// may produce no calls at all.
	Report func(info *capture.ConnInfo, tls *capture.TLSInfo)
	// WaitForKeys is for a key log that is still being written (a live
	// capture following SSLKEYLOGFILE): a connection whose keys are not in
	// the key log when its ServerHello is read holds its records, both
	// directions, until they are (checked whenever KeyLog.Gen changes, on
	// the next Data, Gap or End of any connection, or at Factory.CheckKeys),
	// then decrypts them as if the keys had been there all along. When
	// false (a capture file, whose keys are all known up front), a missing
	// key is final at once. A key log marked with KeyLog.SetGrowing (as
	// FollowKeyLog does) is waited for too.
	WaitForKeys bool
	// MaxPendingBytes bounds the bytes one connection holds while it waits
	// for its keys; beyond it the connection gives up waiting and is
	// reported as having no key. 0 means 1 MiB.
	MaxPendingBytes int
	// MaxPendingTotal bounds the bytes all waiting connections hold
	// together (a busy host has many TLS connections whose keys never
	// come); the connection whose bytes would pass it gives up. 0 means
	// 64 MiB.
	MaxPendingTotal int
	// Refresh, when set, is called before a waiting connection that ends
	// settles for the keys it has: a key log follower reads the file once
	// more, so that a connection shorter than the follower's interval still
	// finds keys written during it.
	Refresh func()
}

// Factory is the capture.HandlerFactory that NewFactory makes.
type Factory struct {
	next    capture.HandlerFactory
	keys    *KeyLog
	opts    Options
	waiting []*conn // connections holding records until their keys come
	gen     uint64  // keys.Gen() when the waiting connections were last tried
	held    int     // bytes held by all waiting connections
}

// NewFactory wraps next: connections that begin with a TLS handshake record
// are decrypted with keys (which may be nil or empty: the TLS metadata is
// still collected) and their plaintext handed to next's handler; all other
// connections are passed to next's handler unchanged.
func NewFactory(next capture.HandlerFactory, keys *KeyLog, opts Options) *Factory {
	if opts.MaxResyncRecords <= 0 {
		opts.MaxResyncRecords = 64
	}
	if opts.MaxPendingBytes <= 0 {
		opts.MaxPendingBytes = 1 << 20
	}
	if opts.MaxPendingTotal <= 0 {
		opts.MaxPendingTotal = 64 << 20
	}
	return &Factory{next: next, keys: keys, opts: opts}
}

// NewConn makes the inner handler at once, with the same ConnInfo, so that
// it sees the connection exactly as it would without this layer.
func (f *Factory) NewConn(info *capture.ConnInfo) capture.ConnHandler {
	f.CheckKeys()
	return &conn{f: f, ci: info, inner: f.next.NewConn(info)}
}

// CheckKeys gives the connections waiting for their keys (Options.WaitForKeys)
// the keys added to the key log since they last looked, if any: those whose
// keys are now known decrypt what they held, at once. Every Data, Gap and End
// does this already; a live capture also calls it when no packet came for a
// while, so that a connection gone quiet shows its calls without waiting for
// its next packet. It must be called from the goroutine that feeds the
// connections. It costs an atomic load when the key log has not changed.
func (f *Factory) CheckKeys() {
	if len(f.waiting) == 0 {
		return
	}
	g := f.keys.Gen()
	if g == f.gen {
		return
	}
	f.gen = g
	for _, c := range slices.Clone(f.waiting) {
		c.tryKeys(false)
	}
}

// Waiting is the number of connections holding records until their keys
// are in the key log.
func (f *Factory) Waiting() int { return len(f.waiting) }

type connMode uint8

const (
	modeDetect connMode = iota // waiting for the first 3 bytes
	modePass                   // not TLS: everything goes to inner as is
	modeTLS
)

// conn is one connection: a TCP connection's two directions as TLS.
// A connection that is not TLS costs only the few fields before tlsConn;
// the TLS state is allocated once the first bytes show a handshake record.
//
// Every Data of a capture with many connections comes to a conn the cache
// has lost, so the struct is kept to 64 bytes (a size class the allocator
// aligns to a cache line) with what the pass-through reads first: the
// first bytes held while detecting, rarely any, hang off a pointer.
type conn struct {
	f     *Factory
	inner capture.ConnHandler
	mode  connMode
	*tlsConn
	ci   *capture.ConnInfo
	head *[2][]byte // first bytes of each side while detecting, if any
}

// tlsConn is the state of a connection found to be TLS (mode modeTLS).
type tlsConn struct {
	info         *capture.TLSInfo
	d            [2]dir
	clientSide   capture.Side
	clientKnown  bool
	clientRandom []byte
	serverRandom []byte
	version      uint16 // negotiated, 0 until the ServerHello
	suite        *suite

	// While waiting for the keys (Options.WaitForKeys) everything from
	// just after the ServerHello on is held in pending, in arrival order.
	waiting      bool
	waited       bool // a connection waits at most once
	pending      []heldEvent
	pendingBuf   []byte
	pendingBytes int
}

// heldEvent is a Data (pendingBuf[off:end]) or a Gap held while waiting.
type heldEvent struct {
	side     capture.Side
	gap      bool
	off, end int
	t        time.Time
}

// isTLSStart reports whether b (at least 3 bytes) opens a TLS handshake
// record: content type 22, major version 3, minor version 1 to 4.
func isTLSStart(b []byte) bool {
	return b[0] == 0x16 && b[1] == 0x03 && b[2] >= 0x01 && b[2] <= 0x04
}

func (c *conn) Data(s capture.Side, data []byte, t time.Time) {
	c.f.CheckKeys()
	switch c.mode {
	case modePass:
		c.inner.Data(s, data, t)
		return
	case modeTLS:
		if c.waiting {
			c.hold(s, data, false, t)
			return
		}
		c.d[s].feed(c, data, t)
		return
	}
	b := data
	if c.head != nil && len(c.head[s]) > 0 {
		b = append(c.head[s], data...)
	}
	if len(b) < 3 {
		if c.head == nil {
			c.head = new([2][]byte)
		}
		c.head[s] = append(c.head[s][:0], b...)
		return
	}
	if c.head != nil {
		c.head[s] = nil
	}
	if !isTLSStart(b) {
		c.pass(t)
		c.inner.Data(s, b, t)
		return
	}
	c.mode = modeTLS
	c.tlsConn = &tlsConn{info: &capture.TLSInfo{}}
	c.ci.TLS = c.info
	c.d[0].side, c.d[1].side = capture.SideA, capture.SideB
	if o := s.Other(); c.head != nil && len(c.head[o]) > 0 {
		// The other side spoke first with fewer than 3 bytes: odd, but
		// its bytes are still its first.
		h := c.head[o]
		c.head[o] = nil
		c.d[o].feed(c, h, t)
	}
	if c.waiting {
		c.hold(s, b, false, t)
		return
	}
	c.d[s].feed(c, b, t)
}

// pass switches to pass-through, first handing over whatever was held back.
func (c *conn) pass(t time.Time) {
	c.mode = modePass
	if c.head == nil {
		return
	}
	for s := range c.head {
		if len(c.head[s]) > 0 {
			c.inner.Data(capture.Side(s), c.head[s], t)
			c.head[s] = nil
		}
	}
	c.head = nil
}

func (c *conn) Gap(s capture.Side, n int64, t time.Time) {
	c.f.CheckKeys()
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
		if c.waiting {
			c.hold(s, nil, true, t)
			return
		}
		c.d[s].gap(c, t)
	}
}

func (c *conn) End(reason capture.EndReason, t time.Time) {
	c.f.CheckKeys()
	if c.tlsConn != nil && c.waiting {
		c.tryKeys(true) // a last look, then decided either way
	}
	if c.mode == modeTLS {
		for i := range c.d {
			if d := &c.d[i]; d.lost && !d.dead && (d.enc != nil || d.next != nil) {
				c.addProblem(fmt.Sprintf("bytes from the %s were lost and no later record decrypted with the next %d sequence numbers, so the rest of that direction is not shown", c.sideName(d.side), c.f.opts.MaxResyncRecords))
			}
		}
		if c.version == 0 && c.info.Problem == "" {
			c.addProblem("the ServerHello was not captured: version and cipher suite unknown, nothing decrypted")
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
