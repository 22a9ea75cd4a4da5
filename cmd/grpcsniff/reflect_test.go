package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/gopacket/gopacket/pcapgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/reflection"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// services tells the reflection server which services to list.
type services map[string]grpc.ServiceInfo

func (s services) GetServiceInfo() map[string]grpc.ServiceInfo { return s }

// A live grpc-go reflection server (started here, on a free port) describes
// helloworld.Greeter; with --reflect-addr the Python capture's calls decode
// with what it sent, and no schema on the command line.
func TestReflectAddr(t *testing.T) {
	addr := startReflectionServer(t)
	out, stderr, code := runCmd(t, nil, "-r", "../../testdata/pcaps/py_helloworld.pcap", "-q", "--json",
		"--reflect-addr", addr.String(), "--reflect-plaintext")
	if code != exitOK || !strings.Contains(out, `"type":"helloworld.HelloRequest","json":{"name":"you"}`) {
		t.Fatalf("exit %d, %s; SayHello not decoded through reflection:\n%.600s", code, stderr, out)
	}
}

// A server that answers without server reflection is named, with the
// flags that give schemas instead; the capture is decoded all the same.
func TestReflectAddrWithoutReflection(t *testing.T) {
	srv := grpc.NewServer()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	defer srv.Stop()
	out, stderr, code := runCmd(t, nil, "-r", "../../testdata/pcaps/py_helloworld.pcap", "-q", "--json",
		"--reflect-addr", lis.Addr().String(), "--reflect-plaintext")
	want := "does not offer server reflection (grpc.reflection.v1 or v1alpha); give the schemas with --proto or --protoset"
	if code != exitOK || strings.Count(out, "\n") != 8 || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, %d calls, stderr:\n%s", code, strings.Count(out, "\n"), stderr)
	}
}

// --reflect asks each server seen in the capture for its schemas, over TLS
// when the capture shows TLS to it. The TLS 1.3 capture's server port is
// rewritten to that of a live grpc-go server, on TLS with a self-signed
// certificate, that describes helloworld.Greeter by reflection: the
// captured SayHello calls decode with its schemas.
func TestReflectOverTLS(t *testing.T) {
	cert := selfSignedCert(t)
	addr := startReflectionServer(t, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	dir := "../../testdata/pcaps/tls/"
	port := uint16(addr.Port)
	moved := filepath.Join(t.TempDir(), "tls13.pcap")
	movePort(t, dir+"tls13.pcap", moved, 50120, port)
	out, stderr, code := runCmd(t, nil, "-r", moved, "--keylog", dir+"tls13.keys", "-q", "--json", "--reflect", "--reflect-insecure")
	if code != exitOK || strings.Count(out, `"type":"helloworld.HelloRequest"`) != 5 || !strings.Contains(out, `"json":{"name":"aes128"}`) {
		t.Fatalf("exit %d, %s; the SayHello calls are not decoded through reflection over TLS:\n%.800s", code, stderr, out)
	}
}

// startReflectionServer starts a grpc-go server on a free loopback port
// that describes helloworld.Greeter by server reflection (v1), stopped when
// the test ends.
func startReflectionServer(t *testing.T, opts ...grpc.ServerOption) *net.TCPAddr {
	srv := grpc.NewServer(opts...)
	reflectionpb.RegisterServerReflectionServer(srv, reflection.NewServerV1(reflection.ServerOptions{
		Services:           services{"helloworld.Greeter": {Metadata: "helloworld.proto"}},
		DescriptorResolver: compileHelloworld(t),
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().(*net.TCPAddr)
}

// compileHelloworld compiles helloworld.proto for a reflection server.
func compileHelloworld(t *testing.T) *protoregistry.Files {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{protoDir}})}
	compiled, err := c.Compile(context.Background(), "helloworld.proto")
	if err != nil {
		t.Fatal(err)
	}
	files := new(protoregistry.Files)
	for _, f := range compiled {
		if err := files.RegisterFile(f); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// selfSignedCert is an ECDSA P-256 certificate for 127.0.0.1, as the
// captures' own TLS server makes at start-up.
func selfSignedCert(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "greeter.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"greeter.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// movePort copies an Ethernet/IPv4 capture, replacing the TCP port from by
// to (the checksums, which the decoding does not read, are left as they
// were).
func movePort(t *testing.T, in, out string, from, to uint16) {
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	if err := w.WriteFileHeader(65536, r.LinkType()); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if len(data) > 14+20+4 && data[12] == 0x08 && data[13] == 0x00 && data[14+9] == 6 {
			tcp := data[14+int(data[14]&0x0f)*4:]
			for _, at := range []int{0, 2} {
				if binary.BigEndian.Uint16(tcp[at:]) == from {
					binary.BigEndian.PutUint16(tcp[at:], to)
					moved++
				}
			}
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if moved == 0 {
		t.Fatalf("no packet of port %d in %s", from, in)
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
