// Command webclient makes gRPC-Web calls (binary and text) to go/cmd/grpcweb
// over h2c with prior knowledge, all on ONE HTTP/2 connection (the Go
// x/net/http2 Transport with AllowHTTP), which curl 7.88.1 cannot do (it
// fails to reuse prior-knowledge connections). Used in grpcweb_h2c.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"strings"

	"golang.org/x/net/http2"
	"google.golang.org/protobuf/proto"

	hwpb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/helloworld"
)

func frame(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		log.Fatal(err)
	}
	out := make([]byte, 5, 5+len(b))
	binary.BigEndian.PutUint32(out[1:], uint32(len(b)))
	return append(out, b...)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50151", "server address")
	flag.Parse()
	tr := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	c := &http.Client{Transport: tr}
	call := func(method, name string, text bool) {
		body := frame(&hwpb.HelloRequest{Name: name})
		ct := "application/grpc-web+proto"
		if text {
			ct = "application/grpc-web-text"
			body = []byte(base64.StdEncoding.EncodeToString(body))
		}
		req, err := http.NewRequest("POST", "http://"+*addr+"/helloworld.Greeter/"+method, bytes.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("content-type", ct)
		req.Header.Set("accept", ct)
		req.Header.Set("x-grpc-web", "1")
		req.Header.Set("x-user-agent", "grpc-web-javascript/0.1")
		resp, err := c.Do(req)
		if err != nil {
			log.Fatalf("%s(%q): %v", method, name, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			log.Fatalf("%s(%q): %v", method, name, err)
		}
		log.Printf("%s(%q) %s: %s, %d body bytes, grpc-status in headers %q, body ends %q", method, name, ct,
			resp.Status, len(b), resp.Header.Get("Grpc-Status"), strings.TrimSpace(string(b[max(0, len(b)-20):])))
	}
	call("SayHello", "go h2", false)
	call("SayHello", "go h2 text", true)
	call("SayHelloStream", "go h2 stream", false)
	call("SayHelloStream", "go h2 text stream", true)
	call("SayHello", "", false)
	call("SayHello", "go h2 again", false)
}
