// Package gen writes hostile captures for grpcsniff: synthetic packets built
// with gopacket's layers, each capture mixed with the real calls of
// testdata/pcaps/py_helloworld.pcap (timestamps shifted) so that a test can
// check that the normal calls still decode beside the attack.
package gen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Scale sets the size of each attack. Full is what the issue asks for; tests
// use smaller numbers where the full size would make them slow.
type Scale struct {
	Connections  int   // (a) connections, each a SYN and one HTTP/2 frame
	Streams      int   // (b) streams opened and never finished on one connection
	Continuation int   // (c) bytes of CONTINUATION frames in one header block
	BombSize     int64 // (d) bytes a gzip message expands to
	Nesting      int   // (e) depth of a nested protobuf message
}

// Full is the scale of the issue.
var Full = Scale{
	Connections:  100_000,
	Streams:      1_000_000,
	Continuation: 16 << 20,
	BombSize:     1 << 30,
	Nesting:      10_000,
}

// Capture is one generated file.
type Capture struct {
	Name string // short name: connections, streams, continuation, gzipbomb, protobuf, framelen, recordlen
	Path string
	What string
}

// All writes every capture into dir. normal is the capture whose packets are
// mixed in (py_helloworld.pcap).
func All(dir, normal string, s Scale) ([]Capture, error) {
	hw, err := readPackets(normal)
	if err != nil {
		return nil, err
	}
	type job struct {
		name, what string
		fn         func(*writer)
	}
	jobs := []job{
		{"connections", fmt.Sprintf("%d connections, each a SYN and one HTTP/2 frame", s.Connections), func(w *writer) { manyConnections(w, s.Connections) }},
		{"streams", fmt.Sprintf("one h2c connection with %d streams opened and never finished", s.Streams), func(w *writer) { manyStreams(w, s.Streams) }},
		{"continuation", fmt.Sprintf("a header block of %d bytes of CONTINUATION frames", s.Continuation), func(w *writer) { continuation(w, s.Continuation) }},
		{"gzipbomb", fmt.Sprintf("a gzip message that expands to %d bytes", s.BombSize), func(w *writer) { gzipBomb(w, s.BombSize) }},
		{"protobuf", fmt.Sprintf("an 11-byte varint, a message nested %d deep, and one of two million fields", s.Nesting), func(w *writer) { badProtobuf(w, s.Nesting) }},
		{"framelen", "a frame header claiming 16 MB, then normal frames", func(w *writer) { lyingFrameLength(w) }},
		{"recordlen", "a pcap record header claiming 4 GB", nil},
	}
	var out []Capture
	for _, j := range jobs {
		path := filepath.Join(dir, j.name+".pcap")
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		w, err := newWriter(f, hw)
		if err == nil {
			if j.fn != nil {
				j.fn(w)
				w.finish()
			} else {
				w.flushNormal()
				// A record header whose lengths claim 4 GB, then a few bytes.
				var rec [16]byte
				binary.LittleEndian.PutUint32(rec[0:], uint32(w.clock.Unix()))
				binary.LittleEndian.PutUint32(rec[8:], 0xffffffff)
				binary.LittleEndian.PutUint32(rec[12:], 0xffffffff)
				_, w.err = f.Write(append(rec[:], "not 4 GB of packet"...))
			}
			err = w.err
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, Capture{Name: j.name, Path: path, What: j.what})
	}
	return out, nil
}

type packet struct {
	ci   gopacket.CaptureInfo
	data []byte
}

func readPackets(path string) ([]packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, err
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("%s: link type %v, want Ethernet", path, r.LinkType())
	}
	var ps []packet
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		ps = append(ps, packet{ci, append([]byte(nil), data...)})
	}
	return ps, nil
}

// writer writes Ethernet packets to a pcap, the normal packets inserted
// once mark() is called (or at the end).
type writer struct {
	pw     *pcapgo.Writer
	normal []packet
	clock  time.Time
	err    error
	buf    gopacket.SerializeBuffer
	n      int
}

func newWriter(f *os.File, normal []packet) (*writer, error) {
	pw := pcapgo.NewWriterNanos(f)
	if err := pw.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	return &writer{pw: pw, normal: normal, clock: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC), buf: gopacket.NewSerializeBuffer()}, nil
}

func (w *writer) write(data []byte, t time.Time) {
	if w.err != nil {
		return
	}
	w.err = w.pw.WritePacket(gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(data), Length: len(data)}, data)
}

