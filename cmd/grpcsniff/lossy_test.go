package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
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
	// End is when the call ended, the time of the packet that ended it;
	// it is not compared (reordering moves packets in time).
	End *time.Time `json:"end"`
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
	a, b := c.conn()
	return fmt.Sprintf("%s %s %d", a, b, c.StreamID)
}

// conn names the call's connection: its two endpoints in order.
func (c *lossyCall) conn() (string, string) {
	a, b := c.Client, c.Server
	if a > b {
		a, b = b, a
	}
	return a, b
}

// marked reports whether the lossy decoding says the call lost something:
// bytes lost, its start not captured, a different state, or a note the
// clean decoding does not have (a header unreadable for lost HPACK state).
func (c *lossyCall) marked(clean *lossyCall) bool {
	return c.LostBytes || c.StartedBefore || c.State != clean.State || !reflect.DeepEqual(c.Notes, clean.Notes)
}

// same reports whether c decodes exactly as clean: endpoints, method,
// messages, status, state and notes; only the times may differ.
func (c *lossyCall) same(clean *lossyCall) bool {
	x, y := *c, *clean
	x.End, y.End = nil, nil
	return reflect.DeepEqual(x, y)
}

// sameButEnd reports whether c decodes as clean but for how the call
// ended: what a capture that missed the connection's FIN or RST can change.
func (c *lossyCall) sameButEnd(clean *lossyCall) bool {
	x, y := *c, *clean
	x.End, y.End = nil, nil
	x.State, y.State = "", ""
	x.Notes, y.Notes = nil, nil
	return reflect.DeepEqual(x, y)
}

func decodeCalls(t *testing.T, path string) map[string]*lossyCall {
	t.Helper()
	calls, _ := decodeCallsGaps(t, path)
	return calls
}

// gapsLine is the summary's count of gaps in the TCP streams.
var gapsLine = regexp.MustCompile(`(\d+) gaps in TCP streams`)

// noteTime is a time in a note: when frames were lost, which reordering
// moves.
var noteTime = regexp.MustCompile(` at \d{4}-\d\d-\d\dT[0-9:.]+Z`)

// decodeCallsGaps decodes the capture at path with the flags args, and
// returns its calls and the gaps the summary counts in its TCP streams.
func decodeCallsGaps(t *testing.T, path string, args ...string) (map[string]*lossyCall, int) {
	t.Helper()
	out, stderr, code := runCmd(t, nil, append([]string{"-r", path, "--json"}, args...)...)
	if code != exitOK && code != exitNoCalls {
		t.Fatalf("%s: exit %d: %s", path, code, stderr)
	}
	gaps := 0
	if m := gapsLine.FindStringSubmatch(stderr); m != nil {
		gaps, _ = strconv.Atoi(m[1])
	}
	calls := map[string]*lossyCall{}
	if out == "" {
		return calls, gaps
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		c := &lossyCall{}
		if err := json.Unmarshal([]byte(line), c); err != nil {
			t.Fatal(err)
		}
		if calls[c.key()] != nil {
			t.Fatalf("%s: two calls %s", path, c.key())
		}
		for i, n := range c.Notes {
			c.Notes[i] = noteTime.ReplaceAllString(n, " at (time)")
		}
		calls[c.key()] = c
	}
	return calls, gaps
}

var lossyCaptures = []string{"grpcgo_interop.pcap", "py_routeguide.pcap"}

