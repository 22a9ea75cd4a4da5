package export

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode"
)

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "\x00\x1f\t\n\r", "文件不存在 ☺ 😈", "bad \xff utf8", "\u2028\u2029", "<html>&"} {
		b := appendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q: %s is not JSON: %v", s, b, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want {
			t.Fatalf("%q came back as %q", s, back)
		}
	}
}

func sampleCall() *grpcframe.Call {
	start := time.Date(2026, 11, 21, 7, 0, 0, 123456789, time.UTC)
	return &grpcframe.Call{
		ConnID: 3, Client: netip.MustParseAddrPort("[::1]:40000"), Server: netip.MustParseAddrPort("[::1]:50051"),
		Transport: h2decode.TransportH2CMidstream, StreamID: 9, MethodUnknown: true, GRPC: true,
		RequestHeaders: []h2decode.HeaderField{
			{Name: ":method", Value: "POST"},
			{NameUnknown: true, ValueUnknown: true, Ref: h2decode.TableRef{Conn: 3, Epoch: 0, Entry: 9}},
			{NameUnknown: true, Value: "4999912u", Ref: h2decode.TableRef{Conn: 3, Entry: 0}},
			{Name: "x-trace-bin", Value: "AAEC"},
			{Name: "x-dup", Value: "1"}, {Name: "x-dup", Value: "2"},
		},
		Trailers:      []h2decode.HeaderField{{NameUnknown: true, ValueUnknown: true, Ref: h2decode.TableRef{Conn: 3, Side: 1, Entry: 1}}},
		StatusUnknown: true,
		Requests:      []*grpcframe.Message{{Length: 5, Time: start, Data: []byte("\x0a\x03you")}},
		Start:         start, End: start.Add(1500 * time.Microsecond),
		State: grpcframe.StateComplete,
	}
}

func TestCallJSON(t *testing.T) {
	b := AppendCallJSON(nil, sampleCall(), pbdecode.Options{})
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	want := `{"conn":3,"client":"[::1]:40000","server":"[::1]:50051","transport":"h2c-midstream","protocol":"grpc","stream_id":9,"method":null,"state":"complete",` +
		`"start":"2026-11-21T07:00:00.123456789Z","first_response":null,"end":"2026-11-21T07:00:00.124956789Z","duration_us":1500,"status":null,"status_unknown":true,` +
		`"request_headers":{":method":["POST"],"(unknown)":[{"unknown":"hpack","entry":"c3/a/e0/9"},{"unknown":"hpack","entry":"c3/a/e0/0","value":"4999912u"}],"x-trace-bin":["AAEC"],"x-dup":["1","2"]},` +
		`"response_headers":{},"trailers":{"(unknown)":[{"unknown":"hpack","entry":"c3/b/e0/1"}]},` +
		`"requests":[{"length":5,"compressed":false,"time":"2026-11-21T07:00:00.123456789Z","data":"CgN5b3U=","raw":{"fields":[{"field":1,"wire":"len","offset":0,"end":5,"length":3,"as":"string","string":"you","fits":["packed_varint"]}]}}],"responses":[]}`
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
}

// A call over MaxCallBytes keeps its messages' lengths but not their
// contents, and says so in a note that ends with the caller's hint, if any.
func TestMaxCallBytesNote(t *testing.T) {
	c := sampleCall()
	c.Requests = append(c.Requests, c.Requests[0], c.Requests[0])
	for _, hint := range []string{"", "see --max-call-bytes"} {
		b := AppendCall(nil, c, Options{MaxCallBytes: 50, MaxCallBytesHint: hint})
		want := `"notes":["output truncated: the contents of 3 messages were left out to keep this call's JSON under 50 bytes"]`
		if hint != "" {
			want = strings.Replace(want, `bytes"]`, `bytes (see --max-call-bytes)"]`, 1)
		}
		if !strings.Contains(string(b), want) || !strings.Contains(string(b), `"truncated_output":true`) {
			t.Errorf("hint %q: no %s in\n%s", hint, want, b)
		}
	}
}

