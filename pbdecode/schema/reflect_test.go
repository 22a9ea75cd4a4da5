package schema

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
	refv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
)

// serve starts a grpc-go server on a free loopback port; withReflection
// registers server reflection, which describes itself.
func serve(t *testing.T, withReflection bool) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	if withReflection {
		reflection.Register(s)
	}
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

func TestReflect(t *testing.T) {
	addr := serve(t, true)
	fds, err := Reflect(context.Background(), addr, true, false, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fd := range fds {
		names = append(names, fd.GetName())
	}
	t.Logf("files: %v", names)
	r := NewRegistry()
	if err := r.AddFiles(fds...); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{ReflectionV1, ReflectionV1Alpha} {
		if _, _, ok := r.Method(m); !ok {
			t.Errorf("%s not known after reflection (files %v)", m, names)
		}
	}
	req, _ := proto.Marshal(&refv1.ServerReflectionRequest{
		MessageRequest: &refv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "helloworld.Greeter"},
	})
	d := r.Decode(ReflectionV1, true, req)
	if want := `{"file_containing_symbol":"helloworld.Greeter"}`; string(d.JSON) != want || d.Type != "grpc.reflection.v1.ServerReflectionRequest" {
		t.Errorf("got %s %s %q, want %s", d.Type, d.JSON, d.Err, want)
	}
}

func TestReflectNoReflection(t *testing.T) {
	addr := serve(t, false)
	_, err := Reflect(context.Background(), addr, true, false, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "does not offer server reflection") {
		t.Errorf("got %v", err)
	}
}

func TestReflectServerDown(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there now
	start := time.Now()
	_, err = Reflect(context.Background(), addr, true, false, 3*time.Second)
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("got %v", err)
	}
	if took > 3500*time.Millisecond {
		t.Errorf("took %v, timeout was 3s", took)
	}
	t.Logf("%v (after %v)", err, took.Round(time.Millisecond))
}

func TestReflectTimeout(t *testing.T) {
	// A listener that accepts but never speaks HTTP/2.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, err = Reflect(context.Background(), lis.Addr().String(), true, false, 500*time.Millisecond)
	if err == nil {
		t.Fatal("no error")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v, timeout was 500ms", took)
	}
	t.Log(err)
}
