package h2decode

import (
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"github.com/grpcsniff/grpcsniff/capture"
)

// HeaderField is one decoded header field.
type HeaderField struct {
	Name  string
	Value string
	// Ref names the dynamic-table entry of a field whose text could not be
	// recovered (NameUnknown or ValueUnknown).
	Ref TableRef
	// NameUnknown and ValueUnknown are set when the field came from a
	// dynamic-table entry that was inserted before the capture (or a gap in
	// it) began, so the text could not be recovered.
	NameUnknown  bool
	ValueUnknown bool
	// Sensitive is set for fields sent as "never indexed".
	Sensitive bool
	// (The booleans follow Ref so that a field takes 64 bytes, not 72: a
	// call keeps a dozen or more.)
}

// Unknown reports whether any part of the field could not be recovered.
func (f *HeaderField) Unknown() bool { return f.NameUnknown || f.ValueUnknown }

// TableRef names a dynamic-table entry that was in the table before decoding
// could begin: Entry counts back from the newest such entry (0 is the last one
// inserted before the capture began or, after a gap, before the gap). Epoch
// numbers the states of that side's table: a new one begins each time the
// state is lost (and an earlier one comes back when a gap proves harmless,
// see gapproof.go). Two fields with equal TableRefs carry the same name and
// value.
type TableRef struct {
	Conn  uint64
	Side  capture.Side
	Epoch uint32
	Entry uint32
}

func (r TableRef) String() string {
	return fmt.Sprintf("c%d/%c/e%d/%d", r.Conn, "ab"[r.Side&1], r.Epoch, r.Entry)
}

// hpackEntry is one dynamic-table entry: a HeaderField without what every
// entry of the table has in common, since an entry of a capture with many
// connections is read from a cold cache line, and 48 bytes take fewer of
// them than a HeaderField's 72. An entry is never sensitive and its value
// always known; its name is unknown when it was taken from an entry that
// was, and then its TableRef is the decoder's connection, side and epoch
// (the table is emptied when the epoch changes) with entry nameRef; for a
// known name the TableRef is zero. field gives the HeaderField back; insert
// checks that it does, and keeps a field it would not whole in full.
type hpackEntry struct {
	name, value string
	full        *HeaderField // the field, if the fields above do not say it
	size        uint32
	nameRef     uint32 // TableRef.Entry, if nameUnknown
	nameUnknown bool
}

// field returns the HeaderField e was made from.
func (d *hpackDecoder) field(e *hpackEntry) HeaderField {
	if e.full != nil {
		return *e.full
	}
	f := HeaderField{Name: e.name, Value: e.value}
	if e.nameUnknown {
		f.NameUnknown = true
		f.Ref = TableRef{Conn: d.conn, Side: d.side, Epoch: d.epoch, Entry: e.nameRef}
	}
	return f
}

// Errors a header block can end with. The fields decoded before the error are
// still returned.
var (
	errHPACKTruncated = errors.New("header block truncated")
	errHPACKIndex     = errors.New("header field index out of range")
	errHPACKHuffman   = errors.New("invalid Huffman-coded string")
	errHPACKInteger   = errors.New("integer overflow")
	errHPACKTableSize = errors.New("table size update above the limit")
)

// ErrTableSizeOverLimit is the HeadersEvent.Err of a header block whose
// dynamic table size update exceeded Options.MaxTableSize.
var ErrTableSizeOverLimit = errHPACKTableSize

// hpackDecoder decodes the header blocks sent by one side of a connection.
//
// When the decoder starts after the connection did (capture mid-connection, or
// after a gap) its table holds entries it never saw inserted. Positions in
// the table count from the newest entry, and eviction removes the oldest, so
// the entries inserted since decoding began always sit at the front: index
// 62+p refers to the p-th newest known entry when p < len(known), and
// otherwise to pre-existing entry p-inserted. That identity does not change as
// more entries are inserted, which is what makes TableRef stable.
type hpackDecoder struct {
	conn uint64
	side capture.Side

	entries []hpackEntry // oldest first; newest at the end
	size    uint32       // sum of the known entries' sizes
	maxSize uint32       // the table's current maximum size
	limit   uint32       // hard cap on maxSize to bound memory

	// complete is true when decoding began with the connection, so every
	// entry is known and a reference past them is an error in the stream.
	complete bool
	epoch    uint32
	epochs   uint32 // the epochs begun: the next loss begins epoch epochs+1
	inserted uint32 // entries inserted since the epoch began

	// settingsMax is the receiver's SETTINGS_HEADER_TABLE_SIZE, the largest
	// size update the encoder may send (RFC 7541 §6.3); 0 with
	// settingsKnown false when the SETTINGS frame was not captured.
	settingsMax   uint32
	settingsKnown bool
	// violation describes a size update above settingsMax; the update is
	// followed anyway, since the peer did use that size.
	violation string

	// sh decodes string literals and holds the slab of field slices; it is
	// shared with the other decoders of the factory.
	sh *hpackShared

	// gen counts the changes to the table (insertions, evictions, size
	// updates, losses): a block decoded at the same gen decodes the same.
	gen uint64
	// blocks are the last blocks that left the table as it was, with
	// their fields (see decodeBlock); lastHit is the one served last.
	blocks  [2]cachedBlock
	lastHit uint8
	// block is the id of the kept block the last decodeBlock returned the
	// fields of (HeadersEvent.Block), 0 if it kept none.
	block uint64
}

