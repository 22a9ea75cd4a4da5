// Package lossy damages a pcap the way a busy network or capture does: it
// drops packets and swaps packets with ones a few positions later, at
// random with a fixed seed, so that the damage is the same on every run.
package lossy

import (
	"errors"
	"io"
	"math/rand/v2"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// Options say how much damage to do.
type Options struct {
	Drop    float64 // percentage of packets dropped
	Reorder float64 // percentage of packets swapped with one 1–3 positions later
	Seed    uint64
}

// Stats say what was done.
type Stats struct {
	Packets, Dropped, Swapped int
}

type packet struct {
	ci   gopacket.CaptureInfo
	data []byte
}

// Copy reads the pcap in, damages it and writes it to out (same link type,
// snap length and timestamp resolution). Timestamps stay in file order: a
// reordered packet takes the timestamp of the position it moved to, as if
// it had arrived then.
func Copy(in io.Reader, out io.Writer, o Options) (Stats, error) {
	r, err := pcapgo.NewReader(in)
	if err != nil {
		return Stats{}, err
	}
	var ps []packet
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Stats{}, err
		}
		ps = append(ps, packet{ci, data})
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6c6f737379))
	st := Stats{Packets: len(ps)}
	kept := ps[:0]
	for _, p := range ps {
		if rng.Float64()*100 < o.Drop {
			st.Dropped++
			continue
		}
		kept = append(kept, p)
	}
	for i := range kept {
		if rng.Float64()*100 >= o.Reorder {
			continue
		}
		j := i + 1 + rng.IntN(3)
		if j >= len(kept) {
			continue
		}
		kept[i].data, kept[j].data = kept[j].data, kept[i].data
		kept[i].ci.CaptureLength, kept[j].ci.CaptureLength = kept[j].ci.CaptureLength, kept[i].ci.CaptureLength
		kept[i].ci.Length, kept[j].ci.Length = kept[j].ci.Length, kept[i].ci.Length
		st.Swapped++
	}
	var w *pcapgo.Writer
	if r.Resolution().ToDuration() < time.Microsecond {
		w = pcapgo.NewWriterNanos(out)
	} else {
		w = pcapgo.NewWriter(out)
	}
	if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
		return st, err
	}
	for _, p := range kept {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			return st, err
		}
	}
	return st, nil
}
