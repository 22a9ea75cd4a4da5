package schema

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/grpcsniff/grpcsniff/pbdecode"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Registry holds the message and service types known from .proto files,
// descriptor sets, server reflection and harvested reflection calls. It is
// safe for concurrent use: sinks decode while reflection may add files.
type Registry struct {
	mu    sync.RWMutex
	files *protoregistry.Files
	types *dynamicpb.Types
	// services is set once a file that defines a service is added. The
	// built-in files define none, so without the user's schemas every
	// method lookup fails, and the export asks for one per message.
	services bool
}

// NewRegistry returns a registry that knows only the built-in files: the
// well-known types (google/protobuf/*.proto) and google/rpc/*.proto, so that
// Any, Timestamp, … render in their JSON forms and google.rpc.Status details
// decode without the user shipping those files.
func NewRegistry() *Registry {
	r := &Registry{files: new(protoregistry.Files)}
	for _, fd := range builtinFiles() {
		// The built-in files are consistent among themselves; an error
		// here would be a programming error caught by the tests.
		if err := r.registerLocked(fd); err != nil {
			panic("schema: built-in file " + fd.Path() + ": " + err.Error())
		}
	}
	r.types = dynamicpb.NewTypes(r.files)
	return r
}

// registerLocked adds fd and, first, any of its imports not yet known (the
// built-in files import each other).
func (r *Registry) registerLocked(fd protoreflect.FileDescriptor) error {
	if _, err := r.files.FindFileByPath(fd.Path()); err == nil {
		return nil
	}
	imps := fd.Imports()
	for i := 0; i < imps.Len(); i++ {
		if err := r.registerLocked(imps.Get(i).FileDescriptor); err != nil {
			return err
		}
	}
	if err := r.files.RegisterFile(fd); err != nil {
		return err
	}
	r.services = r.services || fd.Services().Len() > 0
	return nil
}

// AddFiles adds file descriptors, in any order, e.g. from server reflection
// or a harvested reflection call. A file whose name is already known is
// skipped: the first source of a file wins, so a .proto the user gave is not
// replaced by what a server says. Files whose imports are missing, or that
// redefine a name another file defines, are reported in the error; the
// others are added all the same.
func (r *Registry) AddFiles(fds ...*descriptorpb.FileDescriptorProto) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	pending := make(map[string]*descriptorpb.FileDescriptorProto, len(fds))
	for _, fd := range fds {
		if fd == nil || fd.GetName() == "" {
			continue
		}
		if _, err := r.files.FindFileByPath(fd.GetName()); err == nil {
			continue
		}
		if _, dup := pending[fd.GetName()]; !dup {
			pending[fd.GetName()] = fd
		}
	}
	var errs []error
	for len(pending) > 0 {
		progress := false
		for _, name := range slices.Sorted(maps.Keys(pending)) {
			fd := pending[name]
			if !r.depsKnownLocked(fd) {
				continue
			}
			delete(pending, name)
			progress = true
			f, err := protodesc.NewFile(fd, r.files)
			if err == nil {
				err = r.files.RegisterFile(f)
			}
			if err == nil {
				r.services = r.services || f.Services().Len() > 0
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %v", name, err))
			}
		}
		if !progress {
			for _, name := range slices.Sorted(maps.Keys(pending)) {
				errs = append(errs, fmt.Errorf("%s: imports %s, which is not known", name, missingDeps(r.files, pending[name])))
			}
			break
		}
	}
	r.types = dynamicpb.NewTypes(r.files)
	return errors.Join(errs...)
}

func (r *Registry) depsKnownLocked(fd *descriptorpb.FileDescriptorProto) bool {
	return missingDeps(r.files, fd) == ""
}

func missingDeps(files *protoregistry.Files, fd *descriptorpb.FileDescriptorProto) string {
	var missing []string
	for _, d := range fd.GetDependency() {
		if _, err := files.FindFileByPath(d); err != nil {
			missing = append(missing, d)
		}
	}
	return strings.Join(missing, ", ")
}

// Method returns the request and response types of a method given as a gRPC
// :path, "/pkg.Service/Method". ok is false when no known service has it.
func (r *Registry) Method(path string) (in, out protoreflect.MessageDescriptor, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.methodLocked(path)
}

func (r *Registry) methodLocked(path string) (in, out protoreflect.MessageDescriptor, ok bool) {
	if !r.services {
		return nil, nil, false
	}
	svc, name, found := pbdecode.SplitMethodPath(path)
	if !found {
		return nil, nil, false
	}
	d, err := r.files.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil, nil, false
	}
	sd, isSvc := d.(protoreflect.ServiceDescriptor)
	if !isSvc {
		return nil, nil, false
	}
	md := sd.Methods().ByName(protoreflect.Name(name))
	if md == nil {
		return nil, nil, false
	}
	return md.Input(), md.Output(), true
}

// Services lists the full names of the services the registry knows, sorted.
func (r *Registry) Services() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	r.files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		ss := fd.Services()
		for i := 0; i < ss.Len(); i++ {
			out = append(out, string(ss.Get(i).FullName()))
		}
		return true
	})
	sort.Strings(out)
	return out
}
