package live

import (
	"bytes"
	"errors"
	"io"
	"runtime"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/grpcsniff/grpcsniff/capture"
)

// flushThreshold is how many bytes of whole blocks PcapngWriter collects
// before writing them out by itself.
const flushThreshold = 256 << 10

// PcapngWriter writes a capture as pcapng, with the TLS key logs needed to
// decrypt it in Decryption Secrets Blocks, so that Wireshark (and grpcsniff
// -r) can read the file without a separate key log.
//
// It only writes whole blocks to the underlying writer, one Write call per
// batch: a process killed between two Flushes leaves a file that ends at a
// block boundary, which readers accept as a complete, shorter capture.
// Nothing is written until the first Flush, Close, or until enough blocks
// have collected; call Flush as often as the data's value warrants, e.g.
// after each batch of packets Next returned.
//
// A PcapngWriter is not safe for concurrent use.
type PcapngWriter struct {
	out     io.Writer
	pending bytes.Buffer     // whole blocks not yet written to out
	ng      *pcapgo.NgWriter // writes into pending through its own bufio
	err     error            // sticky: the first error of out
	closed  bool
}

// errWriterClosed is returned by the methods of a closed PcapngWriter.
var errWriterClosed = errors.New("pcapng writer is closed")

// NewPcapngWriter starts a pcapng file on w with one interface of link type
// lt (Source.LinkType), snap length snaplen, and name ifaceName. It does
// not take ownership of w: Close does not close it.
func NewPcapngWriter(w io.Writer, lt layers.LinkType, snaplen int, ifaceName string) (*PcapngWriter, error) {
	pw := &PcapngWriter{out: w}
	intf := pcapgo.NgInterface{
		Name:                ifaceName,
		OS:                  runtime.GOOS,
		LinkType:            lt,
		SnapLength:          uint32(max(snaplen, 0)),
		TimestampResolution: 9, // nanoseconds, as the ring gives them
	}
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware:    runtime.GOARCH,
		OS:          runtime.GOOS,
		Application: "grpcsniff",
	}}
	ng, err := pcapgo.NewNgWriterInterface(&pw.pending, intf, opts)
	if err != nil {
		return nil, err
	}
	pw.ng = ng
	if err := pw.blockDone(); err != nil {
		return nil, err
	}
	return pw, nil
}

// WritePacket adds a packet. It is safe to pass a Packet whose Data will be
// reused: the bytes are copied before WritePacket returns.
func (w *PcapngWriter) WritePacket(p capture.Packet) error {
	if err := w.usable(); err != nil {
		return err
	}
	ci := gopacket.CaptureInfo{
		Timestamp:     p.Time,
		CaptureLength: len(p.Data),
		Length:        max(p.Length, len(p.Data)),
	}
	if err := w.ng.WritePacket(ci, p.Data); err != nil {
		return err
	}
	return w.blockDone()
}

// WriteDecryptionSecrets adds a Decryption Secrets Block holding TLS key
// log lines in the NSS key log format (SSLKEYLOGFILE). A reader applies the
// secrets to the packets that follow the block, so write secrets as soon as
// they are known and before the packets they decrypt: typically whenever
// the key log file grows, between two WritePacket calls. Blocks may appear
// anywhere between packets, any number of times. Empty input writes nothing.
func (w *PcapngWriter) WriteDecryptionSecrets(nssKeyLog []byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	if len(nssKeyLog) == 0 {
		return nil
	}
	if nssKeyLog[len(nssKeyLog)-1] != '\n' {
		// Readers split the secrets into lines; do not leave the last one
		// unterminated.
		nssKeyLog = append(nssKeyLog[:len(nssKeyLog):len(nssKeyLog)], '\n')
	}
	if err := w.ng.WriteDecryptionSecretsBlock(pcapgo.DSB_SECRETS_TYPE_TLS, nssKeyLog); err != nil {
		return err
	}
	return w.blockDone()
}

// Flush writes the blocks collected so far to the underlying writer in one
// Write call. It does not sync a file to disk.
func (w *PcapngWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.pending.Len() == 0 {
		return nil
	}
	n, err := w.out.Write(w.pending.Bytes())
	if err == nil && n < w.pending.Len() {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
		return err
	}
	w.pending.Reset()
	return nil
}

// Close flushes the file; later writes fail. The underlying writer is left
// open.
func (w *PcapngWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	return w.Flush()
}

func (w *PcapngWriter) usable() error {
	if w.closed {
		return errWriterClosed
	}
	return w.err
}

// blockDone moves the block just written out of the NgWriter's buffer, so
// that pending holds whole blocks only, and writes them out once enough
// have collected.
func (w *PcapngWriter) blockDone() error {
	if err := w.ng.Flush(); err != nil { // into pending: cannot fail
		return err
	}
	if w.pending.Len() >= flushThreshold {
		return w.Flush()
	}
	return nil
}
