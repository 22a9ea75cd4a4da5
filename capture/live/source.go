package live

import (
	"sync"
	"sync/atomic"
	"time"
)

// sourceCommon is what the Source of every backend holds and answers
// alike.
type sourceCommon struct {
	iface    string
	snaplen  int
	pollWait time.Duration // <0: forever

	closed atomic.Bool

	// infoMu guards warnings, and each backend's counters, apart from the
	// lock Next holds, so that Stats and Warnings do not wait for a
	// blocked Next.
	infoMu   sync.Mutex
	warnings []string
}

// Interface returns the name of the interface captured on.
func (s *sourceCommon) Interface() string { return s.iface }

// Snaplen returns the snap length in effect.
func (s *sourceCommon) Snaplen() int { return s.snaplen }

// Warnings returns conditions worth telling the user that do not stop the
// capture, such as the interface being down.
func (s *sourceCommon) Warnings() []string {
	s.infoMu.Lock()
	defer s.infoMu.Unlock()
	return append([]string(nil), s.warnings...)
}

// deadline is when Next, starting now, returns ErrIdle; zero for never.
func (s *sourceCommon) deadline() time.Time {
	if s.pollWait > 0 {
		return time.Now().Add(s.pollWait)
	}
	return time.Time{}
}
