package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/scripts/lossy/lossy"
)

// shardCases are the captures the worker count is tried on: every shipped
// one, the TLS ones with their keys, and reordered and lossy copies of the
// busiest (where the order calls finish in differs most from the order
// they start in).
func shardCases(t *testing.T) map[string][]string {
	cases := map[string][]string{}
	for _, f := range captures(t) {
		cases[filepath.Base(f)] = []string{"-r", f}
	}
	keys, _ := filepath.Glob("../../testdata/pcaps/tls/*.keys")
	for _, k := range keys {
		p := strings.TrimSuffix(k, ".keys") + ".pcap"
		cases["tls/"+filepath.Base(p)] = []string{"-r", p, "--keylog", k}
	}
	cases["tls/tls13_secrets.pcapng"] = []string{"-r", "../../testdata/pcaps/tls/tls13_secrets.pcapng"}
	for _, name := range lossyCaptures {
		_, raw := readCapture(t, name)
		for _, o := range []lossy.Options{{Reorder: 20, Seed: 3}, {Drop: 2, Reorder: 10, Seed: 5}, {Drop: 5, Seed: 7}} {
			path, _ := damage(t, raw, name, o)
			cases[fmt.Sprintf("%s/drop%v/reorder%v", name, o.Drop, o.Reorder)] = []string{"-r", path}
		}
	}
	return cases
}

// However many goroutines decode the connections, the output (calls, their
// order, the summary) is the one of a single goroutine, and of the
// decoding in the goroutine reading the packets (--workers 0).
func TestWorkersSameOutput(t *testing.T) {
	for name, args := range shardCases(t) {
		t.Run(name, func(t *testing.T) {
			for _, mode := range [][]string{{"--json"}, {"--text"}, {"--stats"}} {
				base := append(append([]string{}, args...), mode...)
				want, wantErr, wantCode := runCmd(t, nil, append(base, "--workers", "1")...)
				if mode[0] == "--json" && wantCode == exitOK && strings.Count(want, "\n") == 0 {
					t.Fatalf("no calls: %s", wantErr)
				}
				workers := []int{2, 3, 5}
				if testing.Short() {
					workers = workers[1:2] // the runs under emulation
				}
				for _, n := range workers {
					got, gotErr, code := runCmd(t, nil, append(base, "--workers", fmt.Sprint(n))...)
					if code != wantCode || got != want || gotErr != wantErr {
						t.Fatalf("%v with %d workers: exit %d (want %d); output differs at %s\nstderr:\n%s\nwant:\n%s",
							mode, n, code, wantCode, firstDiff(got, want), gotErr, wantErr)
					}
				}
				got, gotErr, code := runCmd(t, nil, append(base, "--workers", "0")...)
				if code != wantCode || got != want || gotErr != wantErr {
					t.Fatalf("%v decoded in the reading goroutine: exit %d (want %d); output differs at %s\nstderr:\n%s\nwant:\n%s",
						mode, code, wantCode, firstDiff(got, want), gotErr, wantErr)
				}
			}
		})
	}
}

// --stats keeps no message bytes (only their lengths); its summary is the
// one computed from whole calls (which a display filter, that may look into
// messages, still gets).
var shownByY = regexp.MustCompile(` \(\d+ shown by -Y\)`)

func TestStatsWithoutPayloads(t *testing.T) {
	for name, args := range shardCases(t) {
		t.Run(name, func(t *testing.T) {
			lean, leanErr, code := runCmd(t, nil, append(args, "--stats")...)
			whole, wholeErr, wholeCode := runCmd(t, nil, append(args, "--stats", "-Y", `method ~ "" or not method ~ ""`)...)
			// The filter lets every call through, and the summary says so.
			wholeErr = shownByY.ReplaceAllString(wholeErr, "")
			if code != wholeCode || lean != whole || leanErr != wholeErr {
				t.Fatalf("exit %d/%d; differs at %s\nstderr:\n%s\nwith payloads:\n%s", code, wholeCode, firstDiff(lean, whole), leanErr, wholeErr)
			}
		})
	}
}

// The outputs hand calls back for reuse (grpcframe.Recycle) once done with
// them. With recycled calls poisoned instead of reused, every output is
// the same: nothing reads a call after handing it back. --json --partial,
// which hands on calls still being decoded, recycles nothing.
func TestRecycledCallsNotReadAgain(t *testing.T) {
	for name, args := range shardCases(t) {
		t.Run(name, func(t *testing.T) {
			modes := [][]string{{"--json"}, {"--text"}, {"--stats"}, {"--json", "--workers", "0"}, {"--text", "--workers", "0"}, {"--json", "-Y", "status != 0"}}
			if testing.Short() {
				modes = [][]string{{"--json"}, {"--text", "--workers", "0"}} // the runs under emulation
			}
			for _, mode := range modes {
				cmd := append(append([]string{}, args...), mode...)
				want, wantErr, wantCode := runCmd(t, nil, cmd...)
				grpcframe.PoisonRecycledForTesting(true)
				got, gotErr, code := runCmd(t, nil, cmd...)
				grpcframe.PoisonRecycledForTesting(false)
				if code != wantCode || got != want || gotErr != wantErr {
					t.Fatalf("%v: a call was read after it was recycled: exit %d (want %d); output differs at %s\nstderr:\n%s",
						mode, code, wantCode, firstDiff(got, want), gotErr)
				}
			}
		})
	}
}
