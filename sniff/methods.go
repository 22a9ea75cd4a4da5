package sniff

import (
	"cmp"
	"slices"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"google.golang.org/protobuf/encoding/protowire"
)

// Bounds of a MethodBook: a capture of millions of calls and as many
// distinct paths must not make it grow without end. Past a bound, new
// methods, entries or shapes are not learnt (what was learnt stays).
const (
	maxBookMethods = 10_000
	maxBookEntries = 100_000
	maxBookShapes  = 64  // distinct shapes kept per method (or entry) and direction
	maxBookKeys    = 256 // distinct field keys kept per method and direction
	maxShapeKeys   = 64  // field keys read from one message
)

// MethodBook names the methods of calls whose :path HPACK could not
// recover, from the calls of the same capture whose method is known: the
// shape of their messages (how many each way, which top-level field
// numbers with which wire types). Calls whose :path was the same unknown
// table entry are one method, so their evidence is pooled; a method the
// same connection sent as a known entry before cannot be an older unknown
// entry (an encoder references the newest entry of a header, and a table
// evicts oldest first); distinct unknown entries of one connection are
// distinct methods.
//
// What it learns are sets, so learning a call twice changes nothing: a
// first pass over a file may fill it, and the second pass learn again as
// it infers. It is used from one goroutine, in the calls' order, so its
// inferences are the same whatever the number of workers.
type MethodBook struct {
	methods map[string]*shapeSet
	entries map[h2decode.TableRef]*entryEvidence
	// byConn lists each connection's unknown entries, in the order seen.
	byConn map[uint64][]h2decode.TableRef
	// knownFrom is, per connection and method, the lowest stream that
	// carried that method as a known :path.
	knownFrom map[connMethod]uint32
	// version counts the changes learnt; fits caches each entry's fitting
	// methods as of a version, so that the many calls of one entry, and
	// the other entries each inference looks at, are matched once per
	// change rather than once per call.
	version uint64
	fits    map[h2decode.TableRef]cachedFit
}

type cachedFit struct {
	version uint64
	cands   []candidate
}

type connMethod struct {
	conn   uint64
	method string
}

// entryEvidence is what the calls sharing one unknown :path entry showed.
type entryEvidence struct {
	shapes    shapeSet
	lastCall  uint32 // highest stream ID seen with this entry
	firstCall uint32
}

// shapeSet is what messages of one method (or one unknown entry) looked
// like, per direction (0: requests, 1: responses).
type shapeSet struct {
	shapes [2]map[string]bool // exact top-level key sets
	keys   [2]map[uint64]bool // every top-level key seen
	counts map[[2]int]bool    // message counts of whole calls
	seen   [2]bool            // some message of that direction was read
}

// NewMethodBook returns an empty book.
func NewMethodBook() *MethodBook {
	return &MethodBook{methods: map[string]*shapeSet{}, entries: map[h2decode.TableRef]*entryEvidence{},
		knownFrom: map[connMethod]uint32{}, byConn: map[uint64][]h2decode.TableRef{}, fits: map[h2decode.TableRef]cachedFit{}}
}

// Learn adds a finished call's evidence: a gRPC call of known method
// teaches that method's shapes; one of unknown method, its entry's.
func (b *MethodBook) Learn(c *grpcframe.Call) {
	if !c.GRPC || c.Protocol != grpcframe.ProtoGRPC {
		return
	}
	if !c.MethodUnknown && c.Method != "" {
		b.learnKnown(c)
		return
	}
	ref, ok := unknownPathRef(c)
	if !ok {
		return
	}
	e := b.entries[ref]
	if e == nil {
		if len(b.entries) >= maxBookEntries {
			return
		}
		e = &entryEvidence{firstCall: c.StreamID}
		b.entries[ref] = e
		b.byConn[ref.Conn] = append(b.byConn[ref.Conn], ref)
	}
	if c.StreamID > e.lastCall || c.StreamID < e.firstCall {
		b.version++
	}
	e.lastCall = max(e.lastCall, c.StreamID)
	e.firstCall = min(e.firstCall, c.StreamID)
	if e.shapes.add(c) {
		b.version++
	}
}

