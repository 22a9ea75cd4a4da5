//go:build linux

package live_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/grpcsniff/grpcsniff/capture/live"
)

// A capture command: open the interface, give up root, save what comes in.
func Example() {
	// The filter, if any, is compiled for this link type before Open.
	if _, err := live.LinkTypeOf("lo"); err != nil {
		log.Fatal(err) // e.g. no interface "lo0" (this system has lo, eth0, any)
	}
	src, err := live.Open(live.Config{Interface: "lo"})
	if err != nil {
		log.Fatal(err) // errors.Is(err, live.ErrPermission): the message says what to do
	}
	defer src.Close() // may also be called from a signal handler to stop Next
	for _, w := range src.Warnings() {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	if err := live.DropPrivileges("nobody"); err != nil {
		log.Fatal(err)
	}
	out, _ := os.Create("/tmp/out.pcapng")
	defer out.Close()
	w, _ := live.NewPcapngWriter(out, src.LinkType(), src.Snaplen(), src.Interface())
	defer w.Close()
	for {
		p, err := src.Next()
		switch {
		case errors.Is(err, live.ErrIdle):
			w.Flush() // a quiet moment: put what we have on disk
			continue
		case err == io.EOF:
			st := src.Stats()
			fmt.Fprintf(os.Stderr, "%d packets received, %d dropped by the kernel\n", st.Received, st.KernelDrops)
			return
		case err != nil:
			log.Fatal(err)
		}
		w.WritePacket(p)
	}
}
