package tlsdecrypt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// runCaptureLateKeys is runCapture with a key log that starts empty and gets
// the entries of keys just before the packet at index addAt (from 0; past the
// end: never), the connections waiting for their keys as in a live capture.
func runCaptureLateKeys(t *testing.T, name string, keys *KeyLog, addAt int, opts Options) result {
	t.Helper()
	src, err := capture.OpenFile(filepath.Join("..", "testdata", "pcaps", "tls", name))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res := result{tls: map[uint64]*capture.TLSInfo{}}
	calls := grpcframe.NewAssembler(grpcframe.SinkFunc(func(c *grpcframe.Call) {
		res.calls = append(res.calls, c)
	}), grpcframe.Options{MaxMessageSize: 1 << 20})
	live := &KeyLog{}
	opts.WaitForKeys = true
	res.endedAt = map[uint64]int{}
	packet := 0
	opts.Report = func(ci *capture.ConnInfo, i *capture.TLSInfo) {
		res.tls[ci.ID] = i
		res.endedAt[ci.ID] = packet
	}
	f := NewFactory(h2decode.NewFactory(calls, h2decode.Options{}), live, opts)
	tcp := capture.NewAssembler(f, capture.Options{})
	var last time.Time
	for i := 0; ; i++ {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i == addAt {
			live.Merge(keys)
		}
		packet = i
		last = p.Time
		res.packets++
		tcp.AddPacket(p)
	}
	packet = res.packets
	tcp.Close(last)
	calls.Close()
	if n := f.Waiting(); n != 0 {
		t.Errorf("%d connections still waiting after the end", n)
	}
	sort.SliceStable(res.calls, func(i, j int) bool {
		if res.calls[i].ConnID != res.calls[j].ConnID {
			return res.calls[i].ConnID < res.calls[j].ConnID
		}
		return res.calls[i].StreamID < res.calls[j].StreamID
	})
	return res
}

// describe sums up what a run decoded, to compare runs; with conns, only
// for the connections conns says yes to.
func describe(res result, conns ...func(uint64) bool) string {
	want := func(id uint64) bool { return len(conns) == 0 || conns[0](id) }
	var b strings.Builder
	for _, c := range res.calls {
		if !want(c.ConnID) {
			continue
		}
		fmt.Fprintf(&b, "conn %d stream %d %s %v req %q resp %q", c.ConnID, c.StreamID, c.Method, c.State, msgs(c.Requests), msgs(c.Responses))
		if c.Status != nil {
			fmt.Fprintf(&b, " status %d", c.Status.Code)
		}
		b.WriteByte('\n')
	}
	ids := make([]uint64, 0, len(res.tls))
	for id := range res.tls {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if !want(id) {
			continue
		}
		fmt.Fprintf(&b, "conn %d: %s\n", id, res.tls[id])
	}
	return b.String()
}

// Keys that arrive after the handshake, at any point of the capture: every
// call of a connection still open then decodes exactly as with the keys known
// from the start; a connection that ended before is as without keys.
func TestKeysArriveLate(t *testing.T) {
	for _, c := range []struct{ pcap, keys string }{
		{"tls13.pcap", "tls13.keys"},
		{"tls12.pcap", "tls12.keys"},
		{"tls13_keyupdate.pcap", "tls13_keyupdate.keys"},
	} {
		keys := loadKeys(t, c.keys)
		base, none := runCapture(t, c.pcap, keys), runCapture(t, c.pcap, nil)
		if len(base.calls) == 0 && c.pcap != "tls13_keyupdate.pcap" {
			t.Fatalf("%s: no calls with the keys", c.pcap)
		}
		late := 0
		for at := 0; at <= base.packets; at++ {
			res := runCaptureLateKeys(t, c.pcap, keys, at, Options{})
			open := func(id uint64) bool { return res.endedAt[id] >= at }
			ended := func(id uint64) bool { return res.endedAt[id] < at }
			got := describe(res)
			want := describe(base, open) + describe(none, ended)
			if describe(res, open)+describe(res, ended) != want {
				t.Fatalf("%s, keys added before packet %d:\n%s\nwant\n%s", c.pcap, at, got, want)
			}
			if describe(res, open) != "" && describe(none, open) != describe(base, open) {
				late++
			}
		}
		t.Logf("%s: %d packets, %d runs with keys coming late to an open connection", c.pcap, base.packets, late)
		if late < base.packets/2 {
			t.Errorf("%s: only %d of %d runs had keys come late to an open connection", c.pcap, late, base.packets)
		}
	}
}

