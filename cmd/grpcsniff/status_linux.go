package main

import (
	"os"
	"syscall"
)

// statusSignals ask a live capture for its state (reportOn): SIGUSR1, as
// tcpdump takes it on Linux, which has no SIGINFO.
var statusSignals = []os.Signal{syscall.SIGUSR1}
