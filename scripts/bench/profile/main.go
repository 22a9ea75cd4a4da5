// Command profile runs the grpcsniff decoding pipeline (capture → tlsdecrypt
// → h2decode → grpcframe → export) over a capture with the decoding in one
// goroutine (sniff.Inline) and writes CPU and allocation profiles: the
// layers' costs without the workers' scheduling in between. For a profile
// of the command as users run it, use grpcsniff --cpuprofile.
//
//	go run ./scripts/bench/profile -r /tmp/grpcsniff-corpus-small/veth.pcap -o json -cpu cpu.pprof -mem mem.pprof
//	go tool pprof -top cpu.pprof
//
// -o json|text|none picks the sink (none: decode only, calls discarded).
// -n repeats the whole file, for longer profiles of small captures.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/sniff"
)

func main() {
	in := flag.String("r", "", "capture `FILE`")
	out := flag.String("o", "json", "sink: json, text or none")
	cpu := flag.String("cpu", "", "write a CPU profile to `FILE`")
	mem := flag.String("mem", "", "write an allocation profile to `FILE`")
	n := flag.Int("n", 1, "decode the file `N` times")
	flag.Parse()
	if *in == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *mem != "" {
		runtime.MemProfileRate = 64 << 10
	}
	if *cpu != "" {
		f, err := os.Create(*cpu)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	var calls, packets int64
	for range *n {
		c, p := decode(*in, *out)
		calls += c
		packets += p
	}
	el := time.Since(start)
	fmt.Fprintf(os.Stderr, "%d calls, %d packets in %v (%.0f calls/s)\n", calls, packets, el, float64(calls)/el.Seconds())
	if *mem != "" {
		f, err := os.Create(*mem)
		check(err)
		check(pprof.Lookup("allocs").WriteTo(f, 0))
		check(f.Close())
	}
}

func decode(path, out string) (calls, packets int64) {
	src, err := capture.OpenFile(path)
	check(err)
	defer src.Close()
	var sink interface {
		sniff.Sink
		Close() error
	}
	switch out {
	case "json":
		sink = export.NewNDJSON(io.Discard)
	case "text":
		sink = export.NewText(io.Discard)
	}
	count := sniff.SinkFunc(func(c *sniff.Call) {
		calls++
		if sink != nil {
			sink.Call(c)
		}
	})
	sum, err := sniff.NewDecoder(sniff.Options{Workers: sniff.Inline, ReleaseCalls: true}).Run(context.Background(), src, count)
	check(err)
	if sink != nil {
		check(sink.Close())
	}
	return calls, sum.Capture.Packets
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
}
