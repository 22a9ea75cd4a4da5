package tui

import (
	"context"
	"errors"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/grpcsniff/grpcsniff/filter"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/pbdecode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
)

// DefaultMaxMessageBytes is the bytes of one message the UI keeps when
// Options.MaxMessageBytes is 0: enough for the messages people read, small
// enough that a capture of bulk transfers does not fill the memory.
const DefaultMaxMessageBytes = 64 << 10

// Update is one item of the feed: a finished call, a progress report, or
// both. A nil field is absent.
type Update struct {
	Call     *grpcframe.Call
	Progress *Progress
}

// Progress says how far the input has been read.
type Progress struct {
	Bytes, Total int64 // bytes read of the total; Total 0 when unknown (stdin, live)
	Calls        int   // calls decoded so far
	Done         bool  // the input is exhausted; no more calls will come
	// Err is a reading problem to show (a truncated capture); the calls
	// before it are still shown.
	Err string
	// Notes are what the reading noticed beyond the calls, for the notes
	// screen and an empty list: connections not decoded and why (TLS
	// without keys, not HTTP/2), bytes lost, limits hit. The last Progress
	// that has them is kept.
	Notes []string
	// Live is set for a capture from an interface: Packets counts what it
	// captured, KernelDrops and InterfaceDrops what it lost (shown in the
	// status bar, in red when not 0: calls may be missing or incomplete).
	Live                                 bool
	Packets, KernelDrops, InterfaceDrops int64
}

// Options configure the UI. The zero value works.
type Options struct {
	// Title names the input in the title bar (the file name, "stdin", an
	// interface).
	Title string
	// Filter is the initial display filter (from -Y); it must parse.
	Filter string
	// Schema resolves named fields in filters; nil without schemas (then
	// Registry, when set, does).
	Schema filter.Schema
	// Decode bounds the protobuf decoding of messages.
	Decode pbdecode.Options
	// Location is the time zone of absolute times; nil means time.Local.
	Location *time.Location
	// ExportDir is where "e" writes NDJSON files and "w" pcapng files; ""
	// means the current directory.
	ExportDir string
	// Registry names the fields of messages whose method it knows, in the
	// detail screen and in grpcurl commands; nil shows the wire decoding
	// alone.
	Registry *schema.Registry
	// CapturePath is the capture file, which "w" reads again to write the
	// packets of the chosen connections; "" (standard input, which cannot
	// be read twice) leaves "w" unavailable.
	CapturePath string
	// MaxCalls bounds the calls the UI keeps: beyond it the oldest are
	// dropped, and the title says how many. 0 keeps every call, which suits
	// a file; a capture that runs for days needs a bound.
	MaxCalls int
	// GrpcurlSchema are the grpcurl flags that give it the schemas the
	// view was given (-import-path DIR -proto FILE, -protoset FILE), put in
	// the commands y builds.
	GrpcurlSchema []string
	// Live is for a capture that goes on while the view is open: the list
	// starts following the newest call. A file opens at its first call, as
	// Wireshark and termshark do.
	Live bool
	// MaxMessageBytes bounds the bytes of one message the UI keeps (the rest
	// is cut, and the message line says so), so that a few huge messages
	// cannot hold the memory. 0 means DefaultMaxMessageBytes; a negative
	// value keeps every byte.
	MaxMessageBytes int
	// Reload reads calls from the capture again. With it, the view keeps
	// a record of every call but the full calls only up to KeepBytes, and
	// reads the others again when they are opened, copied or exported;
	// without it (standard input, live capture) every call is kept, up to
	// MaxCalls.
	Reload Reloader
	// Recycle, when set, is given each call the view lets go as it
	// arrives, which nothing else has seen (sniff.Release), so that its
	// memory serves the calls still to come.
	Recycle func(*grpcframe.Call)
	// KeepBytes bounds the estimated memory of the calls kept in full when
	// Reload is set; 0 means DefaultKeepBytes, negative keeps every call.
	KeepBytes int64

	// Input and Output replace the terminal (tests); nil means stdin and
	// stdout.
	Input  io.Reader
	Output io.Writer
}

// Run shows the UI until the user quits or ctx ends. updates is read until
// it is closed; the caller closes it when the input is exhausted (after a
// final Progress with Done set, ideally).
func Run(ctx context.Context, updates <-chan Update, opts Options) error {
	m, err := New(updates, opts)
	if err != nil {
		return err
	}
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	_, err = tea.NewProgram(m, popts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// batchMsg carries the updates read in one go. Reading many per message
// keeps a fast loader from turning into one re-render per call.
type batchMsg struct {
	calls    []*grpcframe.Call
	progress *Progress
	closed   bool
}

// maxBatch bounds the calls taken per message so that the screen still
// refreshes while a large capture streams in.
const maxBatch = 8192

// waitUpdates blocks for one update, then takes whatever else is ready.
// batchWait is how long a batch gathers the updates that follow its
// first: about a frame at 60 per second.
const batchWait = 15 * time.Millisecond

func waitUpdates(ch <-chan Update) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		var b batchMsg
		u, ok := <-ch
		if !ok {
			b.closed = true
			return b
		}
		b.add(u)
		// Gather for about a frame: the view is drawn after every batch,
		// and batches of whatever was waiting would draw it thousands of
		// times a second while a file loads.
		gather := time.NewTimer(batchWait)
		defer gather.Stop()
		for len(b.calls) < maxBatch {
			select {
			case u, ok := <-ch:
				if !ok {
					b.closed = true
					return b
				}
				b.add(u)
			case <-gather.C:
				return b
			}
		}
		return b
	}
}

func (b *batchMsg) add(u Update) {
	if u.Call != nil {
		b.calls = append(b.calls, u.Call)
	}
	if u.Progress != nil {
		b.progress = u.Progress
	}
}
