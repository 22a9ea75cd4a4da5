package export

import (
	"encoding/base64"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
)

// TestAppendHeadersMatchesSlow checks the bit-mask header writer against the
// pairwise one on random lists with repeated names, unknown names and
// values, and binary headers, of every length up to past the mask's 64.
func TestAppendHeadersMatchesSlow(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	names := []string{":path", "te", "x-id", "x-trace-bin", "grpc-status", "a", "b", "c"}
	for n := range 70 {
		for range 30 {
			hs := make([]h2decode.HeaderField, n)
			for i := range hs {
				f := &hs[i]
				f.Name = names[r.IntN(len(names))]
				if r.IntN(3) == 0 {
					f.Name += strconv.Itoa(i) // mostly distinct names
				}
				f.Value = "v" + strconv.Itoa(i)
				if f.Name == "x-trace-bin" {
					f.Value = "AQID"
				}
				switch r.IntN(20) {
				case 0:
					f.NameUnknown, f.Name = true, ""
				case 1:
					f.ValueUnknown, f.Value = true, ""
				}
			}
			got, want := string(appendHeaders(nil, hs)), string(appendHeadersSlow(nil, hs))
			if got != want {
				t.Fatalf("%d fields:\ngot  %s\nwant %s", n, got, want)
			}
		}
	}
}

// TestAppendBinHeader checks the stack decoding of binary headers against
// grpcframe.DecodeBinHeader: padded, unpadded, with line breaks, invalid,
// and on both sides of the stack buffer's size.
func TestAppendBinHeader(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	vals := []string{"", "=", "==", "AQID", "AQI", "AQI=", "AQ==", "AQ", "A", "!!", "AQ\r\nID", "AQ=ID", "AQID===", "-_-_"}
	for n := range 300 {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		vals = append(vals, base64.StdEncoding.EncodeToString(p), base64.RawStdEncoding.EncodeToString(p))
	}
	for _, v := range vals {
		var want []byte
		p, err := grpcframe.DecodeBinHeader(v)
		if err == nil {
			want = appendBase64([]byte("x"), p)
		}
		got, ok := appendBinHeader([]byte("x"), v)
		if ok != (err == nil) || ok && string(got) != string(want) {
			t.Fatalf("%q: got %s, %v; want %s, %v", v, got, ok, want, err)
		}
	}
	buf := make([]byte, 0, 64) // the caller's buffer: only what appendBinHeader allocates counts
	if n := testing.AllocsPerRun(100, func() { appendBinHeader(buf[:0], "AQIDBA==") }); n != 0 {
		t.Errorf("%v allocations per header", n)
	}
}

// A -bin value reads the same however it was sent: base64 padded or not,
// or the C core's true-binary form (a 0x00, then the bytes); a value that
// is none of them keeps its bytes, marked.
func TestAppendBinValue(t *testing.T) {
	for v, want := range map[string]string{
		"AQID":             `"AQID"`,
		"AQI":              `"AQI="`,
		"\x00\x01\x02\x03": `"AQID"`,
		"\x00":             `""`,
		"\xff\xfe!":        `{"not_base64":"//4h"}`,
	} {
		if got := string(appendBinValue(nil, v)); got != want {
			t.Errorf("%q: %s, want %s", v, got, want)
		}
	}
}

// TestAppendCallConcurrent encodes calls from several goroutines at once,
// as a parallel export will, and compares with encoding them one by one
// (run with -race).
func TestAppendCallConcurrent(t *testing.T) {
	c := unaryCall()
	c.Trailers = append(c.Trailers, h2decode.HeaderField{Name: "grpc-status-details-bin", Value: "CAMSB2ludmFsaWQ"})
	opt := Options{Schema: schema.NewRegistry()}
	want := string(AppendCall(nil, c, opt))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var buf []byte
			for range 100 {
				if buf = AppendCall(buf[:0], c, opt); string(buf) != want {
					t.Error("output differs from the serial one")
					return
				}
			}
		})
	}
	wg.Wait()
}
