package tlsdecrypt

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Key log labels (NSS key log format). EXPORTER_SECRET, the early (0-RTT)
// secrets and the traffic secrets after a KeyUpdate (_1, _2, … or OpenSSL's
// _N) are accepted and ignored: nothing here needs them. So are the RSA lines
// (first 8 bytes of the encrypted premaster secret, premaster secret) OpenSSL
// writes for RSA key exchange, next to the CLIENT_RANDOM line that is used.
const (
	LabelClientRandom       = "CLIENT_RANDOM"                   // TLS 1.2: the 48-byte master secret
	LabelClientHandshake    = "CLIENT_HANDSHAKE_TRAFFIC_SECRET" // TLS 1.3
	LabelServerHandshake    = "SERVER_HANDSHAKE_TRAFFIC_SECRET" // TLS 1.3
	LabelClientTraffic0     = "CLIENT_TRAFFIC_SECRET_0"         // TLS 1.3
	LabelServerTraffic0     = "SERVER_TRAFFIC_SECRET_0"         // TLS 1.3
	labelExporter           = "EXPORTER_SECRET"
	labelClientEarlyTraffic = "CLIENT_EARLY_TRAFFIC_SECRET"
	labelEarlyExporter      = "EARLY_EXPORTER_SECRET"
	labelRSA                = "RSA"
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
// random. The zero value is an empty key log ready for Add. A KeyLog may be
// added to by one goroutine (FollowKeyLog, say) while connections that use it
// are decoded in another: each Add bumps a generation counter (Gen), which a
// connection waiting for its key compares cheaply.
type KeyLog struct {
	mu       sync.RWMutex
	m        map[[32]byte]*Secrets // values are never changed once stored (copy on write)
	log      []logEntry            // every entry accepted, in order: Since reads it
	warnings []string
	gen      atomic.Uint64 // len(log), readable without the lock
	growing  atomic.Bool
}

// logEntry is one accepted key log line.
type logEntry struct {
	label  string
	cr     [32]byte
	secret []byte
}

// ParseKeyLog reads an NSS key log. Lines it cannot use (unknown labels, bad
// hex, wrong lengths) do not stop it: they are listed, with their line
// numbers, by Warnings. The error is only for failing to read r.
func ParseKeyLog(r io.Reader) (*KeyLog, error) {
	k := &KeyLog{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if err := k.addLine(sc.Text()); err != nil {
			k.warn(fmt.Sprintf("line %d: %v", n, err))
		}
	}
	if err := sc.Err(); err != nil {
		return k, fmt.Errorf("reading key log: %w", err)
	}
	return k, nil
}

// addLine adds one line of a key log; blank lines and comments are skipped.
func (k *KeyLog) addLine(line string) error {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil
	}
	f := strings.Fields(line)
	if len(f) != 3 {
		return fmt.Errorf("want LABEL CLIENT_RANDOM SECRET, got %d fields", len(f))
	}
	if f[0] == labelRSA {
		return nil
	}
	cr, err1 := hex.DecodeString(f[1])
	secret, err2 := hex.DecodeString(f[2])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%s: not hex", f[0])
	}
	return k.Add(f[0], cr, secret)
}

func (k *KeyLog) warn(w string) {
	k.mu.Lock()
	k.warnings = append(k.warnings, w)
	k.mu.Unlock()
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
	k.mu.Lock()
	defer k.mu.Unlock()
	k.add(label, [32]byte(clientRandom), append([]byte(nil), secret...))
	return nil
}

// add stores a checked entry; k.mu is held. The stored Secrets are replaced,
// not changed, so that a *Secrets from Lookup stays as it was.
func (k *KeyLog) add(label string, cr [32]byte, v []byte) {
	if k.m == nil {
		k.m = make(map[[32]byte]*Secrets)
	}
	s := &Secrets{}
	if old := k.m[cr]; old != nil {
		*s = *old
	}
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
	k.m[cr] = s
	k.log = append(k.log, logEntry{label: label, cr: cr, secret: v})
	k.gen.Store(uint64(len(k.log)))
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

// Lookup returns the secrets logged for a client random, or nil. The
// Secrets returned are not changed by later Adds (a later entry makes new
// Secrets), so they may be kept and read without locking.
func (k *KeyLog) Lookup(clientRandom []byte) *Secrets {
	if k == nil || len(clientRandom) != 32 {
		return nil
	}
	k.mu.RLock()
	s := k.m[[32]byte(clientRandom)]
	k.mu.RUnlock()
	return s
}

// Len is the number of client randoms with at least one entry.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.m)
}

// Warnings lists the lines ParseKeyLog could not use, as "line N: why".
func (k *KeyLog) Warnings() []string {
	if k == nil {
		return nil
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return slices.Clone(k.warnings)
}

// Gen is the key log's generation: the number of entries added so far. It
// only grows, and reading it costs an atomic load, so a decoder can check
// on every packet whether keys were added since it last looked.
func (k *KeyLog) Gen() uint64 {
	if k == nil {
		return 0
	}
	return k.gen.Load()
}

// SetGrowing marks the key log as one that may gain keys while connections
// are decoded with it: the connections whose keys are not in it yet wait for
// them, as with Options.WaitForKeys. FollowKeyLog sets it; so does a reader
// of a pcapng capture whose Decryption Secrets Blocks come after packets
// (as a live capture writes them, when it learns the keys).
func (k *KeyLog) SetGrowing() { k.growing.Store(true) }

// Growing reports whether SetGrowing was called.
func (k *KeyLog) Growing() bool { return k != nil && k.growing.Load() }

// Since returns, as NSS key log text ("LABEL <client random> <secret>\n"
// lines in hex), the entries added after generation gen, and the generation
// to pass next time. Since(0) is the whole key log. Entries whose label this
// package ignores (EXPORTER_SECRET, …) were not kept and are not returned.
// It is how the secrets are written into a pcapng Decryption Secrets Block
// as they are learnt.
func (k *KeyLog) Since(gen uint64) (lines []byte, newGen uint64) {
	if k == nil {
		return nil, 0
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	n := uint64(len(k.log))
	if gen >= n {
		return nil, n
	}
	for _, e := range k.log[gen:] {
		lines = append(lines, e.label...)
		lines = append(lines, ' ')
		lines = hex.AppendEncode(lines, e.cr[:])
		lines = append(lines, ' ')
		lines = hex.AppendEncode(lines, e.secret)
		lines = append(lines, '\n')
	}
	return lines, n
}

// Merge adds the entries of o, in the order they were added to o, and its
// warnings to k. o must not be changed meanwhile.
func (k *KeyLog) Merge(o *KeyLog) {
	if o == nil || o == k {
		return
	}
	o.mu.RLock()
	log, warnings := o.log, o.warnings
	o.mu.RUnlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, e := range log {
		k.add(e.label, e.cr, e.secret)
	}
	k.warnings = append(k.warnings, warnings...)
}
