package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
)

// loadKeys gathers TLS secrets: the --keylog file, and the Decryption
// Secrets Blocks of a pcapng capture (editcap --inject-secrets), which are
// used without being asked for, as Wireshark does.
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
	// The secrets blocks are read in a pass of their own over the file, so
	// standard input (which cannot be read twice) does not get them.
	if read != "-" && strings.HasPrefix(src.Format(), "pcapng") {
		f, err := os.Open(read)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if _, err := keys.KeysFromPcapng(f); err != nil {
			fmt.Fprintf(stderr, "%s: reading the secrets in %s: %v\n", progName, read, err)
		}
	}
	return keys, nil
}
