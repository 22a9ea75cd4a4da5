package capture

import "testing"

func TestTLSInfoString(t *testing.T) {
	i := &TLSInfo{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", SNI: "greeter.test", ALPN: "h2", Decrypted: true}
	if got, want := i.String(), "TLS 1.3 TLS_AES_128_GCM_SHA256 sni=greeter.test alpn=h2 decrypted"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	i = &TLSInfo{Problem: "no key for client random 3f3f…"}
	if got, want := i.String(), "TLS not decrypted: no key for client random 3f3f…"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
