package tlsdecrypt

import (
	"crypto/hkdf"
	"crypto/hmac"
	"hash"
)

// hkdfExpandLabel is HKDF-Expand-Label from RFC 8446 §7.1: the TLS 1.3 key
// schedule's only primitive that is needed once the traffic secrets are
// known from the key log.
func hkdfExpandLabel(h func() hash.Hash, secret []byte, label string, context []byte, length int) []byte {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full)+len(context))
	info = append(info, byte(length>>8), byte(length), byte(len(full)))
	info = append(info, full...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out, err := hkdf.Expand(h, secret, string(info), length)
	if err != nil {
		// Only possible for lengths beyond 255 hash blocks, which no
		// caller asks for.
		panic(err)
	}
	return out
}

// trafficKeys derives the record key and IV from a TLS 1.3 traffic secret
// (RFC 8446 §7.3).
func trafficKeys(s *suite, secret []byte) (key, iv []byte) {
	return hkdfExpandLabel(s.hash, secret, "key", nil, s.keyLen),
		hkdfExpandLabel(s.hash, secret, "iv", nil, 12)
}

// nextTrafficSecret is the application traffic secret after a KeyUpdate
// (RFC 8446 §7.2).
func nextTrafficSecret(s *suite, secret []byte) []byte {
	return hkdfExpandLabel(s.hash, secret, "traffic upd", nil, s.hash().Size())
}

// prf12 is the TLS 1.2 PRF (RFC 5246 §5): P_hash with the suite's hash.
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, length int) []byte {
	ls := append([]byte(label), seed...)
	out := make([]byte, 0, length+64)
	mac := hmac.New(h, secret)
	mac.Write(ls)
	a := mac.Sum(nil) // A(1)
	for len(out) < length {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
	}
	return out[:length]
}

// keyBlock12 derives the TLS 1.2 MAC keys, write keys and IVs from the
// master secret (RFC 5246 §6.3), in key block order. AEAD suites have no MAC
// keys; CBC suites have no IVs in TLS 1.2.
func keyBlock12(s *suite, master, clientRandom, serverRandom []byte) (cmac, smac, ckey, skey, civ, siv []byte) {
	seed := append(append([]byte(nil), serverRandom...), clientRandom...)
	n, m := s.ivLen(), s.macLen
	kb := prf12(s.hash, master, "key expansion", seed, 2*m+2*s.keyLen+2*n)
	cmac, kb = kb[:m], kb[m:]
	smac, kb = kb[:m], kb[m:]
	ckey, kb = kb[:s.keyLen], kb[s.keyLen:]
	skey, kb = kb[:s.keyLen], kb[s.keyLen:]
	civ, siv = kb[:n], kb[n:2*n]
	return
}
