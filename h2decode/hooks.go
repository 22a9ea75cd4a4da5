package h2decode

// testHooks are switches for tests, to check the decoder's fast paths
// against the plainer ways they stand for. Only tests set them (setHooks);
// the zero value is what production runs.
type testHooks struct {
	// framerOnly makes every frame go through the Framer: tests set it to
	// check fastFrame against the Framer.
	framerOnly bool
	// copyFrames makes every frame's payload and header block be copied
	// before it is read, as frames and headersFrame do when it does not
	// all come in one piece: tests set it to check reading them in place.
	copyFrames bool
	// keepNoBlocks makes the HPACK decoders keep no header blocks (see
	// hpackDecoder.decodeBlock): tests set it to check the blocks kept.
	keepNoBlocks bool
}

// hooks are the test hooks in force (see testHooks).
var hooks testHooks
