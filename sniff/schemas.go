package sniff

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
)

// ReflectTimeout bounds each server reflection exchange.
const ReflectTimeout = 5 * time.Second

// reflectInto asks the server at addr for its schemas and adds them to reg;
// problems are warnings: the capture is still decoded, raw where no schema
// covers it.
func reflectInto(reg *schema.Registry, addr string, plaintext, insecure bool, warn func(error)) {
	if err := reg.AddFromServer(context.Background(), addr, plaintext, insecure, ReflectTimeout); err != nil {
		warn(err)
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
	warn      func(error)
	// pathGroups narrows the candidate methods of calls whose unknown :path
	// came from the same HPACK table entry: they are the same method.
	pathGroups map[h2decode.TableRef][]string
	// beforeChange, when set, runs before the registry changes: calls
	// handed on earlier may still be being encoded with it.
	beforeChange func()
}

func newSchemaSink(o *Options, next grpcframe.Sink) *schemaSink {
	return &schemaSink{reg: o.Schemas, reflect: o.ReflectServers, insecure: o.ReflectInsecure, asked: map[string]bool{},
		warn: o.warn, pathGroups: map[h2decode.TableRef][]string{}, next: next}
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
			s.warn(fmt.Errorf("reflection call on stream %d: %w", c.StreamID, err))
		}
		if len(fds) > 0 {
			if s.beforeChange != nil {
				s.beforeChange()
			}
			if err := s.reg.AddFiles(fds...); err != nil {
				s.warn(fmt.Errorf("schemas from the captured reflection call: %w", err))
			}
			s.harvested += len(fds)
		}
	}
	if c.MethodUnknown && c.GRPC {
		s.inferMethod(c)
	}
	if s.reflect && c.GRPC && c.Server.IsValid() && !s.asked[c.Server.String()] {
		s.asked[c.Server.String()] = true
		// The capture shows whether the server spoke TLS.
		plaintext := !c.OverTLS()
		if s.beforeChange != nil {
			s.beforeChange()
		}
		reflectInto(s.reg, c.Server.String(), plaintext, s.insecure, s.warn)
	}
	s.next.Call(c)
}
