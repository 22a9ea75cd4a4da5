package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/scripts/adversarial/gen"
)

// testScale is the scale of the hostile captures in the tests: the issue's,
// except for the stream flood, 200,000 streams rather than 1,000,000 (`go run
// ./scripts/adversarial` writes those), which still crosses the limit of
// 10,000 open streams many times over.
var testScale = gen.Scale{
	Connections:  gen.Full.Connections,
	Streams:      200_000,
	Continuation: gen.Full.Continuation,
	BombSize:     gen.Full.BombSize,
	Nesting:      gen.Full.Nesting,
}

// heapLimit is the generous bound on the live heap while decoding a hostile
// capture.
const heapLimit = 256 << 20

// adversarialCall is what a test checks of one output call.
type adversarialCall struct {
	Method   *string         `json:"method"`
	Server   string          `json:"server"`
	StreamID uint32          `json:"stream_id"`
	State    string          `json:"state"`
	Status   json.RawMessage `json:"status"`
	Requests []advMessage    `json:"requests"`
	Resps    []advMessage    `json:"responses"`
	Notes    []string        `json:"notes"`
	TruncOut bool            `json:"truncated_output"`
}

type advMessage struct {
	Length    uint32          `json:"length"`
	Data      []byte          `json:"data"`
	Truncated bool            `json:"truncated"`
	Error     string          `json:"error"`
	Raw       json.RawMessage `json:"raw"`
	Dropped   bool            `json:"output_dropped"`
}

// callSink is the standard output of a run: it keeps the calls of interest
// and only counts the flood (calls of /attack.Open/), so that the test's own
// memory stays small.
type callSink struct {
	partial []byte
	calls   []adversarialCall
	flood   map[string]int // state → count of /attack.Open/ calls
	err     error
}

func (s *callSink) Write(p []byte) (int, error) {
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		line := s.partial[:i]
		if bytes.Contains(line, []byte(`"/attack.Open/`)) {
			if s.flood == nil {
				s.flood = map[string]int{}
			}
			for _, st := range []string{"evicted", "cut", "complete"} {
				if bytes.Contains(line, []byte(`"state":"`+st+`"`)) {
					s.flood[st]++
				}
			}
		} else {
			var c adversarialCall
			if err := json.Unmarshal(line, &c); err != nil && s.err == nil {
				s.err = fmt.Errorf("%v in %s", err, clip(string(line)))
			}
			s.calls = append(s.calls, c)
		}
		s.partial = s.partial[i+1:]
	}
	return len(p), nil
}

func (s *callSink) method(m string) []adversarialCall {
	var out []adversarialCall
	for _, c := range s.calls {
		if c.Method != nil && *c.Method == m {
			out = append(out, c)
		}
	}
	return out
}

// measured runs grpcsniff with args, sampling the heap while it runs.
func measured(t *testing.T, args ...string) (out *callSink, stderr string, code int, peak uint64) {
	t.Helper()
	// The program's own GC settings for a file (main calls tuneGC, then
	// tuneFileGC): no collection until the heap nears the 192 MiB soft
	// limit, which is what bounds the heap in use.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(192 << 20))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	out = &callSink{}
	var errb bytes.Buffer
	code = run(args, strings.NewReader(""), out, &errb)
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	runtime.ReadMemStats(&after)
	// For the record only: nothing is asserted about time.
	t.Logf("%v: peak heap in use %d MiB, %d MiB allocated, %v", args, peak>>20, (after.TotalAlloc-before.TotalAlloc)>>20, elapsed.Round(time.Millisecond))
	if out.err != nil {
		t.Fatalf("output is not NDJSON: %v", out.err)
	}
	return out, errb.String(), code, peak
}

// adversarialCaptures generates the hostile captures into a temporary
// directory.
func adversarialCaptures(t *testing.T) map[string]string {
	t.Helper()
	cs, err := gen.All(t.TempDir(), "../../testdata/pcaps/py_helloworld.pcap", testScale)
	if err != nil {
		t.Fatal(err)
	}
	caps := map[string]string{}
	for _, c := range cs {
		caps[c.Name] = c.Path
	}
	return caps
}

// normalCalls are the calls of py_helloworld.pcap as a clean decoding gives
// them (everything but the times and addresses' ports).
func normalCalls(t *testing.T) []adversarialCall {
	t.Helper()
	out, stderr, code := runCmd(t, nil, "-r", "../../testdata/pcaps/py_helloworld.pcap", "--json", "-q")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s callSink
	s.Write([]byte(out))
	if s.err != nil || len(s.calls) != 8 {
		t.Fatalf("clean decode: %d calls, %v", len(s.calls), s.err)
	}
	return s.calls
}

