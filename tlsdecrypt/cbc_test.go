package tlsdecrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
)

// cbcSealer protects TLS 1.2 AES-CBC records with the standard library
// alone, independently of recordCipher.openCBC: the explicit IV is the
// sequence number repeated, the padding as long as needed plus extra blocks.
type cbcSealer struct {
	s          *suite
	macKey     []byte
	block      cipher.Block
	etm        bool
	seq        uint64
	extraBlock int // whole blocks of extra padding (TLS allows up to 255 bytes)
}

func newCBCSealer(t testing.TB, s *suite, macKey, key []byte, etm bool) *cbcSealer {
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	return &cbcSealer{s: s, macKey: macKey, block: b, etm: etm}
}

func (w *cbcSealer) mac(typ byte, data []byte) []byte {
	m := hmac.New(w.s.mac, w.macKey)
	var h [13]byte
	binary.BigEndian.PutUint64(h[:], w.seq)
	h[8], h[9], h[10] = typ, 3, 3
	binary.BigEndian.PutUint16(h[11:], uint16(len(data)))
	m.Write(h[:])
	m.Write(data)
	return m.Sum(nil)
}

func (w *cbcSealer) seal(typ byte, content []byte) []byte {
	iv := bytes.Repeat(binary.BigEndian.AppendUint64(nil, w.seq), 2)
	pt := append([]byte(nil), content...)
	if !w.etm {
		pt = append(pt, w.mac(typ, content)...)
	}
	p := (aes.BlockSize-(len(pt)+1)%aes.BlockSize)%aes.BlockSize + w.extraBlock*aes.BlockSize
	pt = append(pt, bytes.Repeat([]byte{byte(p)}, p+1)...)
	enc := append(append([]byte(nil), iv...), make([]byte, len(pt))...)
	cipher.NewCBCEncrypter(w.block, iv).CryptBlocks(enc[aes.BlockSize:], pt)
	if w.etm {
		enc = append(enc, w.mac(typ, enc)...)
	}
	w.seq++
	return record(typ, enc)
}

var cbcTestSuites = []uint16{0xc009, 0xc00a, 0xc023, 0xc024, 0x002f, 0x003d}

