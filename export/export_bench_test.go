package export

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
)

// benchCalls decodes the calls of a capture with the real pipeline.
func benchCalls(b testing.TB, path string) []*grpcframe.Call {
	src, err := capture.OpenFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	var calls []*grpcframe.Call
	asm := grpcframe.NewAssembler(grpcframe.SinkFunc(func(c *grpcframe.Call) { calls = append(calls, c) }), grpcframe.Options{})
	tcp := capture.NewAssembler(h2decode.NewFactory(asm, h2decode.Options{}), capture.Options{})
	if err := tcp.ReadAll(src); err != nil {
		b.Fatal(err)
	}
	asm.Close()
	if len(calls) == 0 {
		b.Fatal("no calls")
	}
	return calls
}

func benchCaptures() map[string]string {
	m := map[string]string{
		"grpcgo_interop": "../testdata/pcaps/grpcgo_interop.pcap",
		"py_routeguide":  "../testdata/pcaps/py_routeguide.pcap",
	}
	// GRPCSNIFF_BENCH_PCAP adds a capture, e.g. one made by scripts/gencorpus.sh.
	if p := os.Getenv("GRPCSNIFF_BENCH_PCAP"); p != "" {
		m["env"] = p
	}
	return m
}

// BenchmarkAppendCall writes the NDJSON of every call of real captures (no
// schema); MB/s is of JSON written.
func BenchmarkAppendCall(b *testing.B) {
	for name, path := range benchCaptures() {
		b.Run(name, func(b *testing.B) {
			calls := benchCalls(b, path)
			var buf []byte
			var n int64
			for _, c := range calls {
				buf = AppendCall(buf[:0], c, Options{})
				n += int64(len(buf)) + 1
			}
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range calls {
					buf = AppendCall(buf[:0], c, Options{})
				}
			}
			b.ReportMetric(float64(len(calls)), "calls/op")
		})
	}
}

// BenchmarkFormatLine writes the text line of every call.
func BenchmarkFormatLine(b *testing.B) {
	for name, path := range benchCaptures() {
		b.Run(name, func(b *testing.B) {
			calls := benchCalls(b, path)
			var w bytes.Buffer
			t := NewText(&w)
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				for _, c := range calls {
					t.Call(c)
				}
				t.Close()
			}
			b.ReportMetric(float64(len(calls)), "calls/op")
		})
	}
}

// TestAppendTimeMatchesFormat checks the NDJSON time writer against
// time.Time.AppendFormat with the documented layout, over random instants,
// the edges of the four-digit years, and other time zones.
func TestAppendTimeMatchesFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 21, 7, 6, 31, 564039000, time.FixedZone("x", 3600+1800)),
		time.Unix(0, 0),
		{},
	}
	for range 20000 {
		times = append(times, time.Unix(r.Int64N(1<<34)-1<<33, r.Int64N(1e9)))
	}
	// Instants anywhere in the years 0 to 9999, and just outside them.
	lo, hi := time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(10001, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for range 20000 {
		times = append(times, time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9)))
	}
	for _, tm := range times {
		want := "null"
		if !tm.IsZero() {
			want = `"` + tm.UTC().Format(timeFormat) + `"`
		}
		if got := string(appendTime([]byte("x"), tm)[1:]); got != want {
			t.Fatalf("%v: got %s, want %s", tm, got, want)
		}
	}
}

