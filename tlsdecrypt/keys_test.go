package tlsdecrypt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 8448 §3 (simple 1-RTT handshake, TLS_AES_128_GCM_SHA256): the write
// keys and IVs derived from the four traffic secrets printed there.
func TestKeyScheduleRFC8448(t *testing.T) {
	s := suites[0x1301]
	for _, v := range []struct{ name, secret, key, iv string }{
		{"server handshake", "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38",
			"3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc", "5d 31 3e b2 67 12 76 ee 13 00 0b 30"},
		{"client handshake", "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21",
			"db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01", "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f"},
		{"server application", "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43",
			"9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56", "cf 78 2b 88 dd 83 54 9a ad f1 e9 84"},
		{"client application", "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5",
			"17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51", "5b 78 92 3d ee 08 57 90 33 e5 23 d9"},
	} {
		key, iv := trafficKeys(s, unhex(t, v.secret))
		if !bytes.Equal(key, unhex(t, v.key)) || !bytes.Equal(iv, unhex(t, v.iv)) {
			t.Errorf("%s: key %x iv %x, want %s / %s", v.name, key, iv, v.key, v.iv)
		}
	}
	// The HkdfLabel encoding itself, as printed in RFC 8448 ("key info").
	secret := unhex(t, "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38")
	if got := hkdfExpandLabel(sha256.New, secret, "key", nil, 16); !bytes.Equal(got, unhex(t, "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")) {
		t.Errorf("HKDF-Expand-Label: %x", got)
	}
}

// The TLS 1.2 P_SHA256 test vector from the IETF TLS working group list
// (msg03416), as used by many TLS stacks.
func TestPRF12(t *testing.T) {
	want := unhex(t, "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"+
		"6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"+
		"4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"+
		"87347b66")
	got := prf12(sha256.New, unhex(t, "9bbe436ba940f017b17652849a71db35"), "test label", unhex(t, "a0ba9f936cda311827a6f796ffd5198c"), len(want))
	if !bytes.Equal(got, want) {
		t.Errorf("prf12:\n got %x\nwant %x", got, want)
	}
}

func TestParseKeyLog(t *testing.T) {
	cr := strings.Repeat("ab", 32)
	in := "# comment\n\n" +
		"CLIENT_RANDOM " + cr + " " + strings.Repeat("01", 48) + "\n" +
		"CLIENT_TRAFFIC_SECRET_0 " + cr + " " + strings.Repeat("02", 32) + "\n" +
		"EXPORTER_SECRET " + cr + " " + strings.Repeat("03", 32) + "\n" +
		"CLIENT_TRAFFIC_SECRET_N " + cr + " " + strings.Repeat("03", 32) + "\n" +
		"CLIENT_RANDOM zz " + strings.Repeat("01", 48) + "\n" +
		"CLIENT_RANDOM " + cr + " 0102\n" +
		"BOGUS_LABEL " + cr + " " + strings.Repeat("02", 32) + "\n" +
		"too few\n"
	k, err := ParseKeyLog(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	s := k.Lookup(unhex(t, cr))
	if k.Len() != 1 || s == nil || len(s.MasterSecret) != 48 || len(s.ClientTraffic0) != 32 || s.ServerTraffic0 != nil {
		t.Fatalf("entries: %d %+v", k.Len(), s)
	}
	w := k.Warnings()
	if len(w) != 4 || !strings.HasPrefix(w[0], "line 7:") || !strings.HasPrefix(w[1], "line 8:") ||
		!strings.HasPrefix(w[2], "line 9:") || !strings.HasPrefix(w[3], "line 10:") {
		t.Errorf("warnings: %q", w)
	}
}
