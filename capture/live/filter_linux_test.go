//go:build linux

package live

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

func TestBuildProgram(t *testing.T) {
	user, _ := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x800, SkipFalse: 1},
		bpf.RetConstant{Val: 96},
		bpf.RetConstant{Val: 0},
	})

	// Nothing to add: the program only sets the snap length.
	raw, err := buildProgram(nil, programSpec{snaplen: 1234})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 1234}}); !slices.Equal(raw, want) {
		t.Errorf("no prefix, no filter: %v", raw)
	}
	if raw, _ := buildProgram(user, programSpec{snaplen: 1234}); !slices.Equal(raw, user) {
		t.Errorf("no prefix: %v, want the user's program as is", raw)
	}

	for _, spec := range []programSpec{
		{dropOutgoingOn: 1, snaplen: 100},
		{dropOutgoingOn: 1, allInterfaces: true, ipOnly: true, snaplen: 100},
		{ipOnly: true, snaplen: 100},
	} {
		raw, err := buildProgram(user, spec)
		if err != nil {
			t.Fatal(err)
		}
		// The user's program comes last, unchanged: its relative jumps
		// keep their targets.
		if !slices.Equal(raw[len(raw)-len(user):], user) {
			t.Errorf("%+v: user program not at the end: %v", spec, raw)
		}
		prog, ok := bpf.Disassemble(raw)
		if !ok {
			t.Fatalf("%+v: cannot disassemble %v", spec, raw)
		}
		// Every jump of the prefix lands inside the program: on the next
		// test, the jump over the drop, the drop (ret #0) or the accept
		// point (ld #0).
		prefix := len(prog) - len(user)
		for i, in := range prog[:prefix] {
			j, ok := in.(bpf.JumpIf)
			if !ok {
				continue
			}
			for _, skip := range []uint8{j.SkipTrue, j.SkipFalse} {
				to := i + 1 + int(skip)
				if to >= len(prog) {
					t.Errorf("%+v: jump %d out of the program", spec, i)
					continue
				}
				switch tgt := prog[to].(type) {
				case bpf.RetConstant:
					if tgt.Val != 0 {
						t.Errorf("%+v: jump %d lands on %v", spec, i, tgt)
					}
				case bpf.LoadConstant, bpf.LoadExtension, bpf.JumpIf, bpf.Jump:
				default:
					t.Errorf("%+v: jump %d lands on %v", spec, i, tgt)
				}
			}
		}
		if lc, ok := prog[prefix-1].(bpf.LoadConstant); !ok || lc.Val != 0 {
			t.Errorf("%+v: the prefix does not reset A before the user's program: %v", spec, prog[prefix-1])
		}
	}

	long := make([]bpf.RawInstruction, maxInstructions)
	if _, err := buildProgram(long, programSpec{dropOutgoingOn: 1}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("an over-long program: %v", err)
	}
}
