package tlsdecrypt

import (
	"fmt"
	"testing"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// nodeCall is one call of node_grpcjs_tls.pcap: @grpc/grpc-js client and
// server over TLS 1.3, the key log written by the client's node
// --tls-keylog.
type nodeCall struct {
	method    string
	request   string
	responses []string
	code      int
	message   string
}

func nodeCalls() []nodeCall {
	var stream []string
	for i := 1; i <= 3; i++ {
		m := fmt.Sprintf("Hello #%d, tls stream!", i)
		stream = append(stream, "\x0a"+string(rune(len(m)))+m)
	}
	return []nodeCall{
		{"/helloworld.Greeter/SayHello", helloRequest("tls"), []string{helloReply("tls")}, 0, "OK"},
		{"/helloworld.Greeter/SayHelloStream", helloRequest("tls stream"), stream, 0, "OK"},
		// grpc-js sends the empty name as an empty field 1.
		{"/helloworld.Greeter/SayHello", helloRequest(""), nil, 3, "name must not be empty"},
	}
}

func TestNodeGrpcJSCapture(t *testing.T) {
	res := runCapture(t, "node_grpcjs_tls.pcap", loadKeys(t, "node_grpcjs_tls.keys"))
	want := nodeCalls()
	if len(res.calls) != len(want) {
		for _, c := range res.calls {
			t.Logf("call: conn %d stream %d %s %v", c.ConnID, c.StreamID, c.Method, c.Notes)
		}
		t.Fatalf("%d calls, want %d", len(res.calls), len(want))
	}
	for i, w := range want {
		c := res.calls[i]
		if c.ConnID != 1 || c.StreamID != uint32(2*i+1) || c.Method != w.method {
			t.Errorf("call %d: conn %d stream %d method %q, want conn 1 stream %d %s", i, c.ConnID, c.StreamID, c.Method, 2*i+1, w.method)
		}
		if c.State != grpcframe.StateComplete || c.Status == nil || c.Status.Code != w.code || c.Status.Message != w.message {
			t.Errorf("call %d: state %v status %+v, want complete %d %q", i, c.State, c.Status, w.code, w.message)
		}
		if got := msgs(c.Requests); len(got) != 1 || got[0] != w.request {
			t.Errorf("call %d: requests %q, want %q", i, got, w.request)
		}
		if got := msgs(c.Responses); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", w.responses) {
			t.Errorf("call %d: responses %q, want %q", i, got, w.responses)
		}
	}
	checkInfo(t, res, 1, capture.TLSInfo{Version: "TLS 1.3", CipherSuite: "TLS_AES_256_GCM_SHA384", SNI: "greeter.test", ALPN: "h2", Decrypted: true})
}

// Losing one packet of the node capture never produces a wrong message: a
// message that is there is the one the peer sent.
func TestNodeGrpcJSDropEachPacket(t *testing.T) {
	keys := loadKeys(t, "node_grpcjs_tls.keys")
	base := runCapture(t, "node_grpcjs_tls.pcap", keys)
	want := map[string]bool{}
	for _, w := range nodeCalls() {
		want[w.request] = true
		for _, r := range w.responses {
			want[r] = true
		}
	}
	whole := 0
	for drop := 0; drop < base.packets; drop++ {
		res := runCaptureDrop(t, "node_grpcjs_tls.pcap", keys, drop)
		for _, c := range res.calls {
			for _, m := range append(append([]*grpcframe.Message(nil), c.Requests...), c.Responses...) {
				if !m.Truncated && !want[string(m.Data)] {
					t.Fatalf("drop %d: call %s stream %d: message %q was never sent", drop, c.Method, c.StreamID, m.Data)
				}
			}
		}
		if len(res.calls) == len(base.calls) {
			whole++
		}
	}
	t.Logf("%d packets; %d single-packet drops left the call count unchanged", base.packets, whole)
}