// checkNormal asserts that the calls of py_helloworld.pcap mixed into a
// hostile capture decode exactly as they do alone.
func checkNormal(t *testing.T, out *callSink, want []adversarialCall) {
	t.Helper()
	var got []adversarialCall
	for _, c := range out.calls {
		if c.Server == want[0].Server {
			got = append(got, c)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d normal calls, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			g, _ := json.Marshal(got[i])
			w, _ := json.Marshal(want[i])
			t.Errorf("normal call %d:\n got %s\nwant %s", i, clip(string(g)), clip(string(w)))
		}
	}
	// Spelled out once, so that the comparison above cannot pass vacuously.
	hello := want[0]
	if *hello.Method != "/helloworld.Greeter/SayHello" || !bytes.Contains(hello.Requests[0].Data, []byte("you")) || !bytes.Contains(hello.Resps[0].Data, []byte("Hello, you!")) {
		t.Errorf("first call is not SayHello(you) → Hello, you!: %+v", hello)
	}
}

// Each hostile capture is decoded to its end within a bounded heap, the
// normal calls beside the attack decode as they do alone, and the attack is
// reported.
func TestAdversarialCaptures(t *testing.T) {
	if testing.Short() {
		t.Skip("generates about 80 MB of captures")
	}
	caps := adversarialCaptures(t)
	want := normalCalls(t)
	tests := []struct {
		name  string
		args  []string
		code  int
		check func(t *testing.T, out *callSink, stderr string)
	}{
		{"connections", nil, exitOK, func(t *testing.T, out *callSink, stderr string) {
			mustContain(t, stderr, "100001 TCP connections (100001 h2c)")
			mustContain(t, stderr, "connections dropped because more than the connection limit were open (see --max-connections)")
		}},
		{"streams", nil, exitOK, func(t *testing.T, out *callSink, stderr string) {
			n := testScale.Streams - 10000
			mustContain(t, stderr, fmt.Sprintf("grpcsniff: %d streams evicted (more than 10000 open on one connection; see --max-streams)", n))
			if out.flood["evicted"] != n || out.flood["cut"] != 10000 {
				t.Errorf("flood calls by state: %v, want %d evicted and 10000 cut", out.flood, n)
			}
		}},
		{"continuation", nil, exitOK, func(t *testing.T, out *callSink, stderr string) {
			if strings.Count(stderr, "header block on stream 1 larger than 1048576 bytes; skipped") != 1 {
				t.Errorf("want the oversized header block reported once:\n%s", clip(stderr))
			}
			after := out.method("/attack.After/Continuation")
			if len(after) != 1 || after[0].State != "complete" || string(after[0].Resps[0].Data) != "\n\x03you" {
				t.Errorf("the call after the huge header block: %+v", after)
			}
		}},
		{"gzipbomb", nil, exitOK, func(t *testing.T, out *callSink, stderr string) {
			bomb := out.method("/attack.Bomb/Gzip")
			if len(bomb) != 1 || len(bomb[0].Requests) != 1 {
				t.Fatalf("bomb call: %+v", bomb)
			}
			m := bomb[0].Requests[0]
			if !m.Truncated || len(m.Data) != 16<<20 || !strings.Contains(m.Error, "decompressed size exceeds the 16777216-byte limit") {
				t.Errorf("bomb message: truncated %v, %d bytes kept, error %q", m.Truncated, len(m.Data), m.Error)
			}
			mustContain(t, stderr, "grpcsniff: 1 messages cut at the size limit (16777216 bytes after decompression; see --max-message-size)")
			if after := out.method("/attack.After/Bomb"); len(after) != 1 || after[0].State != "complete" {
				t.Errorf("the call after the bomb: %+v", after)
			}
		}},
		{"protobuf", nil, exitOK, func(t *testing.T, out *callSink, stderr string) {
			long := out.method("/attack.Proto/LongVarint")
			if len(long) != 1 || !strings.Contains(string(long[0].Requests[0].Raw), "varint overflows 64 bits") {
				t.Errorf("11-byte varint: %+v", long)
			}
			wide := out.method("/attack.Proto/Wide")
			if len(wide) != 1 || !strings.Contains(string(wide[0].Requests[0].Raw), "too many fields: decoding stopped at the MaxFields limit") {
				t.Errorf("message of two million fields: %d calls", len(wide))
			}
			deep := out.method("/attack.Proto/Deep")
			if len(deep) != 1 || !strings.Contains(string(deep[0].Requests[0].Raw), "not expanded: MaxDepth reached") {
				t.Errorf("deep message: %+v", deep)
			}
		}},
		{"framelen", nil, exitOK, func(t *testing.T, out *callSink, stderr string) {
			mustContain(t, stderr, "client: a DATA frame header on stream 3 claims 16777215 bytes, more than the 16384 the peer allows; looking for the next frame boundary")
			after := out.method("/attack.Frame/After")
			if len(after) != 10 {
				t.Fatalf("%d calls after the lying frame header, want 10", len(after))
			}
			for _, c := range after {
				if c.State != "complete" || string(c.Requests[0].Data) != "\n\x03you" {
					t.Errorf("call after the lying frame header: %+v", c)
				}
			}
		}},
		{"recordlen", nil, exitDamaged, func(t *testing.T, out *callSink, stderr string) {
			mustContain(t, stderr, "a record claims 4294967295 bytes")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-r", caps[tc.name], "--json"}, tc.args...)
			out, stderr, code, peak := measured(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, clip(stderr))
			}
			if peak > heapLimit {
				t.Errorf("peak heap in use %d MiB, more than %d MiB", peak>>20, heapLimit>>20)
			}
			checkNormal(t, out, want)
			tc.check(t, out, stderr)
		})
	}
}

