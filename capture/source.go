package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/gzip"
)

// Packet is one captured frame.
type Packet struct {
	// Data holds the captured bytes, starting at the link-layer header. It
	// is only valid until the next call to the source's Next.
	Data []byte
	// Time is the capture timestamp.
	Time time.Time
	// LinkType says how Data starts (Ethernet, Linux cooked, raw IP, ...).
	LinkType layers.LinkType
	// CaptureLength is len(Data); Length is the frame's length on the wire,
	// larger when the capture's snap length cut the frame short.
	CaptureLength, Length int
}

// Source produces packets in capture order.
type Source interface {
	// Next returns the next packet, or io.EOF at the clean end of the
	// capture. Any other error ends the capture too; the packets returned
	// before it are good.
	Next() (Packet, error)
}

// ErrIdle is what a live source's Next returns (errors.Is) when no packet
// came for a while: the capture goes on, and Next may be called again. A
// reader uses the pause to expire what waits on time and hand on what is
// done, so that the calls of a quiet network are not held back.
var ErrIdle = errors.New("no packet within the poll timeout")

// Errors a FileSource wraps; test with errors.Is.
var (
	// ErrNotCapture: the input is neither pcap nor pcapng (nor their gzip).
	ErrNotCapture = errors.New("not a pcap or pcapng capture")
	// ErrEmpty: the input has no bytes at all.
	ErrEmpty = errors.New("empty capture file")
	// ErrTruncated: the input ends in the middle of a header or record,
	// typically a capture still being written or a partial copy.
	ErrTruncated = errors.New("capture file is truncated")
	// ErrCorrupt: the input has the structure of a capture but a header or
	// record in it is invalid.
	ErrCorrupt = errors.New("capture file is corrupt")
)

// FileError describes a problem with a capture file in words meant for the
// person who gave the file. Kind is one of the Err values above.
type FileError struct {
	Name    string // the file name as given, or "stdin"
	Kind    error
	Packets int64 // packets read successfully before the problem
	msg     string
}

func (e *FileError) Error() string { return e.msg }

// Unwrap returns Kind, so errors.Is(err, ErrTruncated) works.
func (e *FileError) Unwrap() error { return e.Kind }

const readBufferSize = 256 << 10

const supportedFormats = "grpcsniff reads .pcap, .pcapng and their .gz"

// FileSource reads a pcap or pcapng capture, optionally gzip-compressed,
// recognised by its first bytes rather than its name.
type FileSource struct {
	name       string
	file       *os.File // closed by Close; nil when the caller owns the reader
	size       int64
	count      *countingReader
	gz         *gzip.Reader
	pcap       *pcapgo.Reader
	ng         *pcapgo.NgReader
	guard      *recordGuard
	rec        pcapRecords     // pcap: reads records straight from the buffer
	ngrec      ngRecords       // pcapng: reads packet blocks straight from the buffer
	linkType   layers.LinkType // pcap: the file's link type
	format     string
	packets    int64
	err        error // sticky: once failed, Next keeps returning it
	compressed bool
	started    bool // Next was called
}

// OpenFile opens a capture file; path "-" reads standard input.
func OpenFile(path string) (*FileSource, error) {
	if path == "-" {
		s, err := OpenReader(os.Stdin, "stdin")
		if err != nil {
			return nil, err
		}
		if fi, err := os.Stdin.Stat(); err == nil && fi.Mode().IsRegular() {
			s.size = fi.Size()
		}
		return s, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory, not a capture file; %s", path, supportedFormats)
	}
	s, err := OpenReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.file = f
	if fi.Mode().IsRegular() {
		s.size = fi.Size()
	}
	return s, nil
}

// OpenReader reads a capture from r; name is used in error messages. The
// caller keeps ownership of r: Close does not close it.
func OpenReader(r io.Reader, name string) (*FileSource, error) {
	s := &FileSource{name: name, size: -1, count: &countingReader{r: r}}
	br := s.layer(s.count)
	magic, err := br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		s.compressed = true
		s.gz, err = gzip.NewReader(br)
		if err != nil {
			return nil, s.openError(err, nil)
		}
		br = s.layer(s.gz)
		magic, err = br.Peek(4)
	}
	if len(magic) == 0 {
		if err == nil || err == io.EOF {
			if s.compressed {
				return nil, s.fail(ErrEmpty, "%s is an empty gzip stream; %s", name, supportedFormats)
			}
			return nil, s.fail(ErrEmpty, "%s is empty; %s", name, supportedFormats)
		}
		return nil, s.openError(err, nil)
	}
	if len(magic) < 4 {
		if err != nil && err != io.EOF {
			return nil, s.openError(err, nil)
		}
		if s.compressed {
			return nil, s.fail(ErrNotCapture, "%s holds only %d bytes once decompressed, too few for a capture; %s", name, len(magic), supportedFormats)
		}
		return nil, s.fail(ErrNotCapture, "%s is only %d bytes long, too short to be a capture; %s", name, len(magic), supportedFormats)
	}
	switch {
	case isPcapMagic(magic):
		s.format = "pcap"
		big := magic[0] == 0xA1 // A1B2C3D4 or A1B23C4D in file order
		s.pcap, err = pcapgo.NewReader(br)
		if err != nil {
			return nil, s.openError(err, magic)
		}
		s.linkType = s.pcap.LinkType()
		s.rec = newPcapRecords(br, big, s.pcap.Resolution() == gopacket.TimestampResolutionNanosecond, s.pcap.Snaplen())
	case isPcapngMagic(magic):
		s.format = "pcapng"
		s.ng, err = pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, s.openError(err, magic)
		}
		s.ngrec = newNgRecords(br, s.ng, s.guard)
	default:
		return nil, s.fail(ErrNotCapture, "%s is not a pcap or pcapng capture (starts with % x)%s; %s",
			name, magic, describeMagic(magic, s.compressed), supportedFormats)
	}
	return s, nil
}

