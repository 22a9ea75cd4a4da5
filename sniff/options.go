package sniff

import (
	"runtime"
	"sync"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
)

// Call is one decoded call: a gRPC, gRPC-Web, Connect, Twirp or HTTP request with its
// response (see grpcframe.Call).
type Call = grpcframe.Call

// Message is one message of a call.
type Message = grpcframe.Message

// Sink takes the calls a Decoder finds, in the order of their start (for a
// capture file), one at a time, from one goroutine. The sink owns each call
// it is given; one that is done with a call may hand it to Release.
type Sink = grpcframe.Sink

// SinkFunc turns a function into a Sink.
type SinkFunc = grpcframe.SinkFunc

// Options configure a Decoder. The zero value decodes a capture file with
// every limit at its default, one worker per CPU (up to 8) and no schemas.
//
// Each layer's options are held as they are, one field each; their zero
// values mean that layer's defaults, and their doc comments say what each
// limit bounds. Of Calls, the Decoder sets EmitOnFinish (from Live), OnMessage,
// KeepPayload, Tally and TallyMethod itself: use the fields of the same
// purpose here.
type Options struct {
	TCP   capture.Options    // TCP reassembly: out-of-order bytes held, connections tracked, idle timeout
	TLS   tlsdecrypt.Options // decryption; Report is called after the Decoder's own
	HTTP  h2decode.Options   // HTTP/2 and HTTP/1.1: header blocks, header lists, HPACK table
	Calls grpcframe.Options  // calls: message size, open streams per connection

	// Keys holds the TLS session secrets (an NSS key log). nil decrypts
	// nothing, but TLS connections are still named with what they lack.
	// The Decryption Secrets Blocks of a pcapng capture file are added to
	// it as the file is read (a new KeyLog is made when Keys is nil).
	Keys *tlsdecrypt.KeyLog

	// Workers is how many goroutines decode connections: 0 means one per
	// CPU, at most 8 (DefaultWorkers); Inline decodes in the goroutine
	// reading the packets. A capture file's calls come out the same,
	// byte for byte, for any number.
	Workers int

	// Live is for a capture that runs as packets arrive (an interface):
	// calls are handed on as they end rather than in order of start;
	// connections quiet for TCP.IdleTimeout are ended; a source error
	// matching capture.ErrIdle means only that no packet came for a while;
	// and calls still open when the source ends are cut at the wall
	// clock's time.
	Live bool

	// Schemas, when set, is fed from the calls themselves: the file
	// descriptors that captured server reflection calls carry are added to
	// it (so every call starting after one ended is decoded with them),
	// and calls whose :path HPACK could not recover get MethodInferred and
	// MethodCandidates from the methods whose types read their messages.
	Schemas *schema.Registry
	// Methods names the methods of calls whose :path HPACK could not
	// recover (MethodInferred, MethodCandidates) from the message shapes
	// of the calls whose method is known. A first pass over a file may
	// have filled it, so that calls before a method's first known call are
	// named too; it goes on learning from the calls as they pass, in
	// order. When nil, the run keeps a book of its own, which knows only
	// the calls before each one (a live capture, standard input). With
	// Schemas, an inference of the schemas stands; the shapes choose among
	// several schema candidates, or speak when no schema type fits.
	Methods *MethodBook
	// ReflectServers asks each server the calls went to, once, for its
	// schemas through gRPC server reflection (over TLS when the capture
	// shows TLS to it, without checking its certificate when
	// ReflectInsecure is set). This connects to the network. It needs
	// Schemas.
	ReflectServers  bool
	ReflectInsecure bool

	// Match, when set, selects the calls handed to the sink (a display
	// filter: filter.Expr.Match); the others are counted and released.
	Match func(*Call) bool
	// Redact names headers (case-insensitive) whose values are replaced by
	// export.RedactedValue before a call reaches the sink
	// (export.CredentialHeaders are the usual ones).
	Redact []string
	// DropPayloads says that the sink reads no message bytes (a summary of
	// counts and lengths): they are kept only where the Decoder itself
	// needs them (reflection calls, calls of unknown method). Much faster.
	DropPayloads bool
	// ReleaseCalls says that the sink reads each call only while its Call
	// runs: the Decoder releases the call afterwards (see Release), so
	// later calls reuse its memory. Ignored with OnMessage, whose calls are
	// kept.
	ReleaseCalls bool
	// OnMessage, when set, is told of each message as it completes, before
	// its call ends (from the goroutine that runs the sink, in capture
	// order). The call is a copy of the call as it stood; it must not be
	// changed.
	OnMessage func(c *Call, request bool, index int, m *Message)

	// OnProgress, when set, is told of each call still open as it grows
	// (its request headers read, a message complete), with a copy of the
	// call as it stands (grpcframe.Options.OnProgress), from the goroutine
	// that runs the sink, in capture order. A view of calls in progress
	// keeps the newest copy of each (by ConnID and StreamID) until the call
	// itself arrives. The Decoder then releases no call.
	OnProgress func(c *Call)

	// Progress, when set, is called every few thousand packets and
	// whenever a live source is idle, from the goroutine reading packets.
	Progress func()
	// Warn, when set, is told of problems that do not stop the decoding:
	// an unreadable reflection response, a server that would not reflect
	// (schema.ErrNoReflection), a key log line that was skipped. It is
	// called from the goroutine reading packets or the one running the
	// sink, one call at a time.
	Warn func(error)
}

