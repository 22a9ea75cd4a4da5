package schema

import (
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// FieldNumbers resolves a path of field names (or numbers written as text)
// in the request (response false) or response type of method, for display
// filters such as req.location.latitude > 400000000. ok is false when the
// method, a name, or a step into a non-message field is unknown.
func (r *Registry) FieldNumbers(method string, response bool, path []string) ([]int32, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	in, out, ok := r.methodLocked(method)
	if !ok {
		return nil, false
	}
	md := in
	if response {
		md = out
	}
	nums := make([]int32, 0, len(path))
	for i, step := range path {
		if md == nil {
			return nil, false
		}
		var fd protoreflect.FieldDescriptor
		if n, err := strconv.Atoi(step); err == nil {
			fd = md.Fields().ByNumber(protoreflect.FieldNumber(n))
		} else {
			fd = md.Fields().ByName(protoreflect.Name(step))
		}
		if fd == nil {
			return nil, false
		}
		nums = append(nums, int32(fd.Number()))
		md = fd.Message()
		if i < len(path)-1 && md == nil {
			return nil, false
		}
	}
	return nums, true
}