// TestCivilDate checks civilDate against package time on every day of the
// years 0 to 9999 and a little beyond.
func TestCivilDate(t *testing.T) {
	first := time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400
	last := time.Date(10001, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400
	for days := first; days <= last; days++ {
		y, m, d := time.Unix(days*86400, 0).UTC().Date()
		if gy, gm, gd := civilDate(days); gy != y || gm != uint(m) || gd != uint(d) {
			t.Fatalf("day %d: %d-%d-%d, want %d-%d-%d", days, gy, gm, gd, y, m, d)
		}
	}
}

// TestAppendAddrPortMatchesString checks the address writer against
// appendString(AddrPort.String()).
func TestAppendAddrPortMatchesString(t *testing.T) {
	for _, s := range []string{"127.0.0.1:50051", "[::1]:40000", "[fe80::1%eth0]:80", "[fe80::1%e\"t\\h]:80", "10.0.0.1:0", "[::ffff:1.2.3.4]:5"} {
		ap := netip.MustParseAddrPort(s)
		if got, want := string(appendAddrPort(nil, ap)), string(appendString(nil, ap.String())); got != want {
			t.Fatalf("%s: got %s, want %s", s, got, want)
		}
	}
	if got := string(appendAddrPort(nil, netip.AddrPort{})); got != `"invalid AddrPort"` {
		t.Fatalf("zero AddrPort: %s", got)
	}
}

// unaryCall is a call like those of the benchmark corpus
// (scripts/gencorpus.sh): grpc.testing.TestService/UnaryCall with 1 KB
// payloads each way and the headers h2load and grpc-go send.
func unaryCall() *grpcframe.Call {
	t0 := time.Date(2026, 11, 21, 8, 10, 41, 148227000, time.UTC)
	h := func(kv ...string) []h2decode.HeaderField {
		var hs []h2decode.HeaderField
		for i := 0; i < len(kv); i += 2 {
			hs = append(hs, h2decode.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return hs
	}
	// SimpleRequest{response_size: 1024, payload: {body: 1024 × 'a'}}.
	payload := append([]byte{0x10, 0x80, 0x08, 0x1a, 0x83, 0x08, 0x12, 0x80, 0x08}, bytes.Repeat([]byte("a"), 1024)...)
	return &grpcframe.Call{
		ConnID:    58,
		Client:    netip.MustParseAddrPort("10.231.0.2:43610"),
		Server:    netip.MustParseAddrPort("10.231.0.1:50051"),
		Transport: h2decode.TransportH2C,
		StreamID:  485,
		Method:    "/grpc.testing.TestService/UnaryCall",
		GRPC:      true,
		Protocol:  grpcframe.ProtoGRPC,
		RequestHeaders: h(":path", "/grpc.testing.TestService/UnaryCall", ":scheme", "http",
			":authority", "10.231.0.1:50051", ":method", "POST", "user-agent", "h2load nghttp2/1.52.0",
			"content-type", "application/grpc", "te", "trailers", "content-length", "1038"),
		ResponseHeaders: h(":status", "200", "content-type", "application/grpc"),
		Trailers:        h("grpc-status", "0", "grpc-message", "", "endpoint-load-metrics-bin", ""),
		Requests:        []*grpcframe.Message{{Length: uint32(len(payload)), Time: t0, Data: payload}},
		Responses:       []*grpcframe.Message{{Length: uint32(len(payload)), Time: t0.Add(39291 * time.Microsecond), Data: payload}},
		Status:          &grpcframe.Status{Code: 0, Name: "OK"},
		Start:           t0,
		FirstResponse:   t0.Add(39291 * time.Microsecond),
		End:             t0.Add(39291 * time.Microsecond),
		State:           grpcframe.StateComplete,
	}
}

// BenchmarkAppendCallUnary writes one corpus-like unary call, with the
// (empty) schema registry the command always passes; MB/s is of JSON
// written.
func BenchmarkAppendCallUnary(b *testing.B) {
	c := unaryCall()
	opt := Options{Schema: schema.NewRegistry()}
	buf := AppendCall(nil, c, opt)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendCall(buf[:0], c, opt)
	}
}

// BenchmarkEncoderUnary is BenchmarkAppendCallUnary with an Encoder, whose
// header lists come from its cache after the first call.
func BenchmarkEncoderUnary(b *testing.B) {
	c := unaryCall()
	e := Encoder{Options: Options{Schema: schema.NewRegistry()}}
	buf := e.AppendCall(nil, c)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendCall(buf[:0], c)
	}
}
