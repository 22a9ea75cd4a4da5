// Package sniff decodes the gRPC calls in a packet capture: the whole chain
// of grpcsniff as a library, from packets to calls.
//
// A source of packets (capture.OpenFile, capture.OpenReader, or a live
// interface from capture/live) goes through TCP reassembly (capture), TLS
// decryption when keys are given (tlsdecrypt), HTTP/2 and HTTP/1.1
// (h2decode) and call assembly (grpcframe); what comes out is a Call per
// gRPC, gRPC-Web, Connect, Twirp or HTTP request, with its headers, messages both ways,
// trailers, status and timings. Messages stay bytes: pbdecode and export
// render them, with or without a schema.
//
// The simplest use is a range loop over Calls:
//
//	src, err := capture.OpenFile("calls.pcapng")
//	…
//	for call, err := range sniff.Calls(ctx, src, sniff.Options{}) {
//		if err != nil {
//			return err // the capture is damaged; the calls before were good
//		}
//		fmt.Println(call.Method, call.State, call.Status) // Status: nil when none was seen
//	}
//
// A Decoder does the same to a Sink and returns a Summary (packets,
// connections, bytes lost, limits hit, TLS connections it could not
// decrypt). Sinks may have optional methods: Flush (a live capture's output
// appears at once), Drain (an encoder that runs in other goroutines, told
// before the schemas change) and Part (a summary counted in the decoding
// goroutines, in any order).
//
// # Order and determinism
//
// Connections are decoded in Options.Workers goroutines; the calls of a
// capture file reach the sink in order of their start (then connection,
// then stream), from one goroutine, the same for any number of workers,
// byte for byte. A live capture (Options.Live) hands each call on as it
// ends.
//
// # Memory
//
// Every resource the decoding of an input can make grow is bounded by a
// limit in the layer options that Options holds (TCP, TLS, HTTP, Calls); a
// limit hit is counted in the Summary and noted on the call or connection.
// What rendering a message may cost is bounded where it is rendered
// (pbdecode.Options, export.Options). The sink owns
// the calls it is given; handing each back with Release when done makes
// later calls reuse its memory, which is much faster on large captures.
//
// # Schemas
//
// With Options.Schemas, schemas are learnt from the capture itself: the
// descriptors of captured server reflection calls, and, for calls whose
// :path HPACK could not recover (a capture started mid-connection), the
// methods whose types read their messages (an inference, in
// Call.MethodInferred, never a fact). Options.ReflectServers also asks the
// servers seen for their schemas, over the network.
package sniff
