package h2decode

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http2"
)

// An HTTP/1.1 request may ask to continue the connection as HTTP/2 ("h2c",
// RFC 7540 §3.2): the request becomes stream 1, and once the server answers
// 101 Switching Protocols both sides send HTTP/2 frames. A server that
// answers otherwise declines, and the connection is HTTP/1.x.

// maxUpgradeBody bounds the upgraded request body held until the server's
// 101 confirms the upgrade.
const maxUpgradeBody = 4 << 20

// upgradeState is an HTTP/1.1 request that asked for "Upgrade: h2c". Its
// stream-1 events wait for the server's answer: only a 101 makes it HTTP/2.
type upgradeState struct {
	fields    []HeaderField
	time      time.Time
	body      []byte
	bodyTime  time.Time
	bodyLeft  int64
	bodyDone  bool
	confirmed bool
}

// upgradeHead reads the first HTTP/1.1 head of a direction once it is
// whole: a request asking for an h2c Upgrade (held as stream 1 until the
// server answers), the server's 101 accepting it (frames follow), or
// anything else, which makes the connection HTTP/1.x. When the direction
// goes on in another mode, it returns the bytes after the head.
func (d *dirState) upgradeHead(t time.Time) ([]byte, bool) {
	end := bytes.Index(d.buf, []byte("\r\n\r\n"))
	if end < 0 {
		if len(d.buf) > maxHTTP1Head {
			d.c.startH1(t)
		}
		return nil, false
	}
	headLen := end + 4
	br := bufio.NewReader(bytes.NewReader(d.buf[:headLen]))
	if bytes.HasPrefix(d.buf, []byte("HTTP/")) {
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols || d.c.up == nil || !hasToken(resp.Header, "Upgrade", "h2c") {
			if d.c.up != nil {
				d.c.note(NotePeer, "server declined the h2c Upgrade")
			}
			d.c.startH1(t)
			return nil, false
		}
		d.c.Kind = KindUpgrade
		d.c.setClient(d.side.Other(), ClientByUpgrade)
		d.startHPACK(true)
		rest := d.enterFrames(headLen)
		d.confirmUpgrade()
		return rest, true
	}
	req, err := http.ReadRequest(br)
	if err != nil || !hasToken(req.Header, "Upgrade", "h2c") {
		d.c.startH1(t)
		return nil, false
	}
	up := &upgradeState{time: t, bodyLeft: max(req.ContentLength, 0)}
	up.fields = append(up.fields,
		HeaderField{Name: ":method", Value: req.Method},
		HeaderField{Name: ":scheme", Value: "http"},
		HeaderField{Name: ":authority", Value: req.Host},
		HeaderField{Name: ":path", Value: req.RequestURI})
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		lk := strings.ToLower(k)
		switch lk {
		case "connection", "upgrade", "http2-settings", "keep-alive", "proxy-connection", "transfer-encoding":
			continue
		}
		for _, v := range req.Header[k] {
			up.fields = append(up.fields, HeaderField{Name: lk, Value: v})
		}
	}
	if s := req.Header.Get("Http2-Settings"); s != "" {
		d.applyUpgradeSettings(s)
	}
	if len(req.TransferEncoding) > 0 {
		d.c.note(NoteNotDecoded, "upgraded request uses chunked encoding; its body is not decoded")
	}
	d.c.up = up
	d.c.setClient(d.side, ClientByUpgrade)
	d.startHPACK(true)
	rest := d.buf[headLen:]
	d.buf = nil
	d.chunkStarts = d.chunkStarts[:0]
	if up.bodyLeft > 0 {
		d.mode = modeUpgradeBody
	} else {
		up.bodyDone = true
		d.mode = modePreface
	}
	return rest, true
}

// applyUpgradeSettings reads the client's HTTP2-Settings header: the SETTINGS
// payload, base64url-encoded.
func (d *dirState) applyUpgradeSettings(s string) {
	p, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		d.c.note(NoteMalformed, "HTTP2-Settings header is not base64url: %v", err)
		return
	}
	for ; len(p) >= 6; p = p[6:] {
		switch v := binary.BigEndian.Uint32(p[2:]); http2.SettingID(binary.BigEndian.Uint16(p)) {
		case http2.SettingMaxFrameSize:
			d.peer().maxFrame = max(v, maxStrictFrameLen)
		case http2.SettingHeaderTableSize:
			d.peer().hpackSettings(v)
		}
	}
}

func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), token) {
				return true
			}
		}
	}
	return false
}

// upgradeBody consumes the upgraded request's body.
func (d *dirState) upgradeBody(data []byte, t time.Time) []byte {
	up := d.c.up
	n := min(int64(len(data)), up.bodyLeft)
	chunk := data[:n]
	up.bodyLeft -= n
	if up.confirmed {
		d.c.f.h.Data(d.c, &DataEvent{Side: d.side, StreamID: 1, Data: chunk, EndStream: up.bodyLeft == 0, Time: t})
	} else if len(up.body)+len(chunk) <= maxUpgradeBody {
		up.body = append(up.body, chunk...)
		up.bodyTime = t
	}
	if up.bodyLeft == 0 {
		up.bodyDone = true
		d.mode = modePreface
	}
	return data[n:]
}

// confirmUpgrade emits the upgraded request as stream 1 once the server
// switched protocols.
func (d *dirState) confirmUpgrade() {
	up := d.c.up
	up.confirmed = true
	side := d.side.Other()
	hasBody := up.bodyDone && len(up.body) > 0 || !up.bodyDone
	d.c.f.h.Headers(d.c, &HeadersEvent{Side: side, StreamID: 1, Fields: up.fields, EndStream: !hasBody, Time: up.time, Upgrade: true})
	if len(up.body) > 0 {
		d.c.f.h.Data(d.c, &DataEvent{Side: side, StreamID: 1, Data: up.body, EndStream: up.bodyDone, Time: up.bodyTime})
	}
	up.body = nil
}
