package main

import (
	"context"
	"io"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/sniff"
)

// wantsHints says whether the NDJSON of this run reads each method's
// fields the way most of its messages do, which takes a first pass over
// the capture: a file (standard input cannot be read twice, a live capture
// has no end), unless --raw-alone.
func (c *config) wantsHints(in *input) bool {
	return c.json && in.live == nil && c.read != "-" && !c.rawAlone
}

// wantsFirstPass says whether a first pass over the capture is possible
// and of use: on a file (not standard input, not live) it learns the
// readings (wantsHints) and the message shapes that name the methods of
// calls whose :path the capture does not hold.
func (c *config) wantsFirstPass(in *input) bool {
	return in.live == nil && c.read != "" && c.read != "-"
}

// hintCalls bounds the first pass: the hints are learnt from the first
// calls of the capture, which show how most methods' fields read (a
// method's hints need at most a few hundred of its messages), so that a
// large file is not decoded twice over. On a capture of a million calls a
// whole first pass made --json half as slow again; this one costs what
// decoding 20,000 calls does.
const hintCalls = 20_000

// firstPass reads the start of the capture file a first time and learns,
// from its first hintCalls calls (in capture order, so the same ones on
// every run), how each method's fields read (when wantsHints) and its
// message shapes. It returns nils when the file cannot be read again; the
// second pass then says why. Nothing of the first pass reaches standard
// error: the second says it all again.
func firstPass(c *config, in *input) (*export.ReadingHints, *sniff.MethodBook) {
	src, err := capture.OpenFile(c.read)
	if err != nil {
		return nil, nil
	}
	defer src.Close()
	o := c.sniffOptions(&input{keys: in.keys}, nil, io.Discard)
	o.ReleaseCalls = true
	var h *export.ReadingHints
	if c.wantsHints(in) {
		h = export.NewReadingHints(c.limits.rawOptions())
	}
	book := sniff.NewMethodBook()
	ctx, enough := context.WithCancel(context.Background())
	defer enough()
	n := 0
	sniff.NewDecoder(o).Run(ctx, src, sniff.SinkFunc(func(call *sniff.Call) {
		if n++; n > hintCalls {
			enough() // calls after these are not counted, however many arrive
			return
		}
		book.Learn(call)
		if h != nil {
			h.Add(call)
		}
	}))
	if h != nil {
		h.Finish()
	}
	return h, book
}
