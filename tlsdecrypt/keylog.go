package tlsdecrypt

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// Key log labels (NSS key log format). EXPORTER_SECRET, the early (0-RTT)
// secrets and the traffic secrets after a KeyUpdate (_1, _2, … or OpenSSL's
// _N) are accepted and ignored: nothing here needs them.
const (
	LabelClientRandom       = "CLIENT_RANDOM"                   // TLS 1.2: the 48-byte master secret
	LabelClientHandshake    = "CLIENT_HANDSHAKE_TRAFFIC_SECRET" // TLS 1.3
	LabelServerHandshake    = "SERVER_HANDSHAKE_TRAFFIC_SECRET" // TLS 1.3
	LabelClientTraffic0     = "CLIENT_TRAFFIC_SECRET_0"         // TLS 1.3
	LabelServerTraffic0     = "SERVER_TRAFFIC_SECRET_0"         // TLS 1.3
	labelExporter           = "EXPORTER_SECRET"
	labelClientEarlyTraffic = "CLIENT_EARLY_TRAFFIC_SECRET"
	labelEarlyExporter      = "EARLY_EXPORTER_SECRET"
)

// Secrets are the key log entries for one client random.
type Secrets struct {
	MasterSecret    []byte // TLS 1.2 (CLIENT_RANDOM)
	ClientHandshake []byte // TLS 1.3 client handshake traffic secret
	ServerHandshake []byte // TLS 1.3 server handshake traffic secret
	ClientTraffic0  []byte // TLS 1.3 first client application traffic secret
	ServerTraffic0  []byte // TLS 1.3 first server application traffic secret
}

// KeyLog holds secrets from an NSS key log (SSLKEYLOGFILE), indexed by client
// random. The zero value is an empty key log ready for Add. A KeyLog must not
// be changed while connections that use it are being decoded.
type KeyLog struct {
	m        map[[32]byte]*Secrets
	warnings []string
}

// ParseKeyLog reads an NSS key log. Lines it cannot use (unknown labels, bad
// hex, wrong lengths) do not stop it: they are listed, with their line
// numbers, by Warnings. The error is only for failing to read r.
func ParseKeyLog(r io.Reader) (*KeyLog, error) {
	k := &KeyLog{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			k.warnings = append(k.warnings, fmt.Sprintf("line %d: want LABEL CLIENT_RANDOM SECRET, got %d fields", n, len(f)))
			continue
		}
		cr, err1 := hex.DecodeString(f[1])
		secret, err2 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil {
			k.warnings = append(k.warnings, fmt.Sprintf("line %d: %s: not hex", n, f[0]))
			continue
		}
		if err := k.Add(f[0], cr, secret); err != nil {
			k.warnings = append(k.warnings, fmt.Sprintf("line %d: %v", n, err))
		}
	}
	if err := sc.Err(); err != nil {
		return k, fmt.Errorf("reading key log: %w", err)
	}
	return k, nil
}

// LoadKeyLog reads the NSS key log in the file at path; see ParseKeyLog.
func LoadKeyLog(path string) (*KeyLog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	k, err := ParseKeyLog(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// Add records one key log entry: label as in the key log file (e.g.
// "CLIENT_RANDOM"), the 32-byte client random and the secret. It is how keys
// from another source (a pcapng Decryption Secrets Block) are merged in. A
// later entry for the same label and client random replaces the earlier one.
// Labels that carry nothing this package uses are accepted and ignored.
func (k *KeyLog) Add(label string, clientRandom, secret []byte) error {
	if len(clientRandom) != 32 {
		return fmt.Errorf("%s: client random is %d bytes, want 32", label, len(clientRandom))
	}
	if laterTrafficSecret(label) {
		return nil // derived from _0 by following the KeyUpdates
	}
	switch label {
	case labelExporter, labelClientEarlyTraffic, labelEarlyExporter:
		return nil
	case LabelClientRandom:
		if len(secret) != 48 {
			return fmt.Errorf("%s: master secret is %d bytes, want 48", label, len(secret))
		}
	case LabelClientHandshake, LabelServerHandshake, LabelClientTraffic0, LabelServerTraffic0:
		if len(secret) != 32 && len(secret) != 48 {
			return fmt.Errorf("%s: secret is %d bytes, want 32 or 48", label, len(secret))
		}
	default:
		return fmt.Errorf("unknown label %q", label)
	}
	s := k.entry(clientRandom)
	v := append([]byte(nil), secret...)
	switch label {
	case LabelClientRandom:
		s.MasterSecret = v
	case LabelClientHandshake:
		s.ClientHandshake = v
	case LabelServerHandshake:
		s.ServerHandshake = v
	case LabelClientTraffic0:
		s.ClientTraffic0 = v
	case LabelServerTraffic0:
		s.ServerTraffic0 = v
	}
	return nil
}

// laterTrafficSecret reports whether label names an application traffic
// secret after a KeyUpdate: CLIENT_TRAFFIC_SECRET_1, _2, … or, as OpenSSL 3.0
// writes it, literally CLIENT_TRAFFIC_SECRET_N.
func laterTrafficSecret(label string) bool {
	n, ok := strings.CutPrefix(label, "CLIENT_TRAFFIC_SECRET_")
	if !ok {
		n, ok = strings.CutPrefix(label, "SERVER_TRAFFIC_SECRET_")
	}
	if !ok || n == "0" || n == "" {
		return false
	}
	return n == "N" || strings.Trim(n, "0123456789") == ""
}

func (k *KeyLog) entry(cr []byte) *Secrets {
	if k.m == nil {
		k.m = make(map[[32]byte]*Secrets)
	}
	key := [32]byte(cr)
	s := k.m[key]
	if s == nil {
		s = &Secrets{}
		k.m[key] = s
	}
	return s
}

// Lookup returns the secrets logged for a client random, or nil.
func (k *KeyLog) Lookup(clientRandom []byte) *Secrets {
	if k == nil || len(clientRandom) != 32 {
		return nil
	}
	return k.m[[32]byte(clientRandom)]
}

// Len is the number of client randoms with at least one entry.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	return len(k.m)
}

// Warnings lists the lines ParseKeyLog could not use, as "line N: why".
func (k *KeyLog) Warnings() []string {
	if k == nil {
		return nil
	}
	return k.warnings
}
