package capture

import "math/bits"

// chunkPool recycles the buffers that hold out-of-order segment payloads.
// It is owned by one Assembler and used from one goroutine, so it needs no
// locking. Buffers come in power-of-two classes from 512 bytes to 256 KiB;
// larger ones are allocated and dropped. The pool holds at most poolLimit
// bytes, so a burst of reordering does not pin memory for the rest of the
// capture.
type chunkPool struct {
	free [poolClasses][][]byte
	held int
}

const (
	minChunkShift = 9
	maxChunkShift = 18
	poolClasses   = maxChunkShift - minChunkShift + 1
	poolLimit     = 8 << 20
)

func chunkClass(n int) int {
	c := bits.Len(uint(n-1)) - minChunkShift
	if c < 0 {
		c = 0
	}
	return c
}

// get returns a buffer of length n (n > 0).
func (p *chunkPool) get(n int) []byte {
	if n > 1<<maxChunkShift {
		return make([]byte, n)
	}
	c := chunkClass(n)
	if l := len(p.free[c]); l > 0 {
		b := p.free[c][l-1]
		p.free[c][l-1] = nil
		p.free[c] = p.free[c][:l-1]
		p.held -= cap(b)
		return b[:n]
	}
	return make([]byte, n, 1<<(c+minChunkShift))
}

// put returns a buffer from get to the pool.
func (p *chunkPool) put(b []byte) {
	c := cap(b)
	if c == 0 || c > 1<<maxChunkShift || c&(c-1) != 0 || c < 1<<minChunkShift || p.held+c > poolLimit {
		return
	}
	k := chunkClass(c)
	p.free[k] = append(p.free[k], b[:0])
	p.held += c
}
