package grpcframe

import (
	"slices"
	"unsafe"

	"github.com/grpcsniff/grpcsniff/h2decode"
)

// The header lists that calls of one connection share instead of copying.

// Bits of Call.shared.
const (
	sharedRequest uint8 = 1 << iota
	sharedResponse
	sharedTrailers
)

// sharedList holds the last few header lists of one kind (request
// headers, say) on a connection, each in memory of its own that is never
// written again. Calls that repeat one, field for field, share it rather
// than copy it: a client sends the same request headers on every call to a
// method (a few methods, a few lists), a server the same response headers
// and trailers. Comparing a block with the lists costs about what copying
// it would; the calls are smaller, and a writer that knows a list
// (export.Encoder) need not read it again.
type sharedList struct {
	entries []sharedEntry // up to sharedPerKind, made on first use
	next    int           // the entry a new list replaces once all are used
	hits    uint32        // calls that shared a list since one was last made
	misses  uint32        // blocks in a row that repeated none
}

type sharedEntry struct {
	fields []h2decode.HeaderField // cap == len, so appending copies
	cost   int                    // bytes counted against Assembler.sharedBytes
	// block is the HeadersEvent.Block that fields were last found equal
	// to: the same block again is the same list, without comparing.
	block uint64
}

// sharedPerKind is how many lists of a kind a connection keeps: enough for
// a client that calls a few methods in turn on one connection.
const sharedPerKind = 4

// keep returns the shared list fs repeats, or a new one made of fs, or nil
// when the connection's lists do not repeat (a per-call value such as
// grpc-timeout, or more methods in turn than there are entries): after
// sharedPerKind blocks in a row that repeated none, each goes to its call's
// own (recycled) memory, and only every sixteenth makes a new list, to
// notice when lists repeat again.
func (l *sharedList) keep(fs []h2decode.HeaderField, block uint64, budget *int) []h2decode.HeaderField {
	if len(fs) > maxSharedFields {
		return nil
	}
	if block != 0 {
		for i := range l.entries {
			if e := &l.entries[i]; e.block == block {
				l.hits++
				l.misses = 0
				return e.fields
			}
		}
	}
	for i := range l.entries {
		if e := &l.entries[i]; slices.Equal(e.fields, fs) {
			if block != 0 {
				e.block = block
			}
			l.hits++
			l.misses = 0
			return e.fields
		}
	}
	size := 0
	for i := range fs {
		size += len(fs[i].Name) + len(fs[i].Value)
	}
	if size > maxSharedBytes {
		return nil // not a miss: such lists are never shared
	}
	l.misses++
	if l.hits == 0 && l.misses > sharedPerKind && l.misses%16 != 0 {
		return nil
	}
	cost := size + len(fs)*int(unsafe.Sizeof(h2decode.HeaderField{}))
	old := 0
	if len(l.entries) == sharedPerKind {
		old = l.entries[l.next].cost
	}
	if *budget-old+cost > maxSharedTotal {
		return nil
	}
	if len(l.entries) < sharedPerKind {
		l.next = len(l.entries)
		l.entries = append(l.entries, sharedEntry{})
	}
	e := &l.entries[l.next]
	*budget += cost - e.cost
	e.fields, e.cost, e.block = slices.Clip(slices.Clone(fs)), cost, block
	l.next = (l.next + 1) % sharedPerKind
	l.hits = 0
	return e.fields
}

// release drops the lists, and their cost from budget: the connection
// ended.
func (l *sharedList) release(budget *int) {
	for _, e := range l.entries {
		*budget -= e.cost
	}
	*l = sharedList{}
}

// A connection's shared lists outlive its calls, so they are bounded: each
// to maxSharedFields fields and maxSharedBytes of names and values (larger
// blocks go to their calls' own memory), and those of all an Assembler's
// connections together to maxSharedTotal bytes of fields and text, so that
// a flood of connections with large header blocks cannot make them grow
// with the connection table. A connection's lists go when it ends.
const (
	maxSharedFields = 32
	maxSharedBytes  = 2048
	maxSharedTotal  = 8 << 20
)
