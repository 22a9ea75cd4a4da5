package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// A method named by inference shows marked "~" in the list; one not
// named shows as unknown.
func TestInferredMethodMarked(t *testing.T) {
	now := time.Now()
	named := &grpcframe.Call{ConnID: 1, StreamID: 1, MethodUnknown: true, MethodInferred: "/a.B/Named",
		Start: now, End: now, State: grpcframe.StateComplete}
	unnamed := &grpcframe.Call{ConnID: 1, StreamID: 3, MethodUnknown: true, Start: now, End: now, State: grpcframe.StateComplete}
	m := loaded(t, []*grpcframe.Call{named, unnamed}, 120, 20, "x")
	m.Render()
	for _, want := range []string{"~/a.B/Named", "(method unknown)"} {
		if !strings.Contains(plain(m), want) {
			t.Errorf("the list does not show %s:\n%s", want, plain(m))
		}
	}
}

// Enter on an inferred method's line of the statistics lists its calls.
func TestStatsListInferred(t *testing.T) {
	now := time.Now()
	named := &grpcframe.Call{ConnID: 1, StreamID: 1, MethodUnknown: true, MethodInferred: "/a.B/Named",
		Start: now, End: now, State: grpcframe.StateComplete}
	known := &grpcframe.Call{ConnID: 1, StreamID: 3, Method: "/a.B/Named", Start: now, End: now, State: grpcframe.StateComplete}
	m := loaded(t, []*grpcframe.Call{known, named}, 120, 20, "x")
	press(m, "S")
	for range len(m.stats.methods) {
		if m.stats.methods[m.stats.sel].method == "/a.B/Named (inferred)" {
			break
		}
		press(m, "j")
	}
	press(m, "enter")
	if m.screen != screenList || len(m.rows) != 1 || m.calls[m.rows[0]] != named {
		t.Errorf("listed %d calls (filter %q), want the inferred one", len(m.rows), m.expr.String())
	}
}

// The detail of a call whose method was inferred says so in its title and
// in its Call section; one with several candidates lists them.
func TestInferredMethodInDetail(t *testing.T) {
	now := time.Now()
	named := &grpcframe.Call{ConnID: 1, StreamID: 1, MethodUnknown: true, MethodInferred: "/a.B/Named",
		Start: now, End: now, State: grpcframe.StateComplete}
	several := &grpcframe.Call{ConnID: 1, StreamID: 3, MethodUnknown: true, MethodCandidates: []string{"/a.B/One", "/a.B/Two"},
		Start: now, End: now, State: grpcframe.StateComplete}
	m := loaded(t, []*grpcframe.Call{named, several}, 120, 30, "x")
	press(m, "g", "enter")
	for _, want := range []string{" ~/a.B/Named ", "~/a.B/Named: inferred from the messages, not read from the :path"} {
		if !strings.Contains(plain(m), want) {
			t.Errorf("the detail does not show %q:\n%s", want, plain(m))
		}
	}
	press(m, "esc", "j", "enter")
	if want := "(method unknown: ~/a.B/One | ~/a.B/Two)"; !strings.Contains(plain(m), want) {
		t.Errorf("the detail does not show %q:\n%s", want, plain(m))
	}
}
