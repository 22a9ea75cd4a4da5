package h2decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"golang.org/x/net/http2"
)

// clientPreface is what an HTTP/2 client sends first (RFC 9113 §3.4).
const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Options bound what one connection may hold. Zero values pick the defaults.
type Options struct {
	MaxHeaderBlock    int    // bytes of one header block (HEADERS + CONTINUATION); default 1 MiB
	MaxHeaderListSize int    // decoded size of one header list (RFC 9113 §6.5.2 counting); default 1 MiB
	MaxTableSize      uint32 // HPACK dynamic table size accepted from a peer; default 1 MiB
	MaxSyncSearch     int    // bytes searched for a first frame boundary before a connection is called not HTTP/2; default 256 KiB
}

func (o *Options) fill() {
	if o.MaxHeaderBlock <= 0 {
		o.MaxHeaderBlock = 1 << 20
	}
	if o.MaxHeaderListSize <= 0 {
		o.MaxHeaderListSize = 1 << 20
	}
	if o.MaxTableSize == 0 {
		o.MaxTableSize = 1 << 20
	}
	if o.MaxSyncSearch <= 0 {
		o.MaxSyncSearch = 256 << 10
	}
}

// HeadersEvent is a complete header block on a stream.
type HeadersEvent struct {
	Side      capture.Side
	StreamID  uint32
	Fields    []HeaderField // valid only during the call
	EndStream bool
	Time      time.Time // of the packet that carried the block's first byte
	// Err is set when the block could not be decoded to its end; Fields then
	// holds what was decoded before the problem.
	Err error
	// Truncated is set when fields were left out because the list exceeded
	// Options.MaxHeaderListSize.
	Truncated bool
	// Upgrade marks the HTTP/1.1 request that an h2c Upgrade turned into
	// stream 1.
	Upgrade bool
	// Block, when not 0, names the decoding of a header block that the
	// peer may send again: a later event of the same connection with the
	// same Block has the same Fields (the same bytes, read with the table
	// as it was), so a handler that kept them need not compare them.
	Block uint64
}

// DataEvent is a piece of a stream's DATA payload (padding removed).
type DataEvent struct {
	Side     capture.Side
	StreamID uint32
	// Lost, when non-zero, is the number of payload bytes on this stream that
	// were not captured just before Data (-1: an unknown number).
	Lost      int64
	Data      []byte // valid only during the call
	EndStream bool
	Time      time.Time
	// FrameStart is set when Data begins a DATA frame's payload, which then
	// holds FrameDataLen bytes (padding excluded). Senders often start a
	// message with a frame, which helps find messages again after a loss.
	FrameStart   bool
	FrameDataLen uint32
}

// Handler receives the events of every connection. Calls are made in capture
// order from one goroutine. An event pointer is valid only during the call:
// the decoder reuses the event and what it points to (HeadersEvent.Fields,
// DataEvent.Data): a handler copies what it keeps.
type Handler interface {
	Headers(c *Conn, ev *HeadersEvent)
	Data(c *Conn, ev *DataEvent)
	Reset(c *Conn, side capture.Side, streamID uint32, code http2.ErrCode, t time.Time)
	GoAway(c *Conn, side capture.Side, lastStreamID uint32, code http2.ErrCode, debug []byte, t time.Time)
	// Lost reports that frames sent by side were lost (a gap that crossed a
	// frame boundary): any stream open in that direction may have lost data.
	Lost(c *Conn, side capture.Side, t time.Time)
	// End is the last call for a connection.
	End(c *Conn, reason capture.EndReason, t time.Time)
}

// Kind says what a connection was found to carry. Conn.Transport and
// Conn.ConnKind say it with what lay below (TLS or not).
type Kind uint8

const (
	KindUnknown  Kind = iota // nothing decided yet
	KindH2                   // HTTP/2 from its start (prior knowledge)
	KindUpgrade              // HTTP/1.1 upgraded to h2c
	KindMidH2                // HTTP/2 joined in the middle
	KindHTTP1                // HTTP/1.x that was not upgraded
	KindTLS                  // TLS records
	KindNotHTTP2             // no HTTP/2 frame boundary found
)

// String is the kind's Transport in cleartext: "h2c", "http1.1", ….
func (k Kind) String() string { return Transport(k).String() }

// Conn is one TCP connection followed as HTTP/2. Handlers may read its
// exported fields; they change as the connection reveals more.
//
// What every packet reads (the handler's state, the factory, the
// directions' frame state) comes first, so that the first cache lines of
// a connection the cache has lost hold it.
type Conn struct {
	// User is free for the handler's per-connection state.
	User any

	f    *factory
	Info *capture.ConnInfo
	Kind Kind
	// Client is the side that opens streams; ClientBy says what showed it
	// (ClientUnknown: nothing yet, and Client is SideA by default).
	Client   capture.Side
	ClientBy ClientEvidence

	dirs [2]dirState

	// Notes collects what went wrong or was guessed, for the user.
	Notes []Note

	up *upgradeState
	h1 *h1Conn // set once the connection is found to be HTTP/1.x
	// streams follows the streams of a connection seen from its start,
	// for recovering the HPACK table after a gap (gapproof.go).
	streams *streamTrack
}

