package tlsdecrypt_test

import (
	"fmt"
	"io"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
)

// The TLS layer goes between TCP reassembly and HTTP/2: wrap the h2decode
// factory. Connections that are not TLS pass through untouched. This is
// the chain laid bare, in one goroutine; package sniff runs it whole (in
// several goroutines, in order, with the notes on undecrypted connections:
// sniff.Options.Keys).
func ExampleNewFactory() {
	const dir = "../testdata/pcaps/tls/"
	keys, err := tlsdecrypt.LoadKeyLog(dir + "tls12.keys")
	if err != nil {
		panic(err)
	}
	calls := grpcframe.NewAssembler(grpcframe.SinkFunc(func(c *grpcframe.Call) {
		fmt.Println(c.ConnID, c.Method, c.Status.Name, string(c.Responses[0].Data[2:]))
	}), grpcframe.Options{})
	conns := tlsdecrypt.NewFactory(h2decode.NewFactory(calls, h2decode.Options{}), keys, tlsdecrypt.Options{
		Report: func(ci *capture.ConnInfo, t *capture.TLSInfo) { fmt.Println(ci.ID, t) },
	})
	tcp := capture.NewAssembler(conns, capture.Options{})
	src, err := capture.OpenFile(dir + "tls12.pcap")
	if err != nil {
		panic(err)
	}
	defer src.Close()
	var last time.Time
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		last = p.Time
		tcp.AddPacket(p)
	}
	tcp.Close(last)
	calls.Close()
	// Unordered output:
	// 1 /helloworld.Greeter/SayHello OK Hello, tls12!
	// 1 /helloworld.Greeter/SayHello OK Hello, go!
	// 1 TLS 1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 sni=greeter.test alpn=h2 decrypted
	// 2 /helloworld.Greeter/SayHello OK Hello, tls12!
	// 2 /helloworld.Greeter/SayHello OK Hello, go!
	// 2 TLS 1.2 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 sni=greeter.test alpn=h2 decrypted
	// 3 /helloworld.Greeter/SayHello OK Hello, tls12!
	// 3 /helloworld.Greeter/SayHello OK Hello, go!
	// 3 TLS 1.2 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 sni=greeter.test alpn=h2 decrypted
}