func (b *MethodBook) learnKnown(c *grpcframe.Call) {
	k := connMethod{c.ConnID, c.Method}
	if from, ok := b.knownFrom[k]; !ok || c.StreamID < from {
		if ok || len(b.knownFrom) < maxBookEntries {
			b.knownFrom[k] = c.StreamID
			b.version++
		}
	}
	s := b.methods[c.Method]
	if s == nil {
		if len(b.methods) >= maxBookMethods {
			return
		}
		s = &shapeSet{}
		b.methods[c.Method] = s
	}
	if s.add(c) {
		b.version++
	}
}

// add records the shapes of a call's whole messages, and says whether
// they were new.
func (s *shapeSet) add(c *grpcframe.Call) (changed bool) {
	for dir, msgs := range [2][]*grpcframe.Message{c.Requests, c.Responses} {
		for _, m := range msgs {
			keys, ok := messageKeys(m)
			if !ok {
				continue
			}
			changed = changed || !s.seen[dir]
			s.seen[dir] = true
			changed = addCapped(&s.shapes[dir], shapeName(keys), maxBookShapes) || changed
			for _, k := range keys {
				changed = addCapped(&s.keys[dir], k, maxBookKeys) || changed
			}
		}
	}
	return addCapped(&s.counts, [2]int{len(c.Requests), len(c.Responses)}, maxBookShapes) || changed
}

// addCapped adds k to the set *m unless the set is full, and says whether
// k is new.
func addCapped[K comparable](m *map[K]bool, k K, limit int) bool {
	if *m == nil {
		*m = map[K]bool{}
	}
	if (*m)[k] || len(*m) >= limit {
		return false
	}
	(*m)[k] = true
	return true
}

