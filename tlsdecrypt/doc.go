// Package tlsdecrypt turns the TLS records of a captured connection back into
// the plaintext byte streams its peers exchanged, using the secrets of an NSS
// key log (the SSLKEYLOGFILE format written by browsers, curl, OpenSSL, Go's
// tls.Config.KeyLogWriter and Node's "keylog" event).
//
// It sits between capture and the HTTP/2 decoder: NewFactory wraps the next
// capture.HandlerFactory, looks at the first bytes of each connection, and
// either passes the connection through untouched (not TLS) or parses its TLS
// records and hands the decrypted application data to the next handler, so
// that the HTTP/2 layer sees the same bytes it would see on a cleartext (h2c)
// connection.
//
// Supported: TLS 1.3 with TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and
// TLS_CHACHA20_POLY1305_SHA256 (handshake traffic keys to read
// EncryptedExtensions, application traffic keys, KeyUpdate, HelloRetryRequest,
// middlebox-compatibility ChangeCipherSpec); TLS 1.2 AEAD suites (AES-GCM and
// ChaCha20-Poly1305) and AES-CBC suites with HMAC-SHA1, -SHA256 or -SHA384
// (MAC-then-encrypt, or encrypt_then_mac, RFC 7366, when the ServerHello
// accepted it as OpenSSL peers do), all with ECDHE, DHE or RSA key exchange:
// the key log's master secret makes the key exchange irrelevant. A record
// whose MAC or AEAD tag does not check is reported as a wrong key. Not
// supported: other suites (3DES, RC4, CAMELLIA, ARIA, …), TLS 1.3 0-RTT
// early data, SSL 3.0 and TLS 1.0/1.1.
//
// The keys come from a key log file (LoadKeyLog), from the Decryption
// Secrets Blocks of a pcapng capture (KeysFromPcapng, or as they stream by
// with capture.FileSource.OnSecrets and KeyLog.Merge), or, in a live
// capture, from a key log file still being written (FollowKeyLog): with
// Options.WaitForKeys a connection whose keys are not known yet when its
// ServerHello is read holds its records (up to Options.MaxPendingBytes)
// until they are. KeyLog.Since gives the keys learnt so far back as key log
// text, to be written into a pcapng capture.
//
// What was learnt about each TLS connection (version, cipher suite, SNI, ALPN,
// whether it could be decrypted and why not) is kept in the connection's
// capture.TLSInfo (capture.ConnInfo.TLS), so that later layers and the
// output can show it even when nothing could be decrypted.
package tlsdecrypt
