package grpcframe

import "time"

// Tick tells the assembler that capture time has reached now although no
// event came: a live capture calls it while the network is quiet, so that a
// reset call whose grace period is over is handed on without waiting for
// the next frame.
func (a *Assembler) Tick(now time.Time) {
	a.expireResets(now)
}
