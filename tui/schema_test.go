package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
)

// registry loads the schemas of the shipped captures' services.
func registry(t testing.TB, files ...string) *schema.Registry {
	t.Helper()
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join("..", "testdata", "gen", "proto", f))
	}
	reg, err := schema.Load(schema.Options{ProtoFiles: paths})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// loadedOpts is loaded with options: the calls fed, the model sized w×h.
func loadedOpts(t testing.TB, calls []*grpcframe.Call, w, h int, o Options) *Model {
	t.Helper()
	o.Location = time.UTC
	if o.ExportDir == "" {
		o.ExportDir = t.TempDir()
	}
	m, err := New(feed(calls), o)
	if err != nil {
		t.Fatal(err)
	}
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	for cmd := m.Init(); cmd != nil; {
		_, cmd = m.Update(cmd())
	}
	return m
}

// TestSchemaDetail: with a registry the message line has the type and its
// JSON, and the open tree names each field next to its number, while the
// hex pane still highlights the field's raw bytes.
func TestSchemaDetail(t *testing.T) {
	reg := registry(t, "helloworld.proto", "muxs.proto")
	m := loadedOpts(t, loadCalls(t, "py_helloworld.pcap"), 100, 30, Options{Registry: reg})
	press(m, "g", "enter")
	s := plain(m)
	for _, want := range []string{`HelloRequest {"name":"you"}`, `HelloReply {"message":"Hello, you!"}`} {
		if !strings.Contains(s, want) {
			t.Errorf("detail lacks %q:\n%s", want, s)
		}
	}
	press(m, "enter", "j")
	s = plain(m)
	for _, want := range []string{"▾ ↑ req  1", "helloworld.HelloRequest", `name (1) string "you"  @0-4`, "field 1 is bytes 0-4"} {
		if !strings.Contains(s, want) {
			t.Errorf("open message lacks %q:\n%s", want, s)
		}
	}
	// Square's float is read as the schema's float, not as raw fixed32.
	press(m, "esc", "j", "enter", "enter", "j")
	if s := plain(m); !strings.Contains(s, "value (1) float ") {
		t.Errorf("Number.value not named:\n%s", s)
	}
}

// TestSchemaUnknownAndError: a field the schema lacks is listed and marked
// in the tree with its wire reading; bytes that do not fit the type give
// the schema_error and the wire tree.
func TestSchemaUnknownAndError(t *testing.T) {
	reg := registry(t, "helloworld.proto")
	base := loadCalls(t, "py_helloworld.pcap")[0]
	withData := func(data string) *grpcframe.Call {
		c := *base
		r := *base.Requests[0]
		r.Data, r.Length = []byte(data), uint32(len(data))
		c.Requests = []*grpcframe.Message{&r}
		return &c
	}
	// name "you", then field 7 = 300 (varint), unknown to HelloRequest.
	unknown := withData("\x0a\x03you\x38\xac\x02")
	// name holds invalid UTF-8, which a proto3 string may not.
	broken := withData("\x0a\x02\xff\xfe")
	m := loadedOpts(t, []*grpcframe.Call{unknown, broken}, 120, 40, Options{Registry: reg})
	press(m, "g", "enter")
	if s := plain(m); !strings.Contains(s, `HelloRequest {"name":"you"}  +unknown 7`) {
		t.Errorf("collapsed message does not flag the unknown field:\n%s", s)
	}
	press(m, "enter")
	s := plain(m)
	for _, want := range []string{"unknown fields (not in helloworld.HelloRequest): 7", `name (1) string "you"`,
		"? 7: 300  varint @5-7  (sint 150)  (unknown field: not in HelloRequest)"} {
		if !strings.Contains(s, want) {
			t.Errorf("unknown field: screen lacks %q:\n%s", want, s)
		}
	}
	press(m, "esc", "j", "enter")
	if s := plain(m); !strings.Contains(s, "! schema_error") {
		t.Errorf("collapsed message does not flag the schema_error:\n%s", s)
	}
	press(m, "enter")
	s = plain(m)
	for _, want := range []string{"! schema_error: the bytes are not a helloworld.HelloRequest", "1: ff fe  len bytes @0-3"} {
		if !strings.Contains(s, want) {
			t.Errorf("schema_error: screen lacks %q:\n%s", want, s)
		}
	}
}

