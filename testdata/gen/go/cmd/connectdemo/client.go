package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/grpcsniff/grpcsniff/testdata/gen/go/peer"
)

// clientConfig is how one call's client is set up.
type clientConfig struct {
	protocol    string // connect, grpc or grpcweb
	httpVersion string // 1.1 or h2c
	codec       string // proto or json
	gzip        bool   // compress requests (WithSendGzip)
	get         bool   // unary calls as HTTP GET (WithHTTPGet)
	getMaxURL   int    // with get: longest URL before compressing the message (0 = no limit)
}

func (c clientConfig) sendCompression() string {
	if c.gzip {
		return "gzip"
	}
	return ""
}

// options are the connect-go client options for c; rec records message sizes.
func (c clientConfig) options(rec *recorder) []connect.ClientOption {
	opts := []connect.ClientOption{
		connect.WithCodec(sizeCodec{json: c.codec == "json", rec: rec}),
		connect.WithCompressMinBytes(compressMinBytes),
	}
	switch c.protocol {
	case "grpc":
		opts = append(opts, connect.WithGRPC())
	case "grpcweb":
		opts = append(opts, connect.WithGRPCWeb())
	}
	if c.gzip {
		opts = append(opts, connect.WithSendGzip())
	}
	if c.get {
		opts = append(opts, connect.WithHTTPGet(), connect.WithIdempotency(connect.IdempotencyNoSideEffects))
		if c.getMaxURL > 0 {
			opts = append(opts, connect.WithHTTPGetMaxURLSize(c.getMaxURL, true))
		}
	}
	return opts
}

// callCase is one call of a capture: its name, how its client differs from
// the defaults (Connect protocol, proto codec), and the call itself.
type callCase struct {
	name  string
	setup func(*clientConfig)
	run   func(ctx context.Context, base string, hc *http.Client, opts []connect.ClientOption) error
}

func runClient(addr, httpVersion, calls, truthFile string) error {
	cases, err := caseList(calls, httpVersion)
	if err != nil {
		return err
	}
	out, closeTruth, err := peer.Truth(truthFile)
	if err != nil {
		return err
	}
	defer closeTruth()
	rec := &recorder{}
	hc, err := httpClient(httpVersion, rec)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	for _, c := range cases {
		if err := runCase(c, "http://"+addr, httpVersion, hc, rec, enc); err != nil {
			return err
		}
	}
	return nil
}

func runCase(c callCase, base, httpVersion string, hc *http.Client, rec *recorder, enc *json.Encoder) error {
	cfg := clientConfig{protocol: "connect", httpVersion: httpVersion, codec: "proto"}
	if c.setup != nil {
		c.setup(&cfg)
	}
	rec.reset()
	// No deadline unless the case sets one: a deadline is sent as
	// Connect-Timeout-Ms, which only unary_timeout should carry.
	callErr := c.run(context.Background(), base, hc, cfg.options(rec))
	line := rec.line(c, cfg, callErr)
	log.Printf("%s: %s %s %s -> %s %q", c.name, line.Protocol, line.Method, line.Procedure, line.Code, line.Message)
	// Let the call's last frames reach the wire before the next call starts,
	// so that calls do not overlap in the capture.
	time.Sleep(20 * time.Millisecond)
	return enc.Encode(line)
}

// httpClient is an http.Client speaking only HTTP/1.1 or only h2c.
func httpClient(httpVersion string, rec *recorder) (*http.Client, error) {
	tr := &http.Transport{Protocols: new(http.Protocols)}
	switch httpVersion {
	case "1.1":
		tr.Protocols.SetHTTP1(true)
	case "h2c":
		tr.Protocols.SetUnencryptedHTTP2(true)
	default:
		return nil, fmt.Errorf("unknown -http %q: give 1.1 or h2c", httpVersion)
	}
	return &http.Client{Transport: recordingTransport{next: tr, rec: rec}}, nil
}

func caseList(calls, httpVersion string) ([]callCase, error) {
	switch calls {
	case "full":
		return fullCases(httpVersion), nil
	case "mixed":
		return mixedCases(), nil
	}
	return nil, fmt.Errorf("unknown -calls %q: give full or mixed", calls)
}

// longValue is a metadata value long enough (300 bytes) that an end-stream
// message carrying it is over compressMinBytes and gets compressed.
var longValue = strings.Repeat("trailer-", 37) + "end!"