type factory struct {
	h    Handler
	opts Options
	// Scratch shared by every connection of the factory, which are all fed
	// from one goroutine and never while another uses it: the events
	// handed to the handler (see Handler), reset after each call, and the
	// Framer that parses non-DATA frames with the reader it replays each
	// one from (empty between frames). The Framer's check of the frame
	// order is per direction, so it is made by dirState.checkFrameOrder
	// instead (the Framer allows any order).
	hev    HeadersEvent
	dev    DataEvent
	fr     frameBytes
	framer *http2.Framer
	// hpack is shared by every connection's HPACK decoders, made with the
	// first decoder.
	hpack *hpackShared
}

// NewFactory returns a capture.HandlerFactory that follows every TCP
// connection as HTTP/2 and reports to h.
func NewFactory(h Handler, opts Options) capture.HandlerFactory {
	opts.fill()
	return &factory{h: h, opts: opts}
}

func (f *factory) NewConn(info *capture.ConnInfo) capture.ConnHandler {
	c := &Conn{Info: info, f: f}
	if info.SYNSeen {
		c.setClient(capture.SideA, ClientByHandshake)
	}
	for s := range c.dirs {
		d := &c.dirs[s]
		d.c = c
		d.side = capture.Side(s)
		d.maxFrame = maxStrictFrameLen
	}
	return c
}

// note adds a note of kind k, its text formatted, up to 32 of them.
func (c *Conn) note(k NoteKind, format string, args ...any) {
	if len(c.Notes) < 32 {
		c.Notes = append(c.Notes, Note{Kind: k, Text: fmt.Sprintf(format, args...)})
	}
}

// Data implements capture.ConnHandler.
func (c *Conn) Data(s capture.Side, data []byte, t time.Time) { c.dirs[s].feed(data, t) }

// Gap implements capture.ConnHandler.
func (c *Conn) Gap(s capture.Side, n int64, t time.Time) { c.dirs[s].gap(n, t) }

// End implements capture.ConnHandler.
func (c *Conn) End(reason capture.EndReason, t time.Time) {
	if c.Kind == KindUnknown {
		if n := c.dirs[0].searched + c.dirs[1].searched + len(c.dirs[0].buf) + len(c.dirs[1].buf); n > 0 {
			c.Kind = KindNotHTTP2
			c.note(NoteNotDecoded, "no HTTP/2 frame boundary found in %d bytes; not decoded as HTTP/2", n)
		}
	}
	for s := range c.dirs {
		if d := &c.dirs[s]; d.mode == modeH1 {
			d.h1End(reason == capture.EndFIN, t)
		}
		c.dirs[s].finish()
	}
	c.f.h.End(c, reason, t)
}

type dirMode uint8

const (
	modeDetect      dirMode = iota // first bytes: preface, HTTP/1.x, TLS, or frames?
	modeUpgradeHead                // collecting an HTTP/1.1 head (Upgrade)
	modeUpgradeBody                // the body of the upgraded request
	modePreface                    // the preface that follows an upgraded request
	modeFrames                     // in frame sync
	modeSync                       // looking for a frame boundary
	modeOff                        // not decoding this direction
	modeH1                         // HTTP/1.x messages (http1.go)
)

// dirState follows what one side sends. A connection holds two, so the
// fields are ordered to pack tightly; what only some connections need (the
// HPACK decoder, the Framer, HTTP/1.x state) hangs off pointers made on
// first use.
//
// With many connections each packet comes to a dirState the cache has
// lost, so what reading a frame touches comes first, in as few cache lines
// as it fits, and what only detection and resynchronisation use (buf,
// chunkStarts, searched) last.
type dirState struct {
	mode dirMode
	side capture.Side
	nhdr uint8
	hdr  [frameHeaderLen]byte

	inFrame  bool
	skip     bool // drop the current frame's payload (too large, or damaged)
	damaged  bool // bytes of the current frame were not captured
	padKnown bool
	// maxFrameKnown is set once the peer's SETTINGS were seen: maxFrame is
	// then the real limit, and a longer frame header is a lie to resync past.
	maxFrameKnown bool

	blockOpen bool
	blockEnd  bool // END_STREAM of the HEADERS that opened it
	blockPush bool
	blockBad  bool

	hpLazy hpFlags
	synced bool // has been in frame sync at least once
	gapped bool // bytes of this direction were lost at some point

	maxFrame uint32 // largest frame this side may send, from the peer's SETTINGS

	// The frame being read.
	fh   frameHeader
	left uint32 // payload bytes still to come
	// DATA padding.
	padLen uint32
	pos    uint32 // payload bytes of the current frame consumed

	blockStream uint32 // stream of the header block being collected

	// lastHeaderStream is the stream of an unfinished HEADERS or
	// CONTINUATION the frames before were read from: the Framer's frame
	// order state for this direction (0 when a new Framer would start).
	lastHeaderStream uint32

	hpSettingsMax uint32 // the lazy decoder's settingsMax

	c *Conn

	payload   []byte // non-DATA payload of the frame being read, collected so far
	block     []byte // the header block being collected
	blockTime time.Time

	// hp decodes this side's header blocks. Until a block needs it, it is
	// only described by hpLazy and hpSettingsMax (hpDue set): a fresh decoder
	// that hpack makes on demand.
	hp *hpackDecoder
	// proof, when set, is what must still be seen before the bytes lost at
	// this direction's gap are proven to have held no header block.
	proof *gapProof

	// buf holds bytes not yet consumed in detection, HTTP/1 and sync modes.
	buf []byte
	// chunkStarts are the offsets in buf where a packet's payload began:
	// segment starts are likely frame starts.
	chunkStarts []int
	searched    int // bytes scanned for a boundary while never synced
}

