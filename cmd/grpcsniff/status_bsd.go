//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package main

import (
	"os"
	"syscall"
)

// statusSignals ask a live capture for its state (reportOn): SIGINFO (the
// terminal's Ctrl-T) and SIGUSR1, as tcpdump takes them.
var statusSignals = []os.Signal{syscall.SIGINFO, syscall.SIGUSR1}
