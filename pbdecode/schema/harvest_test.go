package schema

import (
	"strings"
	"testing"
)

// TestHarvestFromCapture reads grpcgo_reflection.pcap (a grpcurl-like
// session: reflection, then SayHello) with no schema given: the files the
// server sent in the captured reflection call decode the call after it.
func TestHarvestFromCapture(t *testing.T) {
	calls := readCalls(t, "grpcgo_reflection.pcap")
	r := NewRegistry()
	var harvested []string
	for _, c := range calls {
		if !IsReflection(c.Method) {
			continue
		}
		var resps [][]byte
		for _, m := range c.Responses {
			resps = append(resps, m.Data)
		}
		fds, err := HarvestReflection(c.Method, resps)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range fds {
			harvested = append(harvested, fd.GetName())
		}
		if err := r.AddFiles(fds...); err != nil {
			t.Fatal(err)
		}
	}
	want := "grpc/reflection/v1/reflection.proto grpc/reflection/v1alpha/reflection.proto helloworld.proto muxs.proto"
	if got := strings.Join(harvested, " "); got != want {
		t.Errorf("harvested %s, want %s", got, want)
	}

	got := map[string]string{}
	for _, c := range calls {
		for i, m := range c.Requests {
			got[c.Method+" >"+string(rune('0'+i))] = string(r.Decode(c.Method, true, m.Data).JSON)
		}
		for i, m := range c.Responses {
			got[c.Method+" <"+string(rune('0'+i))] = string(r.Decode(c.Method, false, m.Data).JSON)
		}
	}
	for k, v := range map[string]string{
		"/helloworld.Greeter/SayHello >0": `{"name":"reflection"}`,
		"/helloworld.Greeter/SayHello <0": `{"message":"Hello, reflection!"}`,
		// The reflection call itself, read with the schema it carried.
		ReflectionV1 + " >0": `{"list_services":""}`,
		ReflectionV1 + " >1": `{"file_containing_symbol":"grpc.reflection.v1.ServerReflection"}`,
	} {
		if got[k] != v {
			t.Errorf("%s: got %s, want %s", k, got[k], v)
		}
	}
	if want := `{"original_request":{"list_services":""},"list_services_response":{"service":[{"name":"grpc.reflection.v1.ServerReflection"},{"name":"grpc.reflection.v1alpha.ServerReflection"},{"name":"helloworld.Greeter"},{"name":"muxs.FileController"}]}}`; got[ReflectionV1+" <0"] != want {
		t.Errorf("list_services response: %s", got[ReflectionV1+" <0"])
	}
}

func TestHarvestBadInput(t *testing.T) {
	if _, err := HarvestReflection("/helloworld.Greeter/SayHello", nil); err == nil {
		t.Error("a non-reflection method: no error")
	}
	// A response that does not parse, one whose descriptor does not, and
	// one that is fine but holds no files.
	bad := []byte{0x0a, 0x05, 'x'}
	badFile := []byte{0x22, 0x04, 0x0a, 0x02, 0x08, 0x80} // file_descriptor_response{file_descriptor_proto: <broken>}
	empty := []byte{0x0a, 0x00}
	fds, err := HarvestReflection(ReflectionV1Alpha, [][]byte{bad, badFile, empty})
	if len(fds) != 0 || err == nil || !strings.Contains(err.Error(), "response 0") || !strings.Contains(err.Error(), "response 1, file 0") {
		t.Errorf("got %v, %v", fds, err)
	}
}
