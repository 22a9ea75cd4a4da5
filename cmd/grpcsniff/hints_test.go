package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestReadingHints runs --json on grpcgo_packed.pcap three ways: from the
// file (two passes: the fourth sample's packed values [122] read as packed
// varints, as the other samples' do, with a why that says so), with
// --raw-alone, and from standard input (one pass each: they read as the
// text "z").
func TestReadingHints(t *testing.T) {
	const pcap = "../../testdata/pcaps/grpcgo_packed.pcap"
	hinted, stderr, code := runCmd(t, nil, "-r", pcap, "-q", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	alone, _, _ := runCmd(t, nil, "-r", pcap, "-q", "--json", "--raw-alone")
	data, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	piped, _, _ := runCmd(t, data, "-r", "-", "-q", "--json")
	if alone != piped {
		t.Errorf("--raw-alone and standard input differ")
	}
	want := map[string]string{hinted: "packed_varint", alone: "string"}
	for out, as := range want {
		f := fourthValues(t, out)
		if f.As != as {
			t.Errorf("fourth sample's values read as %s, want %s", f.As, as)
		}
		if hint := strings.HasPrefix(f.Why, "the reading of this field in 3 of 4 messages"); hint != (as == "packed_varint") {
			t.Errorf("why %q", f.Why)
		}
	}
}

// fourthValues returns the raw field 6 (values) of the fourth call's
// request in NDJSON out.
func fourthValues(t *testing.T, out string) (f struct{ As, Why string }) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d calls, want 4", len(lines))
	}
	var call struct {
		Requests []struct {
			Raw struct {
				Fields []struct {
					Field   int
					As, Why string
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(lines[3]), &call); err != nil {
		t.Fatal(err)
	}
	for _, fd := range call.Requests[0].Raw.Fields {
		if fd.Field == 6 {
			f.As, f.Why = fd.As, fd.Why
			return f
		}
	}
	t.Fatal("no field 6 in the fourth request")
	return f
}
