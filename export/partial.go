package export

import "github.com/grpcsniff/grpcsniff/grpcframe"

// Message writes one line for a message of a call still in progress
// (--partial): long streams are visible before they end. The line has
// "partial": "message", the keys that name the call (conn, client, server,
// stream_id, method) and "direction", "index" and "message" — the same
// object the call's own line later holds in "requests" or "responses".
func (j *NDJSON) Message(c *grpcframe.Call, request bool, index int, m *grpcframe.Message) {
	if j.err != nil {
		return
	}
	j.writeLine(AppendMessageLine(j.buf[:0], c, request, index, m, j.Options))
}

// AppendMessageLine appends the JSON object of Message. The message is
// rendered as it is inside a call's line, by the same code.
func AppendMessageLine(b []byte, c *grpcframe.Call, request bool, index int, m *grpcframe.Message, opt Options) []byte {
	// A call holding this message alone, so that its rendering is the one
	// the finished call will show.
	one := *c
	one.Requests, one.Responses = nil, []*grpcframe.Message{m}
	if request {
		one.Requests, one.Responses = one.Responses, nil
	}
	b = append(b, '{')
	b = appendKey(b, "partial")
	b = appendString(b, "message")
	b = appendEndpoints(b, c)
	b = appendKey(b, "stream_id")
	b = appendInt(b, int64(c.StreamID))
	b = appendKey(b, "method")
	if c.Method == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, c.Method)
	}
	b = appendKey(b, "direction")
	if request {
		b = appendString(b, "request")
	} else {
		b = appendString(b, "response")
	}
	b = appendKey(b, "index")
	b = appendInt(b, int64(index))
	b = appendKey(b, "message")
	u := budget{start: len(b), max: opt.MaxCallBytes, hint: opt.MaxCallBytesHint}
	if u.max == 0 {
		u.max = DefaultMaxCallBytes
	}
	mark := len(b)
	b = appendMessages(b, &one, request, opt, &u, nil)
	// appendMessages wrote a one-element array: keep its element.
	b = append(b[:mark], b[mark+1:len(b)-1]...)
	return append(b, '}')
}
