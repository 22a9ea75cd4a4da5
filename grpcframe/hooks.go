package grpcframe

// testHooks are switches for tests, to check what production code does not
// show. Only tests set them: this package's through setHooks, the tests of
// a package that recycles calls through PoisonRecycledForTesting. The zero
// value is what production runs.
type testHooks struct {
	// poisonRecycled makes Recycle overwrite a call and its messages with
	// conspicuous values and never reuse them, so that anything read from a
	// call after it was recycled shows in the output.
	poisonRecycled bool
}

// hooks are the test hooks in force (see testHooks).
var hooks testHooks

// PoisonRecycledForTesting is for tests only: with on, Recycle poisons the
// calls handed back instead of reusing them, so that a test of a package
// that recycles calls can check that its output stays the same (nothing
// reads a call after handing it back). Call it only while no Assembler
// runs and no call is being recycled.
func PoisonRecycledForTesting(on bool) { hooks.poisonRecycled = on }
