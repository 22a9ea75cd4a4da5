package live

import (
	"errors"
	"strings"
	"testing"
)

// TestPermissionMessageWindows checks the refusal names Npcap's admin-only
// installer option, as its users see it, and says what to do.
func TestPermissionMessageWindows(t *testing.T) {
	e := &PermissionError{Interface: "Ethernet"}
	option := `"Restrict Npcap driver's access to Administrators only"`
	if !strings.Contains(e.Error(), "administrator rights") || !strings.Contains(e.Error(), option) {
		t.Errorf("message %q", e.Error())
	}
	if !strings.Contains(e.Remedy(), "administrator terminal") || !strings.Contains(e.Remedy(), option) {
		t.Errorf("remedy %q", e.Remedy())
	}
}

func TestNoNpcapError(t *testing.T) {
	err := error(&noNpcapError{Interface: "Ethernet", Err: errors.New("couldn't load wpcap.dll")})
	if !errors.Is(err, ErrNoNpcap) || !errors.Is(err, ErrNotSupported) {
		t.Errorf("%v matches neither ErrNoNpcap nor ErrNotSupported", err)
	}
	for _, want := range []string{"Ethernet", "Npcap is not installed", "wpcap.dll", "https://npcap.com"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

// TestWithoutNpcap runs where Npcap is not installed (CI under wine, a
// fresh Windows): every entry point says so, and -D still lists the
// interfaces.
func TestWithoutNpcap(t *testing.T) {
	if loadNpcap("x") == nil {
		t.Skip("Npcap is installed")
	}
	if _, err := Open(Config{Interface: "Ethernet"}); !errors.Is(err, ErrNoNpcap) {
		t.Errorf("Open: %v", err)
	}
	if _, err := LinkTypeOf("loopback"); !errors.Is(err, ErrNoNpcap) {
		t.Errorf("LinkTypeOf: %v", err)
	}
	ifs, err := Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if !strings.Contains(i.Description, "Npcap is not installed") {
			t.Errorf("%s lacks the note", i)
		}
	}
}