func TestFormatLine(t *testing.T) {
	c := sampleCall()
	c.MethodUnknown, c.Method = false, "/helloworld.Greeter/SayHello"
	c.StatusUnknown = false
	c.Status = &grpcframe.Status{Code: 4, Name: "DEADLINE_EXCEEDED", Message: "Deadline Exceeded"}
	c.State, c.ResetCode, c.ResetBy = grpcframe.StateReset, 8, h2decode.RoleClient
	got := FormatLine(c, time.UTC)
	want := `07:00:00.123456 [::1]:40000 → [::1]:50051 /helloworld.Greeter/SayHello DEADLINE_EXCEEDED "Deadline Exceeded" 1.5ms ↑1 5B ↓0 0B [reset CANCEL by client]`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// A method of unknown :path shows as an inference: "~" before the one
// inferred, or the candidates, or that it is unknown.
func TestFormatLineInferred(t *testing.T) {
	c := sampleCall()
	c.MethodUnknown, c.Method = true, ""
	for _, tc := range []struct {
		inferred string
		cands    []string
		want     string
	}{
		{"/a.S/M", []string{"/a.S/M"}, " ~/a.S/M "},
		{"", []string{"/a.S/M", "/a.S/N"}, " (method unknown: ~/a.S/M | ~/a.S/N) "},
		{"", []string{"/a/1", "/a/2", "/a/3", "/a/4", "/a/5"}, " (method unknown: ~/a/1 | ~/a/2 | ~/a/3 | 2 more) "},
		{"", nil, " (method unknown) "},
	} {
		c.MethodInferred, c.MethodCandidates = tc.inferred, tc.cands
		if got := FormatLine(c, time.UTC); !strings.Contains(got, tc.want) {
			t.Errorf("%q %v: got %s, want it to hold %q", tc.inferred, tc.cands, got, tc.want)
		}
	}
}

// Whatever the bytes in headers and messages, the output is valid JSON.
func FuzzCallJSON(f *testing.F) {
	f.Add("x-a", "v\x00\xff", []byte("\x0a\x03you"), "msg %zz")
	f.Fuzz(func(t *testing.T, name, value string, payload []byte, msg string) {
		c := sampleCall()
		c.RequestHeaders = append(c.RequestHeaders, h2decode.HeaderField{Name: name, Value: value}, h2decode.HeaderField{Name: name + "-bin", Value: value})
		c.Requests = append(c.Requests, &grpcframe.Message{Data: payload, Err: msg})
		c.Status = &grpcframe.Status{Name: msg, Message: msg, Details: []grpcframe.Any{{TypeURL: msg, Value: payload}}, DetailsErr: msg}
		c.Notes = []h2decode.Note{{Kind: h2decode.NoteLostBytes, Text: msg}}
		b := AppendCallJSON(nil, c, pbdecode.Options{})
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
		if l := FormatLine(c, time.UTC); !utf8.ValidString(l) && utf8.ValidString(msg) {
			t.Fatalf("text line not UTF-8: %q", l)
		}
		// An Encoder writes the same, the second time from what it
		// remembers, also once a field has changed in the same list.
		var e Encoder
		for i := range 3 {
			if got := e.AppendCall(nil, c); string(got) != string(b) {
				t.Fatalf("Encoder, call %d:\ngot  %s\nwant %s", i, got, b)
			}
			c.RequestHeaders[len(c.RequestHeaders)-1].Value = msg + value
			b = AppendCallJSON(nil, c, pbdecode.Options{})
		}
	})
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 calls", 1: "1 call", 2: "2 calls"} {
		if got := Count(n, "call"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Count(int64(1), "TCP connection"); got != "1 TCP connection" {
		t.Errorf("Count(int64(1)) = %q", got)
	}
}
