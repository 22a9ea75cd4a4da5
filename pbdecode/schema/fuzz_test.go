package schema

import (
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode with the seed schemas: it must
// never panic, and must either render compact JSON or say why not.
func FuzzDecode(f *testing.F) {
	r := loadSeed(f)
	methods := []string{
		"/helloworld.Greeter/SayHello", "/helloworld.Greeter/Square",
		"/demo.GRPCDemo/SimpleMethod", "/routeguide.RouteGuide/ListFeatures",
		"/routeguide.RouteGuide/RouteChat", "/muxs.FileController/Write",
	}
	for _, p := range []string{"py_helloworld.pcap", "py_grpcdemo.pcap", "py_routeguide.pcap"} {
		for _, c := range readCalls(f, p) {
			for _, m := range c.Requests {
				f.Add(uint8(0), true, m.Data)
			}
			for _, m := range c.Responses {
				f.Add(uint8(3), false, m.Data)
			}
		}
	}
	f.Add(uint8(4), true, []byte{0x0a, 0x80, 0x80, 0x80, 0x80, 0x10})
	f.Fuzz(func(t *testing.T, which uint8, request bool, data []byte) {
		m := methods[int(which)%len(methods)]
		d := r.Decode(m, request, data)
		if d.Type == "" {
			t.Fatalf("%s: no type", m)
		}
		if (d.Err == "") == (d.JSON == nil) {
			t.Fatalf("%s: JSON %q and Err %q", m, d.JSON, d.Err)
		}
		if again := r.Decode(m, request, data); string(again.JSON) != string(d.JSON) || again.Err != d.Err {
			t.Fatalf("%s: not deterministic: %s / %s", m, d.JSON, again.JSON)
		}
	})
}
