//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package main

import "os"

// statusSignals: none where the system has no SIGUSR1 (Windows); the
// status is in the view's title bar there.
var statusSignals []os.Signal