// layer puts a record guard and a read buffer over r. The pcapgo readers
// use the *bufio.Reader as is (it is larger than their default), so every
// byte they see has passed through the guard.
func (s *FileSource) layer(r io.Reader) *bufio.Reader {
	s.guard = &recordGuard{r: r}
	return bufio.NewReaderSize(s.guard, readBufferSize)
}

func isPcapMagic(m []byte) bool {
	switch uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3]) {
	case 0xA1B2C3D4, 0xD4C3B2A1, 0xA1B23C4D, 0x4D3CB2A1:
		return true
	}
	return false
}

func isPcapngMagic(m []byte) bool {
	return m[0] == 0x0A && m[1] == 0x0D && m[2] == 0x0D && m[3] == 0x0A
}

// mistakenFormats are formats people mistake for captures: how their data
// starts, and what to tell them.
var mistakenFormats = []struct{ magic, what string }{
	{"\x1f\x8b", "gzip inside gzip"},
	{"\xA1\xB2\xCD\x34", "a modified (Kuznetzov) pcap: convert it with editcap -F pcap"},
	{"\x34\xCD\xB2\xA1", "a modified (Kuznetzov) pcap: convert it with editcap -F pcap"},
	{"PK\x03\x04", "a zip archive: unzip it first"},
	{"BZh", "bzip2 data: decompress it first"},
	{"\xFD7zX", "xz data: decompress it first"},
	{"\x28\xB5\x2F\xFD", "zstd data: decompress it first"},
	{"snoo", "a snoop capture: convert it with editcap -F pcapng"},
}

// describeMagic names a few formats people mistake for captures.
func describeMagic(m []byte, compressed bool) string {
	in := ""
	if compressed {
		in = " inside the gzip stream"
	}
	for _, f := range mistakenFormats {
		if strings.HasPrefix(string(m), f.magic) {
			return in + ", " + f.what
		}
	}
	printable := true
	for _, c := range m {
		if c < 0x09 || c > 0x7e {
			printable = false
		}
	}
	if printable {
		return in + ", text"
	}
	return in
}

// openError turns a pcapgo or gzip error at open time into a FileError.
func (s *FileSource) openError(err error, magic []byte) error {
	if fe := s.guardError(); fe != nil {
		return fe
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		what := "the file header"
		if s.format != "" {
			what = "the " + s.format + " file header"
		}
		if s.compressed && s.format == "" {
			what = "the gzip header"
		}
		return s.fail(ErrTruncated, "%s is truncated: %s is incomplete", s.name, what)
	case isGzipError(err):
		return s.fail(ErrCorrupt, "%s: the gzip data is corrupt (%v)", s.name, err)
	case errors.Is(err, pcapgo.ErrNgVersionMismatch):
		return s.fail(ErrCorrupt, "%s has an unsupported pcapng version", s.name)
	case magic != nil:
		return s.fail(ErrCorrupt, "%s starts like a %s capture but its header is invalid (%v)", s.name, s.format, err)
	}
	return s.fail(ErrCorrupt, "%s: %v", s.name, err)
}

func isGzipError(err error) bool {
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) ||
		strings.HasPrefix(err.Error(), "flate:")
}

func (s *FileSource) guardError() error {
	if s.guard == nil {
		return nil
	}
	var tl errBadLength
	if !errors.As(s.guard.err, &tl) {
		return nil
	}
	if s.packets == 0 {
		return s.fail(ErrCorrupt, "%s is corrupt: %v", s.name, tl)
	}
	return s.fail(ErrCorrupt, "%s is corrupt after %s: %v; %s read", s.name, packetCount(s.packets), tl, those(s.packets))
}

func (s *FileSource) fail(kind error, format string, args ...any) error {
	return &FileError{Name: s.name, Kind: kind, Packets: s.packets, msg: fmt.Sprintf(format, args...)}
}

