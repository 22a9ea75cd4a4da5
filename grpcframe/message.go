package grpcframe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// msgReader splits one direction of a stream into length-prefixed messages.
type msgReader struct {
	// What every DATA frame reads comes first, the resync state last.
	cur *Message
	// spares are the messages of a recycled call, to reuse.
	spares []*Message
	keep   int    // payload bytes of cur to keep (the size limit)
	nhdr   int    // bytes of the next prefix in hdr
	need   uint32 // payload bytes of cur still to come
	hdr    [5]byte
	// desync: bytes were lost at an unknown place, so message boundaries are
	// no longer known in this direction.
	desync   bool
	resynced bool // the next message completed is the first after a resync
	// endFlag is the envelope flag that marks the message ending the
	// stream, whose payload is trailers rather than a message: 0x80 in
	// gRPC-Web's response frames, 0x02 in Connect's streaming responses;
	// 0 for gRPC, where no flag does.
	endFlag byte
	// cand collects a DATA frame's payload while desync, to test whether
	// messages start with it (see resync).
	cand    []byte
	candLen int
}

// maxResyncFrame bounds the frame payload held while looking for messages
// after a loss.
const maxResyncFrame = 1 << 20

// resync looks for message boundaries again after a loss. Senders commonly
// start a message with a DATA frame; a frame is taken to start one when its
// payload is exactly a run of whole length-prefixed messages. Empty messages
// count only when one fills the whole frame, so that a frame of zeros is not
// read as hundreds of them. It returns true once the frame has been fed to
// the reader again.
func (r *msgReader) resync(b []byte, frameStart bool, frameLen int, compressOK bool, t time.Time, maxKeep int, done func(*Message)) bool {
	if frameStart {
		r.cand = r.cand[:0]
		r.candLen = frameLen
		if frameLen > maxResyncFrame || frameLen < 5 {
			r.candLen = 0
		}
	}
	if r.candLen == 0 {
		return false
	}
	r.cand = append(r.cand, b...)
	if len(r.cand) < r.candLen {
		return false
	}
	frame := r.cand[:r.candLen]
	r.candLen = 0
	if !wholeMessages(frame, compressOK, r.endFlag) {
		return false
	}
	r.desync = false
	r.resynced = true
	r.feed(frame, t, maxKeep, done)
	return true
}

func wholeMessages(b []byte, compressOK bool, endFlag byte) bool {
	if len(b) == 5 && b[0] == 0 && binary.BigEndian.Uint32(b[1:]) == 0 {
		return true
	}
	for len(b) > 0 {
		flags := b[0]
		end := endFlag != 0 && flags&endFlag != 0
		if end {
			flags &^= endFlag
		}
		if len(b) < 5 || flags > 1 || (flags == 1 && !compressOK) {
			return false
		}
		n := binary.BigEndian.Uint32(b[1:])
		// An empty message fills a frame alone (above); an empty
		// end-of-stream frame may close a run.
		if (n == 0 && !end) || uint64(n) > uint64(len(b)-5) {
			return false
		}
		b = b[5+n:]
	}
	return true
}

// feed consumes payload bytes, calling done for each completed message.
// maxKeep bounds the bytes kept of a message; negative keeps none (but
// those of a gRPC-Web trailer frame, which are read).
func (r *msgReader) feed(b []byte, t time.Time, maxKeep int, done func(*Message)) {
	if r.desync {
		return
	}
	for len(b) > 0 {
		if r.cur == nil {
			n := copy(r.hdr[r.nhdr:], b)
			r.nhdr += n
			b = b[n:]
			if r.nhdr < 5 {
				return
			}
			r.nhdr = 0
			length := binary.BigEndian.Uint32(r.hdr[1:])
			m := r.newMessage()
			m.Length, m.Compressed, m.Time = length, r.hdr[0]&1 != 0, t
			limit := maxKeep
			if maxKeep < 0 {
				limit, m.discarded = 0, true
			}
			if r.endFlag != 0 && r.hdr[0]&r.endFlag != 0 {
				limit = r.endMessage(m, maxKeep)
			} else if r.hdr[0]&^1 != 0 {
				m.Err = fmt.Sprintf("message flags 0x%02x: reserved bits set", r.hdr[0])
			}
			r.cur, r.need = m, length
			// length is compared as uint64: int(length) is negative on a
			// 32-bit platform for a prefix of 2 GiB or more.
			r.keep = limit
			if uint64(length) < uint64(limit) {
				r.keep = int(length)
			}
			if uint64(r.keep) < uint64(length) && !m.discarded {
				m.Truncated, m.why = true, h2decode.NoteLimit
				m.Err = fmt.Sprintf("message of %d bytes: only the first %d kept (message size limit)", length, r.keep)
			}
			if length == 0 {
				r.finish(t, done)
			}
			continue
		}
		n := min(uint32(len(b)), r.need)
		if room := r.keep - len(r.cur.Data); room > 0 {
			take := min(int(n), room)
			if len(r.cur.Data) == 0 {
				// Allocate what has arrived, not what the prefix claims: a
				// lying length must not reserve memory. A recycled
				// message's room serves when it is as large.
				if want := min(r.keep, max(take, 4096)); cap(r.cur.Data) < want {
					r.cur.Data = make([]byte, 0, want)
				}
			}
			r.cur.Data = append(r.cur.Data, b[:take]...)
		}
		b = b[n:]
		r.need -= n
		if r.need == 0 {
			r.finish(t, done)
		}
	}
}