// Keys that never come: at the end the connection is reported as without
// keys, as when not waiting; past MaxPendingBytes it gives up earlier, and
// says so.
func TestKeysNeverArrive(t *testing.T) {
	keys := loadKeys(t, "tls13.keys")
	never := runCaptureLateKeys(t, "tls13.pcap", keys, 1<<30, Options{})
	if got, want := describe(never), describe(runCapture(t, "tls13.pcap", nil)); got != want {
		t.Errorf("never:\n%s\nwant\n%s", got, want)
	}
	small := runCaptureLateKeys(t, "tls13.pcap", keys, 1<<30, Options{MaxPendingBytes: 100})
	for id, i := range small.tls {
		if !strings.Contains(i.Problem, "no key for client random ") || !strings.Contains(i.Problem, "(gave up waiting for the key after ") {
			t.Errorf("conn %d: %q", id, i.Problem)
		}
	}
	// Keys that come after the connection gave up are not used.
	gaveUp := runCaptureLateKeys(t, "tls13.pcap", keys, base13Packets(t)-1, Options{MaxPendingBytes: 100})
	if len(gaveUp.calls) != 0 {
		t.Errorf("%d calls decoded after giving up", len(gaveUp.calls))
	}
}

// What all waiting connections hold together is bounded too: with a total
// bound below what tls13.pcap's connections hold (and the per-connection
// bound at its default), they give up at the total and say so.
func TestKeysWaitTotalBound(t *testing.T) {
	keys := loadKeys(t, "tls13.keys")
	res := runCaptureLateKeys(t, "tls13.pcap", keys, 1<<30, Options{MaxPendingTotal: 100})
	gave := 0
	for id, i := range res.tls {
		if strings.Contains(i.Problem, "(gave up waiting for the key: connections waiting for keys held ") {
			gave++
		} else if !strings.Contains(i.Problem, "no key for client random ") {
			t.Errorf("conn %d: %q", id, i.Problem)
		}
	}
	if gave == 0 {
		t.Errorf("no connection gave up at the total bound: %v", res.tls)
	}
}

func base13Packets(t *testing.T) int {
	return runCapture(t, "tls13.pcap", nil).packets
}

// A connection gone quiet after its calls shows them as soon as its keys
// come (Factory.CheckKeys), not at its end; TLS 1.3 handshake secrets alone
// do not end the wait.
func TestCheckKeysQuietConn(t *testing.T) {
	s := newSynth(t, 0x1301)
	r := &recorder{}
	ci := &capture.ConnInfo{ID: 1}
	live := &KeyLog{}
	f := NewFactory(recorderFactory{r}, live, Options{WaitForKeys: true})
	h := f.NewConn(ci)
	var tm time.Time
	chEnd := 5 + int(binary.BigEndian.Uint16(s.client[3:5]))
	h.Data(capture.SideA, s.client[:chEnd], tm)
	h.Data(capture.SideB, s.server, tm)
	h.Data(capture.SideA, s.client[chEnd:], tm)
	if f.Waiting() != 1 || len(r.data[0])+len(r.data[1]) != 0 {
		t.Fatalf("waiting %d, plaintext %q %q", f.Waiting(), r.data[0], r.data[1])
	}
	f.CheckKeys() // nothing new: nothing happens
	live.Add(LabelClientHandshake, s.random, s.secrets[0])
	live.Add(LabelServerHandshake, s.random, s.secrets[1])
	f.CheckKeys()
	if f.Waiting() != 1 {
		t.Fatal("stopped waiting with the handshake secrets only")
	}
	live.Add(LabelClientTraffic0, s.random, s.secrets[2])
	live.Add(LabelServerTraffic0, s.random, s.secrets[3])
	f.CheckKeys()
	if f.Waiting() != 0 || !bytes.Equal(r.data[0], s.clientApp) || !bytes.Equal(r.data[1], s.serverApp) {
		t.Fatalf("after the keys: waiting %d, plaintext\n%q\n%q", f.Waiting(), r.data[0], r.data[1])
	}
	h.End(capture.EndFIN, tm)
	s.check(t, r, ci, "late keys")
}