// flushNormal writes the normal packets now, shifted to the current time.
func (w *writer) flushNormal() {
	if w.normal == nil {
		return
	}
	base := w.normal[0].ci.Timestamp
	for _, p := range w.normal {
		w.write(p.data, w.clock.Add(p.ci.Timestamp.Sub(base)))
	}
	w.clock = w.clock.Add(w.normal[len(w.normal)-1].ci.Timestamp.Sub(base) + time.Millisecond)
	w.normal = nil
}

func (w *writer) finish() { w.flushNormal() }

// flow is one TCP connection between a client and a server.
type flow struct {
	w    *writer
	ip   [2]net.IP
	port [2]uint16
	seq  [2]uint32
}

func (w *writer) flow(client net.IP, cport uint16, server net.IP, sport uint16) *flow {
	return &flow{w: w, ip: [2]net.IP{client, server}, port: [2]uint16{cport, sport}, seq: [2]uint32{1000, 5000}}
}

const maxSegment = 60000

// send writes payload from side (0 client, 1 server) in segments.
func (f *flow) send(side int, payload []byte) {
	for len(payload) > 0 {
		n := min(len(payload), maxSegment)
		f.segment(side, payload[:n], false)
		payload = payload[n:]
	}
}

func (f *flow) segment(side int, payload []byte, syn bool) {
	w := f.w
	if w.err != nil {
		return
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(side + 1)}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(2 - side)}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: f.ip[side], DstIP: f.ip[1-side]}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(f.port[side]), DstPort: layers.TCPPort(f.port[1-side]), Seq: f.seq[side], Ack: f.seq[1-side], Window: 65535}
	if syn {
		tcp.SYN = true
		if side == 1 {
			tcp.ACK = true
		}
	} else {
		tcp.ACK = true
		tcp.PSH = len(payload) > 0
	}
	tcp.SetNetworkLayerForChecksum(ip)
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if w.err = gopacket.SerializeLayers(w.buf, opts, eth, ip, tcp, gopacket.Payload(payload)); w.err != nil {
		return
	}
	if syn {
		f.seq[side]++
	} else {
		f.seq[side] += uint32(len(payload))
	}
	w.clock = w.clock.Add(10 * time.Microsecond)
	w.write(w.buf.Bytes(), w.clock)
	w.n++
}

// handshake writes SYN, SYN-ACK and the client's ACK.
func (f *flow) handshake() {
	f.segment(0, nil, true)
	f.segment(1, nil, true)
	f.segment(0, nil, false)
}

// h2 frames.
func frame(typ http2.FrameType, flags http2.Flags, stream uint32, payload []byte) []byte {
	b := make([]byte, 9, 9+len(payload))
	n := len(payload)
	b[0], b[1], b[2] = byte(n>>16), byte(n>>8), byte(n)
	b[3] = byte(typ)
	b[4] = byte(flags)
	binary.BigEndian.PutUint32(b[5:], stream&0x7fffffff)
	return append(b, payload...)
}

func settings() []byte { return frame(http2.FrameSettings, 0, 0, nil) }

func prefaceAndSettings() []byte { return append([]byte(http2.ClientPreface), settings()...) }

