package filter

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// calls are a small set covering every field the language reads.
func testCalls() []*grpcframe.Call {
	hello := &grpcframe.Call{
		ConnID: 1, StreamID: 1,
		Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.5:50051"),
		Method:         "/helloworld.Greeter/SayHello",
		RequestHeaders: []h2decode.HeaderField{{Name: "authorization", Value: "Bearer x"}, {Name: "x-user", Value: "bob"}},
		Trailers:       []h2decode.HeaderField{{Name: "grpc-status", Value: "0"}},
		// field 1 "you"; response field 1 "Hello, you!", field 2 varint 300
		Requests:  []*grpcframe.Message{{Length: 5, Data: []byte("\x0a\x03you")}},
		Responses: []*grpcframe.Message{{Length: 16, Data: append([]byte("\x0a\x0bHello, you!"), 0x10, 0xac, 0x02)}},
		Status:    &grpcframe.Status{Code: 0, Name: "OK"},
		Start:     t0, End: t0.Add(2 * time.Millisecond), State: grpcframe.StateComplete,
	}
	notFound := &grpcframe.Call{
		ConnID: 1, StreamID: 3,
		Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.5:50051"),
		Method: "/muxs.FileController/Read",
		// nested: field 2 { field 1 "/nope" }
		Requests: []*grpcframe.Message{{Length: 9, Data: []byte("\x12\x07\x0a\x05/nope")}},
		Status:   &grpcframe.Status{Code: 5, Name: "NOT_FOUND", Message: "no file"},
		Start:    t0, End: t0.Add(200 * time.Millisecond), State: grpcframe.StateComplete,
	}
	reset := &grpcframe.Call{
		ConnID: 2, StreamID: 5,
		Client: netip.MustParseAddrPort("[::1]:40001"), Server: netip.MustParseAddrPort("[::1]:50051"),
		Method:    "/helloworld.Greeter/SayHello",
		Requests:  []*grpcframe.Message{{Length: 2000}, {Length: 10}, {Length: 10}},
		Responses: []*grpcframe.Message{{Length: 1}},
		Start:     t0, End: t0.Add(2 * time.Second), State: grpcframe.StateReset, ResetBy: h2decode.RoleClient,
	}
	lost := &grpcframe.Call{
		ConnID: 3, StreamID: 7, MethodUnknown: true, StatusUnknown: true,
		MethodInferred: "/helloworld.Greeter/SayHello", MethodCandidates: []string{"/helloworld.Greeter/SayHello"},
		Start: t0, State: grpcframe.StateCut,
	}
	return []*grpcframe.Call{hello, notFound, reset, lost}
}

func TestMatch(t *testing.T) {
	calls := testCalls()
	tests := []struct {
		expr string
		want string // which of the four calls match, as "1010"
	}{
		{"", "1111"},
		{"method ~ greeter", "1010"},
		{"method ~ '^/muxs'", "0100"},
		{`method == "/helloworld.Greeter/SayHello"`, "1010"},
		{"method != /helloworld.Greeter/SayHello", "0101"},
		{"service == muxs.FileController", "0100"},
		{"method_inferred ~ greeter", "0001"},
		{"method_inferred == /helloworld.Greeter/SayHello || method == /muxs.FileController/Read", "0101"},
		{"protocol == grpc", "1111"},
		{"protocol ~ web || protocol == http", "0000"},
		{"status == OK", "1000"},
		{"status != OK", "0111"},
		{"status == not_found", "0100"},
		{"status == 5", "0100"},
		{"status >= 1", "0100"},
		{"status == none", "0011"},
		{"status == unrecovered", "0001"},
		{"duration > 100ms", "0110"},
		{"duration <= 2ms", "1000"},
		{"server == 10.0.0.5:50051", "1100"},
		{"server == 10.0.0.5", "1100"},
		{"server == ::1", "0010"},
		{"server == [::1]:50051", "0010"},
		{"client ~ ^10\\.", "1100"},
		{"state == reset", "0010"},
		{"state != complete", "0011"},
		{"messages > 3", "0010"},
		{"requests == 1", "1100"},
		{"responses == 0", "0101"},
		{"bytes > 1KB", "0010"},
		{"bytes < 10", "0101"},
		{"stream == 3", "0100"},
		{"conn == 1", "1100"},
		{"metadata[authorization]", "1000"},
		{"metadata[X-User] == \"bob\"", "1000"},
		{"metadata[x-user] != bob", "0111"},
		{"metadata[grpc-status] ~ ^0$", "1000"},
		{`req.1 == "you"`, "1000"},
		{"resp.1 ~ hello", "1000"},
		{"resp.2 == 300", "1000"},
		{"resp.2 > 299 and resp.2 < 301", "1000"},
		{"req.2.1 == /nope", "0100"},
		{"req.2", "0100"},
		{"req.2.1 ~ nope", "0100"},
		{"req.1 != you", "0111"},
		{"req.name == you", "0000"},
		{"not status == OK", "0111"},
		{"!(status == OK)", "0111"},
		{"status == OK || state == reset", "1010"},
		{"method ~ greeter && not state == reset", "1000"},
		{"method~greeter and(duration>1s or status==OK)", "1010"},
		{"METHOD ~ Greeter AND Status == ok", "1000"},
		{"a == 1 or b", ""}, // error cases are in TestParseErrors
	}
	for _, tt := range tests {
		if tt.want == "" {
			continue
		}
		e, err := Parse(tt.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.expr, err)
			continue
		}
		var got strings.Builder
		for _, c := range calls {
			if e.Match(c) {
				got.WriteByte('1')
			} else {
				got.WriteByte('0')
			}
		}
		if got.String() != tt.want {
			t.Errorf("%q matched %s, want %s", tt.expr, got.String(), tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"method ==", `col 10: expected a value after "=="`},
		{"status == OK and", "col 17: expected a field name"},
		{"(status == OK", `col 14: expected ")" to close the "(" at col 1`},
		{"foo == 1", `col 1: unknown field "foo"`},
		{"duration > fast", `col 12: expected a duration`},
		{"duration ~ 1s", `col 10: "duration" cannot be compared with ~`},
		{"method ~ (", "col 10: bad regular expression"},
		{"method < x", `col 8: "method" cannot be compared with <`},
		{"status == NOPE", "col 11: expected a status name"},
		{"status", `col 7: expected an operator`},
		{"method == x y", `col 13: expected and, or or the end`},
		{`method == "abc`, "col 11: unterminated string"},
		{"bytes > 1XB", "col 9: expected a size"},
		{"metadata", `col 9: expected "[" and a header name`},
		{"metadata[x", `col 9: expected "]"`},
		{"req.", "col 4: expected a field path"},
		{"state == gone", "col 10: expected a state"},
		{"messages > many", "col 12: expected a whole number"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.expr)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want %q", tt.expr, tt.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %q, want prefix %q", tt.expr, err, tt.want)
		}
	}
}

