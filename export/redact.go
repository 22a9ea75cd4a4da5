package main

import (
	"slices"
	"strings"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// redactedValue replaces the value of a redacted header in every output.
const redactedValue = "[redacted]"

// defaultRedacted are the headers that carry credentials in gRPC and HTTP.
var defaultRedacted = []string{"authorization", "proxy-authorization", "cookie", "set-cookie"}

// redactSink masks the values of credential headers before a call reaches any
// output, so that a capture can be shared or pasted without its secrets.
type redactSink struct {
	names map[string]bool
	next  grpcframe.Sink
}

func newRedactSink(extra []string, next grpcframe.Sink) *redactSink {
	r := &redactSink{names: map[string]bool{}, next: next}
	for _, n := range append(defaultRedacted, extra...) {
		r.names[strings.ToLower(strings.TrimSpace(n))] = true
	}
	return r
}

func (r *redactSink) Call(c *grpcframe.Call) {
	c.RequestHeaders = r.mask(c.RequestHeaders)
	c.ResponseHeaders = r.mask(c.ResponseHeaders)
	c.Trailers = r.mask(c.Trailers)
	r.next.Call(c)
}

// mask returns hs with the values of credential headers replaced: a copy,
// when there is one, for a call's header list may be shared with other
// calls, and read by other goroutines, as it is.
func (r *redactSink) mask(hs []h2decode.HeaderField) []h2decode.HeaderField {
	copied := false
	for i := range hs {
		if !hs[i].NameUnknown && !hs[i].ValueUnknown && r.names[hs[i].Name] && hs[i].Value != redactedValue {
			if !copied {
				hs, copied = slices.Clone(hs), true
			}
			hs[i].Value = redactedValue
		}
	}
	return hs
}