// headerBlock encodes a gRPC request's headers with enc.
func requestHeaders(enc *hpack.Encoder, buf *bytes.Buffer, path string, extra ...string) []byte {
	buf.Reset()
	fields := []string{":method", "POST", ":scheme", "http", ":path", path, ":authority", "attacker", "content-type", "application/grpc", "te", "trailers"}
	fields = append(fields, extra...)
	for i := 0; i < len(fields); i += 2 {
		enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return append([]byte(nil), buf.Bytes()...)
}

func grpcMessage(compressed bool, payload []byte) []byte {
	b := make([]byte, 5, 5+len(payload))
	if compressed {
		b[0] = 1
	}
	binary.BigEndian.PutUint32(b[1:], uint32(len(payload)))
	return append(b, payload...)
}

// dataFrames splits b into DATA frames of at most 16384 bytes.
func dataFrames(stream uint32, b []byte, end bool) []byte {
	var out []byte
	for {
		n := min(len(b), 16384)
		var fl http2.Flags
		if n == len(b) && end {
			fl = http2.FlagDataEndStream
		}
		out = append(out, frame(http2.FrameData, fl, stream, b[:n])...)
		b = b[n:]
		if len(b) == 0 {
			return out
		}
	}
}

var (
	clientIP = net.IPv4(10, 0, 0, 1).To4()
	serverIP = net.IPv4(10, 0, 0, 2).To4()
)

// (a) many connections, each a SYN and one HTTP/2 frame after the preface.
func manyConnections(w *writer, n int) {
	for i := 0; i < n; i++ {
		if i == n/2 {
			w.flushNormal()
		}
		ip := net.IPv4(10, 1, byte(i>>16), byte(i>>8)).To4()
		f := w.flow(ip, uint16(10000+i%50000), serverIP, 50051)
		f.segment(0, nil, true)
		f.segment(0, prefaceAndSettings(), false)
	}
}

// (b) one connection, n streams opened by HEADERS and never finished.
func manyStreams(w *writer, n int) {
	f := w.flow(clientIP, 40000, serverIP, 50051)
	f.handshake()
	f.send(0, prefaceAndSettings())
	f.send(1, settings())
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	var batch []byte
	for i := 0; i < n; i++ {
		if i == n/2 {
			f.send(0, batch)
			batch = nil
			w.flushNormal()
		}
		hb := requestHeaders(enc, &buf, "/attack.Open/Forever")
		batch = append(batch, frame(http2.FrameHeaders, http2.FlagHeadersEndHeaders, uint32(2*i+1), hb)...)
		if len(batch) > maxSegment-100 {
			f.send(0, batch)
			batch = batch[:0]
		}
	}
	f.send(0, batch)
}

// (c) a HEADERS frame then CONTINUATION frames adding up to size bytes,
// then a normal call on the same connection.
func continuation(w *writer, size int) {
	f := w.flow(clientIP, 40001, serverIP, 50051)
	f.handshake()
	f.send(0, prefaceAndSettings())
	f.send(1, settings())
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	hb := requestHeaders(enc, &buf, "/attack.Big/Headers")
	f.send(0, frame(http2.FrameHeaders, 0, 1, hb))
	// Each CONTINUATION carries literal headers without indexing (so the
	// HPACK table is untouched): x-pad: aaaa….
	chunk := []byte{0x00, 0x05, 'x', '-', 'p', 'a', 'd'}
	chunk = appendHpackString(chunk, bytes.Repeat([]byte{'a'}, 16000))
	cont := frame(http2.FrameContinuation, 0, 1, chunk)
	var batch []byte
	sent := 0
	for sent < size {
		if sent >= size/2 && w.normal != nil {
			f.send(0, batch)
			batch = nil
			w.flushNormal()
		}
		batch = append(batch, cont...)
		sent += len(cont)
		if len(batch) > maxSegment-len(cont) {
			f.send(0, batch)
			batch = batch[:0]
		}
	}
	batch = append(batch, frame(http2.FrameContinuation, http2.FlagContinuationEndHeaders, 1, nil)...)
	f.send(0, batch)
	// A normal call on stream 3 of the same connection.
	normalCall(f, enc, &buf, 3, "/attack.After/Continuation", []byte{0x0a, 0x03, 'y', 'o', 'u'})
}

// appendHpackString appends an HPACK string literal (no Huffman).
func appendHpackString(b []byte, s []byte) []byte {
	b = appendHpackInt(b, 0x00, 7, uint64(len(s)))
	return append(b, s...)
}

func appendHpackInt(b []byte, first byte, prefix uint, v uint64) []byte {
	max := uint64(1)<<prefix - 1
	if v < max {
		return append(b, first|byte(v))
	}
	b = append(b, first|byte(max))
	v -= max
	for v >= 128 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// normalCall writes a unary call with request req and an OK response
// echoing it, on stream id of f.
func normalCall(f *flow, enc *hpack.Encoder, buf *bytes.Buffer, id uint32, path string, req []byte) {
	hb := requestHeaders(enc, buf, path)
	f.send(0, append(frame(http2.FrameHeaders, http2.FlagHeadersEndHeaders, id, hb), dataFrames(id, grpcMessage(false, req), true)...))
	respond(f, id, req)
}

func respond(f *flow, id uint32, resp []byte) {
	// Literals without indexing: no HPACK state to keep for the server.
	var b []byte
	hdr := func(fields ...string) []byte {
		var hb []byte
		for i := 0; i < len(fields); i += 2 {
			hb = append(hb, 0x00)
			hb = appendHpackString(hb, []byte(fields[i]))
			hb = appendHpackString(hb, []byte(fields[i+1]))
		}
		return hb
	}
	b = append(b, frame(http2.FrameHeaders, http2.FlagHeadersEndHeaders, id, hdr(":status", "200", "content-type", "application/grpc"))...)
	b = append(b, dataFrames(id, grpcMessage(false, resp), false)...)
	b = append(b, frame(http2.FrameHeaders, http2.FlagHeadersEndHeaders|http2.FlagHeadersEndStream, id, hdr("grpc-status", "0"))...)
	f.send(1, b)
}

// (d) a gzip message a few MB long that expands to size bytes of zeros.
func gzipBomb(w *writer, size int64) {
	f := w.flow(clientIP, 40002, serverIP, 50051)
	f.handshake()
	f.send(0, prefaceAndSettings())
	f.send(1, settings())
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	hb := requestHeaders(enc, &buf, "/attack.Bomb/Gzip", "grpc-encoding", "gzip")
	f.send(0, frame(http2.FrameHeaders, http2.FlagHeadersEndHeaders, 1, hb))
	bomb := GzipZeros(size)
	w.flushNormal()
	f.send(0, dataFrames(1, grpcMessage(true, bomb), true))
	respond(f, 1, []byte{0x08, 0x01})
	normalCall(f, enc, &buf, 3, "/attack.After/Bomb", []byte{0x0a, 0x03, 'y', 'o', 'u'})
}

// GzipZeros returns a gzip stream of size zero bytes (size ≥ 1), written by
// hand as one fixed-Huffman block of length-258, distance-1 copies: 13 bits
// per 258 bytes, about 1:160 (1 GiB in 6.5 MB; deflate cannot do better
// than about 1:1000, so "a few KB to GBs" needs nested compression, which
// gRPC does not have).
func GzipZeros(size int64) []byte {
	out := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	var acc uint64
	var nbits uint
	put := func(v uint64, n uint) { // LSB-first bits
		acc |= v << nbits
		nbits += n
		for nbits >= 8 {
			out = append(out, byte(acc))
			acc >>= 8
			nbits -= 8
		}
	}
	putCode := func(code uint64, n uint) { // Huffman codes go MSB-first
		var r uint64
		for i := uint(0); i < n; i++ {
			r = r<<1 | (code>>i)&1
		}
		put(r, n)
	}
	put(1, 1) // BFINAL
	put(1, 2) // fixed Huffman
	putCode(0x30, 8)
	left := size - 1
	for left >= 258 {
		putCode(0xc5, 8) // length 258: code 285
		putCode(0, 5)    // distance 1
		left -= 258
	}
	for ; left > 0; left-- {
		putCode(0x30, 8) // literal 0
	}
	putCode(0, 7) // end of block
	if nbits > 0 {
		out = append(out, byte(acc))
	}
	zeros := make([]byte, 1<<20)
	crc := uint32(0)
	for n := size; n > 0; {
		k := min(n, int64(len(zeros)))
		crc = crc32.Update(crc, crc32.IEEETable, zeros[:k])
		n -= k
	}
	out = binary.LittleEndian.AppendUint32(out, crc)
	return binary.LittleEndian.AppendUint32(out, uint32(size))
}

// (e) a message holding an 11-byte varint, and one nested depth deep.
func badProtobuf(w *writer, depth int) {
	f := w.flow(clientIP, 40003, serverIP, 50051)
	f.handshake()
	f.send(0, prefaceAndSettings())
	f.send(1, settings())
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	varint := append([]byte{0x08}, bytes.Repeat([]byte{0xff}, 10)...)
	varint = append(varint, 0x01)
	normalCall(f, enc, &buf, 1, "/attack.Proto/LongVarint", varint)
	w.flushNormal()
	normalCall(f, enc, &buf, 3, "/attack.Proto/Deep", Nested(depth))
	// 4 MiB of one-byte varint fields: two million fields in one message.
	normalCall(f, enc, &buf, 5, "/attack.Proto/Wide", bytes.Repeat([]byte{0x08, 0x01}, 2<<20))
}

// Nested returns a message with field 1 holding a message depth deep. It is
// built from the innermost level out, at the end of a buffer.
func Nested(depth int) []byte {
	buf := make([]byte, depth*(1+binary.MaxVarintLen32))
	start := len(buf)
	var tmp [binary.MaxVarintLen64]byte
	for i := 0; i < depth; i++ {
		n := binary.PutUvarint(tmp[:], uint64(len(buf)-start))
		start -= n
		copy(buf[start:], tmp[:n])
		start--
		buf[start] = 0x0a
	}
	return buf[start:]
}

// (f) a frame header claiming 16 MB, then the connection goes on with
// normal frames and calls.
func lyingFrameLength(w *writer) {
	f := w.flow(clientIP, 40004, serverIP, 50051)
	f.handshake()
	f.send(0, prefaceAndSettings())
	f.send(1, settings())
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	normalCall(f, enc, &buf, 1, "/attack.Frame/Before", []byte{0x0a, 0x03, 'y', 'o', 'u'})
	liar := frame(http2.FrameData, 0, 3, []byte("short"))
	liar[0], liar[1], liar[2] = 0xff, 0xff, 0xff
	f.send(0, liar)
	w.flushNormal()
	for i := uint32(5); i < 25; i += 2 {
		normalCall(f, enc, &buf, i, "/attack.Frame/After", []byte{0x0a, 0x03, 'y', 'o', 'u'})
	}
}