// savedTable is a decoder's table state, kept across a gap.
type savedTable struct {
	entries         []hpackEntry
	size            uint32
	complete        bool
	epoch, inserted uint32
}

// cachedBlock is a header block and the fields it decoded to at table
// generation gen.
type cachedBlock struct {
	block    []byte
	fields   []HeaderField
	listSize int // the fields' size as MaxHeaderListSize counts it
	gen      uint64
	id       uint64 // unique in the factory (hpackShared.blockIDs)
	ok       bool
}

// Bounds on the blocks a decoder keeps: gRPC's request headers, response
// headers and trailers take a few dozen bytes and a dozen fields once the
// table holds their names and values; a larger block is decoded each time.
// The blocks of all the decoders of a factory hold at most
// maxCachedBlockBytes (see hpackShared.blockBytes), so that ten thousand
// connections cost no more than a few.
const (
	maxCachedBlock      = 256
	maxCachedFields     = 24
	maxCachedBlockBytes = 4 << 20
)

const defaultHeaderTableSize = 4096

// newHPACKDecoder returns a decoder of one side's header blocks. sh may be
// shared with the other decoders fed from the same goroutine; nil gives the
// decoder one of its own.
func newHPACKDecoder(conn uint64, side capture.Side, complete bool, limit uint32, sh *hpackShared) *hpackDecoder {
	if sh == nil {
		sh = newHPACKShared()
	}
	return &hpackDecoder{conn: conn, side: side, maxSize: defaultHeaderTableSize, limit: limit, complete: complete,
		settingsMax: defaultHeaderTableSize, settingsKnown: complete, sh: sh}
}

// setSettingsMax records the receiver's SETTINGS_HEADER_TABLE_SIZE. The
// table itself changes only when the encoder sends a size update: until the
// SETTINGS frame is acknowledged it may go on using the old size.
func (d *hpackDecoder) setSettingsMax(n uint32) {
	d.settingsMax, d.settingsKnown = n, true
}

// lose forgets the table: entries inserted while the capture missed bytes
// make every position unknowable, so a new epoch of unknown entries begins.
func (d *hpackDecoder) lose() {
	d.gen++
	d.entries = d.entries[:0]
	d.size = 0
	d.inserted = 0
	d.complete = false
	d.epochs++
	d.epoch = d.epochs
}

// saveTable returns a copy of the table's state, for resume.
func (d *hpackDecoder) saveTable() *savedTable {
	return &savedTable{entries: slices.Clone(d.entries), size: d.size, complete: d.complete, epoch: d.epoch, inserted: d.inserted}
}

// resume puts back the table s saved before a gap, now proven to have
// held no header block; epoch is the one the gap began. The saved entries
// are older than every entry inserted since, so they go behind them, and
// those that no longer fit are evicted. It reports whether it did; it does
// not when the state was lost again since.
//
// Entries inserted since the gap with a name taken from the unknown part
// of the table get the name it now shows. Fields already handed out keep
// their TableRefs of the gap's epoch, which no later field reuses.
func (d *hpackDecoder) resume(s *savedTable, epoch uint32) bool {
	if d.epoch != epoch || !d.nameSince(s) {
		return false
	}
	d.gen++
	if d.complete {
		// A size update to 0 or an entry larger than the table emptied it
		// since: none of the saved entries is left.
		return true
	}
	d.entries = append(s.entries, d.entries...)
	d.size += s.size
	d.inserted += s.inserted
	d.epoch, d.complete = s.epoch, s.complete
	d.evict()
	if uint32(len(d.entries)) < d.inserted {
		d.complete = true // a known entry was evicted: no unknown one is left
	}
	return true
}

