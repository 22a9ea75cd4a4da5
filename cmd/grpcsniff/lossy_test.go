package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/grpcsniff/grpcsniff/scripts/lossy/lossy"
)

// lossyCall is what the loss test compares of one call.
type lossyCall struct {
	Client, Server string
	StreamID       uint32          `json:"stream_id"`
	Method         *string         `json:"method"`
	State          string          `json:"state"`
	Status         json.RawMessage `json:"status"`
	LostBytes      bool            `json:"lost_bytes"`
	StartedBefore  bool            `json:"started_before_capture"`
	Requests       []lossyMessage  `json:"requests"`
	Responses      []lossyMessage  `json:"responses"`
	Notes          []string        `json:"notes"`
}

type lossyMessage struct {
	Data      []byte `json:"data"`
	Truncated bool   `json:"truncated"`
	Resynced  bool   `json:"resynced"`
	Error     string `json:"error"`
}

// key names a call whatever the roles: the two endpoints in order and the
// stream id.
func (c *lossyCall) key() string {
	a, b := c.Client, c.Server
	if a > b {
		a, b = b, a
	}
	return fmt.Sprintf("%s %s %d", a, b, c.StreamID)
}

// marked reports whether the lossy decoding says the call lost something.
func (c *lossyCall) marked(clean *lossyCall) bool {
	return c.LostBytes || c.StartedBefore || c.State != clean.State
}

func decodeCalls(t *testing.T, path string) map[string]*lossyCall {
	t.Helper()
	out, stderr, code := runCmd(t, nil, "-r", path, "--json", "-q")
	if code != exitOK {
		t.Fatalf("%s: exit %d: %s", path, code, stderr)
	}
	calls := map[string]*lossyCall{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		c := &lossyCall{}
		if err := json.Unmarshal([]byte(line), c); err != nil {
			t.Fatal(err)
		}
		if calls[c.key()] != nil {
			t.Fatalf("%s: two calls %s", path, c.key())
		}
		calls[c.key()] = c
	}
	return calls
}

// With 1% of the packets dropped and 5% reordered, every call the damage
// did not touch decodes exactly as in the clean capture, every message whose
// bytes differ is marked (truncated, resynced, an error, or the call says
// bytes were lost), and no call is invented.
func TestLossyCaptures(t *testing.T) {
	for _, name := range []string{"grpcgo_interop.pcap", "py_routeguide.pcap"} {
		in := filepath.Join("../../testdata/pcaps", name)
		clean := decodeCalls(t, in)
		raw, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		for seed := uint64(1); seed <= 6; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", name, seed), func(t *testing.T) {
				var damaged bytes.Buffer
				st, err := lossy.Copy(bytes.NewReader(raw), &damaged, lossy.Options{Drop: 1, Reorder: 5, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(t.TempDir(), name)
				if err := os.WriteFile(path, damaged.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				got := decodeCalls(t, path)
				intact, marked := 0, 0
				for k, c := range got {
					want := clean[k]
					if want == nil {
						t.Errorf("invented call %s: %+v", k, c)
						continue
					}
					if c.marked(want) {
						marked++
						// Marked with a reason: a state that says so, or a note.
						if (c.State == "complete" || c.State == want.State) && len(c.Notes) == 0 && !c.StartedBefore {
							t.Errorf("call %s is marked lost but says nothing about why: %+v", k, c)
						}
						continue
					}
					// Unmarked: its messages must be the clean ones, except
					// those marked one by one.
					for dir, ms := range [][2][]lossyMessage{{c.Requests, want.Requests}, {c.Responses, want.Responses}} {
						for i, m := range ms[0] {
							if i < len(ms[1]) && bytes.Equal(m.Data, ms[1][i].Data) {
								continue
							}
							if !m.Truncated && !m.Resynced && m.Error == "" {
								t.Errorf("call %s (%v): message %d of direction %d differs from the clean capture's and is not marked", k, *want.Method, i, dir)
							}
						}
					}
					same := reflect.DeepEqual(c.Method, want.Method) && bytes.Equal(c.Status, want.Status) &&
						len(c.Requests) == len(want.Requests) && len(c.Responses) == len(want.Responses)
					if !same {
						t.Errorf("call %s is not marked but differs from the clean capture's:\n got %+v\nwant %+v", k, c, want)
						continue
					}
					intact++
				}
				t.Logf("%d packets, %d dropped, %d swapped: %d calls of %d, %d intact, %d marked", st.Packets, st.Dropped, st.Swapped, len(got), len(clean), intact, marked)
			})
		}
	}
}
