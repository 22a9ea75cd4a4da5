package main

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// oneConnMidstream is the grpc-go interop client running every case on
// one connection, captured from stream 11 on; its .methods.ndjson holds
// each stream's :path as the whole capture showed it.
const oneConnMidstream = "../../testdata/pcaps/grpcgo_interop_oneconn_midstream"

// inferredTally is how the calls of unknown method were named.
type inferredTally struct {
	unknown, right, wrong, unnamed int
}

func (t inferredTally) share() float64 { return float64(t.right) / float64(max(t.unknown, 1)) }

// tallyInferred runs grpcsniff on the capture and compares each inferred
// method of a call whose :path is unknown with the truth.
func tallyInferred(t *testing.T, args ...string) inferredTally {
	t.Helper()
	truth := readMethodTruth(t, oneConnMidstream+".methods.ndjson")
	out, stderr, code := runCmd(t, nil, append([]string{"-r", oneConnMidstream + ".pcap", "-q", "--json"}, args...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var tally inferredTally
	for line := range strings.Lines(out) {
		var c struct {
			StreamID uint32  `json:"stream_id"`
			Method   *string `json:"method"`
			Inferred string  `json:"method_inferred"`
		}
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if c.Method != nil {
			continue
		}
		tally.unknown++
		switch c.Inferred {
		case "":
			tally.unnamed++
		case truth[c.StreamID]:
			tally.right++
		default:
			tally.wrong++
			t.Errorf("stream %d inferred %s, is %s", c.StreamID, c.Inferred, truth[c.StreamID])
		}
	}
	return tally
}

func readMethodTruth(t *testing.T, path string) map[uint32]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	truth := map[uint32]string{}
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var s struct {
			StreamID uint32 `json:"stream_id"`
			Method   string `json:"method"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		truth[s.StreamID] = s.Method
	}
	return truth
}

// On a capture that starts mid-connection of the interop client, at least
// 90% of the calls whose :path is unknown are named right from the other
// calls' message shapes, none wrongly; with the schema loaded, no fewer;
// whatever the number of workers.
func TestMethodsInferredMidstream(t *testing.T) {
	for _, workers := range []string{"0", "1", "4"} {
		shapes := tallyInferred(t, "--workers", workers)
		schema := tallyInferred(t, "--workers", workers, "--protoset", protoDir+"grpc_testing.protoset")
		t.Logf("workers %s: %d unknown; shapes: %d right, %d unnamed; with the schema: %d right, %d unnamed",
			workers, shapes.unknown, shapes.right, shapes.unnamed, schema.right, schema.unnamed)
		if shapes.unknown < 5 {
			t.Fatalf("only %d calls of unknown method: the capture does not start mid-connection", shapes.unknown)
		}
		if shapes.share() < 0.9 || shapes.wrong > 0 {
			t.Errorf("without a schema %d of %d named right (%d wrong), want ≥ 90%% and none wrong", shapes.right, shapes.unknown, shapes.wrong)
		}
		if schema.right < shapes.right || schema.wrong > 0 {
			t.Errorf("with the schema %d right (%d wrong), want ≥ %d and none wrong", schema.right, schema.wrong, shapes.right)
		}
	}
}