func mustContain(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%q not in:\n%s", sub, clip(s))
	}
}

// Each limit flag reaches its layer, and hitting it is said on the call and
// in the summary.
func TestLimitFlags(t *testing.T) {
	pcap := func(name string) string { return "../../testdata/pcaps/" + name }
	t.Run("max-streams", func(t *testing.T) {
		out, stderr, code := runCmd(t, nil, "-r", pcap("grpcgo_concurrent.pcap"), "--json", "--max-streams", "1")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		mustContain(t, stderr, "grpcsniff: 18 streams evicted (more than 1 open on one connection; see --max-streams)")
		var s callSink
		s.Write([]byte(out))
		evicted := 0
		for _, c := range s.calls {
			if c.State == "evicted" {
				evicted++
				if len(c.Notes) == 0 || !strings.Contains(strings.Join(c.Notes, " "), "evicted: more than 1 streams were open") {
					t.Errorf("evicted call without its note: %+v", c)
				}
			}
		}
		if evicted != 18 || len(s.calls) != 21 {
			t.Errorf("%d calls, %d evicted; want 21, 18", len(s.calls), evicted)
		}
	})
	t.Run("max-header-list", func(t *testing.T) {
		out, stderr, _ := runCmd(t, nil, "-r", pcap("py_helloworld.pcap"), "--json", "--max-header-list", "60")
		mustContain(t, stderr, "header lists cut at the size limit (60 bytes; see --max-header-list)")
		mustContain(t, out, "header list over the size limit: some fields left out")
	})
	t.Run("max-call-bytes", func(t *testing.T) {
		clean, _, _ := runCmd(t, nil, "-r", pcap("py_routeguide.pcap"), "--json", "-q")
		out, _, code := runCmd(t, nil, "-r", pcap("py_routeguide.pcap"), "--json", "-q", "--max-call-bytes", "1500")
		if code != exitOK {
			t.Fatalf("exit %d", code)
		}
		cl, cut := strings.Split(strings.TrimSpace(clean), "\n"), strings.Split(strings.TrimSpace(out), "\n")
		if len(cl) != len(cut) {
			t.Fatalf("%d calls, want %d", len(cut), len(cl))
		}
		truncated := 0
		for i := range cl {
			if len(cl[i]) <= 1500 {
				if cut[i] != cl[i] {
					t.Errorf("call %d under the limit changed", i)
				}
				continue
			}
			truncated++
			var c adversarialCall
			if err := json.Unmarshal([]byte(cut[i]), &c); err != nil {
				t.Fatal(err)
			}
			dropped := 0
			for _, m := range append(c.Requests, c.Resps...) {
				if m.Dropped {
					dropped++
					if m.Data != nil || m.Raw != nil {
						t.Errorf("call %d: a dropped message kept its contents", i)
					}
				}
			}
			if !c.TruncOut || dropped == 0 || !strings.Contains(strings.Join(c.Notes, " "), "see --max-call-bytes") {
				t.Errorf("call %d: truncated_output %v, %d messages dropped, notes %q", i, c.TruncOut, dropped, c.Notes)
			}
			// The bound is rough: the messages before it was crossed are whole.
			if len(cut[i]) > 1500+2000 {
				t.Errorf("call %d: %d bytes of JSON", i, len(cut[i]))
			}
		}
		if truncated == 0 {
			t.Error("no call was over the limit")
		}
	})
	t.Run("max-depth", func(t *testing.T) {
		deep, _, _ := runCmd(t, nil, "-r", pcap("py_routeguide.pcap"), "--json", "-q")
		flat, _, _ := runCmd(t, nil, "-r", pcap("py_routeguide.pcap"), "--json", "-q", "--max-depth", "0")
		if !strings.Contains(deep, `"as":"message"`) {
			t.Fatal("no nested message in py_routeguide.pcap by default")
		}
		if strings.Contains(flat, `"as":"message"`) || !strings.Contains(flat, "MaxDepth reached") {
			t.Error("--max-depth 0 still expands nested messages")
		}
	})
}