// hpFlags describe the decoder of a direction that is due but not made yet:
// it is, and its complete and settingsKnown fields.
type hpFlags uint8

const (
	hpDue hpFlags = 1 << iota
	hpComplete
	hpSettingsKnown
)

// frameBytes replays one frame (header, then payload) to the Framer.
type frameBytes struct{ hdr, payload []byte }

func (r *frameBytes) Read(p []byte) (int, error) {
	if len(r.hdr) > 0 {
		n := copy(p, r.hdr)
		r.hdr = r.hdr[n:]
		return n, nil
	}
	if len(r.payload) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.payload)
	r.payload = r.payload[n:]
	return n, nil
}

func (d *dirState) peer() *dirState { return &d.c.dirs[d.side.Other()] }

func (d *dirState) feed(data []byte, t time.Time) {
	for len(data) > 0 {
		switch d.mode {
		case modeOff:
			return
		case modeFrames:
			d.frames(data, t)
			return
		case modeH1:
			d.h1Feed(data, t)
			return
		case modeUpgradeBody:
			data = d.upgradeBody(data, t)
		default:
			d.chunkStarts = append(d.chunkStarts, len(d.buf))
			d.buf = append(d.buf, data...)
			data = nil
			if rest, ok := d.step(t); ok {
				data = rest
			}
		}
	}
}

// step advances the buffered modes. When the mode changes to one that reads
// the stream directly, it returns the bytes left to feed.
func (d *dirState) step(t time.Time) ([]byte, bool) {
	switch d.mode {
	case modeDetect:
		return d.detect(t)
	case modeUpgradeHead:
		return d.upgradeHead(t)
	case modePreface:
		if up := d.c.up; up != nil && !up.confirmed && len(d.buf) <= maxHTTP1Head &&
			!bytes.HasPrefix([]byte(clientPreface), d.buf[:min(len(d.buf), len(clientPreface))]) && (looksHTTP1(d.buf) || mayBecomeHTTP1(d.buf)) {
			// Another HTTP/1.1 request before the server answered the
			// Upgrade: keep it in case the server declines.
			return nil, false
		}
		if len(d.buf) < len(clientPreface) {
			if !bytes.HasPrefix([]byte(clientPreface), d.buf) {
				d.startSync(t)
				return d.step(t)
			}
			return nil, false
		}
		if string(d.buf[:len(clientPreface)]) != clientPreface {
			d.c.note(NoteMalformed, "%s: no HTTP/2 preface after the Upgrade request", d.sideName())
			d.startSync(t)
			return d.step(t)
		}
		return d.enterFrames(len(clientPreface)), true
	case modeSync:
		return d.sync(t)
	}
	return nil, false
}

