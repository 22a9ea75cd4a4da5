package export

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// A --partial line names its call and holds the very message object the
// call's own line has, at the same index; the NDJSON writer puts it on a
// line of its own.
func TestMessageLine(t *testing.T) {
	c := sampleCall()
	c.Method, c.MethodUnknown = "/helloworld.Greeter/SayHello", false
	second := &grpcframe.Message{Length: 3, Time: c.Start, Data: []byte("\x08\x96\x01")}
	c.Requests = append(c.Requests, second)

	var line struct {
		Partial   string          `json:"partial"`
		Conn      int             `json:"conn"`
		StreamID  int             `json:"stream_id"`
		Method    string          `json:"method"`
		Direction string          `json:"direction"`
		Index     int             `json:"index"`
		Message   json.RawMessage `json:"message"`
	}
	b := AppendMessageLine(nil, c, true, 1, second, Options{})
	if err := json.Unmarshal(b, &line); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	var call struct {
		Requests []json.RawMessage `json:"requests"`
	}
	json.Unmarshal(AppendCall(nil, c, Options{}), &call)
	if line.Partial != "message" || line.Conn != 3 || line.StreamID != 9 || line.Method != c.Method ||
		line.Direction != "request" || line.Index != 1 || !bytes.Equal(line.Message, call.Requests[1]) {
		t.Fatalf("partial line %s\nthe call's message %s", b, call.Requests[1])
	}

	var out bytes.Buffer
	j := NewNDJSON(&out)
	j.FlushEach = true
	j.Message(c, false, 0, second)
	if s := out.String(); !strings.HasSuffix(s, "}\n") || strings.Count(s, "\n") != 1 || !strings.Contains(s, `"direction":"response","index":0`) {
		t.Fatalf("written without a flush or not as one line: %q", s)
	}
}
