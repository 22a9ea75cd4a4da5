package tlsdecrypt

import (
	"bytes"
	"encoding/binary"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// result is what the whole pipeline made of one capture.
type result struct {
	packets int
	calls   []*grpcframe.Call
	tls     map[uint64]*capture.TLSInfo // by connection id
	endedAt map[uint64]int              // packet index at which the connection ended (runCaptureLateKeys)
}

// runCapture feeds a shipped capture through capture → tlsdecrypt → h2decode
// → grpcframe, the way the command wires them.
func runCapture(t *testing.T, name string, keys *KeyLog) result {
	t.Helper()
	return runCaptureDrop(t, name, keys, -1)
}

// runCaptureDrop is runCapture with the packet at index drop (from 0) left
// out, as if the capture had lost it.
func runCaptureDrop(t *testing.T, name string, keys *KeyLog, drop int) result {
	t.Helper()
	src, err := capture.OpenFile(filepath.Join("..", "testdata", "pcaps", "tls", name))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res := result{tls: map[uint64]*capture.TLSInfo{}}
	calls := grpcframe.NewAssembler(grpcframe.SinkFunc(func(c *grpcframe.Call) {
		res.calls = append(res.calls, c)
	}), grpcframe.Options{MaxMessageSize: 1 << 20})
	f := NewFactory(h2decode.NewFactory(calls, h2decode.Options{}), keys, Options{
		Report: func(ci *capture.ConnInfo, i *capture.TLSInfo) {
			if ci.TLS != i {
				t.Errorf("conn %d: ConnInfo.TLS is not the reported Info", ci.ID)
			}
			res.tls[ci.ID] = i
		},
	})
	tcp := capture.NewAssembler(f, capture.Options{})
	var last time.Time
	for i := 0; ; i++ {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		last = p.Time
		res.packets++
		if i != drop {
			tcp.AddPacket(p)
		}
	}
	tcp.Close(last)
	calls.Close()
	sort.SliceStable(res.calls, func(i, j int) bool {
		if res.calls[i].ConnID != res.calls[j].ConnID {
			return res.calls[i].ConnID < res.calls[j].ConnID
		}
		return res.calls[i].StreamID < res.calls[j].StreamID
	})
	return res
}

func loadKeys(t *testing.T, name string) *KeyLog {
	t.Helper()
	k, err := LoadKeyLog(filepath.Join("..", "testdata", "pcaps", "tls", name))
	if err != nil {
		t.Fatal(err)
	}
	if w := k.Warnings(); len(w) > 0 {
		t.Fatalf("key log warnings: %v", w)
	}
	return k
}

// helloRequest and helloReply are the protobuf encodings of
// HelloRequest{name} and HelloReply{message: "Hello, name!"}.
func helloRequest(name string) string { return "\x0a" + string(rune(len(name))) + name }
func helloReply(name string) string {
	m := "Hello, " + name + "!"
	return "\x0a" + string(rune(len(m))) + m
}

// wantCall is one expected unary SayHello call.
type wantCall struct {
	conn uint64
	name string
}

func checkCalls(t *testing.T, res result, want []wantCall) {
	t.Helper()
	if len(res.calls) != len(want) {
		for _, c := range res.calls {
			t.Logf("call: conn %d stream %d %s %v", c.ConnID, c.StreamID, c.Method, c.Notes)
		}
		t.Fatalf("%d calls, want %d", len(res.calls), len(want))
	}
	for i, w := range want {
		c := res.calls[i]
		if c.ConnID != w.conn || c.Method != "/helloworld.Greeter/SayHello" {
			t.Errorf("call %d: conn %d method %q, want conn %d SayHello", i, c.ConnID, c.Method, w.conn)
		}
		if c.State != grpcframe.StateComplete || c.Status == nil || c.Status.Code != 0 {
			t.Errorf("call %d: state %v status %+v, want complete OK", i, c.State, c.Status)
		}
		if len(c.Requests) != 1 || string(c.Requests[0].Data) != helloRequest(w.name) {
			t.Errorf("call %d: requests %v, want HelloRequest{%q}", i, msgs(c.Requests), w.name)
		}
		if len(c.Responses) != 1 || string(c.Responses[0].Data) != helloReply(w.name) {
			t.Errorf("call %d: responses %v, want HelloReply{%q}", i, msgs(c.Responses), "Hello, "+w.name+"!")
		}
		if c.Transport != h2decode.TransportH2 && c.Transport != h2decode.TransportHTTP1 {
			t.Errorf("call %d: transport %v", i, c.Transport)
		}
	}
}

func msgs(m []*grpcframe.Message) []string {
	var out []string
	for _, x := range m {
		out = append(out, string(x.Data))
	}
	return out
}

// checkInfo compares the TLS metadata of connection id.
func checkInfo(t *testing.T, res result, id uint64, want capture.TLSInfo) {
	t.Helper()
	got := res.tls[id]
	if got == nil {
		t.Fatalf("conn %d: no TLS info", id)
	}
	if got.Version != want.Version || got.CipherSuite != want.CipherSuite || got.SNI != want.SNI ||
		got.ALPN != want.ALPN || got.Decrypted != want.Decrypted || got.HelloRetry != want.HelloRetry ||
		!strings.Contains(got.Problem, want.Problem) || (want.Problem == "" && got.Problem != "") {
		t.Errorf("conn %d: TLS info\n got %+v\nwant %+v", id, *got, want)
	}
	if len(got.ALPNOffered) == 0 || got.ALPNOffered[0] != "h2" {
		t.Errorf("conn %d: ALPN offered %v", id, got.ALPNOffered)
	}
}

func TestTLS13Capture(t *testing.T) {
	res := runCapture(t, "tls13.pcap", loadKeys(t, "tls13.keys"))
	checkCalls(t, res, []wantCall{{1, "aes128"}, {2, "aes256"}, {3, "chacha"}, {4, "tls13"}, {4, "go"}})
	for id, suite := range []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"} {
		checkInfo(t, res, uint64(id+1), capture.TLSInfo{Version: "TLS 1.3", CipherSuite: suite, ALPN: "h2", Decrypted: true})
	}
	checkInfo(t, res, 4, capture.TLSInfo{Version: "TLS 1.3", CipherSuite: res.tls[4].CipherSuite, SNI: "greeter.test", ALPN: "h2", Decrypted: true})
}

