package pbdecode

import "testing"

func TestSplitMethodPath(t *testing.T) {
	for path, want := range map[string]string{
		"/helloworld.Greeter/SayHello": "helloworld.Greeter SayHello",
		"/Svc/M2":                      "Svc M2",
		"helloworld.Greeter/SayHello":  "",
		"/a.b/c/d":                     "",
		"/a..b/c":                      "",
		"/a.b/bad-name":                "",
		"/a.b/":                        "",
		"/":                            "",
		"//M":                          "",
		"/.a/M":                        "",
		"/a./M":                        "",
		"/a.b.c_1/M":                   "a.b.c_1 M",
		"/a.1b/M":                      "",
	} {
		svc, m, ok := SplitMethodPath(path)
		got := ""
		if ok {
			got = svc + " " + m
		}
		if got != want {
			t.Errorf("%q: %q, want %q", path, got, want)
		}
	}
}