func (d *dirState) detect(t time.Time) ([]byte, bool) {
	b := d.buf
	n := min(len(b), len(clientPreface))
	if string(b[:n]) == clientPreface[:n] {
		if n < len(clientPreface) {
			return nil, false
		}
		d.c.Kind = KindH2
		d.c.setClient(d.side, ClientByPreface)
		d.startHPACK(true)
		d.peer().expectFrames()
		return d.enterFrames(len(clientPreface)), true
	}
	if looksHTTP1(b) {
		d.mode = modeUpgradeHead
		return d.upgradeHead(t)
	}
	if mayBecomeHTTP1(b) {
		return nil, false
	}
	if len(b) >= 3 && b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04 {
		d.c.Kind = KindTLS
		d.c.note(NoteNotDecoded, "TLS connection: its records are encrypted and not decoded")
		d.off()
		d.peer().off()
		return nil, false
	}
	if !d.c.Info.SYNSeen || d.gapped {
		// Joined mid-connection: an HTTP/1.x start line at the start of a
		// later line means HTTP/1.x (HTTP/2 frames hold no such lines but
		// by accident).
		if _, ok := findStartLine(b, true, true); ok {
			d.c.startH1(t)
			return nil, false
		}
	}
	if d.c.Info.SYNSeen && !d.gapped {
		// The first byte of this direction was captured: a server that speaks
		// first (before the client's preface arrives) starts with SETTINGS,
		// and its HPACK table is known from the start.
		if len(b) < frameHeaderLen {
			return nil, false
		}
		if h := parseFrameHeader(b); h.Type == http2.FrameSettings && h.plausible(d.maxFrame) {
			d.c.Kind = KindH2
			d.startHPACK(true)
			return d.enterFrames(0), true
		}
		// A connection seen from its start opens with a preface, SETTINGS or
		// HTTP/1.x; anything else is another protocol.
		if d.peer().mode != modeFrames {
			d.c.Kind = KindNotHTTP2
			d.c.note(NoteNotDecoded, "%s: the connection starts with % x, which is not HTTP/2; not decoded", d.sideName(), b[:min(len(b), 8)])
			d.off()
			d.peer().off()
			return nil, false
		}
	}
	d.startSync(t)
	return d.sync(t)
}

// expectFrames is called on the server's direction once the client's preface
// is seen: the server's first bytes are frames too.
func (d *dirState) expectFrames() {
	if d.mode == modeDetect && len(d.buf) == 0 {
		d.startHPACK(true)
		d.mode = modeFrames
		d.synced = true
		d.lastHeaderStream = 0
	}
}

// hpackSettings passes the receiver's SETTINGS_HEADER_TABLE_SIZE to the
// decoder of this side's header blocks.
func (d *dirState) hpackSettings(v uint32) {
	if d.hp == nil && d.hpLazy&hpDue == 0 {
		d.startHPACK(false)
	}
	if d.hp == nil {
		d.hpSettingsMax = v
		d.hpLazy |= hpSettingsKnown
		return
	}
	d.hp.setSettingsMax(v)
}

// startHPACK starts (or, when !complete, loses the state of) the decoder of
// this side's header blocks. A new decoder is only described until hpack
// needs it: most connections in a busy capture never send a header block.
func (d *dirState) startHPACK(complete bool) {
	switch {
	case d.hp == nil && d.hpLazy&hpDue == 0:
		d.hpLazy, d.hpSettingsMax = hpDue, defaultHeaderTableSize
		if complete {
			d.hpLazy |= hpComplete | hpSettingsKnown
		}
	case d.hp == nil && complete:
		// Due, so fresh (epoch 0, nothing inserted).
		d.hpLazy |= hpComplete
	case d.hp == nil:
		d.hpack().lose()
	case !complete:
		d.hp.lose()
	case d.hp.epoch == 0 && d.hp.inserted == 0:
		// Made early (a SETTINGS value arrived first) and unused so far.
		d.hp.complete = true
		d.hp.gen++ // references past the known entries are errors now
	}
}

// hpack returns the decoder of this side's header blocks, making the lazy
// one; nil if none was started.
func (d *dirState) hpack() *hpackDecoder {
	if d.hp == nil && d.hpLazy&hpDue != 0 {
		f := d.c.f
		if f.hpack == nil {
			f.hpack = newHPACKShared()
		}
		d.hp = newHPACKDecoder(d.c.Info.ID, d.side, d.hpLazy&hpComplete != 0, f.opts.MaxTableSize, f.hpack)
		d.hp.settingsMax, d.hp.settingsKnown = d.hpSettingsMax, d.hpLazy&hpSettingsKnown != 0
		d.hpLazy = 0
	}
	return d.hp
}

// enterFrames switches to frame mode at offset off of buf and returns the
// bytes from there on to be fed.
func (d *dirState) enterFrames(off int) []byte {
	rest := d.buf[off:]
	d.buf = nil
	d.chunkStarts = d.chunkStarts[:0]
	d.mode = modeFrames
	d.synced = true
	d.lastHeaderStream = 0
	d.inFrame, d.nhdr = false, 0
	return rest
}

func (d *dirState) off() {
	d.mode = modeOff
	d.buf = nil
	d.chunkStarts = nil
	d.block = nil
	d.payload = nil
}

func (d *dirState) sideName() string {
	if d.c.ClientKnown() {
		return RoleOf(d.side, d.c.Client).String()
	}
	return d.c.Info.Addr[d.side].String()
}

