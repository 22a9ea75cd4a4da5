package schema

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
)

// captureCase is one message of a shipped capture and the JSON its schema
// gives it.
type captureCase struct {
	pcap, method string
	request      bool
	index        int // among the call's messages in that direction, over all calls of the method
	want         string
}

var captureCases = []captureCase{
	{"py_helloworld.pcap", "/helloworld.Greeter/SayHello", true, 0, `{"name":"you"}`},
	{"py_helloworld.pcap", "/helloworld.Greeter/SayHello", false, 0, `{"message":"Hello, you!"}`},
	{"py_helloworld.pcap", "/helloworld.Greeter/Square", false, 0, `{"value":16}`},
	{"py_helloworld.pcap", "/muxs.FileController/Write", true, 0, `{"path":"/data.bin","data":"AAECAwQFBgcICQoLDA0ODw=="}`},
	{"py_helloworld.pcap", "/muxs.FileController/Write", false, 0, `{"written":"16"}`},
	{"py_grpcdemo.pcap", "/demo.GRPCDemo/SimpleMethod", true, 0, `{"client_id":"1","request_data":"called by Python client"}`},
	{"py_grpcdemo.pcap", "/demo.GRPCDemo/SimpleMethod", false, 0, `{"server_id":"1","response_data":"Python server SimpleMethod Ok!!!!"}`},
	{"py_grpcdemo.pcap", "/demo.GRPCDemo/ClientStreamingMethod", true, 2, `{"client_id":"1","request_data":"called by Python client, message:2"}`},
	{"py_grpcdemo.pcap", "/demo.GRPCDemo/ServerStreamingMethod", false, 1, `{"server_id":"1","response_data":"send by Python server, message=1"}`},
	{"py_routeguide.pcap", "/routeguide.RouteGuide/GetFeature", true, 0, `{"latitude":409146138,"longitude":-746188906}`},
	{"py_routeguide.pcap", "/routeguide.RouteGuide/ListFeatures", true, 0, `{"lo":{"latitude":400000000,"longitude":-750000000},"hi":{"latitude":420000000,"longitude":-730000000}}`},
	{"py_routeguide.pcap", "/routeguide.RouteGuide/RecordRoute", false, 0, `{"point_count":5,"feature_count":5,"distance":266396}`},
	{"py_routeguide.pcap", "/routeguide.RouteGuide/RouteChat", true, 1, `{"location":{"longitude":1},"message":"Second message"}`},
	{"node_grpcjs.pcap", "/helloworld.Greeter/SayHello", true, 2, `{"name":"Zoë"}`},
	{"node_grpcjs.pcap", "/helloworld.Greeter/Square", true, 0, `{"value":1.5}`},
	{"node_grpcjs.pcap", "/helloworld.Greeter/SayHelloStream", false, 2, `{"message":"Hello #3, stream!"}`},
}

// messagesOf returns the message bytes of every call of method in pcap, in
// one direction, in order.
func messagesOf(t *testing.T, pcap, method string, request bool) [][]byte {
	t.Helper()
	var out [][]byte
	for _, c := range readCalls(t, pcap) {
		if c.Method != method {
			continue
		}
		ms := c.Responses
		if request {
			ms = c.Requests
		}
		for _, m := range ms {
			out = append(out, m.Data)
		}
	}
	return out
}

func checkCaptures(t *testing.T, r *Registry) {
	for _, tc := range captureCases {
		ms := messagesOf(t, tc.pcap, tc.method, tc.request)
		if tc.index >= len(ms) {
			t.Errorf("%s %s: only %d messages", tc.pcap, tc.method, len(ms))
			continue
		}
		d := r.Decode(tc.method, tc.request, ms[tc.index])
		if d.Err != "" || string(d.JSON) != tc.want || len(d.Unknown) > 0 {
			t.Errorf("%s %s request=%v #%d: got %s %s err=%q unknown=%v, want %s",
				tc.pcap, tc.method, tc.request, tc.index, d.Type, d.JSON, d.Err, d.Unknown, tc.want)
		}
	}
}

func TestCapturesWithProtoFiles(t *testing.T) {
	checkCaptures(t, loadSeed(t))
}

func TestCapturesWithProtoFilesNoImportPath(t *testing.T) {
	// Without -I, each file's directory is its import path.
	r, err := Load(Options{ProtoFiles: []string{
		filepath.Join(protoDir, "helloworld.proto"), filepath.Join(protoDir, "demo.proto"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	d := r.Decode("/demo.GRPCDemo/SimpleMethod", true, messagesOf(t, "py_grpcdemo.pcap", "/demo.GRPCDemo/SimpleMethod", true)[0])
	if got, want := string(d.JSON), `{"client_id":"1","request_data":"called by Python client"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestCapturesWithProtoset(t *testing.T) {
	r, err := Load(Options{Protosets: []string{filepath.Join("testdata", "seed.binpb")}})
	if err != nil {
		t.Fatal(err)
	}
	checkCaptures(t, r)
}

// TestDeterministic decodes every message of the captures with fresh
// registries, many times: protojson randomises its spacing per process, and
// the output must not vary at all.
func TestDeterministic(t *testing.T) {
	type msg struct {
		method  string
		request bool
		data    []byte
	}
	var all []msg
	for _, p := range []string{"py_helloworld.pcap", "py_grpcdemo.pcap", "py_routeguide.pcap", "node_grpcjs.pcap"} {
		for _, c := range readCalls(t, p) {
			for _, m := range c.Requests {
				all = append(all, msg{c.Method, true, m.Data})
			}
			for _, m := range c.Responses {
				all = append(all, msg{c.Method, false, m.Data})
			}
		}
	}
	var first [][]byte
	for run := 0; run < 10; run++ {
		r := loadSeed(t)
		for i, m := range all {
			d := r.Decode(m.method, m.request, m.data)
			if d.Err != "" || d.Type == "" {
				t.Fatalf("%s: %q %q", m.method, d.Type, d.Err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, d.JSON); err != nil || !bytes.Equal(compact.Bytes(), d.JSON) {
				t.Errorf("%s: not compact JSON: %s", m.method, d.JSON)
			}
			if run == 0 {
				first = append(first, d.JSON)
			} else if !bytes.Equal(first[i], d.JSON) {
				t.Fatalf("run %d, %s: %s, first run gave %s", run, m.method, d.JSON, first[i])
			}
		}
	}
}
