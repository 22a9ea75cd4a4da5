//go:build !race

package pbdecode

const raceEnabled = false
