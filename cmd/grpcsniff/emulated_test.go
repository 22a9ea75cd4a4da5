package main

import (
	"fmt"
	"net"
	"os"
)

// emulated says the tests run under user-mode emulation of another
// architecture (qemu-user through go test -exec), as .ci/run's arm64 and
// s390x runs do: GRPCSNIFF_EMULATED=1.
func emulated() bool { return os.Getenv("GRPCSNIFF_EMULATED") == "1" }

// interfacesUnlisted says why the network interfaces cannot be listed here,
// or "" when they can: under emulation of a big-endian architecture
// (s390x) qemu-user does not translate the netlink messages that
// net.Interfaces reads, which then fails with "parsenetlinkrouteattr:
// invalid argument" in any Go program.
func interfacesUnlisted() string {
	if !emulated() {
		return ""
	}
	if _, err := net.Interfaces(); err != nil {
		return fmt.Sprintf("GRPCSNIFF_EMULATED=1 and the emulator cannot list the network interfaces (%v): "+
			"qemu-user does not translate the netlink messages net.Interfaces reads for this architecture", err)
	}
	return ""
}