// frames reads frames straight from the stream.
func (d *dirState) frames(data []byte, t time.Time) {
	for len(data) > 0 && d.mode == modeFrames {
		if !d.inFrame {
			var h []byte
			if d.nhdr == 0 && len(data) >= frameHeaderLen {
				h = data[:frameHeaderLen]
				data = data[frameHeaderLen:]
			} else {
				n := copy(d.hdr[d.nhdr:], data)
				d.nhdr += uint8(n)
				data = data[n:]
				if d.nhdr < frameHeaderLen {
					return
				}
				h = d.hdr[:]
				d.nhdr = 0
			}
			if fh := parseFrameHeader(h); d.maxFrameKnown && fh.Length > d.maxFrame {
				d.lyingLength(fh, h, data, t)
				return
			}
			d.startFrame(h, t)
			continue
		}
		n := min(uint32(len(data)), d.left)
		chunk := data[:n]
		data = data[n:]
		d.left -= n
		switch {
		case d.skip:
		case d.fh.Type == http2.FrameData:
			d.dataPayload(chunk, t)
		case d.left == 0 && len(d.payload) == 0 && !hooks.copyFrames:
			// The whole payload is in data, as it mostly is: the frame
			// is read from there rather than copied into payload first
			// (endFrame and the handlers it calls keep none of it).
			buf := d.payload
			d.payload = chunk
			d.endFrame(t)
			if d.mode != modeOff { // off dropped the buffer
				d.payload = buf
			}
			continue
		default:
			d.payload = append(d.payload, chunk...)
		}
		if d.left == 0 {
			d.endFrame(t)
		}
	}
}

// lyingLength handles a frame header longer than the peer allowed
// (SETTINGS_MAX_FRAME_SIZE): no real peer sends one (it is a connection
// error), so rather than swallow the bytes that follow as its payload, the
// decoder looks for the next frame boundary from the byte after the header.
func (d *dirState) lyingLength(fh frameHeader, h, rest []byte, t time.Time) {
	d.c.note(NoteMalformed, "%s: a %v frame header on stream %d claims %d bytes, more than the %d the peer allows; looking for the next frame boundary (HPACK table state may be lost)", d.sideName(), fh.Type, fh.StreamID, fh.Length, d.maxFrame)
	if d.blockOpen {
		d.dropBlock()
	}
	d.buf = append(append(d.buf[:0], h[frameHeaderLen:]...), rest...)
	d.chunkStarts = append(d.chunkStarts[:0], 0)
	d.inFrame, d.nhdr = false, 0
	d.startSync(t)
	if more, ok := d.step(t); ok {
		d.feed(more, t)
	}
}

func (d *dirState) startFrame(h []byte, t time.Time) {
	copy(d.hdr[:], h)
	d.fh = parseFrameHeader(h)
	d.inFrame = true
	d.left = d.fh.Length
	d.skip, d.damaged = false, false
	d.payload = d.payload[:0]
	d.padKnown, d.padLen, d.pos = false, 0, 0
	if d.proof != nil {
		d.proofSees(d.fh.Type, d.fh.StreamID)
	}
	if d.c.Kind == KindH2 {
		d.trackFrame()
	}
	if d.blockOpen && d.fh.Type != http2.FrameContinuation {
		d.c.note(NoteMalformed, "%s: header block on stream %d ended by a %v frame instead of CONTINUATION", d.sideName(), d.blockStream, d.fh.Type)
		d.dropBlock()
	}
	switch d.fh.Type {
	case http2.FrameData:
		if d.fh.StreamID == 0 {
			d.skip = true
		}
	case http2.FrameHeaders, http2.FrameContinuation, http2.FramePushPromise:
		if int(d.fh.Length)+len(d.block) > d.c.f.opts.MaxHeaderBlock {
			d.skip = true
		}
		if d.fh.Type == http2.FrameHeaders || d.fh.Type == http2.FramePushPromise {
			d.blockTime = t
		}
	default:
		if d.fh.Length > 1<<16 {
			d.skip = true // no control frame needs this much
		}
	}
	if d.left == 0 {
		d.endFrame(t)
	}
}

func (d *dirState) dataPayload(b []byte, t time.Time) {
	if d.fh.Flags.Has(http2.FlagDataPadded) && !d.padKnown {
		d.padKnown = true
		d.padLen = uint32(b[0])
		d.pos++
		b = b[1:]
		if d.padLen >= d.fh.Length {
			d.c.note(NoteMalformed, "%s: DATA frame on stream %d has more padding than payload", d.sideName(), d.fh.StreamID)
			d.padLen = d.fh.Length - 1
		}
	}
	dataEnd := d.fh.Length - d.padLen
	start := d.pos
	d.pos += uint32(len(b))
	if start >= dataEnd {
		return
	}
	if d.pos > dataEnd {
		b = b[:dataEnd-start]
	}
	if len(b) == 0 {
		return
	}
	dataStart := uint32(0)
	if d.fh.Flags.Has(http2.FlagDataPadded) {
		dataStart = 1
	}
	d.emitData(DataEvent{Side: d.side, StreamID: d.fh.StreamID, Data: b, Time: t,
		FrameStart: start == dataStart, FrameDataLen: dataEnd - dataStart})
}

