// Command lossy drops and reorders the packets of a pcap, for testing how
// grpcsniff copes with a lossy capture:
//
//	go run ./scripts/lossy -drop 1 -reorder 5 -seed 1 in.pcap out.pcap
//
// -drop and -reorder are percentages of packets; a reordered packet is
// swapped with one 1 to 3 positions later. The same seed gives the same
// output. -v lists the dropped packets: connection, direction, sequence
// range and flags, so that the calls whose bytes were all captured can be
// told from the others.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/grpcsniff/grpcsniff/scripts/lossy/lossy"
)

func main() {
	var o lossy.Options
	flag.Float64Var(&o.Drop, "drop", 1, "drop `PERCENT` of the packets")
	flag.Float64Var(&o.Reorder, "reorder", 5, "swap `PERCENT` of the packets with one a few positions later")
	flag.Uint64Var(&o.Seed, "seed", 1, "random `SEED`")
	flag.BoolVar(&verbose, "v", false, "list the dropped packets")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./scripts/lossy [-drop PERCENT] [-reorder PERCENT] [-seed N] [-v] in.pcap out.pcap")
		os.Exit(2)
	}
	if err := copyFile(flag.Arg(0), flag.Arg(1), o); err != nil {
		fmt.Fprintln(os.Stderr, "lossy:", err)
		os.Exit(1)
	}
}

var verbose bool

func copyFile(in, out string, o lossy.Options) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	g, err := os.Create(out)
	if err != nil {
		return err
	}
	st, err := lossy.Copy(f, g, o)
	if cerr := g.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		payload := 0
		for _, d := range st.DroppedPackets {
			if d.Payload() {
				payload++
			}
		}
		fmt.Fprintf(os.Stderr, "lossy: %d packets, %d dropped (%d with TCP payload), %d swapped\n", st.Packets, st.Dropped, payload, st.Swapped)
		if verbose {
			for _, d := range st.DroppedPackets {
				fmt.Fprintf(os.Stderr, "lossy: dropped %s\n", d)
			}
		}
	}
	return err
}
