package tlsdecrypt

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/grpcsniff/grpcsniff/capture"
)

// synth builds a TLS 1.3 connection's two byte streams from chosen secrets:
// ClientHello, ServerHello, compatibility ChangeCipherSpec, the encrypted
// server flight (EncryptedExtensions with ALPN, Finished), the client
// Finished, application data both ways and a server KeyUpdate.
type synth struct {
	suite          *suite
	random         []byte
	secrets        [4][]byte // client hs, server hs, client app, server app
	client, server []byte
	clientApp      []byte // application data the client sent
	serverApp      []byte
	serverRecords  []int // offsets in server where application-data records start
}

func record(typ byte, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

func hsMsg(typ byte, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

func vec16(b []byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }
func vec8(b []byte) []byte  { return append([]byte{byte(len(b))}, b...) }

func ext(typ uint16, body []byte) []byte {
	return append([]byte{byte(typ >> 8), byte(typ)}, vec16(body)...)
}

// seal protects one TLS 1.3 record.
func seal(rc *recordCipher, inner byte, content []byte) []byte {
	pt := append(append([]byte(nil), content...), inner, 0, 0) // two bytes of padding
	hdr := []byte{recApplicationData, 3, 3, 0, 0}
	binary.BigEndian.PutUint16(hdr[3:], uint16(len(pt)+rc.aead.Overhead()))
	rc.seqNonce(rc.seq)
	rc.seq++
	return rc.aead.Seal(hdr, rc.nonce[:], pt, hdr)
}

func newSynth(t testing.TB, suiteID uint16) *synth {
	s := &synth{suite: suites[suiteID], random: bytes.Repeat([]byte{0x3f}, 32)}
	hl := s.suite.hash().Size()
	for i := range s.secrets {
		s.secrets[i] = bytes.Repeat([]byte{byte(0x10 * (i + 1))}, hl)
	}
	ciphers := [4]*recordCipher{}
	for i, sec := range s.secrets {
		rc, err := newCipher13(s.suite, sec)
		if err != nil {
			t.Fatal(err)
		}
		ciphers[i] = rc
	}
	alpn := ext(extALPN, vec16(append(vec8([]byte("h2")), vec8([]byte("http/1.1"))...)))
	sni := ext(extServerName, vec16(append([]byte{0}, vec16([]byte("synth.test"))...)))
	ch := append([]byte{3, 3}, s.random...)
	ch = append(ch, 0, 0, 2, 0x13, 0x01, 1, 0)
	ch = append(ch, vec16(append(sni, alpn...))...)
	s.client = append(s.client, record(recHandshake, hsMsg(hsClientHello, ch))...)

	sh := append([]byte{3, 3}, bytes.Repeat([]byte{0x5e}, 32)...)
	sh = append(sh, 0, byte(suiteID>>8), byte(suiteID), 0)
	sh = append(sh, vec16(ext(extSupportedVersions, []byte{3, 4}))...)
	s.server = append(s.server, record(recHandshake, hsMsg(hsServerHello, sh))...)
	s.server = append(s.server, record(recChangeCipherSpec, []byte{1})...)
	ee := hsMsg(hsEncryptedExtensions, vec16(ext(extALPN, vec16(vec8([]byte("h2"))))))
	fin := hsMsg(hsFinished, make([]byte, hl))
	s.server = append(s.server, seal(ciphers[1], recHandshake, append(ee, fin...))...)

	s.client = append(s.client, record(recChangeCipherSpec, []byte{1})...)
	s.client = append(s.client, seal(ciphers[0], recHandshake, fin)...)
	for i := 0; i < 3; i++ {
		m := []byte(strings.Repeat(string(rune('a'+i)), 10+i))
		s.client = append(s.client, seal(ciphers[2], recApplicationData, m)...)
		s.clientApp = append(s.clientApp, m...)
	}
	for i := 0; i < 6; i++ {
		if i == 3 {
			s.server = append(s.server, seal(ciphers[3], recHandshake, hsMsg(hsKeyUpdate, []byte{0}))...)
			rc, _ := newCipher13(s.suite, nextTrafficSecret(s.suite, ciphers[3].secret))
			ciphers[3] = rc
		}
		m := []byte(strings.Repeat(string(rune('A'+i)), 20+i))
		s.serverRecords = append(s.serverRecords, len(s.server))
		s.server = append(s.server, seal(ciphers[3], recApplicationData, m)...)
		s.serverApp = append(s.serverApp, m...)
	}
	return s
}

func (s *synth) keys() *KeyLog {
	k := &KeyLog{}
	for i, l := range []string{LabelClientHandshake, LabelServerHandshake, LabelClientTraffic0, LabelServerTraffic0} {
		k.Add(l, s.random, s.secrets[i])
	}
	return k
}

// recorder is an inner handler that keeps what it is given.
type recorder struct {
	data  [2][]byte
	gaps  [2]int
	ended bool
}

type recorderFactory struct{ r *recorder }

func (f recorderFactory) NewConn(*capture.ConnInfo) capture.ConnHandler { return f.r }

func (r *recorder) Data(s capture.Side, b []byte, _ time.Time) {
	r.data[s] = append(r.data[s], b...)
}
func (r *recorder) Gap(s capture.Side, _ int64, _ time.Time) { r.gaps[s]++ }
func (r *recorder) End(capture.EndReason, time.Time)         { r.ended = true }

func newTestConn(keys *KeyLog) (capture.ConnHandler, *recorder, *capture.ConnInfo) {
	r := &recorder{}
	ci := &capture.ConnInfo{ID: 1, Addr: [2]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.1:443")}}
	return NewFactory(recorderFactory{r}, keys, Options{}).NewConn(ci), r, ci
}

// feedSplit delivers the client's handshake, then the server's stream cut
// at the given offsets, then the rest of the client's stream.
func (s *synth) feed(h capture.ConnHandler, cuts []int) {
	var t time.Time
	chEnd := 5 + int(binary.BigEndian.Uint16(s.client[3:5]))
	h.Data(capture.SideA, s.client[:chEnd], t)
	prev := 0
	for _, c := range append(cuts, len(s.server)) {
		h.Data(capture.SideB, s.server[prev:c], t)
		prev = c
	}
	h.Data(capture.SideA, s.client[chEnd:], t)
	h.End(capture.EndFIN, t)
}

func (s *synth) check(t *testing.T, r *recorder, ci *capture.ConnInfo, what string) {
	t.Helper()
	if !bytes.Equal(r.data[0], s.clientApp) || !bytes.Equal(r.data[1], s.serverApp) {
		t.Fatalf("%s: plaintext\nclient %q\nwant   %q\nserver %q\nwant   %q", what, r.data[0], s.clientApp, r.data[1], s.serverApp)
	}
	i := ci.TLS
	if i.Version != "TLS 1.3" || i.CipherSuite != s.suite.name || i.SNI != "synth.test" || i.ALPN != "h2" || !i.Decrypted || i.Problem != "" {
		t.Fatalf("%s: info %+v", what, *i)
	}
}

// Every suite; the server stream split at every byte, fed a byte at a time,
// and whole (many records in one segment). The server's KeyUpdate is
// followed.
func TestRecordsSplitEverywhere(t *testing.T) {
	for _, id := range []uint16{0x1301, 0x1302, 0x1303} {
		s := newSynth(t, id)
		for cut := 0; cut <= len(s.server); cut++ {
			h, r, ci := newTestConn(s.keys())
			s.feed(h, []int{cut})
			s.check(t, r, ci, s.suite.name+" cut at "+string(rune('0'+cut%10)))
		}
		var each []int
		for i := 1; i < len(s.server); i++ {
			each = append(each, i)
		}
		h, r, ci := newTestConn(s.keys())
		s.feed(h, each)
		s.check(t, r, ci, s.suite.name+" byte by byte")
	}
}

// A gap in the server's application data: the records after it are found
// again and decrypted with a later sequence number; only the lost record's
// plaintext is missing.
func TestGapResync(t *testing.T) {
	s := newSynth(t, 0x1301)
	h, r, ci := newTestConn(s.keys())
	var tm time.Time
	chEnd := 5 + int(binary.BigEndian.Uint16(s.client[3:5]))
	h.Data(capture.SideA, s.client[:chEnd], tm)
	// Deliver up to the middle of the second application record, lose the
	// rest of it and the start of the third, then go on.
	r1, r2 := s.serverRecords[1], s.serverRecords[2]
	h.Data(capture.SideB, s.server[:r1+7], tm)
	h.Gap(capture.SideB, int64(r2+3-(r1+7)), tm)
	h.Data(capture.SideB, s.server[r2+3:], tm)
	h.End(capture.EndFIN, tm)
	if r.gaps[1] != 1 {
		t.Errorf("inner saw %d gaps", r.gaps[1])
	}
	// Records 0 and 3.. survive (3 comes after the KeyUpdate, which is
	// also read again).
	want := []byte(strings.Repeat("A", 20) + strings.Repeat("D", 23) + strings.Repeat("E", 24) + strings.Repeat("F", 25))
	if !bytes.Equal(r.data[1], want) {
		t.Errorf("server plaintext %q\nwant %q", r.data[1], want)
	}
	if p := ci.TLS.Problem; !strings.Contains(p, "resumed") {
		t.Errorf("problem %q", p)
	}
}

func TestMissingAndWrongKey(t *testing.T) {
	s := newSynth(t, 0x1303)
	h, r, ci := newTestConn(&KeyLog{})
	s.feed(h, nil)
	i := ci.TLS
	if len(r.data[0])+len(r.data[1]) != 0 || i.Decrypted || !strings.HasPrefix(i.Problem, "no key for client random 3f3f3f3f3f3f3f3f…") || i.SNI != "synth.test" {
		t.Errorf("missing key: %+v", *i)
	}
	bad := s.keys()
	bad.Lookup(s.random).ServerHandshake = bytes.Repeat([]byte{0xee}, 32)
	bad.Lookup(s.random).ServerTraffic0 = bytes.Repeat([]byte{0xee}, 32)
	h, r, ci = newTestConn(bad)
	s.feed(h, nil)
	i = ci.TLS
	if len(r.data[1]) != 0 || !bytes.Equal(r.data[0], s.clientApp) || !strings.Contains(i.Problem, "wrong key") {
		t.Errorf("wrong server key: %+v", *i)
	}
}

// A connection that is not TLS reaches the inner handler byte for byte,
// even when its first bytes arrive one at a time.
func TestPassThrough(t *testing.T) {
	preface := []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	h, r, ci := newTestConn(nil)
	h.Data(capture.SideA, preface[:1], time.Time{})
	h.Data(capture.SideA, preface[1:2], time.Time{})
	h.Data(capture.SideA, preface[2:], time.Time{})
	h.Data(capture.SideB, []byte{0, 0, 0, 4}, time.Time{})
	h.End(capture.EndFIN, time.Time{})
	if !bytes.Equal(r.data[0], preface) || len(r.data[1]) != 4 || ci.TLS != nil || !r.ended {
		t.Errorf("pass-through: %q %q %v", r.data[0], r.data[1], ci.TLS)
	}
}

// TestConnSize keeps conn within the 64-byte size class: the pass-through
// of a capture with many connections reads one cache line per Data.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 64 {
		t.Errorf("conn is %d bytes", n)
	}
}