// endFrame handles a frame whose payload has all been read: a DATA frame's
// END_STREAM (its payload went to the handler as it came), a skipped frame,
// or the payload collected in payload, parsed by readFrame.
func (d *dirState) endFrame(t time.Time) {
	d.inFrame = false
	fh := d.fh
	if fh.Type == http2.FrameData {
		if !d.skip && fh.Flags.Has(http2.FlagDataEndStream) {
			d.emitData(DataEvent{Side: d.side, StreamID: fh.StreamID, EndStream: true, Time: t})
		}
		return
	}
	if d.skip {
		d.skippedFrame()
		return
	}
	f, err := d.readFrame()
	if err != nil {
		d.c.note(NoteMalformed, "%s: bad %v frame on stream %d: %v", d.sideName(), fh.Type, fh.StreamID, err)
		if fh.Type == http2.FrameHeaders || fh.Type == http2.FrameContinuation || fh.Type == http2.FramePushPromise {
			d.dropBlock()
		}
		d.lastHeaderStream = 0
		return
	}
	switch f := f.(type) {
	case nil:
		// Handled by fastFrame.
	case *http2.HeadersFrame:
		d.headersFrame(f.HeaderBlockFragment(), f.StreamEnded(), f.HeadersEnded())
	case *http2.PushPromiseFrame:
		d.pushPromiseFrame(f.HeaderBlockFragment(), f.HeadersEnded())
	case *http2.ContinuationFrame:
		d.continuationFrame(f.HeaderBlockFragment(), f.HeadersEnded())
	case *http2.SettingsFrame:
		d.settingsFrame(f)
	case *http2.RSTStreamFrame:
		d.c.f.h.Reset(d.c, d.side, fh.StreamID, f.ErrCode, t)
	case *http2.GoAwayFrame:
		d.c.f.h.GoAway(d.c, d.side, f.LastStreamID, f.ErrCode, f.DebugData(), t)
	}
}

// skippedFrame ends a non-DATA frame whose payload was skipped (too large,
// or not all captured), noting why; a skipped piece of a header block
// loses the block, and the HPACK table state with it.
func (d *dirState) skippedFrame() {
	fh := d.fh
	switch fh.Type {
	case http2.FrameHeaders, http2.FrameContinuation, http2.FramePushPromise:
		if d.damaged {
			d.c.note(NoteLostBytes, "%s: a header block on stream %d was partly not captured; later blocks decoded with the table state unknown", d.sideName(), fh.StreamID)
		} else if !(d.blockOpen && d.blockBad && d.blockStream == fh.StreamID) { // once per block
			d.c.note(NoteLimit, "%s: header block on stream %d larger than %d bytes; skipped", d.sideName(), fh.StreamID, d.c.f.opts.MaxHeaderBlock)
		}
		// The rest of the block is skipped too; its insertions are
		// lost, and with them the table's state.
		d.blockOpen, d.blockBad, d.blockStream = true, true, fh.StreamID
		if fh.Flags.Has(http2.FlagHeadersEndHeaders) {
			d.dropBlock()
		}
	default:
		if d.damaged {
			d.c.note(NoteLostBytes, "%s: a %v frame was partly not captured", d.sideName(), fh.Type)
		}
	}
}

// settingsFrame reads what the decoder needs of this side's SETTINGS: the
// limits they set on what the peer sends.
func (d *dirState) settingsFrame(f *http2.SettingsFrame) {
	if f.IsAck() {
		return
	}
	d.trackSettings(f)
	f.ForeachSetting(func(s http2.Setting) error {
		switch s.ID {
		case http2.SettingHeaderTableSize:
			// It bounds the table of the blocks this side receives.
			d.peer().hpackSettings(s.Val)
		case http2.SettingMaxFrameSize:
			// Frames the peer sends to us may now be this large.
			d.peer().maxFrame = max(s.Val, maxStrictFrameLen)
		}
		return nil
	})
	d.peer().maxFrameKnown = true
}

// headersFrame starts a header block with the fragment of a HEADERS frame.
func (d *dirState) headersFrame(frag []byte, endStream, endHeaders bool) {
	d.blockOpen, d.blockBad, d.blockPush = true, false, false
	d.blockStream, d.blockEnd = d.fh.StreamID, endStream
	if endHeaders && !hooks.copyFrames {
		// The whole block, as it mostly is: decoded from the frame
		// rather than copied into block first.
		d.block = d.block[:0]
		d.endBlockFrom(frag)
		return
	}
	d.block = append(d.block[:0], frag...)
	if endHeaders {
		d.endBlock()
	}
}