// Records sealed with the standard library open, for every content length
// around the block size, with and without encrypt_then_mac, with minimal
// and long padding; the sequence number is part of the MAC.
func TestCBCRoundTrip(t *testing.T) {
	for _, id := range cbcTestSuites {
		for _, etm := range []bool{false, true} {
			s := suites[id]
			if etm {
				s = s.withETM()
			}
			macKey := bytes.Repeat([]byte{0x4d}, s.macLen)
			key := bytes.Repeat([]byte{0x6b}, s.keyLen)
			w := newCBCSealer(t, s, macKey, key, etm)
			rc, err := newCipher12(s, macKey, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			for n := 0; n < 70; n++ {
				w.extraBlock = n % 3
				content := bytes.Repeat([]byte{byte('a' + n%26)}, n)
				rec := w.seal(recApplicationData, content)
				seq := w.seq - 1
				got, ok := rc.open([]byte("x"), rec[:5], rec[5:], seq)
				if !ok || string(got) != "x"+string(content) {
					t.Fatalf("%s etm=%v len %d: ok=%v got %q", s.name, etm, n, ok, got)
				}
				if _, ok := rc.open(nil, rec[:5], rec[5:], seq+1); ok {
					t.Fatalf("%s etm=%v len %d: opened with the wrong sequence number", s.name, etm, n)
				}
			}
		}
	}
}

// Tampered records are refused, not opened and not a panic: a flipped bit
// anywhere (IV, content, MAC, padding), bad padding bytes under a right MAC
// (encrypt_then_mac), a wrong MAC key, and every truncation.
func TestCBCBadRecords(t *testing.T) {
	for _, etm := range []bool{false, true} {
		s := suites[0xc009]
		if etm {
			s = s.withETM()
		}
		macKey, key := bytes.Repeat([]byte{1}, 20), bytes.Repeat([]byte{2}, 16)
		w := newCBCSealer(t, s, macKey, key, etm)
		rc, _ := newCipher12(s, macKey, key, nil)
		rec := w.seal(recApplicationData, []byte("hello, cbc record"))
		if _, ok := rc.open(nil, rec[:5], rec[5:], 0); !ok {
			t.Fatalf("etm=%v: the good record does not open", etm)
		}
		for i := 5; i < len(rec); i++ {
			bad := bytes.Clone(rec)
			bad[i] ^= 0x01
			if _, ok := rc.open(nil, bad[:5], bad[5:], 0); ok {
				t.Errorf("etm=%v: opened with byte %d flipped", etm, i)
			}
		}
		for n := 0; n < len(rec)-5; n++ {
			if _, ok := rc.open(nil, rec[:5], rec[5:5+n], 0); ok {
				t.Errorf("etm=%v: opened cut to %d bytes", etm, n)
			}
		}
		wrong, _ := newCipher12(s, bytes.Repeat([]byte{9}, 20), key, nil)
		if _, ok := wrong.open(nil, rec[:5], rec[5:], 0); ok {
			t.Errorf("etm=%v: opened with a wrong MAC key", etm)
		}
		// Lengths that are no whole number of blocks, and garbage.
		for n := 0; n < 120; n++ {
			junk := bytes.Repeat([]byte{byte(n)}, n)
			if _, ok := rc.open(nil, rec[:5], junk, 0); ok {
				t.Errorf("etm=%v: opened %d junk bytes", etm, n)
			}
		}
	}
	// encrypt_then_mac with a right MAC but padding bytes that disagree
	// with the padding length: the MAC does not protect against a broken
	// sender, the padding check does.
	s := suites[0xc013].withETM()
	macKey, key := bytes.Repeat([]byte{1}, 20), bytes.Repeat([]byte{2}, 16)
	b, _ := aes.NewCipher(key)
	iv := make([]byte, 16)
	pt := append([]byte("0123456789ab"), 3, 7, 3, 3) // length 3, but one padding byte is 7
	enc := append(bytes.Clone(iv), make([]byte, 16)...)
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(enc[16:], pt)
	w := &cbcSealer{s: s, macKey: macKey}
	rec := record(recApplicationData, append(enc, w.mac(recApplicationData, enc)...))
	rc, _ := newCipher12(s, macKey, key, nil)
	if _, ok := rc.open(nil, rec[:5], rec[5:], 0); ok {
		t.Error("opened a record with bad padding bytes")
	}
	pt[13] = 3
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(enc[16:32], pt)
	rec = record(recApplicationData, append(enc[:32], w.mac(recApplicationData, enc[:32])...))
	if got, ok := rc.open(nil, rec[:5], rec[5:], 0); !ok || string(got) != "0123456789ab" {
		t.Errorf("good padding: %q %v", got, ok)
	}
}

// synth12 builds a TLS 1.2 CBC connection's two byte streams: ClientHello
// and ServerHello (encrypt_then_mac offered and accepted when etm),
// ChangeCipherSpec and an encrypted Finished each way, then application
// data both ways.
type synth12 struct {
	suite          *suite
	random, master []byte
	client, server []byte
	clientApp      []byte
	serverApp      []byte
}

func newSynth12(t testing.TB, id uint16, etm bool) *synth12 {
	s := &synth12{suite: suites[id], random: bytes.Repeat([]byte{0xcb}, 32), master: bytes.Repeat([]byte{0x77}, 48)}
	serverRandom := bytes.Repeat([]byte{0x5c}, 32)
	var exts []byte
	if etm {
		exts = ext(extEncryptThenMAC, nil)
	}
	alpn := ext(extALPN, vec16(vec8([]byte("h2"))))
	ch := append([]byte{3, 3}, s.random...)
	ch = append(ch, 0, 0, 2, byte(id>>8), byte(id), 1, 0)
	ch = append(ch, vec16(append(append(ext(extServerName, vec16(append([]byte{0}, vec16([]byte("cbc.test"))...))), alpn...), exts...))...)
	s.client = record(recHandshake, hsMsg(hsClientHello, ch))
	sh := append([]byte{3, 3}, serverRandom...)
	sh = append(sh, 0, byte(id>>8), byte(id), 0)
	sh = append(sh, vec16(append(alpn, exts...))...)
	s.server = record(recHandshake, hsMsg(hsServerHello, sh))

	sw := s.suite
	if etm {
		sw = sw.withETM()
	}
	cm, sm, ck, sk, _, _ := keyBlock12(sw, s.master, s.random, serverRandom)
	cw, sv := newCBCSealer(t, sw, cm, ck, etm), newCBCSealer(t, sw, sm, sk, etm)
	fin := hsMsg(hsFinished, make([]byte, 12))
	s.client = append(s.client, record(recChangeCipherSpec, []byte{1})...)
	s.client = append(s.client, cw.seal(recHandshake, fin)...)
	s.server = append(s.server, record(recChangeCipherSpec, []byte{1})...)
	s.server = append(s.server, sv.seal(recHandshake, fin)...)
	for i := 0; i < 4; i++ {
		m := []byte(strings.Repeat(string(rune('a'+i)), 14+i))
		cw.extraBlock = i % 2
		s.client = append(s.client, cw.seal(recApplicationData, m)...)
		s.clientApp = append(s.clientApp, m...)
		m = []byte(strings.Repeat(string(rune('A'+i)), 30+3*i))
		s.server = append(s.server, sv.seal(recApplicationData, m)...)
		s.serverApp = append(s.serverApp, m...)
	}
	return s
}

func (s *synth12) keys() *KeyLog {
	k := &KeyLog{}
	k.Add(LabelClientRandom, s.random, s.master)
	return k
}

func (s *synth12) run(keys *KeyLog) (*recorder, *capture.TLSInfo) {
	h, r, ci := newTestConn(keys)
	var tm time.Time
	h.Data(capture.SideA, s.client[:5+int(binary.BigEndian.Uint16(s.client[3:5]))], tm)
	for i := 0; i < len(s.server); i += 7 { // the server's stream in small pieces
		h.Data(capture.SideB, s.server[i:min(i+7, len(s.server))], tm)
	}
	h.Data(capture.SideA, s.client[5+int(binary.BigEndian.Uint16(s.client[3:5])):], tm)
	h.End(capture.EndFIN, tm)
	return r, ci.TLS
}

// A whole TLS 1.2 CBC connection decrypts, with MAC-then-encrypt and with
// encrypt_then_mac; a wrong master secret is reported as a wrong key.
func TestCBCConnection(t *testing.T) {
	for _, id := range []uint16{0xc013, 0xc027, 0xc028, 0x0035} {
		for _, etm := range []bool{false, true} {
			s := newSynth12(t, id, etm)
			r, i := s.run(s.keys())
			if !bytes.Equal(r.data[0], s.clientApp) || !bytes.Equal(r.data[1], s.serverApp) {
				t.Fatalf("%s etm=%v: plaintext\nclient %q\nserver %q", s.suite.name, etm, r.data[0], r.data[1])
			}
			if i.Version != "TLS 1.2" || i.CipherSuite != s.suite.name || i.ALPN != "h2" || !i.Decrypted || i.Problem != "" || i.EncryptThenMAC != etm {
				t.Fatalf("%s etm=%v: info %+v", s.suite.name, etm, *i)
			}
			if want := "TLS 1.2 " + s.suite.name + " sni=cbc.test alpn=h2 encrypt-then-mac decrypted"; etm && i.String() != want {
				t.Errorf("%q, want %q", i.String(), want)
			}
			bad := &KeyLog{}
			bad.Add(LabelClientRandom, s.random, bytes.Repeat([]byte{0x78}, 48))
			r, i = s.run(bad)
			if len(r.data[0])+len(r.data[1]) != 0 || i.Decrypted || !strings.Contains(i.Problem, "wrong key: decryption (MAC check) failed on the client's first protected record") {
				t.Fatalf("%s etm=%v, wrong key: %+v", s.suite.name, etm, *i)
			}
		}
	}
}

// A lost record in the middle of a CBC connection: decryption resumes at
// the next one (the sequence number is only in the MAC).
func TestCBCGapResync(t *testing.T) {
	s := newSynth12(t, 0xc009, false)
	// Find the server's application-data records.
	var starts []int
	for off := 0; off < len(s.server); {
		if s.server[off] == recApplicationData {
			starts = append(starts, off)
		}
		off += 5 + int(binary.BigEndian.Uint16(s.server[off+3:off+5]))
	}
	h, r, ci := newTestConn(s.keys())
	var tm time.Time
	h.Data(capture.SideA, s.client, tm)
	h.Data(capture.SideB, s.server[:starts[1]+9], tm)
	h.Gap(capture.SideB, 100, tm)
	h.Data(capture.SideB, s.server[starts[2]+4:], tm)
	h.End(capture.EndFIN, tm)
	want := strings.Repeat("A", 30) + strings.Repeat("D", 39)
	if string(r.data[1]) != want {
		t.Errorf("server plaintext %q, want %q", r.data[1], want)
	}
	if p := ci.TLS.Problem; !strings.Contains(p, "resumed") {
		t.Errorf("problem %q", p)
	}
}

// The real captures: grpc-go peers with ECDHE-ECDSA CBC suites (Go: no
// encrypt_then_mac), and curl/OpenSSL against openssl s_server, which
// negotiate encrypt_then_mac, including RSA key exchange (whose key log
// also has OpenSSL's RSA lines, ignored without a warning).
func TestTLS12CBCCapture(t *testing.T) {
	res := runCapture(t, "tls12_cbc.pcap", loadKeys(t, "tls12_cbc.keys"))
	checkCalls(t, res, []wantCall{{1, "cbc"}, {1, "go"}, {2, "cbc"}, {2, "go"}, {3, "cbc"}, {3, "go"}})
	for id, suite := range []string{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"} {
		checkInfo(t, res, uint64(id+1), capture.TLSInfo{Version: "TLS 1.2", CipherSuite: suite, SNI: "greeter.test", ALPN: "h2", Decrypted: true})
		if res.tls[uint64(id+1)].EncryptThenMAC {
			t.Errorf("conn %d: encrypt_then_mac with a Go server", id+1)
		}
	}
	// A wrong master secret: the MAC check says so.
	bad := loadKeys(t, "tls12_cbc.keys")
	for _, i := range res.tls {
		cr := unhex(t, i.ClientRandom)
		bad.Lookup(cr).MasterSecret = bytes.Repeat([]byte{1}, 48)
	}
	res = runCapture(t, "tls12_cbc.pcap", bad)
	if len(res.calls) != 0 || !strings.Contains(res.tls[1].Problem, "wrong key: decryption (MAC check) failed") {
		t.Errorf("wrong key: %d calls, %+v", len(res.calls), *res.tls[1])
	}
}

func TestTLS12CBCEtMCapture(t *testing.T) {
	src, err := capture.OpenFile("../testdata/pcaps/tls/tls12_cbc_etm.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var infos []*capture.TLSInfo
	var got []string
	recs := perConnRecorders{}
	f := NewFactory(recs, loadKeys(t, "tls12_cbc_etm.keys"), Options{
		Report: func(ci *capture.ConnInfo, i *capture.TLSInfo) {
			infos = append(infos, i)
			r := recs[ci.ID]
			got = append(got, string(r.data[0])+"|"+string(r.data[1]))
		},
	})
	if err := capture.NewAssembler(f, capture.Options{}).ReadAll(src); err != nil {
		t.Fatal(err)
	}
	suites := []string{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_RSA_WITH_AES_128_CBC_SHA256"}
	if len(infos) != len(suites) {
		t.Fatalf("%d TLS connections, want %d", len(infos), len(suites))
	}
	for k, i := range infos {
		if i.Version != "TLS 1.2" || i.CipherSuite != suites[k] || !i.EncryptThenMAC || !i.Decrypted || i.Problem != "" {
			t.Errorf("conn %d: %+v", k+1, *i)
		}
		if !strings.HasPrefix(got[k], "GET /hello.txt HTTP/1.1\r\n") || !strings.HasSuffix(got[k], "\r\n\r\nhello over AES-CBC with encrypt_then_mac\n") {
			t.Errorf("conn %d: plaintext %q", k+1, got[k])
		}
	}
}

// perConnRecorders gives each connection its own recorder, by connection id.
type perConnRecorders map[uint64]*recorder

func (m perConnRecorders) NewConn(ci *capture.ConnInfo) capture.ConnHandler {
	r := &recorder{}
	m[ci.ID] = r
	return r
}