// damage writes the capture in damaged by o to a temporary file.
func damage(t *testing.T, raw []byte, name string, o lossy.Options) (string, lossy.Stats) {
	t.Helper()
	var damaged bytes.Buffer
	st, err := lossy.Copy(bytes.NewReader(raw), &damaged, o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, damaged.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, st
}

func readCapture(t *testing.T, name string) (string, []byte) {
	t.Helper()
	in := filepath.Join("../../testdata/pcaps", name)
	raw, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	return in, raw
}

// seeds is how many seeds a damage test tries: n, or a tenth of them
// under -short (the race detector's and the emulated runs, which look for
// other faults than the seeds do; the full run is go test ./...).
func seeds(n uint64) uint64 {
	if testing.Short() {
		return max(n/10, 1)
	}
	return n
}

// A capture whose packets are all there but some out of order (5%, and a
// harsh 20%) decodes exactly as the clean one: every call, its messages,
// status and state, nothing marked lost, and no gap in the TCP streams that
// the clean capture does not have. Every shipped capture, the TLS ones
// decrypted, 20 seeds each.
//
// In a capture that begins mid-connection the stream of each direction is
// taken to start at its first captured segment, so a reordered first
// segment there can cost what it carried; such a call may differ, but
// only marked, and no gap may be invented. The first call of each of its
// connections, which those first segments belong to, may even be lost
// (nothing says where its stream began).
func TestLossyReorderOnly(t *testing.T) {
	for _, lc := range reorderCaptures(t) {
		clean, cleanGaps := decodeCallsGaps(t, lc.path, lc.args...)
		first := firstCalls(clean)
		for _, reorder := range []float64{5, 20} {
			for seed := uint64(1); seed <= seeds(20); seed++ {
				t.Run(fmt.Sprintf("%s/reorder%v/seed%d", lc.name, reorder, seed), func(t *testing.T) {
					path, st := damage(t, lc.raw, lc.name, lossy.Options{Reorder: reorder, Seed: seed})
					got, gaps := decodeCallsGaps(t, path, lc.args...)
					if gaps != cleanGaps {
						t.Errorf("%d gaps in the TCP streams, the clean capture has %d", gaps, cleanGaps)
					}
					intact := 0
					for k, want := range clean {
						c := got[k]
						switch {
						case c == nil && lc.midConnection && first[k]:
						case c == nil:
							t.Errorf("call %s is missing", k)
						case c.same(want):
							intact++
						case lc.midConnection && c.marked(want) && !c.LostBytes:
						case lc.midConnection && first[k]:
						default:
							t.Errorf("call %s differs from the clean capture's:\n got %+v\nwant %+v", k, c, want)
						}
					}
					for k := range got {
						if clean[k] == nil {
							t.Errorf("invented call %s", k)
						}
					}
					t.Logf("%d packets, %d swapped: %d of %d calls intact", st.Packets, st.Swapped, intact, len(clean))
				})
			}
		}
	}
}

// firstCalls are the keys of each connection's call of the lowest stream
// id.
func firstCalls(calls map[string]*lossyCall) map[string]bool {
	low := map[[2]string]*lossyCall{}
	for _, c := range calls {
		a, b := c.conn()
		if l := low[[2]string{a, b}]; l == nil || c.StreamID < l.StreamID {
			low[[2]string{a, b}] = c
		}
	}
	out := map[string]bool{}
	for _, c := range low {
		out[c.key()] = true
	}
	return out
}

// dropCaptures are the captures TestLossyCaptures damages: every one
// shipped when it was written but grpcweb_h1, whose calls after lost
// HTTP/1.1 framing say nothing of it (only the connection's notes do),
// which is the HTTP/1.1 decoder's to do. A capture added later joins the
// reorder test at once, and this list once it passes.
var dropCaptures = map[string]bool{
	"any_sll2.pcap": true, "grpcgateway.pcap": true, "grpcgo_concurrent.pcap": true,
	"grpcgo_cut_midmessage.pcap": true, "grpcgo_interop.pcap": true, "grpcgo_interop_gzip.pcapng": true,
	"grpcgo_json.pcap": true, "grpcgo_midstream.pcap": true, "grpcgo_reflection.pcap": true,
	"grpcweb_h2c.pcap": true, "grpcweb_json.pcap": true, "h2c_upgrade.pcap": true,
	"http1_only.pcap": true, "ipv6_helloworld.pcap": true, "mixed_ports.pcap": true,
	"node_grpcjs.pcap": true, "py_grpcdemo.pcap": true, "py_grpcdemo_gzip.pcap": true,
	"py_helloworld.pcap": true, "py_routeguide.pcap": true, "py_routeguide_lossy.pcap": true,
	"node_grpcjs_tls.pcap": true, "tls12.pcap": true, "tls12_cbc.pcap": true,
	"tls12_cbc_etm.pcap": true, "tls13.pcap": true, "tls13_hrr.pcap": true,
	"tls13_keyupdate.pcap": true, "tls13_secrets.pcapng": true,
}

// lossyCapture is a shipped capture for the loss tests.
type lossyCapture struct {
	name, path string
	raw        []byte
	args       []string // what decodes it besides -r: its key log
	// midConnection is set for the captures that begin mid-connection.
	midConnection bool
}

// reorderCaptures returns every shipped capture, the TLS ones with their
// key logs (a key log inside a pcapng is written to a file, since the
// damaged copy is a pcap).
func reorderCaptures(t *testing.T) []lossyCapture {
	t.Helper()
	files := captures(t)
	tls, _ := filepath.Glob("../../testdata/pcaps/tls/*.pcap*")
	var out []lossyCapture
	for _, path := range append(files, tls...) {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		lc := lossyCapture{name: name, path: path, raw: raw,
			midConnection: name == "grpcgo_midstream.pcap" || name == "grpcgo_cut_midmessage.pcap" || name == "grpcgo_interop_oneconn_midstream.pcap"}
		keys := strings.TrimSuffix(path, filepath.Ext(path)) + ".keys"
		if _, err := os.Stat(keys); err == nil {
			lc.args = []string{"--keylog", keys}
		} else if keys := embeddedKeys(t, path); keys != "" {
			lc.args = []string{"--keylog", keys}
		}
		out = append(out, lc)
	}
	return out
}

// embeddedKeys writes the TLS key log a pcapng carries to a file and
// returns its name, or "" when it carries none.
func embeddedKeys(t *testing.T, path string) string {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var keys []byte
	src.OnSecrets(func(_ uint32, data []byte) { keys = append(keys, data...) })
	for {
		if _, err := src.Next(); err != nil {
			break
		}
	}
	if len(keys) == 0 {
		return ""
	}
	name := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(name, keys, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// damageOf says what the dropped packets can have done to a call of the
// clean capture.
type damageOf int

const (
	untouched damageOf = iota // all its bytes and its connection's end were captured: it must decode exactly as in the clean capture
	endLost                   // a FIN or RST of its connection was dropped: only how the call ended may differ
	bytesLost                 // payload of its connection up to its end was dropped: it may differ, marked
)

// damageTo classifies a clean call by the dropped packets: a payload
// packet of its connection captured before the call ended (at or before
// the clean call's end; any time if the call never ended) may have carried
// its bytes, or HPACK state or framing it depends on; later ones cannot.
// A dropped FIN or RST of its connection can only change how the
// connection, and so an unfinished call, ended. Dropped pure ACKs, SYNs
// and handshake ACKs change nothing.
func damageTo(c *lossyCall, dropped []lossy.DroppedPacket) damageOf {
	a, b := c.conn()
	worst := untouched
	for _, d := range dropped {
		if !d.TCP {
			continue
		}
		ends := d.Conn()
		x, y := ends[0].String(), ends[1].String()
		if x > y {
			x, y = y, x
		}
		if x != a || y != b {
			continue
		}
		switch {
		case d.Payload() && (c.End == nil || !d.Time.After(*c.End)):
			return bytesLost
		case d.FIN || d.RST:
			worst = endLost
		}
	}
	return worst
}

// With 1% of the packets dropped and 5% reordered, every call whose bytes
// were all captured (see damageTo) decodes exactly as in the clean capture;
// the others are intact or marked with the reason (a state that says so,
// a note, or lost bytes), every message whose bytes differ is marked
// (truncated, resynced, an error), and no call is invented. In a capture
// that begins mid-connection a call may differ marked (see
// TestLossyReorderOnly).
//
// The captures of dropCaptures, 20 seeds each.
func TestLossyCaptures(t *testing.T) {
	for _, lc := range reorderCaptures(t) {
		if !dropCaptures[lc.name] {
			continue
		}
		clean, _ := decodeCallsGaps(t, lc.path, lc.args...)
		for seed := uint64(1); seed <= seeds(20); seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", lc.name, seed), func(t *testing.T) {
				path, st := damage(t, lc.raw, lc.name, lossy.Options{Drop: 1, Reorder: 5, Seed: seed})
				got, _ := decodeCallsGaps(t, path, lc.args...)
				var full, intact, marked, payloadDrops int
				for _, d := range st.DroppedPackets {
					if d.Payload() {
						payloadDrops++
					}
				}
				for k, want := range clean {
					c := got[k]
					switch damageTo(want, st.DroppedPackets) {
					case untouched:
						full++
						if c == nil {
							t.Errorf("call %s was fully captured but is missing", k)
						} else if !c.same(want) && !(lc.midConnection && c.marked(want) && !c.LostBytes) {
							t.Errorf("call %s was fully captured but differs from the clean capture's:\n got %+v\nwant %+v", k, c, want)
						}
					case endLost:
						full++
						if c == nil {
							t.Errorf("call %s had all its bytes captured but is missing", k)
						} else if !c.sameButEnd(want) {
							t.Errorf("call %s had all its bytes captured (its connection's end was dropped) but differs from the clean capture's:\n got %+v\nwant %+v", k, c, want)
						}
					}
				}
				for k, c := range got {
					want := clean[k]
					if want == nil {
						t.Errorf("invented call %s: %+v", k, c)
						continue
					}
					if c.same(want) {
						intact++
						continue
					}
					if c.marked(want) {
						marked++
						// Marked with a reason: a state that says so, or a note.
						if (c.State == "complete" || c.State == want.State) && len(c.Notes) == 0 && !c.StartedBefore && !c.LostBytes {
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
					marked++ // its messages say what they lost
				}
				t.Logf("%d packets, %d dropped (%d with payload), %d swapped: %d calls of %d, %d fully captured, %d intact, %d marked",
					st.Packets, st.Dropped, payloadDrops, st.Swapped, len(got), len(clean), full, intact, marked)
			})
		}
	}
}

// --reorder-window 0 --reorder-segments 0 give a hole up as soon as an
// acknowledgement covers it, as the TCP layer once did: on a reordered
// capture that invents gaps, which the defaults do not.
func TestReorderWindowFlags(t *testing.T) {
	in, raw := readCapture(t, "py_routeguide.pcap")
	_, cleanGaps := decodeCallsGaps(t, in)
	path, _ := damage(t, raw, "py_routeguide.pcap", lossy.Options{Reorder: 20, Seed: 1})
	if _, gaps := decodeCallsGaps(t, path); gaps != cleanGaps {
		t.Errorf("default window: %d gaps, want %d", gaps, cleanGaps)
	}
	if _, gaps := decodeCallsGaps(t, path, "--reorder-window", "0", "--reorder-segments", "0"); gaps <= cleanGaps {
		t.Errorf("no window: %d gaps; the reordered capture should lose bytes without one", gaps)
	}
}
