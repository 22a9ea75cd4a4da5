package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// Control characters a capture put in a method or a header reach the
// screen escaped, never as themselves.
func TestControlCharactersShownEscaped(t *testing.T) {
	c := &grpcframe.Call{ConnID: 1, StreamID: 1, Method: "/a.B/C\x1b[31m", Start: time.Now(), End: time.Now(),
		RequestHeaders: []h2decode.HeaderField{{Name: "x-evil", Value: "a\x1b[2Jb\x07c"}}, State: grpcframe.StateComplete}
	m := loaded(t, []*grpcframe.Call{c}, 120, 20, "x")
	check := func(screen string, want ...string) {
		t.Helper()
		if strings.Contains(screen, "\x1b[2J") || strings.Contains(screen, "\x07") || strings.Contains(screen, "\x1b[31m") {
			t.Errorf("a control sequence from the capture reached the screen: %q", screen)
		}
		for _, w := range want {
			if !strings.Contains(plain(m), w) {
				t.Errorf("the screen does not show %s:\n%s", w, plain(m))
			}
		}
	}
	check(m.Render(), `C\x1b[31m`)
	press(m, "enter")
	check(m.Render(), `x-evil: a\x1b[2Jb\x07c`, `C\x1b[31m`)
	press(m, "esc", "S")
	check(m.Render(), `C\x1b[31m`)
	press(m, "esc", "c")
	check(m.Render(), `C\x1b[31m`)
}
