package schema

import (
	"slices"
	"testing"
)

// TestProtoNamesWindows checks Windows paths: drive letters, backslashes
// and case, which Windows ignores.
func TestProtoNamesWindows(t *testing.T) {
	for _, c := range []struct {
		files, imps []string
		wantNames   []string
		wantPaths   []string
	}{
		{[]string{`C:\protos\foo\bar.proto`}, []string{`C:\protos`}, []string{"foo/bar.proto"}, []string{`C:\protos`}},
		{[]string{`c:\PROTOS\foo\bar.proto`}, []string{`C:\protos\`}, []string{"foo/bar.proto"}, []string{`C:\protos\`}},
		{[]string{`C:/protos/foo/bar.proto`}, []string{`C:\protos`}, []string{"foo/bar.proto"}, []string{`C:\protos`}},
		{[]string{`D:\other\x.proto`}, []string{`C:\protos`}, []string{"x.proto"}, []string{`C:\protos`, `D:\other`}},
		{[]string{`foo\bar.proto`}, []string{`C:\protos`}, []string{"foo/bar.proto"}, []string{`C:\protos`}},
	} {
		names, paths := protoNames(c.files, c.imps)
		if !slices.Equal(names, c.wantNames) || !slices.Equal(paths, c.wantPaths) {
			t.Errorf("%q with -I %q: names %q, paths %q; want %q, %q", c.files, c.imps, names, paths, c.wantNames, c.wantPaths)
		}
	}
}
