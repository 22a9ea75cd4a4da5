package schema

import (
	"sort"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// MethodsFitting lists the methods (as gRPC paths) of the known services
// whose request and response types read every given message cleanly: no
// schema error and no field the type lacks, and as many messages as the
// method's streaming kind allows. It is evidence for the method of a call
// whose :path was not captured, never proof: messages that are all empty,
// say, fit every method.
func (r *Registry) MethodsFitting(requests, responses [][]byte) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	r.files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		ss := fd.Services()
		for i := 0; i < ss.Len(); i++ {
			sd := ss.Get(i)
			if IsReflection("/" + string(sd.FullName()) + "/ServerReflectionInfo") {
				continue
			}
			ms := sd.Methods()
			for j := 0; j < ms.Len(); j++ {
				md := ms.Get(j)
				if (!md.IsStreamingClient() && len(requests) > 1) || (!md.IsStreamingServer() && len(responses) > 1) {
					continue
				}
				if r.allFit(md.Input(), requests) && r.allFit(md.Output(), responses) {
					out = append(out, "/"+string(sd.FullName())+"/"+string(md.Name()))
				}
			}
		}
		return true
	})
	sort.Strings(out)
	return out
}

func (r *Registry) allFit(md protoreflect.MessageDescriptor, msgs [][]byte) bool {
	for _, m := range msgs {
		if d := r.decode(md, m); d.Err != "" || len(d.Unknown) > 0 {
			return false
		}
	}
	return true
}