// pushPromiseFrame starts a header block with the fragment of a
// PUSH_PROMISE frame: it is decoded for the HPACK table's sake, and no
// event is made of it.
func (d *dirState) pushPromiseFrame(frag []byte, endHeaders bool) {
	d.block = append(d.block[:0], frag...)
	d.blockOpen, d.blockBad, d.blockPush = true, false, true
	d.blockStream = d.fh.StreamID
	if endHeaders {
		d.endBlock()
	}
}

// continuationFrame adds the fragment of a CONTINUATION frame to the open
// header block.
func (d *dirState) continuationFrame(frag []byte, endHeaders bool) {
	if !d.blockOpen || d.fh.StreamID != d.blockStream {
		d.c.note(NoteMalformed, "%s: CONTINUATION on stream %d without a HEADERS frame before it", d.sideName(), d.fh.StreamID)
		d.hpack().lose()
		return
	}
	d.block = append(d.block, frag...)
	if endHeaders {
		d.endBlock()
	}
}

// readFrame parses the frame in hdr and payload with the factory's Framer,
// as a Framer of this direction's own would. It returns a nil frame and
// error when fastFrame has handled the frame.
func (d *dirState) readFrame() (http2.Frame, error) {
	if err := d.checkFrameOrder(); err != nil {
		return nil, err
	}
	if !hooks.framerOnly && d.fastFrame() {
		return nil, nil
	}
	f := d.c.f
	if f.framer == nil {
		f.framer = http2.NewFramer(io.Discard, &f.fr)
		f.framer.SetMaxReadFrameSize(1<<24 - 1)
		f.framer.AllowIllegalReads = true // the order is checkFrameOrder's
	}
	f.fr.hdr, f.fr.payload = d.hdr[:], d.payload
	fr, err := f.framer.ReadFrame()
	f.fr.hdr, f.fr.payload = nil, nil
	return fr, err
}

// fastFrame handles, without the Framer, the frames that every call
// brings: HEADERS without padding or priority, CONTINUATION, WINDOW_UPDATE
// and PING. The Framer allocates a frame for each of them, which was a
// noticeable part of the cost of a small call. Whatever the Framer would
// reject, or parse into more than a header block fragment, is left to it,
// so errors and notes stay as they were. It reports whether the frame was
// handled.
func (d *dirState) fastFrame() bool {
	fh, p := &d.fh, d.payload
	if uint32(len(p)) != fh.Length {
		return false
	}
	switch fh.Type {
	case http2.FrameHeaders:
		if fh.StreamID == 0 || fh.Flags&(http2.FlagHeadersPadded|http2.FlagHeadersPriority) != 0 {
			return false
		}
		d.headersFrame(p, fh.Flags.Has(http2.FlagHeadersEndStream), fh.Flags.Has(http2.FlagHeadersEndHeaders))
		return true
	case http2.FrameContinuation:
		if fh.StreamID == 0 {
			return false
		}
		d.continuationFrame(p, fh.Flags.Has(http2.FlagContinuationEndHeaders))
		return true
	case http2.FrameWindowUpdate:
		// Valid ones carry nothing the decoder uses.
		return len(p) == 4 && binary.BigEndian.Uint32(p)&(1<<31-1) != 0
	case http2.FramePing:
		return len(p) == 8 && fh.StreamID == 0
	}
	return false
}

