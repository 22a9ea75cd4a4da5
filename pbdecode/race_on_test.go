//go:build race

package pbdecode

// raceEnabled is set when the race detector is on: sync.Pool then drops
// items at random, so allocation counts mean nothing.
const raceEnabled = true
