package h2decode

import "strconv"

// Transport says how a connection carried HTTP: the Kind h2decode found
// and whether a TLS layer sat below (capture.ConnInfo.TLS). A call's
// transport is its connection's when the call ended.
//
// The values up to TransportNotHTTP2 are those of Kind, in the same order,
// for a connection in cleartext (Kind's String is theirs).
type Transport uint8

const (
	// TransportUnknown: nothing decided yet.
	TransportUnknown Transport = iota
	// TransportH2C: HTTP/2 in cleartext from the connection's start
	// (prior knowledge).
	TransportH2C
	// TransportH2CUpgrade: HTTP/1.1 upgraded to HTTP/2 in cleartext.
	TransportH2CUpgrade
	// TransportH2CMidstream: HTTP/2 in cleartext, joined in the middle.
	TransportH2CMidstream
	// TransportHTTP1: HTTP/1.x that was not upgraded, in cleartext or
	// inside TLS.
	TransportHTTP1
	// TransportTLS: TLS records that no layer below decrypted. A call has
	// it only when its connection was found to be TLS after the call's
	// frames (TransportNotHTTP2 the same).
	TransportTLS
	// TransportNotHTTP2: no HTTP/2 frame boundary was found (in one
	// direction at least).
	TransportNotHTTP2
	// TransportH2: HTTP/2 inside TLS, however it was found.
	TransportH2
)

// transportNames are the NDJSON spellings of the transports.
var transportNames = [...]string{
	TransportUnknown:      "unknown",
	TransportH2C:          "h2c",
	TransportH2CUpgrade:   "h2c-upgrade",
	TransportH2CMidstream: "h2c-midstream",
	TransportHTTP1:        "http1.1",
	TransportTLS:          "tls",
	TransportNotHTTP2:     "not-http2",
	TransportH2:           "h2",
}

// String is the transport as the NDJSON output spells it: "h2c",
// "h2c-upgrade", "h2c-midstream", "h2", "http1.1" (for HTTP/1.0 too),
// "tls", "not-http2" or "unknown"; a value that names no transport is
// "transport(N)".
func (t Transport) String() string {
	if int(t) < len(transportNames) {
		return transportNames[t]
	}
	return "transport(" + strconv.Itoa(int(t)) + ")"
}

// Transport is how the connection carries HTTP, as far as it has shown.
func (c *Conn) Transport() Transport {
	if c.Info.TLS != nil {
		// What reached this layer was TLS plaintext.
		if c.Kind == KindHTTP1 {
			return TransportHTTP1
		}
		return TransportH2
	}
	return Transport(c.Kind)
}

// ConnKind is what a connection was found to carry, as a summary counts
// connections: its Transport, and whether a TLS layer sat below.
type ConnKind struct {
	Transport Transport
	// OverTLS: a TLS layer sat below. With TransportUnknown, no plaintext
	// reached HTTP decoding: the TLS was not decrypted.
	OverTLS bool
}

// String is the Transport's String, followed by " over TLS" when OverTLS
// ("h2 over TLS", "http1.1 over TLS"), or "TLS not decrypted".
func (k ConnKind) String() string {
	switch {
	case !k.OverTLS:
		return k.Transport.String()
	case k.Transport == TransportUnknown:
		return "TLS not decrypted"
	}
	return k.Transport.String() + " over TLS"
}

// ConnKind is what the connection carried, as far as it has shown.
func (c *Conn) ConnKind() ConnKind {
	if c.Info.TLS != nil && c.Kind == KindUnknown {
		return ConnKind{TransportUnknown, true}
	}
	return ConnKind{c.Transport(), c.Info.TLS != nil}
}
