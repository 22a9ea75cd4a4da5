package tlsdecrypt

import (
	"fmt"
	"slices"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
)

// Waiting for keys (Options.WaitForKeys). In a live capture the key log is
// read as it grows, a little after the client wrote it, so the ServerHello
// may well be read before the connection's keys. The connection then holds
// everything after the ServerHello, both directions in arrival order, and
// when the keys come replays it through the ordinary path: the result is the
// same as if the keys had been there from the start.

// startWaiting begins holding the connection's records.
func (c *conn) startWaiting() {
	c.waiting, c.waited = true, true
	c.f.waiting = append(c.f.waiting, c)
}

// hold keeps a Data (b) or a Gap that came while waiting. Past
// MaxPendingBytes the connection stops waiting: no key.
func (c *conn) hold(s capture.Side, b []byte, gap bool, t time.Time) {
	if !gap && len(b) == 0 {
		return
	}
	off := len(c.pendingBuf)
	c.pendingBuf = append(c.pendingBuf, b...)
	c.pending = append(c.pending, heldEvent{side: s, gap: gap, off: off, end: len(c.pendingBuf), t: t})
	c.pendingBytes += len(b)
	c.f.held += len(b)
	// Many tiny segments cost more than their bytes: bound them too.
	if c.pendingBytes > c.f.opts.MaxPendingBytes || len(c.pending) > c.f.opts.MaxPendingBytes/16 {
		c.stopWaiting(nil, fmt.Sprintf(" (gave up waiting for the key after %d bytes)", c.pendingBytes))
	} else if c.f.held > c.f.opts.MaxPendingTotal {
		c.stopWaiting(nil, fmt.Sprintf(" (gave up waiting for the key: connections waiting for keys held %d bytes in all)", c.f.held))
	}
}

// tryKeys looks the keys up again. With final (the connection ends) it
// settles for what there is, as without waiting.
func (c *conn) tryKeys(final bool) {
	if !c.waiting {
		return
	}
	sec := c.f.keys.Lookup(c.clientRandom)
	if final && !c.enoughKeys(sec, false) && c.f.opts.Refresh != nil {
		c.f.opts.Refresh()
		sec = c.f.keys.Lookup(c.clientRandom)
	}
	if c.enoughKeys(sec, !final) || final {
		c.stopWaiting(sec, "")
	}
}

// stopWaiting sets up the keys in sec (or says they are missing, with why)
// and hands everything held to the ordinary path.
func (c *conn) stopWaiting(sec *Secrets, why string) {
	c.waiting = false
	if i := slices.Index(c.f.waiting, c); i >= 0 {
		c.f.waiting = slices.Delete(c.f.waiting, i, i+1)
	}
	c.useKeys(sec, why)
	held, buf := c.pending, c.pendingBuf
	c.f.held -= c.pendingBytes
	c.pending, c.pendingBuf, c.pendingBytes = nil, nil, 0
	for _, e := range held {
		if e.gap {
			c.d[e.side].gap(c, e.t)
		} else {
			c.d[e.side].feed(c, buf[e.off:e.end], e.t)
		}
	}
}