func TestTLS12Capture(t *testing.T) {
	res := runCapture(t, "tls12.pcap", loadKeys(t, "tls12.keys"))
	checkCalls(t, res, []wantCall{{1, "tls12"}, {1, "go"}, {2, "tls12"}, {2, "go"}, {3, "tls12"}, {3, "go"}})
	for id, suite := range []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"} {
		checkInfo(t, res, uint64(id+1), capture.TLSInfo{Version: "TLS 1.2", CipherSuite: suite, SNI: "greeter.test", ALPN: "h2", Decrypted: true})
	}
}

func TestTLS13HelloRetryCapture(t *testing.T) {
	res := runCapture(t, "tls13_hrr.pcap", loadKeys(t, "tls13_hrr.keys"))
	checkCalls(t, res, []wantCall{{1, "retry"}})
	checkInfo(t, res, 1, capture.TLSInfo{Version: "TLS 1.3", CipherSuite: res.tls[1].CipherSuite, SNI: "greeter.test", ALPN: "h2", Decrypted: true, HelloRetry: true})
}

// The pcapng made by editcap --inject-secrets carries its own key log.
func TestPcapngSecrets(t *testing.T) {
	k, n, err := LoadPcapngKeys(filepath.Join("..", "testdata", "pcaps", "tls", "tls13_secrets.pcapng"))
	if err != nil || n != 1 {
		t.Fatalf("LoadPcapngKeys: %d blocks, %v", n, err)
	}
	if k.Len() != 4 {
		t.Errorf("%d client randoms, want 4", k.Len())
	}
	res := runCapture(t, "tls13_secrets.pcapng", k)
	checkCalls(t, res, []wantCall{{1, "aes128"}, {2, "aes256"}, {3, "chacha"}, {4, "tls13"}, {4, "go"}})
	if _, _, err := LoadPcapngKeys(filepath.Join("..", "testdata", "pcaps", "tls", "tls13.pcap")); err != ErrNotPcapng {
		t.Errorf("pcap: %v, want ErrNotPcapng", err)
	}
}

// Without keys the connections are still reported as TLS, with the reason.
func TestNoKeys(t *testing.T) {
	res := runCapture(t, "tls13.pcap", nil)
	if len(res.calls) != 0 {
		t.Errorf("%d calls without keys", len(res.calls))
	}
	checkInfo(t, res, 2, capture.TLSInfo{Version: "TLS 1.3", CipherSuite: "TLS_AES_256_GCM_SHA384", Problem: "no key for client random "})
	if i := res.tls[4]; i.SNI != "greeter.test" || i.ALPN != "" {
		t.Errorf("conn 4: SNI %q ALPN %q (the 1.3 ALPN is encrypted)", i.SNI, i.ALPN)
	}
}

// A key log whose secrets belong to other connections, filed under these
// connections' client randoms, is reported as a wrong key.
func TestWrongKeys(t *testing.T) {
	good := loadKeys(t, "tls12.keys")
	bad := &KeyLog{}
	var crs [][32]byte
	for cr := range good.m {
		crs = append(crs, cr)
	}
	for i, cr := range crs {
		bad.Add(LabelClientRandom, cr[:], good.m[crs[(i+1)%len(crs)]].MasterSecret)
	}
	res := runCapture(t, "tls12.pcap", bad)
	if len(res.calls) != 0 {
		t.Errorf("%d calls with wrong keys", len(res.calls))
	}
	for id := uint64(1); id <= 3; id++ {
		if p := res.tls[id].Problem; !strings.Contains(p, "wrong key") {
			t.Errorf("conn %d: problem %q", id, p)
		}
	}
}

