package schema

import (
	"slices"
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
		fd := fieldByStep(md, step)
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

// PathKnown reports whether the request (response false) or response type
// of any method the registry knows has the field path, for a display
// filter that names a field outside any one call. When it does not,
// fields lists the names that were possible at the step that failed, sorted
// (for a hint: req.nmae → name). HasMethods says whether any service is
// known at all.
func (r *Registry) PathKnown(response bool, path []string) (known bool, fields []string, hasMethods bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	seen := map[string]bool{}
	r.files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		ss := fd.Services()
		for i := 0; i < ss.Len(); i++ {
			ms := ss.Get(i).Methods()
			for j := 0; j < ms.Len(); j++ {
				hasMethods = true
				md := ms.Get(j).Input()
				if response {
					md = ms.Get(j).Output()
				}
				if fieldsAtFailure(md, path, seen) {
					known = true
					return false
				}
			}
		}
		return true
	})
	if known {
		return true, nil, true
	}
	for n := range seen {
		fields = append(fields, n)
	}
	slices.Sort(fields)
	return false, fields, hasMethods
}

// fieldsAtFailure follows path from md; when a step has no such field, it
// adds the names that step could have taken to names and returns false.
func fieldsAtFailure(md protoreflect.MessageDescriptor, path []string, names map[string]bool) bool {
	for _, step := range path {
		if md == nil {
			return false
		}
		fd := fieldByStep(md, step)
		if fd == nil {
			fs := md.Fields()
			for i := 0; i < fs.Len(); i++ {
				names[string(fs.Get(i).Name())] = true
			}
			return false
		}
		md = fd.Message()
	}
	return true
}

// fieldByStep is md's field named by one step of a path: its name, or its
// number written as text; nil when md has no such field.
func fieldByStep(md protoreflect.MessageDescriptor, step string) protoreflect.FieldDescriptor {
	if n, err := strconv.Atoi(step); err == nil {
		return md.Fields().ByNumber(protoreflect.FieldNumber(n))
	}
	return md.Fields().ByName(protoreflect.Name(step))
}
