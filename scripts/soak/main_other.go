//go:build !linux

package main

import (
	"fmt"
	"os"
)

// main says that soak runs on Linux only: it reads the capture's memory,
// threads and files from /proc and asks it for its status with SIGUSR1.
func main() {
	fmt.Fprintln(os.Stderr, "soak: runs on Linux only (it reads /proc and sends SIGUSR1)")
	os.Exit(2)
}
