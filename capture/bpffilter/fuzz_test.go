package bpffilter

import (
	"errors"
	"testing"
)

// FuzzCompile feeds arbitrary expressions to Compile for every link type:
// it must not panic, errors must be *Error with a column inside the
// expression, and every program it returns must be valid classic BPF
// (known opcodes, jumps in range, final ret, at most 4096 instructions)
// that runs to a ret.
//
//	go test ./capture/bpffilter -run '^$' -fuzz FuzzCompile -fuzztime 1m
func FuzzCompile(f *testing.F) {
	for _, e := range allExprs() {
		f.Add(e)
	}
	for _, e := range []string{"vlan", "tcp[13] & 2 != 0", "host localhost", "(tcp", "tcp)", "not", "",
		"host 10.0.0.1 or (10.0.0.2 and not 10.0.0.3)", "src or dst net 10.0.0.0 mask 255.255.0.0",
		"net ::/0 or net 0.0.0.0/0", "!!!tcp", "((((tcp))))", "host (10.0.0.1 or (10.0.0.2))"} {
		f.Add(e)
	}
	pkts := [][]byte{
		nil,
		ethFrame(etherIP, ipv4("10.0.0.1", "10.0.0.2", ipprotoTCP, 0, 0, ports(80, 443, 0))),
		ethFrame(etherIP6, ipv6("::1", "2001:db8::1", ipprotoUDP, ports(53, 53, 0))),
		ethFrame(etherARP, arpPacket(1, "10.0.0.1", "10.0.0.2")),
	}
	f.Fuzz(func(t *testing.T, expr string) {
		for _, lt := range []LinkType{Ethernet, RawIP, Null, Loop, RawIPVersion} {
			prog, err := Compile(expr, lt, 262144)
			if err != nil {
				var fe *Error
				if !errors.As(err, &fe) {
					t.Fatalf("Compile(%q): error %T is not *Error", expr, err)
				}
				if fe.Pos < 0 || fe.Pos > len(expr)+1 {
					t.Fatalf("Compile(%q): column %d out of range", expr, fe.Pos)
				}
				continue
			}
			if err := validate(prog); err != nil {
				t.Fatalf("Compile(%q, %v): %v", expr, lt, err)
			}
			for _, p := range pkts {
				data, proto := p, uint32(0)
				if lt != Ethernet && len(p) >= 14 {
					data, proto = p[14:], uint32(p[12])<<8|uint32(p[13])
				}
				if lt == Null || lt == Loop {
					data = append([]byte{0, 0, 0, 2}, data...)
				}
				if _, err := run(prog, data, proto); err != nil {
					t.Fatalf("Compile(%q, %v): %v", expr, lt, err)
				}
			}
		}
	})
}