// TestGrpcurlSchema asserts whole commands: JSON with .proto names from
// the schema, one document per streamed request, user metadata as -H
// (transport and grpc-* headers left out), -plaintext only for h2c.
func TestGrpcurlSchema(t *testing.T) {
	reg := registry(t, "helloworld.proto", "muxs.proto", "demo.proto")
	hello := loadCalls(t, "py_helloworld.pcap")
	cmd, note := Grpcurl(hello[0], pbdecodeDefault, reg)
	if want := `grpcurl -plaintext -d '{"name":"you"}' 127.0.0.1:50103 helloworld.Greeter/SayHello`; cmd != want || note != "" {
		t.Errorf("got  %s (%s)\nwant %s", cmd, note, want)
	}
	cmd, _ = Grpcurl(hello[3], pbdecodeDefault, reg)
	if want := `grpcurl -plaintext -H 'x-client: py-helloworld' -d '{"path":"/data.bin","data":"AAECAwQFBgcICQoLDA0ODw=="}' 127.0.0.1:50103 muxs.FileController/Write`; cmd != want {
		t.Errorf("bytes field, captured metadata:\ngot  %s\nwant %s", cmd, want)
	}
	demo := loadCalls(t, "py_grpcdemo.pcap")
	cmd, _ = Grpcurl(demo[1], pbdecodeDefault, reg)
	want := `grpcurl -plaintext -d '{"client_id":"1","request_data":"called by Python client, message:0"} {"client_id":"1","request_data":"called by Python client, message:1"} {"client_id":"1","request_data":"called by Python client, message:2"}' 127.0.0.1:23333 demo.GRPCDemo/ClientStreamingMethod`
	if cmd != want {
		t.Errorf("streaming:\ngot  %s\nwant %s", cmd, want)
	}

	// The same call with metadata, inside TLS.
	c := *hello[0]
	c.RequestHeaders = append(c.RequestHeaders[:len(c.RequestHeaders):len(c.RequestHeaders)],
		hf("x-user", "bob"), hf("authorization", "Bearer it's"), hf("grpc-trace-bin", "AAEC"), hf("user-agent", "x"))
	cmd, _ = Grpcurl(&c, pbdecodeDefault, reg)
	if want := `grpcurl -plaintext -H 'x-user: bob' -H 'authorization: Bearer it'\''s' -d '{"name":"you"}' 127.0.0.1:50103 helloworld.Greeter/SayHello`; cmd != want {
		t.Errorf("metadata:\ngot  %s\nwant %s", cmd, want)
	}
	c.TLS, c.Transport = &capture.TLSInfo{Version: "TLS 1.3", ALPN: "h2", Decrypted: true}, h2decode.TransportH2
	cmd, _ = Grpcurl(&c, pbdecodeDefault, reg)
	if want := `grpcurl -authority '127.0.0.1:50103' -H 'x-user: bob' -H 'authorization: Bearer it'\''s' -d '{"name":"you"}' 127.0.0.1:50103 helloworld.Greeter/SayHello`; cmd != want {
		t.Errorf("TLS:\ngot  %s\nwant %s", cmd, want)
	}
	// Without a schema for the method, no command, and why.
	cmd, note = Grpcurl(hello[0], pbdecodeDefault, registry(t, "demo.proto"))
	if cmd != "" || !strings.Contains(note, `no schema of /helloworld.Greeter/SayHello is loaded`) || !strings.Contains(note, `{"1":"you"}`) {
		t.Errorf("method not in the schema:\ngot  %s (%s)", cmd, note)
	}
	// The schema flags the view was given go into the command.
	cmd, _ = Grpcurl(hello[0], pbdecodeDefault, reg, "-import-path", "protos dir", "-proto", "helloworld.proto")
	if want := `grpcurl '-import-path' 'protos dir' '-proto' 'helloworld.proto' -plaintext -d '{"name":"you"}' 127.0.0.1:50103 helloworld.Greeter/SayHello`; cmd != want {
		t.Errorf("schema flags:\ngot  %s\nwant %s", cmd, want)
	}
}

func hf(name, value string) h2decode.HeaderField {
	return h2decode.HeaderField{Name: name, Value: value}
}

// TestRegistryFilters: the registry given for display also resolves field
// names in the filter.
func TestRegistryFilters(t *testing.T) {
	m := loadedOpts(t, loadCalls(t, "py_helloworld.pcap"), 100, 30,
		Options{Registry: registry(t, "helloworld.proto"), Filter: `req.name == "sleepy"`})
	if len(m.rows) != 1 {
		t.Errorf("req.name == \"sleepy\" selects %d calls, want 1", len(m.rows))
	}
}

// TestClipWidth: runes, not bytes, and the last rune kept when it fits.
func TestClipWidth(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{{"abc", 3, "abc"}, {"abcd", 3, "ab…"}, {"ab", 3, "ab"}, {"ééé", 3, "ééé"}, {"éééé", 3, "éé…"}} {
		if got := clipWidth(c.s, c.n); got != c.want {
			t.Errorf("clipWidth(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

// Y saves the grpcurl command to a script named as the view's other files.
func TestSaveGrpcurl(t *testing.T) {
	m := loadedOpts(t, loadCalls(t, "py_helloworld.pcap"), 120, 30, Options{Registry: registry(t, "helloworld.proto"),
		GrpcurlSchema: []string{"-proto", "helloworld.proto"}})
	m.now = func() time.Time { return time.Date(2026, 11, 21, 8, 30, 5, 0, time.UTC) }
	press(m, "Y")
	if m.save == nil || m.save.input != "grpcsniff-20261121-083005.sh" {
		t.Fatalf("Y did not ask for a name: %+v", m.save)
	}
	m.Update(press(m, "enter")())
	path := filepath.Join(m.opts.ExportDir, "grpcsniff-20261121-083005.sh")
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(m.status, "wrote the grpcurl command to "+path) {
		t.Fatalf("status %q, %v", m.status, err)
	}
	want := `grpcurl '-proto' 'helloworld.proto' -plaintext -d '{"name":"you"}' 127.0.0.1:50103 helloworld.Greeter/SayHello` + "\n"
	if !strings.HasPrefix(string(b), "#!/bin/sh\n") || !strings.HasSuffix(string(b), want) {
		t.Errorf("script:\n%s", b)
	}
	if st, _ := os.Stat(path); st.Mode()&0o100 == 0 {
		t.Errorf("the script is not executable: %v", st.Mode())
	}
}
