package sniff

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
)

// secretsSource is a capture file that may hold decryption secrets: a
// *capture.FileSource, or one narrowed (capture.ConnOnly).
type secretsSource interface {
	Format() string
	Name() string
	OnSecrets(func(secretsType uint32, data []byte))
}

// secretsFrom adds the Decryption Secrets Blocks of a pcapng capture
// (editcap --inject-secrets) to keys as the capture is read, as Wireshark
// uses them without being asked; it returns keys, or a new KeyLog when keys
// is nil. A block comes before the packets that need it, so standard input
// gets them too. It must be called before the first packet is read from
// src. A capture with such blocks makes the connections wait for keys they
// do not have yet (KeyLog.SetGrowing, bounded memory): one written live
// (grpcsniff -i -w --keylog) has a block when its keys were learnt, a
// little after the handshake that needs them, and the first block (written
// before any packet) says that more may come.
func secretsFrom(src secretsSource, keys *tlsdecrypt.KeyLog, warn func(error)) *tlsdecrypt.KeyLog {
	if keys == nil {
		keys = &tlsdecrypt.KeyLog{}
	}
	if !strings.HasPrefix(src.Format(), "pcapng") {
		return keys
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
			warn(fmt.Errorf("%s: decryption secrets block %d: %s", src.Name(), block, w))
		}
		keys.Merge(part)
	})
	return keys
}
