package capture

import "strings"

// TLSInfo is what a TLS layer learnt of a connection (the tlsdecrypt
// package fills it in): capture neither reads nor writes it, but keeps it
// with the connection (ConnInfo.TLS) for every layer above to read. It is
// updated in place as the handshake is parsed, so a reader sees the latest
// state once the connection has ended (and a partial one before); a call
// keeps a Snapshot taken when it ended. Its JSON form is the "tls" object
// of the NDJSON output.
type TLSInfo struct {
	// Version is "TLS 1.2" or "TLS 1.3" once the ServerHello was seen
	// (for TLS 1.3 taken from its supported_versions extension), or "" when
	// the ServerHello was not captured.
	Version string `json:"version,omitempty"`
	// CipherSuite is the IANA name of the suite the server chose, e.g.
	// "TLS_AES_128_GCM_SHA256", or "" before the ServerHello.
	CipherSuite string `json:"cipher_suite,omitempty"`
	// SNI is the server name the client asked for (ClientHello server_name).
	SNI string `json:"sni,omitempty"`
	// ALPNOffered lists the protocols the client offered, in its order.
	ALPNOffered []string `json:"alpn_offered,omitempty"`
	// ALPN is the protocol the server chose ("h2", "http/1.1"), "" when none
	// was chosen or it could not be seen (in TLS 1.3 it is inside the
	// encrypted handshake and needs the handshake secrets).
	ALPN string `json:"alpn,omitempty"`
	// ClientRandom is the ClientHello random in hex: the key under which the
	// connection's secrets are looked up in the key log.
	ClientRandom string `json:"client_random,omitempty"`
	// HelloRetry is true when the server answered with a HelloRetryRequest.
	HelloRetry bool `json:"hello_retry,omitempty"`
	// EncryptThenMAC is true when a TLS 1.2 CBC suite was negotiated with
	// the encrypt_then_mac extension (RFC 7366): the record MAC covers the
	// ciphertext instead of the plaintext.
	EncryptThenMAC bool `json:"encrypt_then_mac,omitempty"`
	// Decrypted is true when application data was decrypted in at least one
	// direction.
	Decrypted bool `json:"decrypted"`
	// Problem says, in words, what stopped or limited decryption (a missing
	// key, a key that does not fit, an unsupported suite, bytes lost); ""
	// when there was none. Several problems are joined with "; " (no single
	// problem contains that separator).
	Problem string `json:"problem,omitempty"`
}

// Snapshot returns a copy of the TLSInfo as it stands, for a call that ends
// while the connection goes on (grpcframe keeps one per call).
func (i *TLSInfo) Snapshot() *TLSInfo {
	c := *i
	return &c
}

// String is a one-line summary for text output and notes, e.g.
// "TLS 1.3 TLS_AES_128_GCM_SHA256 sni=greeter.test alpn=h2 decrypted".
func (i *TLSInfo) String() string {
	var b strings.Builder
	b.WriteString("TLS")
	if i.Version != "" {
		b.WriteString(strings.TrimPrefix(i.Version, "TLS"))
	}
	for _, f := range [][2]string{{"", i.CipherSuite}, {"sni=", i.SNI}, {"alpn=", i.ALPN}} {
		if f[1] != "" {
			b.WriteString(" " + f[0] + f[1])
		}
	}
	if i.HelloRetry {
		b.WriteString(" hello-retry")
	}
	if i.EncryptThenMAC {
		b.WriteString(" encrypt-then-mac")
	}
	if i.Decrypted {
		b.WriteString(" decrypted")
	} else {
		b.WriteString(" not decrypted")
	}
	if i.Problem != "" {
		b.WriteString(": " + i.Problem)
	}
	return b.String()
}
