package h2decode

import (
	"hash/maphash"

	"golang.org/x/net/http2/hpack"
)

// hpackShared is what the HPACK decoders of one factory share: the
// connections of a factory are all decoded from one goroutine, and the
// connections to one peer send the same literals. Factories share nothing,
// so that each may run in a goroutine of its own.
type hpackShared struct {
	strs stringCache
	// scratch is what decodeBlock decodes the fields of a block into.
	scratch []HeaderField
	// blockBytes is the memory of the blocks the decoders keep (see
	// hpackDecoder.decodeBlock), at most maxCachedBlockBytes.
	blockBytes int
	// blockIDs numbers the blocks kept (cachedBlock.id).
	blockIDs uint64
}

// maxScratchFields bounds the scratch slice kept between blocks: a block of
// thousands of fields is rare, and its memory is left to the collector.
const maxScratchFields = 1024

func newHPACKShared() *hpackShared {
	return &hpackShared{strs: stringCache{seed: maphash.MakeSeed()}}
}

// stringCache remembers the strings recently decoded from HPACK string
// literals, keyed by their encoded bytes, so that a literal seen before
// costs neither a Huffman decoding nor an allocation.
//
// Many header values are not table hits: peers send the same :path or
// content-length as literals without indexing again and again (h2load does
// for both, on every request), and each used to cost a Huffman decoding and
// a new string. The decoded text is a function of the encoded bytes alone, so
// handing out the same string is exact.
//
// The cache is direct-mapped and bounded: a miss replaces whatever the slot
// held, so a capture full of distinct values costs one hash and compare per
// literal on top of what it cost before, and the memory held stays at a
// few tens of KB. One cache serves every connection of a factory (see
// hpackShared).
type stringCache struct {
	seed  maphash.Seed
	slots [stringCacheSlots]cachedString
}

const (
	stringCacheSlots = 256 // a power of two
	// maxCachedEncoded bounds the encoded length of a cached literal: long
	// values (tokens, cookies) rarely repeat byte for byte, and a fixed-size
	// key keeps a miss from allocating anything beyond the string itself.
	maxCachedEncoded = 64
)

// cachedString is one slot: the encoded bytes (enc[:n], with huff saying
// whether they were Huffman-coded) and the string they decode to.
type cachedString struct {
	dec  string
	n    uint8
	huff bool
	enc  [maxCachedEncoded]byte
}

// decode returns the string that the literal s (Huffman-coded when huff)
// encodes, from the cache when the same bytes were decoded before.
func (c *stringCache) decode(s []byte, huff bool) (string, error) {
	if len(s) > maxCachedEncoded || len(s) == 0 {
		return decodeLiteral(s, huff)
	}
	h := maphash.Bytes(c.seed, s)
	if huff {
		// Raw and Huffman-coded literals with the same bytes differ.
		h = ^h
	}
	e := &c.slots[h&(stringCacheSlots-1)]
	if int(e.n) == len(s) && e.huff == huff && string(e.enc[:e.n]) == string(s) {
		return e.dec, nil
	}
	v, err := decodeLiteral(s, huff)
	if err != nil {
		return "", err
	}
	e.dec, e.n, e.huff = v, uint8(len(s)), huff
	copy(e.enc[:], s)
	return v, nil
}

// decodeLiteral decodes a string literal's bytes into a new string.
func decodeLiteral(s []byte, huff bool) (string, error) {
	if !huff {
		return string(s), nil
	}
	v, err := hpack.HuffmanDecodeToString(s)
	if err != nil {
		return "", errHPACKHuffman
	}
	return v, nil
}