// Next returns the next packet. At the clean end of the capture it returns
// io.EOF; on a damaged file it returns a *FileError after the last good
// packet, and keeps returning it.
func (s *FileSource) Next() (Packet, error) {
	if s.err != nil {
		return Packet{}, s.err
	}
	if !s.started {
		s.started = true
		if s.guard.onSecrets == nil {
			s.guard.noSecrets, s.guard.heldSecrets = true, nil
		}
	}
	var (
		data []byte
		ci   gopacket.CaptureInfo
		err  error
		lt   = s.linkType
	)
	if s.pcap != nil {
		var ok bool
		if data, ci, ok = s.rec.next(); !ok {
			data, ci, err = s.pcap.ZeroCopyReadPacketData()
		}
	} else {
		if d, t, length, l, ok := s.ngrec.next(); ok {
			s.packets++
			return Packet{Data: d, Time: t, LinkType: l, CaptureLength: len(d), Length: length}, nil
		}
		data, ci, err = s.ng.ZeroCopyReadPacketData()
		if err == nil && len(ci.AncillaryData) > 0 {
			if l, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				lt = l
			}
		}
	}
	if err != nil {
		s.err = s.readError(err)
		return Packet{}, s.err
	}
	s.packets++
	return Packet{Data: data, Time: ci.Timestamp, LinkType: lt, CaptureLength: len(data), Length: ci.Length}, nil
}

func (s *FileSource) readError(err error) error {
	if err == io.EOF {
		return io.EOF
	}
	if fe := s.guardError(); fe != nil {
		return fe
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		if s.packets == 0 {
			return s.fail(ErrTruncated, "%s is truncated: its first record is cut short", s.name)
		}
		return s.fail(ErrTruncated, "%s is truncated after %s (the last record is cut short); %s read",
			s.name, packetCount(s.packets), those(s.packets))
	case isGzipError(err):
		if s.packets == 0 {
			return s.fail(ErrCorrupt, "%s: the gzip data is corrupt (%v)", s.name, err)
		}
		return s.fail(ErrCorrupt, "%s: the gzip data is corrupt after %s (%v); %s read",
			s.name, packetCount(s.packets), err, those(s.packets))
	}
	if s.packets == 0 {
		return s.fail(ErrCorrupt, "%s is corrupt in its first record (%v)", s.name, err)
	}
	return s.fail(ErrCorrupt, "%s is corrupt after %s (%v); %s read", s.name, packetCount(s.packets), err, those(s.packets))
}

func packetCount(n int64) string {
	if n == 1 {
		return "1 packet"
	}
	return fmt.Sprintf("%d packets", n)
}

func those(n int64) string {
	if n == 1 {
		return "that packet was"
	}
	return "those packets were"
}

// OnSecrets asks for the Decryption Secrets Blocks of a pcapng capture (as
// written by editcap --inject-secrets or by a capturing program that knows
// the TLS keys): f is called with each block's secrets type (0x544c534b,
// "TLSK", for an NSS key log) and its secrets, as the block is read. It must
// be set before the first Next (later, it is ignored: the blocks are only
// kept for it until then); blocks already read when it is set (those at the
// start of the capture) are handed to it at once.
//
// The file is read ahead of the packets Next returns, so f may hear of a
// block before Next has returned the packets that precede it in the file,
// but never after it returns one that follows it. f is called from within OnSecrets or
// Next, in their goroutine; data is f's to keep. A pcap capture has no such
// blocks.
func (s *FileSource) OnSecrets(f func(secretsType uint32, data []byte)) {
	if s.started || s.guard == nil {
		return
	}
	s.guard.onSecrets = f
	held := s.guard.heldSecrets
	s.guard.heldSecrets = nil
	for _, h := range held {
		f(h.typ, h.data)
	}
}

// Size returns the size of the file in bytes, or -1 when unknown (a pipe).
func (s *FileSource) Size() int64 { return s.size }

// Offset returns how many bytes of the file (compressed bytes for a .gz)
// have been read so far, read-ahead included; compare with Size for a
// progress bar. It is safe to call from another goroutine.
func (s *FileSource) Offset() int64 { return s.count.n.Load() }

// Packets returns how many packets Next has returned.
func (s *FileSource) Packets() int64 { return s.packets }

// Format names the file's format: "pcap", "pcapng", "pcap.gz" or "pcapng.gz".
func (s *FileSource) Format() string {
	if s.compressed {
		return s.format + ".gz"
	}
	return s.format
}

// Name returns the name the source was opened with.
func (s *FileSource) Name() string { return s.name }

// Close releases the file. For OpenReader the reader is left open.
func (s *FileSource) Close() error {
	var err error
	if s.gz != nil {
		err = s.gz.Close()
		s.gz = nil
	}
	if s.file != nil {
		if e := s.file.Close(); err == nil {
			err = e
		}
		s.file = nil
	}
	if s.err == nil {
		s.err = errors.New("capture: read from a closed FileSource")
	}
	return err
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

var _ Source = (*FileSource)(nil)
