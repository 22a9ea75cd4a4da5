package tlsdecrypt

import (
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
)

type discard struct{}

func (discard) NewConn(*capture.ConnInfo) capture.ConnHandler { return discard{} }
func (discard) Data(capture.Side, []byte, time.Time)          {}
func (discard) Gap(capture.Side, int64, time.Time)            {}
func (discard) End(capture.EndReason, time.Time)              {}

// A connection that is not TLS costs one switch per call.
func BenchmarkPassThrough(b *testing.B) {
	seg := make([]byte, 1400)
	copy(seg, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	h := NewFactory(discard{}, nil, Options{}).NewConn(&capture.ConnInfo{})
	b.SetBytes(int64(len(seg)))
	for b.Loop() {
		h.Data(capture.SideA, seg, time.Time{})
	}
}

// One synthetic TLS 1.3 connection (AES-128-GCM), key setup included.
func BenchmarkDecrypt(b *testing.B) {
	s := newSynth(b, 0x1301)
	keys := s.keys()
	b.SetBytes(int64(len(s.server)))
	for b.Loop() {
		h := NewFactory(discard{}, keys, Options{}).NewConn(&capture.ConnInfo{})
		s.feed(h, nil)
	}
}
