package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
)

// reflectTimeout bounds each server reflection exchange.
const reflectTimeout = 5 * time.Second

// schemaFlags are the options that give message schemas.
type schemaFlags struct {
	protos, imports, protosets, reflectAddrs []string
	reflect, plaintext, insecure             bool
}

func (f *schemaFlags) register(fs *flag.FlagSet) {
	appendTo := func(list *[]string) func(string) error {
		return func(v string) error { *list = append(*list, v); return nil }
	}
	fs.Func("proto", "decode messages with the .proto `FILE` (repeatable)", appendTo(&f.protos))
	fs.Func("I", "look for .proto imports in `DIR` (repeatable)", appendTo(&f.imports))
	fs.Func("import-path", "same as -I", appendTo(&f.imports))
	fs.Func("protoset", "decode messages with the descriptor set `FILE` (protoc --include_imports --descriptor_set_out; repeatable)", appendTo(&f.protosets))
	fs.BoolVar(&f.reflect, "reflect", false, "ask each server seen in the capture for its schemas through gRPC server reflection (connects to it)")
	fs.Func("reflect-addr", "ask the server at `HOST:PORT` for its schemas through gRPC server reflection (repeatable)", appendTo(&f.reflectAddrs))
	fs.BoolVar(&f.plaintext, "reflect-plaintext", false, "reflect over h2c rather than TLS (for --reflect-addr)")
	fs.BoolVar(&f.insecure, "reflect-insecure", false, "reflect over TLS without checking the server's certificate")
}

// load builds the registry. Reflection problems are reported and skipped:
// the capture is still decoded, raw where no schema covers it.
func (f *schemaFlags) load(stderr io.Writer) (*schema.Registry, error) {
	reg, err := schema.Load(schema.Options{ProtoFiles: f.protos, ImportPaths: f.imports, Protosets: f.protosets})
	if err != nil {
		return nil, err
	}
	for _, addr := range f.reflectAddrs {
		reflectInto(reg, addr, f.plaintext, f.insecure, stderr)
	}
	return reg, nil
}

func reflectInto(reg *schema.Registry, addr string, plaintext, insecure bool, stderr io.Writer) {
	fds, err := schema.Reflect(context.Background(), addr, plaintext, insecure, reflectTimeout)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
	}
	if len(fds) > 0 {
		if err := reg.AddFiles(fds...); err != nil {
			fmt.Fprintf(stderr, "%s: schemas from %s: %v\n", progName, addr, err)
		}
	}
}

// schemaSink feeds the registry from the calls themselves before passing
// them on: the file descriptors in captured reflection responses (a grpcurl
// session, say) and, with --reflect, the servers the calls went to. Calls
// arrive in start order, so every call that started after a reflection call
// ended is decoded with what it carried.
type schemaSink struct {
	next      grpcframe.Sink
	reg       *schema.Registry
	reflect   bool
	insecure  bool
	asked     map[string]bool
	harvested int
	stderr    io.Writer
	// pathGroups narrows the candidate methods of calls whose unknown :path
	// came from the same HPACK table entry: they are the same method.
	pathGroups map[h2decode.TableRef][]string
	// beforeChange, when set, runs before the registry changes: calls
	// handed on earlier may still be being encoded with it.
	beforeChange func()
}

func newSchemaSink(reg *schema.Registry, sf *schemaFlags, stderr io.Writer, next grpcframe.Sink) *schemaSink {
	return &schemaSink{reg: reg, reflect: sf.reflect, insecure: sf.insecure, asked: map[string]bool{},
		stderr: stderr, pathGroups: map[h2decode.TableRef][]string{}, next: next}
}

// inferMethod proposes the method of a call whose :path was not recovered:
// the methods whose types read its messages cleanly, narrowed by the other
// calls whose :path was the same unknown table entry.
func (s *schemaSink) inferMethod(c *grpcframe.Call) {
	var reqs, resps [][]byte
	for _, m := range c.Requests {
		if !m.Truncated {
			reqs = append(reqs, m.Data)
		}
	}
	for _, m := range c.Responses {
		if !m.Truncated {
			resps = append(resps, m.Data)
		}
	}
	if len(reqs)+len(resps) == 0 {
		return // nothing to go on
	}
	cands := s.reg.MethodsFitting(reqs, resps)
	if ref, ok := unknownPathRef(c); ok {
		if prev, seen := s.pathGroups[ref]; seen {
			if both := intersect(prev, cands); len(both) > 0 {
				cands = both
			}
		}
		if len(cands) > 0 {
			s.pathGroups[ref] = cands
		}
	}
	c.MethodCandidates = cands
	if len(cands) == 1 {
		c.MethodInferred = cands[0]
	}
}

// unknownPathRef names the table entry the call's :path most likely came
// from: gRPC clients send :path before :authority and the other headers, so
// it is the first field whose name HPACK could not recover.
func unknownPathRef(c *grpcframe.Call) (h2decode.TableRef, bool) {
	for _, f := range c.RequestHeaders {
		if f.NameUnknown {
			return f.Ref, true
		}
	}
	return h2decode.TableRef{}, false
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func (s *schemaSink) Call(c *grpcframe.Call) {
	if schema.IsReflection(c.Method) {
		var data [][]byte
		for _, m := range c.Responses {
			if !m.Truncated && (!m.Compressed || m.Encoding != "") {
				data = append(data, m.Data)
			}
		}
		fds, err := schema.HarvestReflection(c.Method, data)
		if err != nil {
			fmt.Fprintf(s.stderr, "%s: reflection call on stream %d: %v\n", progName, c.StreamID, err)
		}
		if len(fds) > 0 {
			if s.beforeChange != nil {
				s.beforeChange()
			}
			if err := s.reg.AddFiles(fds...); err != nil {
				fmt.Fprintf(s.stderr, "%s: schemas from the captured reflection call: %v\n", progName, err)
			}
			s.harvested += len(fds)
		}
	}
	if c.MethodUnknown && c.GRPC {
		s.inferMethod(c)
	}
	if s.reflect && c.GRPC && c.Server.IsValid() && !s.asked[c.Server.String()] {
		s.asked[c.Server.String()] = true
		// The capture shows whether the server spoke h2c.
		plaintext := c.Transport != "tls"
		if s.beforeChange != nil {
			s.beforeChange()
		}
		reflectInto(s.reg, c.Server.String(), plaintext, s.insecure, s.stderr)
	}
	s.next.Call(c)
}
