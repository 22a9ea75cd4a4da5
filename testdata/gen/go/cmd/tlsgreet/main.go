// Command tlsgreet is a helloworld.Greeter server and client over TLS, used to
// make the TLS test captures: the client writes the NSS key log
// (tls.Config.KeyLogWriter) that decrypts them.
//
//	tlsgreet -mode=server -addr=127.0.0.1:50120 [-curves=P384] [-cbc]
//	tlsgreet -mode=client -addr=127.0.0.1:50120 -keylog=F [-tls=1.2 -suite=NAME] [-names=a,b]
//
// The server makes a self-signed ECDSA P-256 certificate at start-up, so
// TLS 1.2 suites are the ECDHE_ECDSA ones. TLS 1.3 suites cannot be chosen in
// Go (crypto/tls picks AES-128-GCM or ChaCha20 by hardware); the other 1.3
// suites come from curl --tls13-ciphers against this server. -curves=P384
// makes the server accept only P-384 key shares, which Go's client does not
// send first: the server answers with a HelloRetryRequest. -cbc makes the
// server accept only the TLS 1.2 ECDHE_ECDSA AES-CBC suites (HTTP/2 forbids
// them, RFC 7540 Appendix A, but neither grpc-go nor crypto/tls refuses them
// when they are configured explicitly); the client then names one with
// -suite (Go names, including the "insecure" CBC_SHA256 ones). Go does not
// implement encrypt_then_mac (RFC 7366), so these records are
// MAC-then-encrypt.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"log"
	"math/big"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	hwpb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/helloworld"
)

type greeter struct {
	hwpb.UnimplementedGreeterServer
}

func (greeter) SayHello(ctx context.Context, in *hwpb.HelloRequest) (*hwpb.HelloReply, error) {
	if in.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name must not be empty")
	}
	return &hwpb.HelloReply{Message: "Hello, " + in.GetName() + "!"}, nil
}

func selfSigned() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "greeter.test"},
		DNSNames:     []string{"greeter.test", "localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func server(addr, curves string, cbc bool) {
	cfg := &tls.Config{Certificates: []tls.Certificate{selfSigned()}, MinVersion: tls.VersionTLS12}
	if curves == "P384" {
		cfg.CurvePreferences = []tls.CurveID{tls.CurveP384}
	}
	if cbc {
		cfg.MaxVersion = tls.VersionTLS12
		cfg.CipherSuites = []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		}
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("listen %s: %v", addr, err)
	}
	s := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)))
	hwpb.RegisterGreeterServer(s, greeter{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		s.Stop()
	}()
	log.Printf("TLS greeter listening on %s", lis.Addr())
	if err := s.Serve(lis); err != nil {
		log.Fatal(err)
	}
}

func client(addr, keylog, version, suite, names string) {
	f, err := os.OpenFile(keylog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	cfg := &tls.Config{
		ServerName:         "greeter.test",
		InsecureSkipVerify: true, // the server's certificate is made at run time
		KeyLogWriter:       f,
		MinVersion:         tls.VersionTLS13,
		MaxVersion:         tls.VersionTLS13,
	}
	if version == "1.2" {
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
		for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			if s.Name == suite {
				cfg.CipherSuites = []uint16{s.ID}
			}
		}
		if cfg.CipherSuites == nil {
			log.Fatalf("unknown cipher suite %q", suite)
		}
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	c := hwpb.NewGreeterClient(conn)
	for _, n := range strings.Split(names, ",") {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r, err := c.SayHello(ctx, &hwpb.HelloRequest{Name: n})
		cancel()
		if err != nil {
			log.Fatalf("SayHello(%q): %v", n, err)
		}
		log.Printf("SayHello(%q) -> %q", n, r.GetMessage())
	}
}

func main() {
	mode := flag.String("mode", "server", "server | client")
	addr := flag.String("addr", "127.0.0.1:50120", "server address")
	curves := flag.String("curves", "", "server: P384 to accept only P-384 key shares (forces a HelloRetryRequest)")
	keylog := flag.String("keylog", "", "client: append the NSS key log here")
	version := flag.String("tls", "1.3", "client: 1.2 or 1.3")
	suite := flag.String("suite", "", "client, TLS 1.2: the only cipher suite offered (Go name)")
	names := flag.String("names", "tls,world", "client: SayHello names, one call each")
	cbc := flag.Bool("cbc", false, "server: TLS 1.2 with only the ECDHE_ECDSA AES-CBC suites")
	flag.Parse()
	if *mode == "server" {
		server(*addr, *curves, *cbc)
		return
	}
	if *keylog == "" {
		log.Fatal("-keylog is required")
	}
	client(*addr, *keylog, *version, *suite, *names)
}
