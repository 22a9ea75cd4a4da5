package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
)

// loadKeys gathers TLS secrets: the --keylog file, and the Decryption
// Secrets Blocks of a pcapng capture (editcap --inject-secrets), which are
// used without being asked for, as Wireshark does. The blocks are added to
// the key log as the capture is read (a block comes before the packets that
// need it), so standard input gets them too. It must be called before the
// first packet is read from src. A capture with such blocks makes the
// connections wait for keys they do not have yet (KeyLog.SetGrowing, bounded
// memory): one written live (grpcsniff -i -w --keylog) has a block when its
// keys were learnt, a little after the handshake that needs them, and the
// first block (written before any packet) says that more may come.
func loadKeys(keylog, read string, src *capture.FileSource, stderr io.Writer) (*tlsdecrypt.KeyLog, error) {
	keys := &tlsdecrypt.KeyLog{}
	if keylog != "" {
		k, err := tlsdecrypt.LoadKeyLog(keylog)
		if err != nil {
			return nil, fmt.Errorf("--keylog: %w", err)
		}
		for _, w := range k.Warnings() {
			fmt.Fprintf(stderr, "%s: %s: %s\n", progName, keylog, w)
		}
		keys = k
	}
	if src != nil && strings.HasPrefix(src.Format(), "pcapng") {
		name := read
		if read == "-" {
			name = "stdin"
		}
		block := 0
		src.OnSecrets(func(typ uint32, data []byte) {
			if typ != tlsdecrypt.SecretsTypeTLSKeyLog {
				return
			}
			block++
			keys.SetGrowing()
			part, _ := tlsdecrypt.ParseKeyLog(bytes.NewReader(data)) // reading memory cannot fail
			for _, w := range part.Warnings() {
				fmt.Fprintf(stderr, "%s: %s: decryption secrets block %d: %s\n", progName, name, block, w)
			}
			keys.Merge(part)
		})
	}
	return keys, nil
}

// followKeys is --keylog for a live capture: the key log is read as the
// clients write it (it need not exist yet), and the returned stop ends the
// reading. Decode with tlsdecrypt.Options.WaitForKeys so that connections
// whose keys come a little after their handshake wait for them.
func followKeys(keylog string, stderr io.Writer) (keys *tlsdecrypt.KeyLog, follower *tlsdecrypt.KeyLogFollower) {
	keys = &tlsdecrypt.KeyLog{}
	f := tlsdecrypt.FollowKeyLog(keylog, keys, 200*time.Millisecond, func(w string) {
		fmt.Fprintf(stderr, "%s: --keylog: %s\n", progName, w)
	})
	return keys, f
}
