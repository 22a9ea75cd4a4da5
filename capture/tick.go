package capture

import "time"

// Tick tells the assembler that capture time has reached now although no
// packet came: a live capture calls it while the network is quiet, so that
// connections idle for Options.IdleTimeout still end (and release their
// memory), and holes acknowledged longer than the reorder window ago are
// given up, without waiting for the next packet. A quiet network means no
// late segment is on its way, so the window's segment count does not apply.
func (a *Assembler) Tick(now time.Time) {
	if a.waiting.n > 0 {
		a.quiet = true
		a.sweep(now)
		a.quiet = false
	}
	if a.opt.IdleTimeout > 0 {
		a.expire(now)
	}
}
