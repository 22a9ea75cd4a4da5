package filter_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/filter"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/sniff"
)

// summaryFilters are comparisons of every field a summary holds, with each
// operator kind, alone and combined.
var summaryFilters = []string{
	"", "method ~ Greeter", "method == /helloworld.Greeter/SayHello", "service == routeguide.RouteGuide",
	"protocol == grpc-web", "protocol != grpc", "protocol == http",
	"status == OK", "status != OK", "status == none", "status == unrecovered", "status >= 5", "status == CANCELLED",
	"duration > 1ms", "duration <= 100us", "client ~ 127", "server == 127.0.0.1:23333", "server == 127.0.0.1",
	"server != ::1", "state == reset", "state == cut", "state != complete", "state == started_before_capture",
	"messages > 3", "requests >= 1", "responses == 0", "bytes > 1KB", "bytes < 100", "stream == 1", "conn == 2",
	"not status == OK and (duration > 10ms or bytes > 200)", "!(method ~ Route) || responses > 1",
}

// On every call of the shipped captures, a summarizable filter gives the
// same answer on the call's summary as on the call.
func TestMatchSummaryAgreesWithMatch(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/pcaps/*.pcap*")
	if len(paths) < 10 {
		t.Fatalf("found %d captures", len(paths))
	}
	var calls []*grpcframe.Call
	for _, p := range paths {
		src, err := capture.OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for c, err := range sniff.Calls(context.Background(), src, sniff.Options{}) {
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			calls = append(calls, c)
		}
		src.Close()
	}
	for _, f := range summaryFilters {
		e, err := filter.Parse(f)
		if err != nil {
			t.Fatalf("%q: %v", f, err)
		}
		if !e.Summarizable() {
			t.Errorf("%q: not summarizable", f)
			continue
		}
		n := 0
		for _, c := range calls {
			s := filter.SummaryOf(c)
			got, want := e.MatchSummary(&s), e.Match(c)
			if got != want {
				t.Errorf("%q on %s stream %d: summary says %v, call %v", f, c.Method, c.StreamID, got, want)
			}
			if want {
				n++
			}
		}
		t.Logf("%-40q matches %d of %d", f, n, len(calls))
	}
}

func TestSummarizable(t *testing.T) {
	for f, want := range map[string]bool{
		"status != OK": true, "metadata[x-user]": false, "req.1 == you": false, "RouteChat": false,
		"status == OK and not metadata[a]": false, "duration > 1s or resp.2": false, "": true,
	} {
		e, err := filter.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		if e.Summarizable() != want {
			t.Errorf("%q: Summarizable() = %v, want %v", f, !want, want)
		}
	}
}