// nameSince gives the entries inserted since the gap whose names were
// unknown the names of the saved table's entries they referred to, with
// no entry inserted in the gap. It reports false, changing nothing, when
// one cannot be given (a reference past a complete table, or a field held
// in full).
func (d *hpackDecoder) nameSince(s *savedTable) bool {
	known := uint32(len(s.entries))
	for i := range d.entries {
		e := &d.entries[i]
		if e.nameUnknown && (e.full != nil || (s.complete && e.nameRef >= known)) {
			return false
		}
	}
	for i := range d.entries {
		e := &d.entries[i]
		if !e.nameUnknown {
			continue
		}
		if e.nameRef >= known {
			// An entry from before the saved epoch began: still unknown,
			// numbered as a lookup in that epoch numbers it (an incomplete
			// table has lost none of its known entries, so known is the
			// number inserted).
			e.nameRef -= known
			continue
		}
		src := &s.entries[known-1-e.nameRef]
		name, unknown, ref := src.name, src.nameUnknown, src.nameRef
		if src.full != nil {
			name, unknown, ref = src.full.Name, src.full.NameUnknown, src.full.Ref.Entry
		}
		old := e.size
		e.name, e.nameUnknown, e.nameRef = name, unknown, ref
		e.size = uint32(len(e.name)+len(e.value)) + 32
		d.size += e.size - old
	}
	return true
}

func (d *hpackDecoder) setMaxSize(n uint32) error {
	d.gen++
	if n > d.limit {
		return errHPACKTableSize
	}
	d.maxSize = n
	d.evict()
	if n == 0 {
		// An empty table holds no pre-capture entries either.
		d.entries = d.entries[:0]
		d.complete = true
	}
	return nil
}

func (d *hpackDecoder) evict() {
	i := 0
	for d.size > d.maxSize && i < len(d.entries) {
		d.size -= d.entries[i].size
		i++
	}
	if i > 0 {
		n := copy(d.entries, d.entries[i:])
		clear(d.entries[n:])
		d.entries = d.entries[:n]
	}
}

func (d *hpackDecoder) insert(f HeaderField) {
	d.gen++
	f.Sensitive = false
	// An entry whose name is unknown has an unknown size too; counting only
	// what is known can keep entries longer than the peer does, which is
	// harmless: positions are counted from the newest end.
	sz := uint32(len(f.Name)+len(f.Value)) + 32
	d.inserted++
	if sz > d.maxSize {
		// RFC 7541 §4.4: an entry larger than the table empties it. Pre-capture
		// entries are gone too, so the table is now fully known.
		d.entries = d.entries[:0]
		d.size = 0
		d.complete = true
		return
	}
	e := hpackEntry{name: f.Name, value: f.Value, size: sz, nameRef: f.Ref.Entry, nameUnknown: f.NameUnknown}
	if d.field(&e) != f {
		full := f // a copy, so that f itself stays off the heap
		e.full = &full
	}
	d.entries = append(d.entries, e)
	d.size += sz
	if d.size > d.maxSize {
		d.evict()
		// Pre-capture entries are evicted before any known one; once a known
		// entry has gone, none of them is left.
		if uint32(len(d.entries)) < d.inserted {
			d.complete = true
		}
	}
}

// lookup resolves an index (1-based, static table first).
func (d *hpackDecoder) lookup(i uint64) (HeaderField, error) {
	if i == 0 {
		return HeaderField{}, errHPACKIndex
	}
	if i <= uint64(len(staticTable)) {
		e := staticTable[i-1]
		return HeaderField{Name: e[0], Value: e[1]}, nil
	}
	p := i - uint64(len(staticTable)) - 1
	if p < uint64(len(d.entries)) {
		return d.field(&d.entries[len(d.entries)-1-int(p)]), nil
	}
	if d.complete || p-uint64(d.inserted) > 1<<20 {
		return HeaderField{}, errHPACKIndex
	}
	ref := TableRef{Conn: d.conn, Side: d.side, Epoch: d.epoch, Entry: uint32(p - uint64(d.inserted))}
	return HeaderField{NameUnknown: true, ValueUnknown: true, Ref: ref}, nil
}

