package grpcframe

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

// A length prefix of 2 GiB or more is a message longer than the size limit
// on every platform: int(length) is negative on a 32-bit one, where the
// message used to be neither kept nor marked truncated.
func TestMessagePrefixOver2GiB(t *testing.T) {
	for _, length := range []uint32{1 << 31, 0xFFFFFFFF} {
		var r msgReader
		b := binary.BigEndian.AppendUint32([]byte{0}, length)
		r.feed(append(b, "abc"...), time.Time{}, 1024, func(*Message) { t.Fatal("a message completed") })
		m := r.cur
		if m == nil || m.Length != length || r.keep != 1024 || string(m.Data) != "abc" ||
			!m.Truncated || !strings.Contains(m.Err, "only the first 1024 kept") {
			t.Errorf("prefix %d: kept %d, message %+v", length, r.keep, m)
		}
	}
}
