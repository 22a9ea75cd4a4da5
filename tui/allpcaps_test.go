package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestAllCaptures opens every call of every shipped capture, expands every
// message and field, and checks that each screen fits the terminal: no
// line wider than the width, no more lines than the height. Half the sizes
// run with the schemas of the shipped services loaded; -short (the runs
// under emulation) takes the two smallest sizes.
func TestAllCaptures(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*.pcap*"))
	reg := registry(t, "helloworld.proto", "muxs.proto", "demo.proto", "route_guide.proto")
	for _, path := range names {
		name := filepath.Base(path)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			calls := loadCalls(t, name)
			for k, size := range [][2]int{{80, 24}, {200, 60}, {400, 100}, {40, 12}} {
				if testing.Short() && (k == 1 || k == 2) {
					continue // the small ones, one without schemas and one with
				}
				// Every other size with the schemas, so that the named
				// trees are walked as well.
				o := Options{Title: name}
				if k%2 == 1 {
					o.Registry = reg
				}
				m := loadedOpts(t, calls, size[0], size[1], o)
				check := func(what string) {
					t.Helper()
					lines := strings.Split(m.Render(), "\n")
					if len(lines) > m.h {
						t.Fatalf("%s: %d lines on a %d-line screen", what, len(lines), m.h)
					}
					for _, l := range lines {
						if w := ansi.StringWidth(l); w > m.w {
							t.Fatalf("%s: line of width %d on a %d-wide screen: %q", what, w, m.w, ansi.Strip(l))
						}
					}
				}
				check("list")
				press(m, "g")
				for range m.rows {
					press(m, "enter")
					for i := 0; i < len(m.detail.items); i++ {
						m.detail.cursor = i
						press(m, "l")
					}
					press(m, "g")
					check("detail of " + m.detail.call.Method)
					press(m, "tab", "j", "tab", "esc", "j")
				}
				press(m, "S")
				check("stats")
				press(m, "esc", "?")
				check("help")
			}
		})
	}
}