// endMessage marks m, whose prefix r.hdr holds, as the message that ends
// the stream, and returns how many of its bytes to keep: its trailers are
// read even when messages are not kept. The compressed flag may go with
// Connect's end-of-stream flag, never with gRPC-Web's trailer flag.
func (r *msgReader) endMessage(m *Message, maxKeep int) (limit int) {
	m.trailer, m.discarded = true, false
	limit = maxWebTrailers
	if maxKeep >= 0 {
		limit = min(maxKeep, maxWebTrailers)
	}
	allowed := r.endFlag
	if r.endFlag == connectEndStream {
		allowed |= 1
	}
	if r.hdr[0]&^allowed != 0 {
		m.Err = fmt.Sprintf("end-of-stream frame flags 0x%02x: reserved bits set", r.hdr[0])
	}
	return limit
}

// The envelope flags that end a stream.
const (
	webTrailerFlag   = 0x80
	connectEndStream = 0x02
)

func (r *msgReader) finish(t time.Time, done func(*Message)) {
	m := r.cur
	m.Time = t
	m.Resynced, r.resynced = r.resynced, false
	r.cur = nil
	done(m)
}

// lost accounts for n payload bytes that were not captured (-1: unknown).
func (r *msgReader) lost(n int64, t time.Time, done func(*Message)) {
	if r.desync {
		return
	}
	// Only a loss inside a message's payload keeps the boundaries known:
	// anywhere else the next prefix may have been in the lost bytes.
	if n < 0 || r.cur == nil || uint64(n) > uint64(r.need) {
		r.loseSync(t, done)
		return
	}
	m := r.cur
	if !m.Truncated {
		m.Truncated, m.why = true, h2decode.NoteLostBytes
		m.Err = fmt.Sprintf("%d bytes of this message were not captured", n)
	}
	r.keep = len(m.Data) // keep only what precedes the hole
	r.need -= uint32(n)
	if r.need == 0 {
		r.finish(t, done)
	}
}

func (r *msgReader) loseSync(t time.Time, done func(*Message)) {
	if m := r.cur; m != nil {
		m.Truncated, m.why = true, h2decode.NoteLostBytes
		m.Err = "bytes of this message were not captured"
		r.finish(t, done)
	}
	r.desync = true
	r.nhdr = 0
}

// end reports a message left unfinished when the stream ended.
func (r *msgReader) end(t time.Time, done func(*Message)) (partial bool) {
	if r.cur != nil {
		m := r.cur
		m.Truncated, m.why = true, h2decode.NoteUnfinished
		m.Err = fmt.Sprintf("stream ended %d bytes before the end of this message", r.need)
		r.finish(t, done)
		return true
	}
	return r.nhdr > 0
}

// decompressor undoes grpc-encoding, bounded by a size limit so that a
// small message cannot expand without end.
type decompressor struct {
	gz   *gzip.Reader
	zstd *zstd.Decoder
	// Readers are reset for each message rather than made anew: a new
	// zlib, flate or framed-snappy reader costs tens of KB, which made
	// those encodings 30-100 times slower than gzip per small message (and
	// a cheap way for a hostile capture to burn CPU).
	zlib   io.ReadCloser
	flate  io.ReadCloser
	snappy *snappy.Reader
	buf    bytes.Buffer
}

