package tlsdecrypt

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
)

// TLS record content types.
const (
	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recApplicationData  = 23
)

// maxRecord is the largest record payload allowed: 2^14 plus the expansion
// TLS 1.2 permits (RFC 5246 §6.2.3; TLS 1.3 allows only 256).
const maxRecord = 1<<14 + 2048

// maxHandshake bounds one handshake message held for reassembly
// (certificate chains are the largest in practice).
const maxHandshake = 1 << 18

// dir is one direction of a TLS connection: its record reassembly, its
// handshake message reassembly and its decryption state.
type dir struct {
	side   capture.Side
	buf    []byte // bytes after the last whole record
	hs     []byte // handshake bytes after the last whole message
	lost   bool   // bytes were lost: looking for a record boundary
	encOn  bool   // TLS 1.2: a ChangeCipherSpec was seen, records are protected
	enc    *recordCipher
	next   *recordCipher // keys to use after the next Finished (1.3) or ChangeCipherSpec (1.2)
	dead   bool          // nothing more can be read in this direction
	opened bool          // a record was decrypted
	out    []byte        // plaintext scratch, reused
}

// validHeader reports whether b starts with a plausible record header.
func validHeader(b []byte) bool {
	n := int(binary.BigEndian.Uint16(b[3:5]))
	return b[0] >= recChangeCipherSpec && b[0] <= recApplicationData &&
		b[1] == 3 && b[2] <= 4 && n > 0 && n <= maxRecord
}

// feed takes the next bytes of the direction and handles every whole record
// in them; a partial record waits for more.
func (d *dir) feed(c *conn, data []byte, t time.Time) {
	if d.dead {
		return
	}
	var buf []byte
	if len(d.buf) == 0 {
		buf = data // no copy unless a record is left over
	} else {
		d.buf = append(d.buf, data...)
		buf = d.buf
	}
	for !d.dead && !c.waiting {
		if d.lost {
			buf = d.resync(c, buf)
			if d.lost {
				break
			}
		}
		if len(buf) < 5 {
			break
		}
		if !validHeader(buf) {
			c.addProblem(fmt.Sprintf("the %s's bytes stopped looking like TLS records (% x), looking for the next record", c.sideName(d.side), buf[:5]))
			d.lost = true
			c.inner.Gap(d.side, -1, t)
			continue
		}
		n := 5 + int(binary.BigEndian.Uint16(buf[3:5]))
		if len(buf) < n {
			break
		}
		c.record(d, buf[:5], buf[5:n], t)
		buf = buf[n:]
	}
	if d.dead {
		d.buf, d.hs, d.out = nil, nil, nil
		return
	}
	if c.waiting {
		// The ServerHello just read has no key yet: the rest waits
		// with everything that comes after it.
		// buf may be d.buf: hold copies it before anything can be
		// appended to d.buf again.
		d.buf = d.buf[:0]
		c.hold(d.side, buf, false, t)
		return
	}
	// Keep the rest; buf may alias d.buf or data.
	d.buf = append(d.buf[:0], buf...)
}

// gap: bytes of this direction were not captured. The records that held
// them are lost; reading goes on from the next record boundary found.
func (d *dir) gap(c *conn, t time.Time) {
	if d.dead {
		return
	}
	d.buf, d.hs = d.buf[:0], d.hs[:0]
	if !d.lost {
		d.lost = true
		c.inner.Gap(d.side, -1, t)
	}
	if d.enc == nil && d.next == nil && !c.is13() {
		// Still in the cleartext handshake (or no keys): without a key
		// there is no way to confirm a record boundary, and the handshake
		// messages needed for the keys may be what was lost.
		if c.version == 0 {
			c.addProblem(fmt.Sprintf("bytes of the %s's TLS handshake were not captured, so its records are not read", c.sideName(d.side)))
			d.dead = true
		}
	}
}

