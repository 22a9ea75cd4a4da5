package sniff

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

func captures(t *testing.T) []string {
	files, err := filepath.Glob("../testdata/pcaps/*.pcap*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in testdata/pcaps: %v", err)
	}
	return files
}

func open(t *testing.T, path string) *capture.FileSource {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// describe is a call in one line, enough to tell calls apart.
func describe(c *Call) string {
	status := "-"
	if c.Status != nil {
		status = c.Status.Name
	}
	return fmt.Sprintf("%d/%d %s %s %s ↑%d ↓%d", c.ConnID, c.StreamID, c.Method, c.State, status, len(c.Requests), len(c.Responses))
}

// collect is a sink that describes the calls it gets.
type collect struct{ lines []string }

func (s *collect) Call(c *Call) { s.lines = append(s.lines, describe(c)); Release(c) }

// Calls yields what a Decoder hands its sink, in the same order, whatever
// the number of workers.
func TestCallsMatchesDecoder(t *testing.T) {
	for _, f := range captures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var want collect
			sum, err := NewDecoder(Options{Workers: 1}).Run(context.Background(), open(t, f), &want)
			if err != nil || sum.Found != len(want.lines) {
				t.Fatalf("Run: %v; Found %d for %d calls", err, sum.Found, len(want.lines))
			}
			for _, workers := range []int{Inline, 2, 3} {
				var got []string
				for c, err := range Calls(context.Background(), open(t, f), Options{Workers: workers}) {
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, describe(c))
				}
				if !slices.Equal(got, want.lines) {
					t.Fatalf("workers %d: Calls yields\n%s\nwant\n%s", workers, strings.Join(got, "\n"), strings.Join(want.lines, "\n"))
				}
			}
		})
	}
}

