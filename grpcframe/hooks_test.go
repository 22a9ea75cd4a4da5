package grpcframe

import "testing"

// setHooks sets the test hooks for the rest of the test.
func setHooks(t testing.TB, h testHooks) {
	old := hooks
	hooks = h
	t.Cleanup(func() { hooks = old })
}