// Inline is Options.Workers for decoding everything in the goroutine that
// reads the packets (the sink still runs in a goroutine of its own).
const Inline = -1

// DefaultWorkers is how many goroutines decode connections when
// Options.Workers is 0: one per CPU, up to 8. Beyond that the goroutine
// reading the packets and the one merging the calls are the limit, and the
// merge looks at every worker's log for every operation.
func DefaultWorkers() int { return min(runtime.GOMAXPROCS(0), 8) }

// workers is the number of decoding goroutines the options ask for; 0 for
// Inline.
func (o *Options) workers() int {
	switch {
	case o.Workers == 0:
		return DefaultWorkers()
	case o.Workers < 0:
		return 0
	}
	return o.Workers
}

// warn passes err to Warn, one call at a time: the key log's warnings come
// from the goroutine reading packets, the schemas' from the sink's.
func (o *Options) warn(err error) {
	if o.Warn != nil {
		warnMu.Lock()
		defer warnMu.Unlock()
		o.Warn(err)
	}
}

// warnMu serialises the calls of Options.Warn.
var warnMu sync.Mutex

// callOptions are the options of one assembler.
func (o *Options) callOptions() grpcframe.Options {
	c := o.Calls
	c.EmitOnFinish = o.Live
	c.OnMessage, c.OnProgress, c.Tally, c.TallyMethod = nil, nil, nil, nil
	c.KeepPayload = nil
	if o.DropPayloads {
		c.KeepPayload = needsPayload
	}
	return c
}

// needsPayload says whether a call's message bytes are read by the
// Decoder itself: for the schemas of reflection calls, and to infer the
// method of calls whose :path was not captured.
func needsPayload(c *Call) bool {
	return c.Method == "" || c.MethodUnknown || schema.IsReflection(c.Method)
}

// Release hands a call the sink is done with back for reuse: the memory of
// later calls is taken from it. Nothing may read the call, its messages or
// header lists afterwards. Calls of server reflection are kept as they
// are: the schemas harvested from them are built from their messages.
func Release(c *Call) {
	if !schema.IsReflection(c.Method) {
		grpcframe.Recycle(c)
	}
}

// notReflection is the Tally method filter: reflection calls feed the
// schemas, in order.
func notReflection(method string) bool { return !schema.IsReflection(method) }