// Breaking out of the loop stops the decoding: no goroutine is left behind.
func TestCallsBreak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 3 {
		n := 0
		for _, err := range Calls(context.Background(), open(t, "../testdata/pcaps/grpcgo_concurrent.pcap"), Options{Workers: 2}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 2 {
				break
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after breaking out, %d before", n, before)
	}
}

// A damaged capture yields its calls up to the damage, then the error.
func TestCallsDamaged(t *testing.T) {
	raw, err := os.ReadFile("../testdata/pcaps/py_helloworld.pcap")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(path, raw[:len(raw)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	calls, errs := 0, 0
	for c, err := range Calls(context.Background(), open(t, path), Options{}) {
		switch {
		case err != nil:
			errs++
			if !errors.Is(err, capture.ErrTruncated) {
				t.Errorf("error %v, want a truncated capture", err)
			}
		case errs > 0:
			t.Errorf("call %s after the error", c.Method)
		default:
			calls++
		}
	}
	if calls < 3 || errs != 1 {
		t.Fatalf("%d calls and %d errors, want the calls before the damage and one error", calls, errs)
	}
}

// Match chooses what reaches the sink, Found counts every call, and
// Redact masks the named headers.
func TestMatchAndRedact(t *testing.T) {
	var got collect
	seen := map[string]bool{}
	sink := SinkFunc(func(c *Call) {
		for _, h := range c.RequestHeaders {
			if h.Name == "x-grpc-test-echo-initial" {
				seen[h.Value] = true
			}
		}
		got.Call(c)
	})
	opts := Options{
		Match:  func(c *Call) bool { return strings.HasSuffix(c.Method, "/UnaryCall") },
		Redact: []string{"X-Grpc-Test-Echo-Initial"},
	}
	sum, err := NewDecoder(opts).Run(context.Background(), open(t, "../testdata/pcaps/grpcgo_interop.pcap"), sink)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.lines) != 4 || sum.Found != 13 {
		t.Errorf("%d calls matched of %d found, want 4 of 13:\n%s", len(got.lines), sum.Found, strings.Join(got.lines, "\n"))
	}
	if len(seen) != 1 || !seen[export.RedactedValue] {
		t.Errorf("x-grpc-test-echo-initial values reaching the sink: %v", seen)
	}
}

// parted is a Parter sink: the workers count calls in parts of their own.
type parted struct {
	calls int
	parts []*int
}

func (p *parted) Call(c *Call) { p.calls++; Release(c) }
func (p *parted) Part() Sink {
	n := new(int)
	p.parts = append(p.parts, n)
	return SinkFunc(func(*grpcframe.Call) { *n++ })
}

// A Parter's parts and the sink itself see every call once between them,
// and most in the parts.
func TestParter(t *testing.T) {
	for _, workers := range []int{1, 3} {
		p := &parted{}
		sum, err := NewDecoder(Options{Workers: workers, DropPayloads: true}).Run(context.Background(),
			open(t, "../testdata/pcaps/grpcgo_concurrent.pcap"), p)
		if err != nil {
			t.Fatal(err)
		}
		inParts := 0
		for _, n := range p.parts {
			inParts += *n
		}
		if len(p.parts) != workers || inParts+p.calls != sum.Found || sum.Found != 21 || inParts < 20 {
			t.Errorf("%d workers: %d parts counted %d calls, the sink %d, Found %d", workers, len(p.parts), inParts, p.calls, sum.Found)
		}
	}
	// A Match needs every call in order: no parts.
	p := &parted{}
	NewDecoder(Options{Match: func(*Call) bool { return true }}).Run(context.Background(), open(t, "../testdata/pcaps/grpcgo_concurrent.pcap"), p)
	if len(p.parts) != 0 || p.calls != 21 {
		t.Errorf("with Match: %d parts, %d calls in the sink", len(p.parts), p.calls)
	}
}

// OnProgress tells of each call as it grows, before the call itself: its
// request headers, then each message, in the capture's order, the same for
// any number of workers.
func TestOnProgress(t *testing.T) {
	var want []string
	for _, workers := range []int{Inline, 1, 3} {
		var got []string
		opts := Options{Workers: workers, OnProgress: func(c *Call) {
			got = append(got, "open "+describe(c))
		}}
		_, err := NewDecoder(opts).Run(context.Background(), open(t, "../testdata/pcaps/py_grpcdemo.pcap"),
			SinkFunc(func(c *Call) { got = append(got, "done "+describe(c)) }))
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = got
			continue
		}
		if !slices.Equal(got, want) {
			t.Fatalf("workers %d:\n%s\nwant\n%s", workers, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// The bidirectional call: headers, then six messages as the capture has
	// them (the server's second reply 140 µs before the client's second
	// request), then the end.
	var bidi []string
	for _, l := range want {
		if strings.Contains(l, "/1/7 ") || strings.Contains(l, " 1/7 ") {
			bidi = append(bidi, l)
		}
	}
	wantBidi := []string{
		"open 1/7 /demo.GRPCDemo/BidirectionalStreamingMethod open - ↑0 ↓0",
		"open 1/7 /demo.GRPCDemo/BidirectionalStreamingMethod open - ↑1 ↓0",
		"open 1/7 /demo.GRPCDemo/BidirectionalStreamingMethod open - ↑1 ↓1",
		"open 1/7 /demo.GRPCDemo/BidirectionalStreamingMethod open - ↑1 ↓2",
		"open 1/7 /demo.GRPCDemo/BidirectionalStreamingMethod open - ↑2 ↓2",
		"open 1/7 /demo.GRPCDemo/BidirectionalStreamingMethod open - ↑2 ↓3",
		"open 1/7 /demo.GRPCDemo/BidirectionalStreamingMethod open - ↑3 ↓3",
		"done 1/7 /demo.GRPCDemo/BidirectionalStreamingMethod complete OK ↑3 ↓3",
	}
	if !slices.Equal(bidi, wantBidi) {
		t.Errorf("the bidirectional call:\n%s\nwant\n%s", strings.Join(bidi, "\n"), strings.Join(wantBidi, "\n"))
	}
}
