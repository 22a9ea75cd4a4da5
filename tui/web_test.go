package tui

import (
	"strings"
	"testing"
)

// gRPC-Web and REST calls say their protocol in the list; a REST call's
// detail shows its method, status and JSON bodies, indented when open.
func TestWebAndRESTScreens(t *testing.T) {
	calls := loadCalls(t, "grpcgateway.pcap")
	m := loaded(t, calls, 160, 48, "grpcgateway.pcap")
	list := plain(m)
	for _, want := range []string{"POST /v1/example/echo", "[http]", "/echo.EchoService/Echo", "404"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
	press(m, "g", "enter")
	detail := plain(m)
	for _, want := range []string{"http1.1 · http", "POST /v1/example/echo → 200", `{"value":"hello gateway","count":3`} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail lacks %q:\n%s", want, detail)
		}
	}
	press(m, "enter")
	if open := plain(m); !strings.Contains(open, `"value": "hello gateway",`) {
		t.Errorf("open JSON body not indented:\n%s", open)
	}

	m = loaded(t, loadCalls(t, "grpcweb_h1.pcap"), 160, 48, "grpcweb_h1.pcap")
	if list := plain(m); !strings.Contains(list, "http,preflight") || !strings.Contains(list, "grpc-web-text") {
		t.Errorf("gRPC-Web list:\n%s", list)
	}
}
