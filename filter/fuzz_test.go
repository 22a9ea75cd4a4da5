package filter

import "testing"

// FuzzParse checks that no input makes Parse or Match panic, and that every
// error carries a column within the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"method ~ Greeter", "status != OK and duration > 100ms", "metadata[x] == 'a'",
		"req.1.2 == 3", "!(a", "((((", `"\x`, "bytes > 1.5KiB || not state == reset", "server == [::1]:1"} {
		f.Add(s)
	}
	calls := testCalls()
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			pe, ok := err.(*Error)
			if !ok || pe.Col < 1 || pe.Col > len(s)+1 {
				t.Fatalf("Parse(%q): error %v has a bad column", s, err)
			}
			return
		}
		for _, c := range calls {
			e.Match(c)
		}
	})
}
