package tui

import (
	"fmt"
	"testing"
)

// TestGoldenScreens renders every screen of two shipped captures at 80×24
// and 160×48, as plain text: what a user sees, minus the colours.
func TestGoldenScreens(t *testing.T) {
	for _, pcap := range []string{"py_grpcdemo.pcap", "py_helloworld.pcap"} {
		calls := loadCalls(t, pcap)
		for _, size := range [][2]int{{80, 24}, {160, 48}} {
			w, h := size[0], size[1]
			name := func(screen string) string { return fmt.Sprintf("%s.%dx%d.%s.txt", pcap, w, h, screen) }
			m := loaded(t, calls, w, h, pcap)
			golden(t, name("list"), plain(m))
			press(m, "g", "enter")
			golden(t, name("detail"), plain(m))
			press(m, "enter", "j")
			golden(t, name("detail-open"), plain(m))
			press(m, "esc", "S")
			golden(t, name("stats"), plain(m))
			press(m, "esc", "?")
			golden(t, name("help"), plain(m))
		}
	}
}

// TestGoldenSchemaScreens renders the detail of py_helloworld.pcap's calls
// with the schemas loaded: type names and JSON on the message lines, named
// fields in the open tree (a string, a float, bytes and an int64).
func TestGoldenSchemaScreens(t *testing.T) {
	calls := loadCalls(t, "py_helloworld.pcap")
	reg := registry(t, "helloworld.proto", "muxs.proto")
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		w, h := size[0], size[1]
		name := func(screen string) string { return fmt.Sprintf("py_helloworld.pcap.schema.%dx%d.%s.txt", w, h, screen) }
		m := loadedOpts(t, calls, w, h, Options{Title: "py_helloworld.pcap", Registry: reg})
		press(m, "g", "enter")
		golden(t, name("detail"), plain(m))
		press(m, "enter", "j")
		golden(t, name("detail-open"), plain(m))
		press(m, "esc", "j", "j", "j", "enter", "enter", "j", "j", "G", "enter", "j")
		golden(t, name("write-open"), plain(m))
	}
}