// decodeBlock decodes one header block like decode, into the factory's
// scratch slice (nil when no field was decoded). The fields are valid until
// the next block is decoded: a handler keeps what it needs by copying it
// into memory of its own, which it can reuse, where fields cut from shared
// slabs could only be left to the collector.
//
// A block that changes nothing in the table decodes to the same fields for
// as long as the table stays as it is, and peers send the same block again
// and again: the request headers of each call of a method, every response's
// headers, every OK trailer. The decoder keeps the last two such blocks with
// their fields and serves a block seen again by comparing its bytes, at a
// fraction of the cost of decoding it; the fields are then the kept ones,
// under the same rule (read during the call only, never written).
func (d *hpackDecoder) decodeBlock(b []byte, maxListSize int) ([]HeaderField, bool, error) {
	for i := range d.blocks {
		c := &d.blocks[i]
		if c.ok && c.gen == d.gen && c.listSize <= maxListSize && string(c.block) == string(b) {
			d.lastHit, d.block = uint8(i), c.id
			return c.fields, false, nil
		}
	}
	d.block = 0
	sh := d.sh
	gen := d.gen
	fs, overLimit, err := d.decode(sh.scratch[:0], b, maxListSize)
	if cap(fs) <= maxScratchFields {
		sh.scratch = fs[:0]
	}
	if len(fs) == 0 {
		return nil, overLimit, err
	}
	if err == nil && !overLimit && d.gen == gen {
		d.keepBlock(b, fs)
	}
	return fs, overLimit, err
}

// keepBlock keeps block b, which decoded to fs without changing the table,
// in place of the block not served last.
func (d *hpackDecoder) keepBlock(b []byte, fs []HeaderField) {
	if len(b) > maxCachedBlock || len(fs) > maxCachedFields || hooks.keepNoBlocks {
		return
	}
	i := d.lastHit ^ 1
	c := &d.blocks[i]
	if cap(c.block) < len(b) || cap(c.fields) < len(fs) {
		// Room for this block, or for the larger one kept here before: a
		// slot grows to what its connection sends, so that the budget
		// serves as many connections as it can.
		nb, nf := max(cap(c.block), (len(b)+63)&^63), max(cap(c.fields), len(fs))
		grow := nb - cap(c.block) + (nf-cap(c.fields))*int(unsafe.Sizeof(HeaderField{}))
		if d.sh.blockBytes+grow > maxCachedBlockBytes {
			return
		}
		d.sh.blockBytes += grow
		c.block = make([]byte, 0, nb)
		c.fields = make([]HeaderField, 0, nf)
	}
	listSize := 0
	for j := range fs {
		listSize += len(fs[j].Name) + len(fs[j].Value) + 32
	}
	c.block = append(c.block[:0], b...)
	c.fields = append(c.fields[:0], fs...)
	d.sh.blockIDs++
	c.listSize, c.gen, c.id, c.ok = listSize, d.gen, d.sh.blockIDs, true
	d.lastHit, d.block = i, c.id
}

// dropBlocks gives the memory of the kept blocks back to the factory's
// budget (the connection has ended).
func (d *hpackDecoder) dropBlocks() {
	for i := range d.blocks {
		c := &d.blocks[i]
		if cap(c.block) > 0 {
			d.sh.blockBytes -= cap(c.block) + cap(c.fields)*int(unsafe.Sizeof(HeaderField{}))
		}
		*c = cachedBlock{}
	}
}

// decode decodes one header block, appending fields to dst. It keeps going
// after a field it cannot recover, and on a broken block returns what it
// decoded with the error; the table state is then lost.
func (d *hpackDecoder) decode(dst []HeaderField, b []byte, maxListSize int) ([]HeaderField, bool, error) {
	listSize := 0
	overLimit := false
	// add takes a pointer: a HeaderField is large enough that passing
	// copies of it around showed in profiles.
	add := func(f *HeaderField) {
		listSize += len(f.Name) + len(f.Value) + 32
		if listSize > maxListSize {
			overLimit = true
			return
		}
		dst = append(dst, *f)
	}
	for len(b) > 0 {
		c := b[0]
		var err error
		switch {
		case c&0x80 != 0: // indexed field
			var idx uint64
			if idx, b, err = readInt(7, b); err != nil {
				break
			}
			if p := idx - uint64(len(staticTable)) - 1; idx > uint64(len(staticTable)) && p < uint64(len(d.entries)) {
				// A known dynamic-table entry (what lookup returns).
				f := d.field(&d.entries[len(d.entries)-1-int(p)])
				add(&f)
				break
			}
			var f HeaderField
			if f, err = d.lookup(idx); err != nil {
				break
			}
			add(&f)
		case c&0xc0 == 0x40: // literal with incremental indexing
			var f HeaderField
			if f, b, err = d.readLiteral(6, b); err != nil {
				break
			}
			d.insert(f)
			add(&f)
		case c&0xe0 == 0x20: // dynamic table size update
			var n uint64
			if n, b, err = readInt(5, b); err != nil {
				break
			}
			if n > uint64(d.limit) {
				err = errHPACKTableSize
				break
			}
			if d.settingsKnown && n > uint64(d.settingsMax) {
				d.violation = fmt.Sprintf("table size update to %d exceeds the peer's SETTINGS_HEADER_TABLE_SIZE %d", n, d.settingsMax)
			}
			err = d.setMaxSize(uint32(n))
		default: // literal without indexing (0000) or never indexed (0001)
			var f HeaderField
			if f, b, err = d.readLiteral(4, b); err != nil {
				break
			}
			f.Sensitive = c&0x10 != 0
			add(&f)
		}
		if err != nil {
			d.lose()
			return dst, overLimit, err
		}
	}
	return dst, overLimit, nil
}