// checkFrameOrder is the check of http2.Framer.ReadFrame that HEADERS
// without END_HEADERS is followed by CONTINUATION frames on its stream,
// with the same error.
func (d *dirState) checkFrameOrder() error {
	fh := &d.fh
	if d.lastHeaderStream != 0 {
		if fh.Type != http2.FrameContinuation || fh.StreamID != d.lastHeaderStream {
			return http2.ConnectionError(http2.ErrCodeProtocol)
		}
	} else if fh.Type == http2.FrameContinuation {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	switch fh.Type {
	case http2.FrameHeaders, http2.FrameContinuation:
		if fh.Flags.Has(http2.FlagHeadersEndHeaders) {
			d.lastHeaderStream = 0
		} else {
			d.lastHeaderStream = fh.StreamID
		}
	}
	return nil
}

func (d *dirState) dropBlock() {
	d.block = d.block[:0]
	d.blockOpen = false
	if hp := d.hpack(); hp != nil {
		hp.lose()
	}
}

func (d *dirState) endBlock() {
	block := d.block
	d.block = d.block[:0]
	d.endBlockFrom(block)
}

// endBlockFrom ends the open header block, whose bytes are block.
func (d *dirState) endBlockFrom(block []byte) {
	d.blockOpen = false
	if d.blockBad {
		d.hpack().lose()
		return
	}
	if d.hpack() == nil {
		d.startHPACK(false)
	}
	fields, truncated, err := d.hpack().decodeBlock(block, d.c.f.opts.MaxHeaderListSize)
	if d.blockPush {
		return
	}
	if d.c.streams != nil {
		d.trackFinal(d.blockStream, fields)
		d.trackRequest(d.blockStream, fields)
	}
	if d.proof != nil && d.proof.opening == d.blockStream {
		d.proofOpens(fields)
	}
	if err != nil {
		kind := NoteMalformed
		if errors.Is(err, ErrTableSizeOverLimit) {
			kind = NoteLimit // Options.MaxTableSize
		}
		d.c.note(kind, "%s: header block on stream %d: %v; later blocks decoded with the table state unknown", d.sideName(), d.blockStream, err)
	}
	if d.hp.violation != "" {
		d.c.note(NoteMalformed, "%s: header block on stream %d: %s", d.sideName(), d.blockStream, d.hp.violation)
		d.hp.violation = ""
	}
	if !d.c.ClientKnown() {
		// Pseudo-headers say who the client is only when nothing else
		// has (setClient): the fields need no look otherwise.
		for i := range fields {
			f := &fields[i]
			if f.NameUnknown {
				continue
			}
			if f.Name == ":method" || f.Name == ":path" {
				d.c.setClient(d.side, ClientByHeaders)
				break
			}
			if f.Name == ":status" {
				d.c.setClient(d.side.Other(), ClientByHeaders)
				break
			}
		}
	}
	hev := &d.c.f.hev
	*hev = HeadersEvent{
		Side: d.side, StreamID: d.blockStream, Fields: fields, EndStream: d.blockEnd,
		Time: d.blockTime, Err: err, Truncated: truncated, Block: d.hp.block,
	}
	d.c.f.h.Headers(d.c, hev)
	*hev = HeadersEvent{}
}

// emitData hands ev to the handler through the factory's event, so that
// the hot path allocates no event (handlers must not keep the pointer).
func (d *dirState) emitData(ev DataEvent) {
	dev := &d.c.f.dev
	*dev = ev
	d.c.f.h.Data(d.c, dev)
	*dev = DataEvent{}
}

// gap handles bytes the capture missed. Inside a DATA payload only that
// stream loses bytes; anywhere else frame sync is lost.
func (d *dirState) gap(n int64, t time.Time) {
	d.gapped = true
	switch d.mode {
	case modeOff:
		return
	case modeH1:
		d.h1Gap(n, t)
	case modeFrames:
		if d.inFrame && n >= 0 && uint64(n) <= uint64(d.left) {
			d.left -= uint32(n)
			switch {
			case d.fh.Type == http2.FrameData && !d.skip:
				d.dataLost(uint32(n), t)
			case !d.skip:
				d.skip, d.damaged = true, true
			}
			if d.left == 0 {
				d.endFrame(t)
			}
			return
		}
		if d.inFrame && d.fh.Type == http2.FrameData && !d.skip {
			d.c.f.h.Data(d.c, &DataEvent{Side: d.side, StreamID: d.fh.StreamID, Lost: -1, Time: t})
		}
		d.c.note(NoteLostBytes, "%s: %s not captured; frame sync lost until the next frame boundary, and with it the HPACK table state", d.sideName(), sizeText(n))
		proof := d.startProof()
		d.inFrame, d.nhdr = false, 0
		d.block = d.block[:0]
		d.blockOpen = false
		d.startSync(t)
		if proof != nil {
			proof.epoch, d.proof = d.hp.epoch, proof
		}
		d.c.f.h.Lost(d.c, d.side, t)
	case modeUpgradeBody:
		d.c.note(NoteLostBytes, "%s: part of the upgraded request body was not captured", d.sideName())
		d.startSync(t)
	default:
		// A gap while looking for a frame boundary only adds to the lost
		// region: a proof under way counts its candidates when the
		// boundary is found, after all of it.
		//
		// Bytes before the gap can't chain with bytes after it.
		d.buf = d.buf[:0]
		d.chunkStarts = d.chunkStarts[:0]
		if d.mode != modeSync {
			d.startSync(t)
		}
	}
}

func (d *dirState) dataLost(n uint32, t time.Time) {
	start := d.pos
	d.pos += n
	if !d.padKnown && d.fh.Flags.Has(http2.FlagDataPadded) {
		// The pad length itself was lost: assume no padding.
		d.padKnown = true
		start++
	}
	dataEnd := d.fh.Length - d.padLen
	if start >= dataEnd {
		return
	}
	lost := min(d.pos, dataEnd) - start
	d.c.f.h.Data(d.c, &DataEvent{Side: d.side, StreamID: d.fh.StreamID, Lost: int64(lost), Time: t})
}

func (d *dirState) finish() {
	if d.mode == modeFrames && (d.inFrame || d.nhdr > 0) {
		d.c.note(NoteUnfinished, "%s: capture ended inside a frame", d.sideName())
	}
	d.buf = nil
	d.payload = nil
	d.block = nil
	if d.hp != nil {
		d.hp.dropBlocks()
	}
}

func sizeText(n int64) string {
	if n < 0 {
		return "an unknown number of bytes"
	}
	return fmt.Sprintf("%d bytes", n)
}
