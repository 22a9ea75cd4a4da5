package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// peerTruth is one call as the peer that made it logged it
// (testdata/pcaps/NAME.truth.ndjson beside NAME.pcap): what tshark cannot
// say of Connect and Twirp, which it does not decode.
type peerTruth struct {
	Case          string `json:"case"`
	Protocol      string `json:"protocol"`
	HTTPMethod    string `json:"http_method"`
	Procedure     string `json:"procedure"`
	RequestSizes  []int  `json:"request_sizes"`
	ResponseSizes []int  `json:"response_sizes"`
	GRPCCode      int    `json:"grpc_code"`
	Message       string `json:"message"`
}

// decodedCall is what TestPeerTruth reads of grpcsniff's NDJSON.
type decodedCall struct {
	Protocol   string `json:"protocol"`
	HTTPMethod string `json:"http_method"`
	Method     string `json:"method"`
	Status     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
	Requests  []decodedMessage `json:"requests"`
	Responses []decodedMessage `json:"responses"`
}

type decodedMessage struct {
	Length       int  `json:"length"`
	Decompressed *int `json:"decompressed_length"`
}

// size is the message's size as its sender marshalled it: after
// decompression.
func (m decodedMessage) size() int {
	if m.Decompressed != nil {
		return *m.Decompressed
	}
	return m.Length
}

func (c *decodedCall) sizes(request bool) []int {
	ms := c.Responses
	if request {
		ms = c.Requests
	}
	out := []int{}
	for _, m := range ms {
		out = append(out, m.size())
	}
	return out
}

// Every call the peers of a capture logged is a call grpcsniff finds, in
// the order they were made, with the peers' protocol, method, HTTP method,
// message sizes each way, status code and message; with one worker and
// with the default.
func TestPeerTruth(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/pcaps/*.truth.ndjson")
	if len(files) == 0 {
		t.Fatal("no *.truth.ndjson beside the captures")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".truth.ndjson") + ".pcap"
		truth := readTruth(t, f)
		for _, workers := range []string{"1", "4"} {
			t.Run(name+"/workers="+workers, func(t *testing.T) {
				out, stderr, code := runCmd(t, nil, "-r", "../../testdata/pcaps/"+name, "--json", "-q", "--workers", workers)
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				calls := decodedCalls(t, out)
				if len(calls) != len(truth) {
					t.Fatalf("%d calls, the peers logged %d", len(calls), len(truth))
				}
				for i, want := range truth {
					if d := truthDiff(&want, &calls[i]); d != "" {
						t.Errorf("call %d (%s): %s", i+1, want.Case, d)
					}
				}
			})
		}
	}
}

func readTruth(t *testing.T, path string) []peerTruth {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []peerTruth
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var p peerTruth
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("%s: %v: %s", path, err, line)
		}
		out = append(out, p)
	}
	return out
}

func decodedCalls(t *testing.T, ndjson string) []decodedCall {
	var out []decodedCall
	for _, line := range strings.Split(strings.TrimSpace(ndjson), "\n") {
		var c decodedCall
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, c)
	}
	return out
}

// peerProtocols are grpcsniff's names of the protocols that peers name
// otherwise.
var peerProtocols = map[string]string{"grpcweb": "grpc-web"}

// truthDiff says how a decoded call differs from what its peer logged.
func truthDiff(want *peerTruth, got *decodedCall) string {
	var d []string
	if p := peerProtocols[want.Protocol]; p != "" {
		want.Protocol = p
	}
	if got.Protocol != want.Protocol {
		d = append(d, fmt.Sprintf("protocol %s, want %s", got.Protocol, want.Protocol))
	}
	if got.Method != want.Procedure {
		d = append(d, fmt.Sprintf("method %s, want %s", got.Method, want.Procedure))
	}
	if got.HTTPMethod != "" && got.HTTPMethod != want.HTTPMethod {
		d = append(d, fmt.Sprintf("HTTP method %s, want %s", got.HTTPMethod, want.HTTPMethod))
	}
	if s := got.sizes(true); !slices.Equal(s, want.RequestSizes) {
		d = append(d, fmt.Sprintf("request sizes %v, want %v", s, want.RequestSizes))
	}
	if s := got.sizes(false); !slices.Equal(s, want.ResponseSizes) {
		d = append(d, fmt.Sprintf("response sizes %v, want %v", s, want.ResponseSizes))
	}
	switch {
	case got.Status == nil:
		d = append(d, fmt.Sprintf("no status, want %d", want.GRPCCode))
	case got.Status.Code != want.GRPCCode || got.Status.Message != want.Message:
		d = append(d, fmt.Sprintf("status %d %q, want %d %q", got.Status.Code, got.Status.Message, want.GRPCCode, want.Message))
	}
	return strings.Join(d, "; ")
}