func (d *hpackDecoder) readLiteral(prefix uint8, b []byte) (HeaderField, []byte, error) {
	var f HeaderField
	idx, b, err := readInt(prefix, b)
	if err != nil {
		return f, b, err
	}
	if idx > 0 {
		nf, err := d.lookup(idx)
		if err != nil {
			return f, b, err
		}
		f.Name, f.NameUnknown, f.Ref = nf.Name, nf.NameUnknown, nf.Ref
	} else if f.Name, b, err = d.readString(b); err != nil {
		return f, b, err
	}
	f.Value, b, err = d.readString(b)
	return f, b, err
}

// readInt reads an HPACK integer with an n-bit prefix (RFC 7541 §5.1).
func readInt(n uint8, b []byte) (uint64, []byte, error) {
	if len(b) == 0 {
		return 0, b, errHPACKTruncated
	}
	mask := uint64(1)<<n - 1
	v := uint64(b[0]) & mask
	b = b[1:]
	if v < mask {
		return v, b, nil
	}
	var m uint
	for len(b) > 0 {
		c := b[0]
		b = b[1:]
		v += uint64(c&0x7f) << m
		if c&0x80 == 0 {
			return v, b, nil
		}
		m += 7
		if m >= 63 {
			return 0, b, errHPACKInteger
		}
	}
	return 0, b, errHPACKTruncated
}

// readString reads a string literal (RFC 7541 §5.2).
func (d *hpackDecoder) readString(b []byte) (string, []byte, error) {
	if len(b) == 0 {
		return "", b, errHPACKTruncated
	}
	huff := b[0]&0x80 != 0
	n, b, err := readInt(7, b)
	if err != nil {
		return "", b, err
	}
	if n > uint64(len(b)) {
		return "", b, errHPACKTruncated
	}
	v, err := d.sh.strs.decode(b[:n], huff)
	return v, b[n:], err
}

// staticTable is RFC 7541 Appendix A.
var staticTable = [...][2]string{
	{":authority", ""}, {":method", "GET"}, {":method", "POST"}, {":path", "/"},
	{":path", "/index.html"}, {":scheme", "http"}, {":scheme", "https"}, {":status", "200"},
	{":status", "204"}, {":status", "206"}, {":status", "304"}, {":status", "400"},
	{":status", "404"}, {":status", "500"}, {"accept-charset", ""}, {"accept-encoding", "gzip, deflate"},
	{"accept-language", ""}, {"accept-ranges", ""}, {"accept", ""}, {"access-control-allow-origin", ""},
	{"age", ""}, {"allow", ""}, {"authorization", ""}, {"cache-control", ""},
	{"content-disposition", ""}, {"content-encoding", ""}, {"content-language", ""}, {"content-length", ""},
	{"content-location", ""}, {"content-range", ""}, {"content-type", ""}, {"cookie", ""},
	{"date", ""}, {"etag", ""}, {"expect", ""}, {"expires", ""},
	{"from", ""}, {"host", ""}, {"if-match", ""}, {"if-modified-since", ""},
	{"if-none-match", ""}, {"if-range", ""}, {"if-unmodified-since", ""}, {"last-modified", ""},
	{"link", ""}, {"location", ""}, {"max-forwards", ""}, {"proxy-authenticate", ""},
	{"proxy-authorization", ""}, {"range", ""}, {"referer", ""}, {"refresh", ""},
	{"retry-after", ""}, {"server", ""}, {"set-cookie", ""}, {"strict-transport-security", ""},
	{"transfer-encoding", ""}, {"user-agent", ""}, {"vary", ""}, {"via", ""},
	{"www-authenticate", ""},
}
