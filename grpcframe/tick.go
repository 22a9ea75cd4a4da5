package grpcframe

import "time"

// Tick tells the assembler that capture time has reached now: it hands on
// the reset calls whose grace period is over. The decoding of a capture
// calls it at fixed points (every few hundred packets, and often in capture
// time), a live capture also while the network is quiet. Doing it at points
// the capture fixes, rather than at the next frame of any connection, keeps
// the result the same however the connections are shared among assemblers.
func (a *Assembler) Tick(now time.Time) {
	a.expireResets(now)
}
