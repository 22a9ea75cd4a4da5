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

// satAdd saturates at the largest uint32 however large the count; the
// counts of 2 GiB or more below overflow an int on a 32-bit platform,
// where the sum used to wrap.
func TestSatAdd(t *testing.T) {
	for _, c := range []struct {
		l    uint32
		n    int64
		want uint32
	}{
		{0, 0, 0},
		{5, 1 << 31, 1<<31 + 5},
		{1<<31 + 10, 1 << 31, 1<<32 - 1},
		{1, 1<<32 - 2, 1<<32 - 1},
		{1, 1<<32 - 1, 1<<32 - 1},
		{1 << 20, 1 << 62, 1<<32 - 1},
		{1 << 20, 1<<63 - 1, 1<<32 - 1},
	} {
		if got := satAdd(c.l, c.n); got != c.want {
			t.Errorf("satAdd(%d, %d) = %d, want %d", c.l, c.n, got, c.want)
		}
	}
}
