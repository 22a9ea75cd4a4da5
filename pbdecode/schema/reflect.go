package schema

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jhump/protoreflect/desc"
	"github.com/jhump/protoreflect/grpcreflect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Reflect asks the gRPC server at addr (host:port) for its services through
// server reflection (grpc.reflection.v1, falling back to v1alpha) and returns
// the files that define them, with their imports, ready for AddFiles.
//
// plaintext dials without TLS (h2c); otherwise TLS is used, and insecure
// skips the verification of the server's certificate. timeout bounds the
// whole exchange, so that a server that is down or silent fails fast with a
// message that says which it was.
func Reflect(ctx context.Context, addr string, plaintext, insecureTLS bool, timeout time.Duration) ([]*descriptorpb.FileDescriptorProto, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	creds := insecure.NewCredentials()
	if !plaintext {
		creds = credentials.NewTLS(&tls.Config{InsecureSkipVerify: insecureTLS}) //nolint:gosec // only when asked for
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("reflection: %s: %v", addr, err)
	}
	defer cc.Close()
	client := grpcreflect.NewClientAuto(ctx, cc)
	defer client.Reset()

	svcs, err := client.ListServices()
	if err != nil {
		return nil, reflectErr(ctx, addr, err)
	}
	sort.Strings(svcs)
	var out []*descriptorpb.FileDescriptorProto
	seen := map[string]bool{}
	var errs []error
	for _, s := range svcs {
		fd, err := client.FileContainingSymbol(s)
		if err != nil {
			if ctx.Err() != nil {
				return nil, reflectErr(ctx, addr, err)
			}
			errs = append(errs, fmt.Errorf("reflection: %s: service %s: %v", addr, s, err))
			continue
		}
		out = appendDescWithImports(out, seen, fd)
	}
	return out, errors.Join(errs...)
}

// ErrNoReflection is matched (errors.Is) by the error of a server that
// answers but offers no server reflection: its schemas must come from
// files.
var ErrNoReflection = errors.New("the server does not offer server reflection (grpc.reflection.v1 or v1alpha)")

// reflectErr turns what the reflection client reports into a message that
// tells the user what to do.
func reflectErr(ctx context.Context, addr string, err error) error {
	if status.Code(err) == codes.Unimplemented {
		return fmt.Errorf("reflection: %s: %w", addr, ErrNoReflection)
	}
	if ctx.Err() == context.DeadlineExceeded || status.Code(err) == codes.DeadlineExceeded {
		return fmt.Errorf("reflection: %s did not answer in time (%v)", addr, err)
	}
	if status.Code(err) == codes.Unavailable {
		return fmt.Errorf("reflection: cannot reach %s: %s", addr, status.Convert(err).Message())
	}
	return fmt.Errorf("reflection: %s: %v", addr, err)
}

// appendDescWithImports is appendWithImports for the reflection client's
// descriptors.
func appendDescWithImports(out []*descriptorpb.FileDescriptorProto, seen map[string]bool, fd *desc.FileDescriptor) []*descriptorpb.FileDescriptorProto {
	if seen[fd.GetName()] {
		return out
	}
	seen[fd.GetName()] = true
	for _, dep := range fd.GetDependencies() {
		out = appendDescWithImports(out, seen, dep)
	}
	return append(out, fd.AsFileDescriptorProto())
}

// AddFromServer asks the server at addr for its schemas (Reflect) and adds
// the files it sends to r. The error says what went wrong, the exchange or
// the files (AddFiles); whatever files came are added all the same.
func (r *Registry) AddFromServer(ctx context.Context, addr string, plaintext, insecureTLS bool, timeout time.Duration) error {
	fds, err := Reflect(ctx, addr, plaintext, insecureTLS, timeout)
	if len(fds) > 0 {
		if aerr := r.AddFiles(fds...); aerr != nil {
			err = errors.Join(err, fmt.Errorf("schemas from %s: %w", addr, aerr))
		}
	}
	return err
}