// errTooLarge is reported when a message expands, or would need more memory
// to expand, beyond the limit.
type errTooLarge struct {
	limit  int
	window bool // a zstd frame asked for a window larger than the limit
}

func (e errTooLarge) Error() string {
	if e.window {
		return fmt.Sprintf("the zstd frame needs a window larger than the %d-byte message limit (a decompression bomb?); not decompressed", e.limit)
	}
	return fmt.Sprintf("decompressed size exceeds the %d-byte limit (a decompression bomb?); kept the first %d bytes", e.limit, e.limit)
}

// decompress returns the decompressed payload, at most limit bytes.
func (d *decompressor) decompress(encoding string, b []byte, limit int) ([]byte, error) {
	var r io.Reader
	var err error
	switch encoding {
	case "gzip":
		r, err = d.gzipReader(b)
	case "deflate":
		r, err = d.deflateReader(b)
	case "snappy":
		if !bytes.HasPrefix(b, []byte("\xff\x06\x00\x00sNaPpY")) {
			return snappyBlock(b, limit)
		}
		r = d.snappyReader(b)
	case "zstd":
		r, err = d.zstdReader(b, limit)
	default:
		return nil, fmt.Errorf("unsupported grpc-encoding %q", encoding)
	}
	if err != nil {
		return nil, err
	}
	d.buf.Reset()
	n, err := d.buf.ReadFrom(io.LimitReader(r, int64(limit)+1))
	out := bytes.Clone(d.buf.Bytes()[:min(int(n), limit)])
	if errors.Is(err, zstd.ErrWindowSizeExceeded) {
		return out, errTooLarge{limit: limit, window: true}
	}
	if err != nil {
		return out, fmt.Errorf("%s: %w", encoding, err)
	}
	if n > int64(limit) {
		return out, errTooLarge{limit: limit}
	}
	return out, nil
}

// gzipReader returns the decompressor's gzip reader, reset to read b.
func (d *decompressor) gzipReader(b []byte) (io.Reader, error) {
	if d.gz == nil {
		gz, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		d.gz = gz
	} else if err := d.gz.Reset(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return d.gz, nil
}

// deflateReader returns a reader of b, a "deflate" payload: the
// decompressor's zlib reader, or its raw DEFLATE one when b has no zlib
// header.
func (d *decompressor) deflateReader(b []byte) (io.Reader, error) {
	// grpc "deflate" is zlib-wrapped (RFC 1950) as in HTTP; some
	// implementations send raw DEFLATE.
	var err error
	if d.zlib == nil {
		d.zlib, err = zlib.NewReader(bytes.NewReader(b))
	} else {
		err = d.zlib.(zlib.Resetter).Reset(bytes.NewReader(b), nil)
	}
	if err == nil {
		return d.zlib, nil
	}
	if d.flate == nil {
		d.flate = flate.NewReader(bytes.NewReader(b))
	} else if err := d.flate.(flate.Resetter).Reset(bytes.NewReader(b), nil); err != nil {
		return nil, fmt.Errorf("deflate: %w", err)
	}
	return d.flate, nil
}

// snappyReader returns the decompressor's framed-snappy reader, reset to
// read b.
func (d *decompressor) snappyReader(b []byte) io.Reader {
	if d.snappy == nil {
		d.snappy = snappy.NewReader(bytes.NewReader(b))
	} else {
		d.snappy.Reset(bytes.NewReader(b))
	}
	return d.snappy
}

// snappyBlock decompresses b, a snappy block without the framing format,
// when it decodes to at most limit bytes.
func snappyBlock(b []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(b)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if n > limit {
		return nil, errTooLarge{limit: limit}
	}
	out, err := snappy.Decode(nil, b)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	return out, nil
}

// zstdReader returns the decompressor's zstd reader, reset to read b; limit
// is the size limit of the decompressed message.
func (d *decompressor) zstdReader(b []byte, limit int) (io.Reader, error) {
	if d.zstd == nil {
		// Streaming, so that decompress's size limit applies. A window larger
		// than the largest message kept is never needed, and capping it
		// keeps a hostile frame header from reserving much memory.
		z, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(uint64(max(limit, 1<<20))))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		d.zstd = z
	}
	if err := d.zstd.Reset(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return d.zstd, nil
}
