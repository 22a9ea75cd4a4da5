package h2decode

import (
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
)

// h1Run feeds the client's bytes, then the server's, each cut into pieces
// of at most split bytes (0: whole), and returns the events.
func h1Run(client, server string, split int, reason capture.EndReason) []string {
	r := &recorder{}
	c := newTestConn(r, true)
	ts := time.Unix(1, 0)
	feed := func(side capture.Side, s string) {
		b := []byte(s)
		for len(b) > 0 {
			n := len(b)
			if split > 0 {
				n = min(n, split)
			}
			c.Data(side, b[:n], ts)
			b = b[n:]
		}
	}
	feed(0, client)
	feed(1, server)
	c.End(reason, ts)
	return r.log
}

func checkLog(t *testing.T, got []string, want ...string) {
	t.Helper()
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Fatalf("events:\n%s\nwant:\n%s", g, w)
	}
}

const (
	h1KeepAliveClient = "POST /api/a HTTP/1.1\r\nHost: example:80\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}" +
		"GET /b?x=1 HTTP/1.1\r\nHost: example:80\r\nAccept: */*\r\n\r\n" +
		"PUT /c HTTP/1.1\r\nHost: example:80\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Sum: 9\r\n\r\n"
	h1KeepAliveServer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" +
		"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnope\r\n0\r\n\r\n" +
		"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"
)

var h1KeepAliveWant = []string{
	"headers side=0 stream=1 end=false [:method=POST :scheme=http :authority=example:80 :path=/api/a content-type=application/json content-length=7]",
	`data side=0 stream=1 [{"a":1}]`,
	"data side=0 stream=1 end",
	"headers side=0 stream=3 end=true [:method=GET :scheme=http :authority=example:80 :path=/b?x=1 accept=*/*]",
	"headers side=0 stream=5 end=false [:method=PUT :scheme=http :authority=example:80 :path=/c transfer-encoding=chunked]",
	"data side=0 stream=5 [abc0123456789abcdef]",
	"headers side=0 stream=5 end=true [x-sum=9]",
	"headers side=1 stream=1 end=false [:status=200 content-length=2]",
	"data side=1 stream=1 [ok]",
	"data side=1 stream=1 end",
	"headers side=1 stream=3 end=false [:status=404 transfer-encoding=chunked]",
	"data side=1 stream=3 [nope]",
	"data side=1 stream=3 end",
	"headers side=1 stream=5 end=true [:status=204 x-a=1]",
	"end fin kind=http1.1 client=0/http1.1",
}

// Keep-alive and pipelining (three requests before any response),
// Content-Length, chunked bodies with extensions and trailers, 204.
func TestHTTP1KeepAlivePipelined(t *testing.T) {
	checkLog(t, h1Run(h1KeepAliveClient, h1KeepAliveServer, 0, capture.EndFIN), h1KeepAliveWant...)
}

// The same conversation cut into pieces of every size, down to one byte per
// segment, gives the same events.
func TestHTTP1SplitEverywhere(t *testing.T) {
	for split := 1; split <= len(h1KeepAliveClient); split++ {
		checkLog(t, h1Run(h1KeepAliveClient, h1KeepAliveServer, split, capture.EndFIN), h1KeepAliveWant...)
	}
}

// Every two-way split of each direction.
func TestHTTP1TwoWaySplits(t *testing.T) {
	for _, side := range []capture.Side{0, 1} {
		s := h1KeepAliveClient
		if side == 1 {
			s = h1KeepAliveServer
		}
		for cut := 1; cut < len(s); cut++ {
			r := &recorder{}
			c := newTestConn(r, true)
			ts := time.Unix(1, 0)
			if side == 0 {
				c.Data(0, []byte(s[:cut]), ts)
				c.Data(0, []byte(s[cut:]), ts)
				c.Data(1, []byte(h1KeepAliveServer), ts)
			} else {
				c.Data(0, []byte(h1KeepAliveClient), ts)
				c.Data(1, []byte(s[:cut]), ts)
				c.Data(1, []byte(s[cut:]), ts)
			}
			c.End(capture.EndFIN, ts)
			checkLog(t, r.log, h1KeepAliveWant...)
		}
	}
}