// fakeSchema knows one method: the request's "name" is field 1.
type fakeSchema struct{}

func (fakeSchema) FieldNumbers(method string, response bool, path []string) ([]int32, bool) {
	if method == "/helloworld.Greeter/SayHello" && !response && len(path) == 1 && path[0] == "name" {
		return []int32{1}, true
	}
	return nil, false
}

func TestNamedPaths(t *testing.T) {
	e, err := Parse("req.name == you")
	if err != nil {
		t.Fatal(err)
	}
	if !e.NeedsSchema() {
		t.Error("NeedsSchema is false for a named path without a schema")
	}
	e, err = ParseWith("req.name == you", Options{Schema: fakeSchema{}})
	if err != nil {
		t.Fatal(err)
	}
	if e.NeedsSchema() {
		t.Error("NeedsSchema with a schema")
	}
	calls := testCalls()
	if !e.Match(calls[0]) || e.Match(calls[1]) {
		t.Error("named path through the schema did not select the SayHello call only")
	}
}

func TestNilExpr(t *testing.T) {
	var e *Expr
	if !e.Match(testCalls()[0]) || e.String() != "" {
		t.Error("a nil filter must match everything")
	}
}

func TestCaret(t *testing.T) {
	_, err := Parse("method == x y")
	got := err.(*Error).Caret("method == x y")
	if want := "method == x y\n            ^"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// checkedSchema is fakeSchema that also knows which paths exist.
type checkedSchema struct {
	fakeSchema
	methods bool
}

func (s checkedSchema) PathKnown(response bool, path []string) (bool, []string, bool) {
	if !s.methods {
		return false, nil, false
	}
	if !response && len(path) == 1 && path[0] == "name" {
		return true, nil, true
	}
	return false, []string{"name"}, true
}

// A misspelt field name is an error when schemas are loaded, naming the
// fields there; with no schema at all, the filter stands with a warning.
func TestNamedPathChecked(t *testing.T) {
	_, err := ParseWith(`req.nmae == "you"`, Options{Schema: checkedSchema{methods: true}})
	if err == nil || err.Error() != "col 1: no request type of the loaded schemas has req.nmae (fields there: name)" {
		t.Errorf("misspelt name: %v", err)
	}
	e, err := ParseWith(`req.name == "you"`, Options{Schema: checkedSchema{methods: true}})
	if err != nil || len(e.Warnings()) != 0 {
		t.Errorf("a known name: %v, warnings %q", err, e.Warnings())
	}
	for _, opt := range []Options{{}, {Schema: checkedSchema{}}} {
		e, err := ParseWith(`req.name == "you"`, opt)
		if err != nil || len(e.Warnings()) != 1 || !strings.Contains(e.Warnings()[0], "needs a schema") {
			t.Errorf("no schema (%T): %v, warnings %q", opt.Schema, err, e.Warnings())
		}
	}
}

// A word that names no field, or quoted text, standing alone searches the
// method and the metadata, in any case.
func TestSearchWords(t *testing.T) {
	calls := testCalls()
	for _, tc := range []struct {
		expr string
		want []int // indexes of testCalls that match
	}{
		{"sayhello", []int{0, 2}},
		{"FileController/Read", []int{1}},
		{`"bearer x"`, []int{0}},
		{"x-user", []int{0}},
		{"sayhello and status == OK", []int{0}},
		{"not sayhello", []int{1, 3}},
		{"(read or bob)", []int{0, 1}},
	} {
		e, err := Parse(tc.expr)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		var got []int
		for i, c := range calls[:4] {
			if e.Match(c) {
				got = append(got, i)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q matched %v, want %v", tc.expr, got, tc.want)
		}
	}
	// A misspelt field followed by an operator is still an error.
	if _, err := Parse("mehtod == x"); err == nil || !strings.Contains(err.Error(), `unknown field "mehtod"`) {
		t.Errorf("mehtod == x: %v", err)
	}
}
