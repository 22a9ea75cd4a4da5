//go:build linux

package live

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grpcsniff/grpcsniff/tlsdecrypt"
)

// TestPcapngLiveWithTshark captures TCP on lo into a file, with a key log,
// and has Wireshark's tools read it back.
func TestPcapngLiveWithTshark(t *testing.T) {
	requireLive(t)
	ln := listenLoopback(t, "tcp4")
	s := openLoopback(t, Config{PollTimeout: 200 * time.Millisecond, RingBytes: 2 << 20}, ln)
	path := filepath.Join(t.TempDir(), "live.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewPcapngWriter(f, s.LinkType(), s.Snaplen(), s.Interface())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteDecryptionSecrets(keyLogLines(2, 7)); err != nil {
		t.Fatal(err)
	}
	markers := newMarkers(5)
	sendTCPTo(t, ln, markers)
	n := 0
	for {
		p, err := s.Next()
		if errors.Is(err, ErrIdle) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("nothing captured")
	}
	keys, blocks, err := tlsdecrypt.LoadPcapngKeys(path)
	if err != nil || blocks != 1 || keys.Len() != 2 {
		t.Errorf("LoadPcapngKeys: %d blocks, %d keys, %v", blocks, keys.Len(), err)
	}

	for _, tool := range []string{"capinfos", "tshark"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Logf("%s not installed: not checking the file with it", tool)
			continue
		}
		var cmd *exec.Cmd
		if tool == "capinfos" {
			cmd = exec.Command(tool, "-M", path)
		} else {
			cmd = exec.Command(tool, "-r", path, "-Y", "tcp.payload", "-T", "fields", "-e", "tcp.payload")
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tool, err, out)
		}
		switch tool {
		case "capinfos":
			if !strings.Contains(string(out), fmt.Sprintf("Number of packets:   %d", n)) {
				t.Errorf("capinfos does not count %d packets:\n%s", n, out)
			}
			// Older capinfos do not report secrets; those that do must see ours.
			if strings.Contains(string(out), "decryption secrets") && !strings.Contains(string(out), "Number of decryption secrets in file: 1") {
				t.Errorf("capinfos does not see the decryption secrets block:\n%s", out)
			}
		case "tshark":
			for _, m := range markers {
				if c := strings.Count(string(out), fmt.Sprintf("%x", m)); c != 1 {
					t.Errorf("tshark shows payload %q %d times:\n%s", m, c, out)
				}
			}
		}
	}
}
