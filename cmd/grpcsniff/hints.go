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

// learnReadings reads the capture file a first time and learns how each
// method's fields read, from every call in it. It returns nil when the
// file cannot be read again; the second pass then says why. Nothing of the
// first pass reaches standard error: the second says it all again.
func learnReadings(c *config, in *input) *export.ReadingHints {
	src, err := capture.OpenFile(c.read)
	if err != nil {
		return nil
	}
	defer src.Close()
	o := c.sniffOptions(&input{keys: in.keys}, nil, io.Discard)
	o.ReleaseCalls = true
	h := export.NewReadingHints(c.limits.rawOptions())
	sniff.NewDecoder(o).Run(context.Background(), src, sniff.SinkFunc(h.Add))
	h.Finish()
	return h
}