// messageKeys reads the top-level field keys (number and wire type) of a
// whole, readable message, sorted and without repeats; ok is false when
// the message is cut, still compressed, or not protobuf.
func messageKeys(m *grpcframe.Message) (keys []uint64, ok bool) {
	if m.Truncated || m.Body || (m.Compressed && m.Encoding == "") {
		return nil, false
	}
	for p := m.Data; len(p) > 0; {
		num, typ, n := protowire.ConsumeTag(p)
		if n < 0 {
			return nil, false
		}
		v := protowire.ConsumeFieldValue(num, typ, p[n:])
		if v < 0 || typ == protowire.StartGroupType || typ == protowire.EndGroupType {
			return nil, false
		}
		p = p[n+v:]
		if k := uint64(protowire.EncodeTag(num, typ)); !slices.Contains(keys, k) && len(keys) < maxShapeKeys {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, true
}

// shapeName is a key set as a map key.
func shapeName(keys []uint64) string {
	b := make([]byte, 0, len(keys)*3)
	for _, k := range keys {
		b = protowire.AppendVarint(b, k)
	}
	return string(b)
}

// candidate is a method that fits an entry's evidence, and how well.
type candidate struct {
	method string
	score  int
}

// Infer sets MethodInferred and MethodCandidates on a call whose :path is
// unknown, from what the book has learnt so far. A method is offered when
// nothing the entry's calls showed contradicts it; it is the one inference
// only when it also fits better than any other.
func (b *MethodBook) Infer(c *grpcframe.Call) {
	ref, ok := unknownPathRef(c)
	e := b.entries[ref]
	if !ok || e == nil {
		return
	}
	cands := b.fitting(ref, e)
	cands = b.unclaimed(ref, cands)
	if len(cands) == 0 {
		return
	}
	c.MethodCandidates = make([]string, len(cands))
	for i, k := range cands {
		c.MethodCandidates[i] = k.method
	}
	if cands[0].score > 0 && (len(cands) == 1 || cands[0].score > cands[1].score) {
		c.MethodInferred = cands[0].method
	}
}

// fitting lists the known methods that fit an entry's evidence, best
// first, leaving out those its connection sent as known entries before
// one of the entry's calls.
func (b *MethodBook) fitting(ref h2decode.TableRef, e *entryEvidence) []candidate {
	if f, ok := b.fits[ref]; ok && f.version == b.version {
		return f.cands
	}
	var out []candidate
	for m, s := range b.methods {
		if b.sentKnownBefore(ref, e, m) {
			continue
		}
		if score, ok := s.fit(&e.shapes); ok {
			out = append(out, candidate{m, score})
		}
	}
	slices.SortFunc(out, func(x, y candidate) int {
		return cmp.Or(cmp.Compare(y.score, x.score), cmp.Compare(x.method, y.method))
	})
	b.fits[ref] = cachedFit{b.version, out}
	return out
}

// sentKnownBefore says whether the entry's connection sent method m as a
// known :path before one of the entry's calls: the encoder held an entry
// of its own for m then, newer than any entry inserted before the capture
// began, and would have used it.
func (b *MethodBook) sentKnownBefore(ref h2decode.TableRef, e *entryEvidence, m string) bool {
	from, ok := b.knownFrom[connMethod{ref.Conn, m}]
	return ok && from < e.lastCall
}

// fit scores how well an entry's shapes match a method's: a shape the
// method has shown counts twice, a call's message counts once; a field
// key the method never had in that direction rules it out.
func (s *shapeSet) fit(u *shapeSet) (score int, ok bool) {
	for dir := range 2 {
		if !u.seen[dir] || !s.seen[dir] {
			continue
		}
		for k := range u.keys[dir] {
			if !s.keys[dir][k] {
				return 0, false
			}
		}
		for sh := range u.shapes[dir] {
			if s.shapes[dir][sh] {
				score += 2
			}
		}
	}
	for n := range u.counts {
		if s.counts[n] {
			score++
		}
	}
	return score, true
}

// unclaimed drops, when others remain, the methods that another unknown
// entry of the same connection and side names as its one inference:
// distinct entries hold distinct paths.
func (b *MethodBook) unclaimed(ref h2decode.TableRef, cands []candidate) []candidate {
	if len(cands) < 2 {
		return cands
	}
	claimed := map[string]bool{}
	for _, other := range b.byConn[ref.Conn] {
		if other == ref || other.Side != ref.Side || other.Epoch != ref.Epoch {
			continue
		}
		if oc := b.fitting(other, b.entries[other]); len(oc) > 0 && oc[0].score > 0 && (len(oc) == 1 || oc[0].score > oc[1].score) {
			claimed[oc[0].method] = true
		}
	}
	rest := slices.DeleteFunc(slices.Clone(cands), func(k candidate) bool { return claimed[k.method] })
	if len(rest) == 0 {
		return cands
	}
	return rest
}

// inferring returns a sink that teaches the run's book each call and
// names the methods of those whose :path is unknown before handing them
// on.
func inferring(o *Options, next Sink) Sink {
	book := o.Methods
	if book == nil {
		book = NewMethodBook()
	}
	return SinkFunc(func(c *Call) {
		book.Learn(c)
		if c.MethodUnknown && c.GRPC {
			book.inferBeside(c)
		}
		next.Call(c)
	})
}

// inferBeside infers a call's method where the schemas (which ran
// first) did not name one: among their candidates when they have several
// (less those the connection sent as known entries before), from the
// shapes alone when they have none.
func (b *MethodBook) inferBeside(c *grpcframe.Call) {
	if c.MethodInferred != "" {
		return
	}
	bySchema := b.notSentBefore(c, c.MethodCandidates)
	if len(bySchema) == 1 {
		c.MethodInferred, c.MethodCandidates = bySchema[0], bySchema
		return
	}
	b.Infer(c)
	if len(bySchema) == 0 {
		return
	}
	if !slices.Contains(bySchema, c.MethodInferred) {
		c.MethodInferred = ""
	}
	c.MethodCandidates = bySchema
}

// notSentBefore drops from a call's candidates, when others remain, those
// its connection sent as known entries before it.
func (b *MethodBook) notSentBefore(c *grpcframe.Call, cands []string) []string {
	ref, ok := unknownPathRef(c)
	e := b.entries[ref]
	if !ok || e == nil || len(cands) < 2 {
		return cands
	}
	rest := slices.DeleteFunc(slices.Clone(cands), func(m string) bool { return b.sentKnownBefore(ref, e, m) })
	if len(rest) == 0 {
		return cands
	}
	return rest
}