// Without WaitForKeys nothing is held: a missing key is final at once, even
// when it is added later.
func TestNoWaitingForFiles(t *testing.T) {
	s := newSynth(t, 0x1302)
	live := &KeyLog{}
	r := &recorder{}
	ci := &capture.ConnInfo{ID: 1}
	f := NewFactory(recorderFactory{r}, live, Options{})
	h := f.NewConn(ci)
	chEnd := 5 + int(binary.BigEndian.Uint16(s.client[3:5]))
	h.Data(capture.SideA, s.client[:chEnd], time.Time{})
	h.Data(capture.SideB, s.server, time.Time{})
	if f.Waiting() != 0 {
		t.Fatal("waiting without WaitForKeys")
	}
	live.Merge(s.keys())
	h.Data(capture.SideA, s.client[chEnd:], time.Time{})
	h.End(capture.EndFIN, time.Time{})
	if len(r.data[0])+len(r.data[1]) != 0 || !strings.HasPrefix(ci.TLS.Problem, "no key for client random") {
		t.Errorf("plaintext %q %q, info %+v", r.data[0], r.data[1], ci.TLS)
	}
}

// Since gives the entries added after a generation as key log lines, which
// read back to the same entries.
func TestKeyLogSince(t *testing.T) {
	k := loadKeys(t, "tls13.keys")
	all, gen := k.Since(0)
	if gen != k.Gen() || gen == 0 {
		t.Fatalf("gen %d, Gen %d", gen, k.Gen())
	}
	back, err := ParseKeyLog(bytes.NewReader(all))
	if err != nil || len(back.Warnings()) > 0 {
		t.Fatalf("%v %v", err, back.Warnings())
	}
	if back.Len() != k.Len() || back.Gen() != k.Gen() {
		t.Fatalf("%d entries for %d client randoms, want %d for %d", back.Gen(), back.Len(), k.Gen(), k.Len())
	}
	for cr, s := range k.m {
		if b := back.Lookup(cr[:]); b == nil || fmt.Sprint(*b) != fmt.Sprint(*s) {
			t.Errorf("%x: %+v, want %+v", cr, b, s)
		}
	}
	if more, g := k.Since(gen); more != nil || g != gen {
		t.Errorf("nothing new: %q %d", more, g)
	}
	cr := bytes.Repeat([]byte{7}, 32)
	k.Add(LabelClientRandom, cr, bytes.Repeat([]byte{9}, 48))
	k.Add(labelExporter, cr, bytes.Repeat([]byte{9}, 32)) // not kept
	more, g := k.Since(gen)
	want := "CLIENT_RANDOM " + strings.Repeat("07", 32) + " " + strings.Repeat("09", 48) + "\n"
	if string(more) != want || g != gen+1 {
		t.Errorf("%q %d, want %q %d", more, g, want, gen+1)
	}
}

// One goroutine adds to a key log while another decodes with it (run with
// -race): the decoder sees each connection's keys whole or not at all.
func TestKeyLogConcurrentAdd(t *testing.T) {
	keys := loadKeys(t, "tls13.keys")
	lines, _ := keys.Since(0)
	live := &KeyLog{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, l := range bytes.SplitAfter(lines, []byte("\n")) {
			live.addLine(string(l))
			live.Since(0)
		}
	}()
	s := newSynth(t, 0x1301)
	for range 50 {
		h, r, _ := newTestConn(live)
		s.feed(h, nil)
		if len(r.data[0]) != 0 {
			t.Fatal("decrypted with keys that are not the synth's")
		}
		live.Lookup(bytes.Repeat([]byte{1}, 32))
		_ = live.Len() + int(live.Gen()) + len(live.Warnings())
	}
	<-done
	if live.Len() != keys.Len() {
		t.Errorf("%d client randoms, want %d", live.Len(), keys.Len())
	}
}

// A key log marked as growing is waited for without WaitForKeys.
func TestGrowingKeyLog(t *testing.T) {
	s := newSynth(t, 0x1303)
	live := &KeyLog{}
	live.SetGrowing()
	r := &recorder{}
	ci := &capture.ConnInfo{ID: 1}
	f := NewFactory(recorderFactory{r}, live, Options{})
	h := f.NewConn(ci)
	chEnd := 5 + int(binary.BigEndian.Uint16(s.client[3:5]))
	h.Data(capture.SideA, s.client[:chEnd], time.Time{})
	h.Data(capture.SideB, s.server, time.Time{})
	if f.Waiting() != 1 {
		t.Fatal("not waiting")
	}
	live.Merge(s.keys())
	h.Data(capture.SideA, s.client[chEnd:], time.Time{})
	h.End(capture.EndFIN, time.Time{})
	s.check(t, r, ci, "growing key log")
}
