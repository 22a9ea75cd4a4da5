package grpcframe

import (
	"maps"
	"slices"
)

// smallStreams is how many open streams a connection keeps without a map.
const smallStreams = 8

// streamSet holds a connection's open streams by id: in two small arrays
// while few are open at once (most connections: a lookup scans one cache
// line of ids, where a map would touch several lines, each a likely cache
// miss when thousands of connections interleave), in a map once more are.
type streamSet struct {
	ids [smallStreams]uint32
	ss  [smallStreams]*stream
	n   int                // entries used in ids and ss, while m is nil
	m   map[uint32]*stream // every open stream, once more than smallStreams were open
}

func (t *streamSet) get(id uint32) *stream {
	if t.m != nil {
		return t.m[id]
	}
	for i := range t.n {
		if t.ids[i] == id {
			return t.ss[i]
		}
	}
	return nil
}

func (t *streamSet) put(id uint32, s *stream) {
	switch {
	case t.m != nil:
		t.m[id] = s
	case t.n < smallStreams:
		t.ids[t.n], t.ss[t.n] = id, s
		t.n++
	default:
		t.m = make(map[uint32]*stream, 2*smallStreams)
		for i := range t.n {
			t.m[t.ids[i]] = t.ss[i]
		}
		t.m[id] = s
		t.ids, t.ss, t.n = [smallStreams]uint32{}, [smallStreams]*stream{}, 0
	}
}

func (t *streamSet) del(id uint32) {
	if t.m != nil {
		delete(t.m, id)
		return
	}
	for i := range t.n {
		if t.ids[i] == id {
			last := t.n - 1
			t.ids[i], t.ss[i] = t.ids[last], t.ss[last]
			t.ids[last], t.ss[last] = 0, nil
			t.n = last
			return
		}
	}
}

func (t *streamSet) len() int {
	if t.m != nil {
		return len(t.m)
	}
	return t.n
}

// sortedIDs returns the open streams' ids in ascending order (nil for
// none); t may be nil.
func (t *streamSet) sortedIDs() []uint32 {
	switch {
	case t == nil:
		return nil
	case t.m != nil:
		if len(t.m) == 0 {
			return nil
		}
		return slices.Sorted(maps.Keys(t.m))
	case t.n == 0:
		return nil // most connections end with no call open
	}
	ids := slices.Clone(t.ids[:t.n])
	slices.Sort(ids)
	return ids
}