// resync looks for the first record boundary in buf after lost bytes. A
// candidate header is confirmed by decrypting its record with one of the next
// MaxResyncRecords sequence numbers; it returns buf from the boundary (d.lost
// cleared) or the bytes that must wait for more data.
func (d *dir) resync(c *conn, buf []byte) []byte {
	ciphers := []*recordCipher{d.enc, d.next}
	if d.enc == nil && d.next == nil {
		// Nothing to confirm with: no key, or a gap before the keys.
		// Keep nothing; the direction stays unread.
		return nil
	}
	for i := 0; i+5 <= len(buf); i++ {
		b := buf[i:]
		if b[0] != recApplicationData || !validHeader(b) {
			continue
		}
		n := 5 + int(binary.BigEndian.Uint16(b[3:5]))
		if len(b) < n {
			return b // wait for the whole candidate record
		}
		for k, rc := range ciphers {
			if rc == nil {
				continue
			}
			first := rc.seq
			if k == 1 {
				first = 0
			}
			if !rc.s.tls13 && rc.s.kind == aesGCM && n >= 13 {
				// TLS 1.2 GCM: stacks (Go, OpenSSL, NSS) send the sequence
				// number as the explicit nonce; try it first.
				if seq := binary.BigEndian.Uint64(b[5:13]); seq >= first {
					first = seq
				}
			}
			for j := 0; j < c.f.opts.MaxResyncRecords; j++ {
				seq := first + uint64(j)
				if _, ok := rc.open(d.out[:0], b[:5], b[5:n], seq); ok {
					if k == 1 {
						d.enc, d.next = d.next, nil
					}
					d.enc.seq = seq
					d.lost = false
					c.addProblem(fmt.Sprintf("bytes from the %s were lost, decryption resumed at the next whole record", c.sideName(d.side)))
					return b
				}
			}
		}
	}
	if len(buf) > 4 {
		return buf[len(buf)-4:]
	}
	return buf
}

// record handles one whole record.
func (c *conn) record(d *dir, hdr, payload []byte, t time.Time) {
	typ := hdr[0]
	switch {
	case typ == recChangeCipherSpec:
		if c.version == 0 && !c.info.HelloRetry {
			// The ServerHello was lost: whatever follows is protected
			// with keys that cannot be known. Not handshake to parse.
			d.encOn = true
			return
		}
		if c.version != 0x0303 {
			// TLS 1.3 middlebox compatibility (RFC 8446 §D.4), also
			// after a HelloRetryRequest: carries nothing.
			return
		}
		d.encOn = true
		d.enc, d.next = d.next, nil
		if d.enc != nil {
			d.enc.seq = 0
		}
	case (c.is13() && typ == recApplicationData) || (!c.is13() && d.encOn):
		c.decrypt(d, hdr, payload, t)
	case typ == recHandshake:
		c.handshake(d, payload, t)
	case typ == recAlert:
		c.alert(d, payload)
	case typ == recApplicationData && c.version == 0:
		c.addProblem(fmt.Sprintf("the %s sent encrypted records before any ServerHello was seen (it was lost, or this is TLS 1.3 early data): not decrypted", c.sideName(d.side)))
	}
}

// decrypt opens a protected record and passes on what is in it.
func (c *conn) decrypt(d *dir, hdr, payload []byte, t time.Time) {
	if d.enc == nil && d.next == nil {
		return // no key: said when the keys were looked up
	}
	var pt []byte
	ok := false
	if d.enc != nil {
		pt, ok = d.enc.open(d.out[:0], hdr, payload, d.enc.seq)
	}
	if !ok && c.is13() && d.next != nil {
		// Handshake keys missing or the Finished not seen: the record may
		// already be under the application traffic keys.
		if pt, ok = d.next.open(d.out[:0], hdr, payload, 0); ok {
			d.enc, d.next = d.next, nil
		}
	}
	if !ok {
		if !d.opened {
			c.addProblem(fmt.Sprintf("wrong key: decryption (%s) failed on the %s's first protected record: the key log's secrets for client random %s do not fit this connection", c.suite.integrity(), c.sideName(d.side), c.shortRandom()))
		} else {
			c.addProblem(fmt.Sprintf("decryption (%s) failed on the %s's record %d, nothing more is read from it", c.suite.integrity(), c.sideName(d.side), d.enc.seq))
		}
		d.dead = true
		return
	}
	d.out = pt[:0]
	d.opened = true
	d.enc.seq++
	inner := hdr[0]
	if c.is13() {
		// TLSInnerPlaintext: content, content type, zero padding.
		j := len(pt) - 1
		for j >= 0 && pt[j] == 0 {
			j--
		}
		if j < 0 {
			c.addProblem(fmt.Sprintf("the %s sent a record with no content type", c.sideName(d.side)))
			return
		}
		inner, pt = pt[j], pt[:j]
	}
	switch inner {
	case recApplicationData:
		c.emit(d.side, pt, t)
	case recHandshake:
		c.handshake(d, pt, t)
	case recAlert:
		c.alert(d, pt)
	}
}

// alert notes fatal alerts; close_notify and warnings are routine.
func (c *conn) alert(d *dir, b []byte) {
	if len(b) >= 2 && b[0] == 2 {
		c.addProblem(fmt.Sprintf("the %s sent a fatal alert (%d)", c.sideName(d.side), b[1]))
	}
}
