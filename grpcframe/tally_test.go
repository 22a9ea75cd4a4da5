package grpcframe

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// callKey names a call within a capture.
func callKey(c *Call) string { return fmt.Sprintf("%d/%d", c.ConnID, c.StreamID) }

// callSummary is what a summary reads of a call.
func callSummary(c *Call) string {
	st := "-"
	if c.Status != nil {
		st = c.Status.Name
	}
	return fmt.Sprintf("%s %s %s %s %v %d/%d %d/%d %s", c.Method, c.Protocol, c.State, st, c.Duration(),
		len(c.Requests), WireBytes(c.Requests), len(c.Responses), WireBytes(c.Responses), strings.Join(noteLines(c.Notes), "; "))
}

// On the shipped captures, Options.Tally takes exactly the native gRPC
// calls of known methods it accepts, each as it would otherwise have been
// handed on, and the sink gets all the others, in the same order as
// without it.
func TestTallyTakesOrderFreeCalls(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/pcaps/*.pcap*")
	if len(paths) < 10 {
		t.Fatalf("only %d shipped captures found", len(paths))
	}
	// As grpcsniff --stats does, reflection calls are refused (their
	// schemas are needed in order).
	const refused = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
	var tallied, ordered int
	kinds := map[string]bool{}
	for _, p := range paths {
		rec := recordH2(t, p)
		var all []*Call
		rec.replay(NewAssembler(SinkFunc(func(c *Call) { all = append(all, c) }), Options{}))

		var sunk, took []*Call
		rec.replay(NewAssembler(SinkFunc(func(c *Call) { sunk = append(sunk, c) }), Options{
			Tally:       func(c *Call) { took = append(took, c) },
			TallyMethod: func(m string) bool { return m != refused },
		}))
		byKey := map[string]*Call{}
		for _, c := range took {
			if c.Protocol != ProtoGRPC || c.MethodUnknown || c.Method == "" || c.Method == refused || len(c.RequestHeaders) == 0 {
				t.Errorf("%s: call %s (%s %s) tallied", filepath.Base(p), callKey(c), c.Protocol, c.Method)
			}
			byKey[callKey(c)] = c
		}
		var rest []*Call
		for _, c := range all {
			if tc := byKey[callKey(c)]; tc != nil {
				if got, want := callSummary(tc), callSummary(c); got != want {
					t.Errorf("%s: call %s tallied as\n%s\nbut is\n%s", filepath.Base(p), callKey(c), got, want)
				}
				delete(byKey, callKey(c))
				continue
			}
			rest = append(rest, c)
			kinds[c.Protocol.String()+" "+c.Method] = true
		}
		if len(byKey) > 0 {
			t.Errorf("%s: %d tallied calls that the assembler without Tally did not make", filepath.Base(p), len(byKey))
		}
		if len(sunk) != len(rest) {
			t.Fatalf("%s: %d calls handed on, want %d", filepath.Base(p), len(sunk), len(rest))
		}
		for i := range sunk {
			if callKey(sunk[i]) != callKey(rest[i]) || callSummary(sunk[i]) != callSummary(rest[i]) {
				t.Fatalf("%s: call %d handed on is %s, want %s", filepath.Base(p), i, callKey(sunk[i]), callKey(rest[i]))
			}
		}
		tallied += len(took)
		ordered += len(sunk)
	}
	// The captures have calls of each kind that must stay in order.
	for _, want := range []string{"grpc " + refused, "grpc-web ", "http "} {
		found := false
		for k := range kinds {
			found = found || strings.HasPrefix(k, want)
		}
		if !found {
			t.Errorf("no call %q handed on in order; kinds: %v", want, kinds)
		}
	}
	if !kinds["grpc "] {
		t.Errorf("no call of unknown method handed on in order; kinds: %v", kinds)
	}
	if tallied == 0 || ordered == 0 {
		t.Fatalf("%d calls tallied, %d ordered", tallied, ordered)
	}
	t.Logf("%d calls tallied, %d ordered", tallied, ordered)
}
