package h2decode

import "time"

// Frame sync: a direction whose start was not captured, or whose bytes were
// lost across a frame boundary, is searched for the next frame boundary
// (sync), and frames are read again from there.

// startSync makes the direction look for a frame boundary; the HPACK state
// of its header blocks is lost with frame sync.
func (d *dirState) startSync(t time.Time) {
	if d.synced {
		d.framesLost()
	}
	d.proof = nil
	d.mode = modeSync
	d.startHPACK(false)
}

// sync looks for the first frame boundary in buf: the earliest offset from
// which a run of plausible frame headers follows. A run is accepted when
// three frames chain, or when it ends exactly where the captured bytes end
// and either has two frames or starts where a packet did (senders usually
// start a packet with a frame). A run that still needs bytes makes it wait.
func (d *dirState) sync(t time.Time) ([]byte, bool) {
	b := d.buf
	ci := 0
	for off := 0; off+frameHeaderLen <= len(b); off++ {
		for ci < len(d.chunkStarts) && d.chunkStarts[ci] < off {
			ci++
		}
		atChunk := ci < len(d.chunkStarts) && d.chunkStarts[ci] == off
		frames, end, bad := chainScore(b, off, d.maxFrame)
		if bad {
			continue
		}
		if frames >= 3 || (end && (frames >= 2 || (frames == 1 && atChunk))) {
			if off > 0 {
				d.c.note(NoteInferred, "%s: skipped %d bytes to find an HTTP/2 frame boundary", d.sideName(), off)
			}
			if !d.synced && d.c.Kind == KindUnknown {
				d.c.Kind = KindMidH2
			}
			if d.proof != nil {
				d.armProof()
			}
			return d.enterFrames(off), true
		}
		// Undecided: wait for more bytes, dropping what precedes this offset.
		d.dropFront(off)
		return nil, false
	}
	// Nothing plausible: keep the last few bytes, which may start a header.
	keep := min(len(b), frameHeaderLen-1)
	d.dropFront(len(b) - keep) // counts the dropped bytes as searched
	if !d.synced && d.searched > d.c.f.opts.MaxSyncSearch {
		d.c.Kind = KindNotHTTP2
		d.c.note(NoteNotDecoded, "%s: no HTTP/2 frame boundary in the first %d bytes; not decoded as HTTP/2", d.sideName(), d.searched)
		d.off()
	}
	return nil, false
}

func (d *dirState) dropFront(n int) {
	if n <= 0 {
		return
	}
	if !d.synced {
		d.searched += n
	}
	d.buf = append(d.buf[:0], d.buf[n:]...)
	j := 0
	for _, s := range d.chunkStarts {
		if s >= n {
			d.chunkStarts[j] = s - n
			j++
		}
	}
	d.chunkStarts = d.chunkStarts[:j]
}

// chainScore walks frame headers from off in b and reports how many complete
// plausible frames follow one another, and whether the walk ended exactly at
// the end of b (end) or ran into an implausible header (bad).
func chainScore(b []byte, off int, maxLen uint32) (frames int, end, bad bool) {
	for {
		if off == len(b) {
			return frames, true, false
		}
		if len(b)-off < frameHeaderLen {
			return frames, false, false
		}
		h := parseFrameHeader(b[off:])
		if !h.plausible(maxLen) {
			return frames, false, true
		}
		next := off + frameHeaderLen + int(h.Length)
		if next > len(b) {
			return frames, false, false
		}
		frames++
		off = next
		if frames >= 64 {
			return frames, false, false
		}
	}
}