// Losing any one packet costs at most the calls of the connection it was in
// (a gap stops only its direction until a record decrypts again), and never
// produces a wrong message.
func TestDropEachPacket(t *testing.T) {
	for _, c := range []struct {
		pcap, keys string
		names      map[string]bool
	}{
		{"tls12.pcap", "tls12.keys", map[string]bool{"tls12": true, "go": true}},
		{"tls13.pcap", "tls13.keys", map[string]bool{"aes128": true, "aes256": true, "chacha": true, "tls13": true, "go": true}},
	} {
		keys := loadKeys(t, c.keys)
		base := runCapture(t, c.pcap, keys)
		total := len(base.calls)
		unharmed, recovered := 0, 0
		for drop := 0; drop < base.packets; drop++ {
			res := runCaptureDrop(t, c.pcap, keys, drop)
			ok := 0
			for _, call := range res.calls {
				for _, m := range call.Requests {
					name := string(m.Data[2:])
					if !c.names[name] || string(m.Data) != helloRequest(name) {
						t.Fatalf("%s drop %d: request %q", c.pcap, drop, m.Data)
					}
					if len(call.Responses) == 1 && string(call.Responses[0].Data) != helloReply(name) {
						t.Fatalf("%s drop %d: response %q to %q", c.pcap, drop, call.Responses[0].Data, name)
					}
					if call.Status != nil && call.Status.Code == 0 && len(call.Responses) == 1 {
						ok++
					}
				}
			}
			if ok < total-2 {
				t.Errorf("%s drop %d: %d of %d calls complete", c.pcap, drop, ok, total)
			}
			if ok == total {
				unharmed++
			}
			for id, i := range res.tls {
				if strings.Contains(i.Problem, "resumed") {
					recovered++
				}
				if testing.Verbose() && i.Problem != "" {
					t.Logf("%s drop %d: conn %d: %s (%d of %d calls whole)", c.pcap, drop, id, i.Problem, ok, total)
				}
			}
		}
		t.Logf("%s: %d packets; %d single-packet drops left every call whole; %d resynchronised after the loss", c.pcap, base.packets, unharmed, recovered)
	}
}

// openssl s_client and s_server trade lines of text around a KeyUpdate from
// each side (the client asks the server to update too): both directions are
// read across the key change.
func TestTLS13KeyUpdateCapture(t *testing.T) {
	src, err := capture.OpenFile(filepath.Join("..", "testdata", "pcaps", "tls", "tls13_keyupdate.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r := &recorder{}
	var info *capture.TLSInfo
	tcp := capture.NewAssembler(NewFactory(recorderFactory{r}, loadKeys(t, "tls13_keyupdate.keys"), Options{
		Report: func(_ *capture.ConnInfo, i *capture.TLSInfo) { info = i },
	}), capture.Options{})
	if err := tcp.ReadAll(src); err != nil {
		t.Fatal(err)
	}
	if string(r.data[0]) != "client before\nclient after\n" || string(r.data[1]) != "server before\nserver after\n" {
		t.Errorf("plaintext:\nA %q\nB %q", r.data[0], r.data[1])
	}
	if info == nil || info.Version != "TLS 1.3" || info.SNI != "keyupdate.test" || !info.Decrypted || info.Problem != "" {
		t.Errorf("info %+v", info)
	}
}

// A Decryption Secrets Block whose secrets length claims more than the
// block holds is an error in either byte order, also for a claim of 2 GiB
// or more, which is a negative int on a 32-bit platform (it used to slice
// out of range there).
func TestPcapngSecretsLengthClaims(t *testing.T) {
	for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, claim := range []uint32{13, 1 << 31, 0xFFFFFFF0} {
			var b []byte
			// Section header block: type, length, byte-order magic,
			// version 1.0, section length -1, trailing length.
			b = order.AppendUint32(b, pcapngSHB)
			b = order.AppendUint32(b, 28)
			b = order.AppendUint32(b, pcapngByteMagic)
			b = order.AppendUint16(b, 1)
			b = order.AppendUint16(b, 0)
			b = order.AppendUint64(b, ^uint64(0))
			b = order.AppendUint32(b, 28)
			// Decryption secrets block with 8 bytes of secrets room.
			b = order.AppendUint32(b, pcapngDSB)
			b = order.AppendUint32(b, 28)
			b = order.AppendUint32(b, pcapngTLSKeyLog)
			b = order.AppendUint32(b, claim)
			b = append(b, "CLIENT_R"...)
			b = order.AppendUint32(b, 28)
			var k KeyLog
			n, err := k.KeysFromPcapng(bytes.NewReader(b))
			if err == nil || !strings.Contains(err.Error(), "bytes of secrets in a 28-byte block") {
				t.Errorf("%v, claim %d: %d blocks, %v", order, claim, n, err)
			}
		}
	}
}
