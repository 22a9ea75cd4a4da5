package export

import (
	"slices"
	"strings"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// RedactedValue replaces the value of a redacted header in every output.
const RedactedValue = "[redacted]"

// CredentialHeaders are the headers that carry credentials in gRPC and HTTP:
// what --redact masks when given no names.
var CredentialHeaders = []string{"authorization", "proxy-authorization", "cookie", "set-cookie"}

// Redactor is a sink that masks the values of the named headers (request
// and response headers and trailers) before passing a call on, so that a
// capture can be shared or pasted without its secrets.
type Redactor struct {
	names map[string]bool
	next  grpcframe.Sink
}

// NewRedactor masks the values of the headers names (case-insensitive) in
// the calls it passes to next.
func NewRedactor(names []string, next grpcframe.Sink) *Redactor {
	r := &Redactor{names: map[string]bool{}, next: next}
	for _, n := range names {
		r.names[strings.ToLower(strings.TrimSpace(n))] = true
	}
	return r
}

// Call implements grpcframe.Sink.
func (r *Redactor) Call(c *grpcframe.Call) {
	c.RequestHeaders = r.mask(c.RequestHeaders)
	c.ResponseHeaders = r.mask(c.ResponseHeaders)
	c.Trailers = r.mask(c.Trailers)
	r.next.Call(c)
}

// mask returns hs with the values of credential headers replaced: a copy,
// when there is one, for a call's header list may be shared with other
// calls, and read by other goroutines, as it is.
func (r *Redactor) mask(hs []h2decode.HeaderField) []h2decode.HeaderField {
	copied := false
	for i := range hs {
		if !hs[i].NameUnknown && !hs[i].ValueUnknown && r.names[hs[i].Name] && hs[i].Value != RedactedValue {
			if !copied {
				hs, copied = slices.Clone(hs), true
			}
			hs[i].Value = RedactedValue
		}
	}
	return hs
}