// A response without Content-Length or chunking lasts until the connection
// closes; HEAD and 304 responses have no body whatever their headers say.
func TestHTTP1CloseDelimitedAndHEAD(t *testing.T) {
	client := "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\nGET /z HTTP/1.0\r\n\r\n"
	server := "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" +
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n" +
		"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"
	checkLog(t, h1Run(client, server, 0, capture.EndFIN),
		"headers side=0 stream=1 end=true [:method=HEAD :scheme=http :authority=h :path=/x]",
		"headers side=0 stream=3 end=true [:method=GET :scheme=http :authority=h :path=/y]",
		"headers side=0 stream=5 end=true [:method=GET :scheme=http :path=/z]",
		"headers side=1 stream=1 end=true [:status=200 content-length=100]",
		"headers side=1 stream=3 end=true [:status=304 content-length=5]",
		"headers side=1 stream=5 end=false [:status=200 content-type=text/plain]",
		"data side=1 stream=5 [until the end]",
		"data side=1 stream=5 end",
		"end fin kind=http1.1 client=0/http1.1")
	// Cut by the end of the capture: the body may not be whole, so the
	// stream is not ended.
	got := h1Run(client, server, 0, capture.EndCapture)
	if last := got[len(got)-2]; last != "data side=1 stream=5 [until the end]" {
		t.Fatalf("close-delimited body at the capture's end: %q", last)
	}
}

// 100 Continue is an interim response: skipped, the final one pairs with
// the request.
func TestHTTP1Continue(t *testing.T) {
	r := &recorder{}
	c := newTestConn(r, true)
	ts := time.Unix(1, 0)
	c.Data(0, []byte("POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"), ts)
	c.Data(1, []byte("HTTP/1.1 100 Continue\r\n\r\n"), ts)
	c.Data(0, []byte("abc"), ts)
	c.Data(1, []byte("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"), ts)
	c.End(capture.EndFIN, ts)
	checkLog(t, r.log,
		"headers side=0 stream=1 end=false [:method=POST :scheme=http :authority=h :path=/up expect=100-continue content-length=3]",
		"data side=0 stream=1 [abc]",
		"data side=0 stream=1 end",
		"headers side=1 stream=1 end=true [:status=201 content-length=0]",
		"end fin kind=http1.1 client=0/http1.1")
}

// A gap inside a body of known length costs those bytes only; a gap where
// the framing is lost resynchronises on the next start line.
func TestHTTP1Gaps(t *testing.T) {
	r := &recorder{}
	c := newTestConn(r, true)
	ts := time.Unix(1, 0)
	c.Data(0, []byte("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n012"), ts)
	c.Gap(0, 4, ts)
	c.Data(0, []byte("789"), ts)
	// A chunked body whose chunk-size line is lost: framing lost.
	c.Data(0, []byte("POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"), ts)
	c.Gap(0, 40, ts)
	c.Data(0, []byte("xx\r\n0\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n"), ts)
	c.Data(1, []byte("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine"), ts)
	c.Data(1, []byte("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123"), ts)
	c.Gap(1, 100, ts) // more than the body's rest: framing lost
	c.Data(1, []byte("junk\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz"), ts)
	c.End(capture.EndFIN, ts)
	checkLog(t, r.log,
		"headers side=0 stream=1 end=false [:method=POST :scheme=http :authority=h :path=/a content-length=10]",
		"data side=0 stream=1 [012]",
		"data side=0 stream=1 lost=4",
		"data side=0 stream=1 [789]",
		"data side=0 stream=1 end",
		"headers side=0 stream=3 end=false [:method=POST :scheme=http :authority=h :path=/b transfer-encoding=chunked]",
		"data side=0 stream=3 [ab]",
		"data side=0 stream=3 lost=-1",
		"headers side=0 stream=5 end=true [:method=GET :scheme=http :authority=h :path=/c]",
		"headers side=1 stream=1 end=false [:status=200 content-length=4]",
		"data side=1 stream=1 [fine]",
		"data side=1 stream=1 end",
		"headers side=1 stream=3 end=false [:status=200 content-length=20]",
		"data side=1 stream=3 [0123]",
		"data side=1 stream=3 lost=-1",
		"data side=1 stream=3 end",
		"headers side=1 stream=5 end=false [:status=200 content-length=1]",
		"data side=1 stream=5 [z]",
		"data side=1 stream=5 end",
		"end fin kind=http1.1 client=0/http1.1")
}

// A capture that joins an HTTP/1.1 connection inside a response body finds
// the next status line; the response without its request gets its own
// stream.
func TestHTTP1MidConnection(t *testing.T) {
	r := &recorder{}
	c := newTestConn(r, false)
	ts := time.Unix(1, 0)
	c.Data(1, []byte("tail of a body\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"), ts)
	c.Data(0, []byte("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"), ts)
	c.Data(1, []byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes"), ts)
	c.End(capture.EndFIN, ts)
	log := strings.Join(r.log, "\n")
	for _, want := range []string{
		"headers side=1 stream=1 end=false [:status=200 content-length=2]",
		"headers side=0 stream=3 end=true [:method=GET :scheme=http :authority=h :path=/next]",
		"headers side=1 stream=3 end=false [:status=200 content-length=3]",
		"data side=1 stream=3 [yes]",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("missing %q in:\n%s", want, log)
		}
	}
}

// A declined h2c Upgrade is an HTTP/1.1 request like any other.
func TestHTTP1DeclinedUpgrade(t *testing.T) {
	client := "POST /p HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 2\r\n\r\nhi" +
		"GET /q HTTP/1.1\r\nHost: h\r\n\r\n"
	server := "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB"
	r := &recorder{}
	c := newTestConn(r, true)
	ts := time.Unix(1, 0)
	c.Data(0, []byte(client), ts)
	c.Data(1, []byte(server), ts)
	c.End(capture.EndFIN, ts)
	checkLog(t, r.log,
		"headers side=0 stream=1 end=false [:method=POST :scheme=http :authority=h :path=/p content-length=2]",
		"data side=0 stream=1 [hi]",
		"data side=0 stream=1 end",
		"headers side=0 stream=3 end=true [:method=GET :scheme=http :authority=h :path=/q]",
		"headers side=1 stream=1 end=false [:status=200 content-length=1]",
		"data side=1 stream=1 [A]",
		"data side=1 stream=1 end",
		"headers side=1 stream=3 end=false [:status=200 content-length=1]",
		"data side=1 stream=3 [B]",
		"data side=1 stream=3 end",
		"end fin kind=http1.1 client=0/http1.1")
}

// A WebSocket upgrade: the 101 ends decoding.
func TestHTTP1SwitchingProtocols(t *testing.T) {
	got := h1Run("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi", 0, capture.EndFIN)
	checkLog(t, got,
		"headers side=0 stream=1 end=true [:method=GET :scheme=http :authority=h :path=/ws upgrade=websocket connection=Upgrade]",
		"headers side=1 stream=1 end=true [:status=101 upgrade=websocket]",
		"end fin kind=http1.1 client=0/http1.1")
}

// Bytes that are not HTTP/1 where a message should start lose framing; a
// huge head is bounded.
func TestHTTP1Garbage(t *testing.T) {
	big := "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxHTTP1Head+10)
	r := &recorder{}
	c := newTestConn(r, true)
	ts := time.Unix(1, 0)
	c.Data(0, []byte("GET / HTTP/1.1\r\n\r\n"), ts)
	c.Data(0, []byte(big), ts)
	c.Data(0, []byte("\r\n\r\nGET /after HTTP/1.1\r\n\r\n"), ts)
	c.End(capture.EndFIN, ts)
	if cap(c.dirs[0].buf) > 4*maxHTTP1Head {
		t.Errorf("buffer grew to %d", cap(c.dirs[0].buf))
	}
	checkLog(t, r.log,
		"headers side=0 stream=1 end=true [:method=GET :scheme=http :path=/]",
		"headers side=0 stream=3 end=true [:method=GET :scheme=http :path=/after]",
		"end fin kind=http1.1 client=0/http1.1")
}

// An invalid Content-Length loses the framing; the next request is found
// again right after the bad head.
func TestHTTP1BadContentLength(t *testing.T) {
	got := h1Run("POST /x HTTP/1.1\r\nContent-Length: zz\r\n\r\nGET /y HTTP/1.1\r\n\r\n", "", 0, capture.EndFIN)
	checkLog(t, got,
		"headers side=0 stream=1 end=false [:method=POST :scheme=http :path=/x content-length=zz]",
		"data side=0 stream=1 lost=-1",
		"headers side=0 stream=3 end=true [:method=GET :scheme=http :path=/y]",
		"end fin kind=http1.1 client=0/http1.1")
}
